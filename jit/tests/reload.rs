//! Hot reload: compiling a policy set's native code again and again, dropping the old code each
//! time, must not grow the process. Runs in its own process (an integration test) so that no
//! other test allocates meanwhile.

use thuja_compiler::Source;
use thuja_compiler::parser::parse_policy_set;
use thuja_compiler::program::{Program, lower};
use thuja_jit::{NativeCode, Options};

/// Resident memory of this process, in bytes (Linux); `None` where it cannot be read.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn program() -> Program {
    let text: String = (0..200)
        .map(|i| {
            format!(
                "permit(principal, action, resource) when {{ principal.level > {i} && \
                 (context.n + {i} < 1000 || resource has owner) && principal.name like \"*{i}\" }};\n"
            )
        })
        .collect();
    lower(&parse_policy_set(Source::new("p.cedar", text)).expect("policies"))
}

/// Grows the process by `reloads` compilations of `program`, keeping (`leak`) or dropping each.
fn growth(program: &Program, reloads: usize, leak: bool) -> Option<u64> {
    let options = Options { verify: false };
    let before = resident_bytes()?;
    for _ in 0..reloads {
        let code = NativeCode::compile(program, options).expect("native code");
        assert_eq!(code.native_count(), 200);
        if leak {
            std::mem::forget(code);
        }
    }
    Some(resident_bytes()?.saturating_sub(before))
}

#[test]
fn reloading_frees_the_old_code() {
    let program = program();
    // Warm up allocators and caches before measuring.
    if growth(&program, 20, false).is_none() {
        eprintln!("no /proc/self/statm: skipped");
        return;
    }
    let dropped = growth(&program, 300, false).expect("statm");
    // What keeping the code would cost, to show the measurement can see a leak.
    let kept = growth(&program, 100, true).expect("statm");
    eprintln!("growth: 300 reloads dropped {dropped} bytes; 100 reloads kept {kept} bytes");
    assert!(
        kept > 4 << 20,
        "keeping 100 copies should grow the process: {kept}"
    );
    assert!(
        dropped < kept / 4,
        "300 reloads grew the process by {dropped} bytes (100 kept copies: {kept})"
    );
}
