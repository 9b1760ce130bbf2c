//! The C examples (`examples/c/`) built with the system's C compiler against the committed
//! header and this crate's static library, run, and run again under valgrind's memcheck: no
//! leak, no invalid access.
//!
//! The library: `cargo test` builds this package's library with all its crate types — the
//! `rlib` these tests link, and the `staticlib` `libthuja_capi.a` — into the directory that holds
//! the test executables (`target/<profile>/deps/`), as part of the same build. So the `.a` sits
//! beside the running test and is as fresh as it, in a clean checkout too, with no nested cargo
//! invocation (`cargo build` would also copy it up to `target/<profile>/`; `cargo test` does
//! not).
//!
//! Valgrind: when `valgrind` is not installed the valgrind runs are skipped with a message,
//! unless `THUJA_REQUIRE_VALGRIND=1` (as CI sets it), which makes that a failure. The runs are
//! kept to seconds (memcheck is 30-50 times slower than native).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The static library built with this test (see the module doc).
fn library() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let dir = exe.parent().expect("the test executable's directory");
    let lib = dir.join("libthuja_capi.a");
    assert!(
        lib.is_file(),
        "{} is missing: `cargo test -p thuja-capi` builds it beside the test executables \
         (crate-type staticlib in capi/Cargo.toml)",
        lib.display()
    );
    lib
}

/// Compiles `examples/c/<name>.c` and links it with the static library.
fn compile(name: &str) -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("c-example-{name}"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let output = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1", "-I"])
        .arg(Path::new(REPO).join("capi/include"))
        .arg(Path::new(REPO).join(format!("examples/c/{name}.c")))
        .arg(library())
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&out)
        .output()
        .expect("the C compiler (`cc`, or the one `CC` names) runs");
    assert!(
        output.status.success(),
        "compiling examples/c/{name}.c failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

fn run(command: &mut Command) -> (Output, String) {
    let output = command
        .current_dir(REPO)
        .output()
        .expect("the example runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, text)
}

/// Whether to run under valgrind: it is installed, or (without it) a failure when
/// `THUJA_REQUIRE_VALGRIND=1`, otherwise skipped with a message.
fn valgrind_available() -> bool {
    let installed = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        assert!(
            std::env::var("THUJA_REQUIRE_VALGRIND").as_deref() != Ok("1"),
            "THUJA_REQUIRE_VALGRIND=1 but valgrind is not installed (apt-get install valgrind)"
        );
        eprintln!("valgrind is not installed: skipping the C examples under valgrind");
    }
    installed
}

/// `program args` under memcheck: fails on any error and on definite leaks.
fn valgrind(program: &Path, args: &[&str], extra: &[&str]) -> (Output, String) {
    run(Command::new("valgrind")
        .args([
            "--error-exitcode=1",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
        ])
        .args(extra)
        .arg(program)
        .args(args))
}

#[test]
fn decide_example_decides_as_expected_without_leaks() {
    let program = compile("decide");
    let (output, text) = run(Command::new(&program).arg("examples/tinytodo"));
    assert!(output.status.success(), "{text}");
    for line in [
        "alice UpdateTask groceries         ALLOW (editors-edit)",
        "casey UpdateTask groceries         DENY",
        r#"decide_json: {"decision":"allow","reasons":["editors-edit"],"errors":[]}"#,
        "malformed principal: THUJA_STATUS_INPUT",
        "error in veterans at policies.cedar:4:10:",
        "all as expected",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    if !valgrind_available() {
        return;
    }
    let (output, text) = valgrind(&program, &["examples/tinytodo"], &[]);
    assert!(output.status.success(), "under valgrind:\n{text}");
    assert!(text.contains("all as expected"), "{text}");
    assert!(text.contains("ERROR SUMMARY: 0 errors"), "{text}");
    // The check can fail: a handle the program does not free is reported.
    let (output, text) = valgrind(&program, &["examples/tinytodo", "--leak-on-purpose"], &[]);
    assert!(
        !output.status.success() && text.contains("definitely lost"),
        "valgrind did not report the leak:\n{text}"
    );
}

#[test]
fn threads_example_answers_consistently_without_leaks() {
    let program = compile("threads");
    let (output, text) = run(Command::new(&program).args(["300", "200"]));
    assert!(output.status.success(), "{text}");
    assert!(text.contains("0 wrong answers, 0 failed calls"), "{text}");
    if !valgrind_available() {
        return;
    }
    // Fewer changes and decisions: memcheck runs one thread at a time (round robin with
    // --fair-sched), about 20 seconds for this.
    let (output, text) = valgrind(&program, &["30", "20"], &["--fair-sched=yes"]);
    assert!(output.status.success(), "under valgrind:\n{text}");
    assert!(text.contains("0 wrong answers, 0 failed calls"), "{text}");
    assert!(text.contains("ERROR SUMMARY: 0 errors"), "{text}");
}
