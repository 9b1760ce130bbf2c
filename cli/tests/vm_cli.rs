//! The command line's engine choice and `thuja compile`: `--engine vm`, `jit` and `interp` give
//! the same output (single requests, batches), `compile --listing` prints the index and every
//! policy's bytecode, and with `--engine jit` how each policy runs.

use std::process::{Command, Output};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/tinytodo");

fn example(file: &str) -> String {
    format!("{EXAMPLE}/{file}")
}

fn thuja(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thuja"))
        .args(args)
        .output()
        .expect("the thuja binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn both_engines_answer_the_example_alike() {
    let (p, s, e) = (
        example("policies.cedar"),
        example("tinytodo.cedarschema"),
        example("entities.json"),
    );
    let run = |engine: &str, principal: &str| {
        thuja(&[
            "authorize",
            "-p",
            &p,
            "-s",
            &s,
            "--entities",
            &e,
            "-l",
            principal,
            "-a",
            r#"TinyTodo::Action::"UpdateTask""#,
            "-r",
            r#"TinyTodo::List::"groceries""#,
            "-v",
            "--engine",
            engine,
        ])
    };
    for principal in [
        r#"TinyTodo::User::"alice""#,
        r#"TinyTodo::User::"bob""#,
        r#"TinyTodo::User::"nobody""#,
    ] {
        let (vm, interp) = (run("vm", principal), run("interp", principal));
        assert_eq!(vm.status.code(), interp.status.code(), "{principal}");
        assert_eq!(stdout(&vm), stdout(&interp), "{principal}");
        assert!(stdout(&vm).starts_with("ALLOW") || stdout(&vm).starts_with("DENY"));
        let jit = run("jit", principal);
        assert_eq!(jit.status.code(), vm.status.code(), "{principal}");
        assert_eq!(stdout(&jit), stdout(&vm), "{principal}");
    }
    let o = run("nonesuch", r#"TinyTodo::User::"alice""#);
    assert_eq!(o.status.code(), Some(1), "a usage error");
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown engine `nonesuch`"));
}

#[test]
fn compile_lists_the_index_and_the_bytecode() {
    let o = thuja(&["compile", "--listing", "-p", &example("policies.cedar")]);
    assert_eq!(o.status.code(), Some(0));
    let listing = stdout(&o);
    assert!(
        listing.starts_with("index:\n0: anyone-creates-lists (permit)"),
        "{listing}"
    );
    assert!(
        listing.contains("policy 5: delete-from-office-only (forbid)"),
        "{listing}"
    );
    assert!(listing.contains("call isInRange/2"), "{listing}");
    let o = thuja(&["compile", "-p", &example("policies.cedar")]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("compiled 6 policies to "));
    let o = thuja(&["compile", "-p", &example("nonesuch.cedar")]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn compile_for_the_jit_says_how_each_policy_runs() {
    let policies = example("policies.cedar");
    let o = thuja(&["compile", "--listing", "--engine", "jit", "-p", &policies]);
    assert_eq!(o.status.code(), Some(0));
    let listing = stdout(&o);
    assert!(
        listing.contains("native code: 6 of 6 policies in "),
        "{listing}"
    );
    assert!(
        listing.contains("  anyone-creates-lists native (no conditions to run)\n"),
        "{listing}"
    );
    assert!(
        listing.contains("  owner-has-full-access native\n"),
        "{listing}"
    );
    let o = thuja(&["compile", "--engine", "jit", "-p", &policies]);
    let summary = stdout(&o);
    assert!(summary.starts_with("compiled 6 policies to "), "{summary}");
    assert!(
        summary.contains("native code: 6 of 6 policies"),
        "{summary}"
    );
    assert!(!summary.contains("owner-has-full-access"), "{summary}");
}

#[test]
fn compile_with_a_schema_specialises_the_policies_that_validate() {
    let policies = example("policies.cedar");
    let schema = example("tinytodo.cedarschema");
    let typed = thuja(&["compile", "--listing", "-p", &policies, "-s", &schema]);
    assert_eq!(typed.status.code(), Some(0));
    let typed = stdout(&typed);
    let untyped = stdout(&thuja(&["compile", "--listing", "-p", &policies]));
    let headers = |l: &str| l.lines().filter(|l| l.starts_with("policy ")).count();
    let typed_headers = typed
        .lines()
        .filter(|l| l.starts_with("policy ") && l.ends_with(", typed"))
        .count();
    assert_eq!(typed_headers, 6, "{typed}");
    assert_eq!(headers(&untyped), 6);
    assert!(!untyped.contains(", typed"), "{untyped}");
    // `context.ip` is an ipaddr: `&&` need not check that `isInRange` gave a boolean.
    let checks = |l: &str| l.matches("check_bool").count();
    assert!(checks(&typed) < checks(&untyped), "{typed}\n{untyped}");
    let bad = thuja(&[
        "compile",
        "-p",
        &policies,
        "-s",
        &example("nonesuch.cedarschema"),
    ]);
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn batches_agree_across_engines() {
    let dir = std::env::temp_dir().join(format!("thuja-vm-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let requests = dir.join("requests.jsonl");
    let lines = [
        r#"{"principal": "TinyTodo::User::\"alice\"", "action": "TinyTodo::Action::\"UpdateTask\"", "resource": "TinyTodo::List::\"groceries\"", "context": {"ip": "10.1.2.3"}}"#,
        r#"{"principal": "TinyTodo::User::\"bob\"", "action": "TinyTodo::Action::\"DeleteList\"", "resource": "TinyTodo::List::\"groceries\"", "context": {}}"#,
        "not json",
    ];
    std::fs::write(&requests, lines.join("\n") + "\n").expect("write requests");
    let (p, s, e, r) = (
        example("policies.cedar"),
        example("tinytodo.cedarschema"),
        example("entities.json"),
        requests.display().to_string(),
    );
    let run = |engine: &str, stats: bool| {
        let mut args = vec![
            "authorize",
            "-p",
            &p,
            "-s",
            &s,
            "--entities",
            &e,
            "--requests",
            &r,
            "--engine",
            engine,
        ];
        if stats {
            args.push("--stats");
        }
        thuja(&args)
    };
    let (vm, interp, jit) = (run("vm", false), run("interp", false), run("jit", true));
    assert_eq!(vm.status.code(), Some(0));
    assert_eq!(stdout(&vm), stdout(&interp));
    assert_eq!(stdout(&jit), stdout(&vm));
    assert_eq!(stdout(&vm).lines().count(), 3);
    // The JIT's statistics say how long making native code took and how much of it there is.
    let stats: serde_json::Value =
        serde_json::from_slice(&jit.stderr).expect("one JSON line of statistics");
    assert_eq!(stats["requests"], 3);
    assert!(
        stats["jit_compile_ms"].as_f64().is_some_and(|ms| ms > 0.0),
        "{stats}"
    );
    assert_eq!(stats["jit_native_policies"], 6, "{stats}");
    // The compiled engines bind the policies to the entities, and say how long that took.
    assert!(
        stats["bind_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{stats}"
    );
}
