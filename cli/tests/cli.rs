//! The `thuja` command line: decisions and exit codes on the bundled example, the `cedar`-style
//! flags, and every kind of malformed input ending in a located error and exit status 1 (never a
//! panic).

use std::path::{Path, PathBuf};
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

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch directory for this test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("thuja-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    path.display().to_string()
}

fn authorize_example(extra: &[&str]) -> Output {
    let (p, s, e) = (
        example("policies.cedar"),
        example("tinytodo.cedarschema"),
        example("entities.json"),
    );
    let mut args = vec!["authorize", "-p", &p, "-s", &s, "--entities", &e];
    args.extend_from_slice(extra);
    thuja(&args)
}

/// Asserts a bad-input failure: exit 1, no panic, and a message naming `location`.
fn assert_input_error(o: &Output, location: &str, message: &str) {
    let err = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "stdout: {}\nstderr: {err}",
        stdout(o)
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(location), "expected `{location}` in:\n{err}");
    assert!(err.contains(message), "expected `{message}` in:\n{err}");
}

#[test]
fn example_request_is_allowed_with_its_reason() {
    let o = authorize_example(&["--request-json", &example("request.json"), "-v"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("ALLOW\n"), "{out}");
    assert!(out.contains("editors-edit"), "{out}");
}

#[test]
fn deny_exits_2_and_forbid_reasons_are_listed() {
    let o = authorize_example(&[
        "-l",
        r#"TinyTodo::User::"casey""#,
        "-a",
        r#"TinyTodo::Action::"CreateList""#,
        "-r",
        r#"TinyTodo::Application::"TinyTodo""#,
        "-v",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("DENY\n"), "{out}");
    assert!(out.contains("interns-do-not-create"), "{out}");
}

#[test]
fn request_validation_rejects_a_wrong_principal_type_unless_disabled() {
    let args = [
        "-l",
        r#"TinyTodo::List::"groceries""#,
        "-a",
        r#"TinyTodo::Action::"GetList""#,
        "-r",
        r#"TinyTodo::List::"groceries""#,
    ];
    let o = authorize_example(&args);
    assert_input_error(&o, "request", "TinyTodo::List");
    let mut unvalidated = args.to_vec();
    unvalidated.extend(["--request-validation", "false"]);
    let o = authorize_example(&unvalidated);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn context_file_is_typed_by_the_schema() {
    let dir = scratch("context");
    let outside = write(&dir, "outside.json", r#"{"ip": "192.168.0.1"}"#);
    let inside = write(&dir, "inside.json", r#"{"ip": "10.0.0.1"}"#);
    let request = |ctx: &str| {
        authorize_example(&[
            "-l",
            r#"TinyTodo::User::"bob""#,
            "-a",
            r#"TinyTodo::Action::"DeleteList""#,
            "-r",
            r#"TinyTodo::List::"groceries""#,
            "-c",
            ctx,
        ])
    };
    assert_eq!(request(&outside).status.code(), Some(2));
    assert_eq!(request(&inside).status.code(), Some(0));
}

#[test]
fn template_links_and_id_annotations() {
    let dir = scratch("links");
    let policies = write(
        &dir,
        "p.cedar",
        "@id(\"viewers\")\npermit(principal == ?principal, action, resource);\n",
    );
    let links = write(
        &dir,
        "links.json",
        r#"[{"template_id": "viewers", "link_id": "alice-views", "args": {"?principal": "User::\"alice\""}}]"#,
    );
    let entities = write(&dir, "e.json", "[]");
    let ask = |who: &str| {
        thuja(&[
            "authorize",
            "-p",
            &policies,
            "--entities",
            &entities,
            "-k",
            &links,
            "-l",
            who,
            "-a",
            r#"Action::"view""#,
            "-r",
            r#"Photo::"p""#,
            "-v",
        ])
    };
    let o = ask(r#"User::"alice""#);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("alice-views"), "{}", stdout(&o));
    assert_eq!(ask(r#"User::"bob""#).status.code(), Some(2));
}

#[test]
fn evaluation_errors_are_reported_with_the_policy_id() {
    let dir = scratch("errors");
    let policies = write(
        &dir,
        "p.cedar",
        "permit(principal, action, resource) when { principal.missing };\npermit(principal, action, resource) when { 1 + 9223372036854775807 > 0 };\n",
    );
    let entities = write(&dir, "e.json", "[]");
    let o = thuja(&[
        "authorize",
        "-p",
        &policies,
        "--entities",
        &entities,
        "-l",
        r#"User::"a""#,
        "-a",
        r#"Action::"b""#,
        "-r",
        r#"R::"c""#,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let out = stdout(&o);
    assert!(out.contains("policy0") && out.contains("policy1"), "{out}");
    assert!(
        out.contains("p.cedar:1:44") && out.contains("p.cedar:2:44"),
        "{out}"
    );
}

#[test]
fn malformed_policies_are_located() {
    let dir = scratch("policies");
    let entities = write(&dir, "e.json", "[]");
    let cases = [
        (
            "truncated.cedar",
            "permit(principal, action, resource) when { principal.name == \"ali",
            "truncated.cedar:1:62",
            "unterminated string",
        ),
        (
            "escape.cedar",
            "permit(principal, action, resource)\nwhen { principal.name == \"a\\qb\" };",
            "escape.cedar:2:28",
            "escape",
        ),
        (
            "unknown_fn.cedar",
            "permit(principal, action, resource) when { foo(\"x\") };",
            "unknown_fn.cedar:1:44",
            "`foo` is not a function",
        ),
        (
            "unknown_method.cedar",
            "permit(principal, action, resource) when { context.isIpv5() };",
            "unknown_method.cedar:1:",
            "isIpv5",
        ),
    ];
    for (name, text, location, message) in cases {
        let path = write(&dir, name, text);
        let o = thuja(&[
            "authorize",
            "-p",
            &path,
            "--entities",
            &entities,
            "-l",
            r#"User::"a""#,
            "-a",
            r#"Action::"b""#,
            "-r",
            r#"R::"c""#,
        ]);
        assert_input_error(&o, location, message);
        let o = thuja(&["check-parse", "-p", &path]);
        assert_input_error(&o, location, message);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let dir = scratch("deep");
    let depth = 100_000;
    let text = format!(
        "permit(principal, action, resource) when {{ {}true{} }};",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let path = write(&dir, "deep.cedar", &text);
    let o = thuja(&["check-parse", "-p", &path]);
    assert_input_error(&o, "deep.cedar:1:", "nested too deeply");
    assert!(stderr(&o).len() < 2_000, "the snippet is cropped");
    let entities = write(
        &dir,
        "deep.json",
        &format!("{}{}", "[".repeat(depth), "]".repeat(depth)),
    );
    let o = thuja(&["check-parse", "--entities", &entities]);
    assert_input_error(&o, "deep.json", "nested too deeply");
}

#[test]
fn malformed_entities_are_reported() {
    let dir = scratch("entities");
    let schema = example("tinytodo.cedarschema");
    let cases = [
        (
            "object.json",
            r#"{"uid": {"type": "User", "id": "a"}}"#,
            "object.json",
            "array",
        ),
        (
            "syntax.json",
            "[\n  {\"uid\": }\n]",
            "syntax.json:2:11",
            "expected value",
        ),
        (
            "dup.json",
            r#"[{"uid": {"type": "T", "id": "a"}, "uid": {"type": "T", "id": "b"}, "attrs": {}, "parents": []}]"#,
            "dup.json:1:",
            "uid",
        ),
        (
            "unknown_type.json",
            r#"[{"uid": {"type": "TinyTodo::Robot", "id": "r"}, "attrs": {}, "parents": []}]"#,
            "unknown_type.json",
            "TinyTodo::Robot",
        ),
        (
            "missing_attr.json",
            r#"[{"uid": {"type": "TinyTodo::User", "id": "u"}, "attrs": {}, "parents": []}]"#,
            "missing_attr.json",
            "name",
        ),
        (
            "bad_ip.json",
            r#"[{"uid": {"type": "TinyTodo::User", "id": "u"}, "attrs": {"name": "U", "joinedAt": "yesterday"}, "parents": []}]"#,
            "bad_ip.json",
            "yesterday",
        ),
    ];
    for (name, text, location, message) in cases {
        let path = write(&dir, name, text);
        let o = thuja(&["check-parse", "-s", &schema, "--entities", &path]);
        assert_input_error(&o, location, message);
    }
}

#[test]
fn malformed_schema_is_located() {
    let dir = scratch("schema");
    let path = write(&dir, "s.cedarschema", "entity User {\n  name: Strin,\n};\n");
    let o = thuja(&["check-parse", "-s", &path]);
    assert_input_error(&o, "s.cedarschema:2:9", "Strin");
}

#[test]
fn missing_request_parts_and_files_are_usage_errors() {
    let o = authorize_example(&["-l", r#"TinyTodo::User::"bob""#]);
    assert_input_error(&o, "", "--resource");
    let o = thuja(&["check-parse", "-p", "/nonexistent/p.cedar"]);
    assert_input_error(&o, "/nonexistent/p.cedar", "cannot read");
}

#[test]
fn evaluate_prints_values() {
    let o = thuja(&[
        "evaluate",
        r#"[1, 2].contains(2) && ip("10.0.0.1").isInRange(ip("10.0.0.0/8"))"#,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "true");
    let o = thuja(&["evaluate", r#"decimal("1.23456")"#]);
    assert_input_error(&o, "<expression>:1:1", "decimal");
}

#[test]
fn conformance_reports_counts_and_json() {
    let dir = scratch("conformance");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/cedar-conformance");
    if !data.is_dir() {
        eprintln!("SKIPPED: no conformance data at {}", data.display());
        return;
    }
    let json = dir.join("summary.json").display().to_string();
    let root = data.display().to_string();
    let tests = data.join("tests/decimal").display().to_string();
    let o = thuja(&["conformance", "--root", &root, "--json", &json, &tests]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    let last = out.lines().last().unwrap_or_default();
    assert!(last.ends_with(" passed, 0 failed"), "{out}");
    assert!(!last.starts_with("shouldValidate"), "{out}");
    assert!(out.contains("shouldValidate: 2 passed, 0 failed"), "{out}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("summary written"))
            .expect("JSON");
    assert!(
        summary["requests"]["passed"].as_u64().unwrap_or(0) > 0,
        "{summary}"
    );
    assert_eq!(summary["requests"]["failed"], 0);
    assert!(summary["validation"]["passed"].as_u64().unwrap_or(0) > 0);
    assert_eq!(summary["validation"]["failed"], 0);
    assert!(summary["failures"].as_array().is_some_and(Vec::is_empty));
}

#[test]
fn batch_mode_keeps_order_and_reports_bad_lines() {
    let dir = scratch("batch");
    let lines = [
        r#"{"principal": "TinyTodo::User::\"alice\"", "action": "TinyTodo::Action::\"UpdateTask\"", "resource": "TinyTodo::List::\"groceries\"", "context": {"ip": "10.1.2.3"}}"#,
        r#"{"principal": {"type": "TinyTodo::User", "id": "casey"}, "action": {"type": "TinyTodo::Action", "id": "CreateList"}, "resource": {"type": "TinyTodo::Application", "id": "TinyTodo"}, "context": {}}"#,
        "not json",
        r#"{"principal": "TinyTodo::List::\"groceries\"", "action": "TinyTodo::Action::\"GetList\"", "resource": "TinyTodo::List::\"groceries\""}"#,
        r#"{"principal": "TinyTodo::User::\"bob\"", "action": "TinyTodo::Action::\"GetList\"", "resource": "TinyTodo::List::\"groceries\"", "context": {}}"#,
    ];
    let requests = write(&dir, "requests.jsonl", &(lines.join("\n") + "\n"));
    let output = dir.join("decisions.jsonl").display().to_string();
    let o = authorize_example(&[
        "--requests",
        &requests,
        "--output",
        &output,
        "--threads",
        "2",
        "--stats",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let written = std::fs::read_to_string(&output).expect("output written");
    let out: Vec<&str> = written.lines().collect();
    assert_eq!(out.len(), 5, "{written}");
    assert_eq!(
        out[0],
        r#"{"decision":"allow","reasons":["editors-edit"],"errors":[]}"#
    );
    assert_eq!(
        out[1],
        r#"{"decision":"deny","reasons":["interns-do-not-create"],"errors":[]}"#
    );
    assert!(
        out[2].starts_with(r#"{"error":"#) && out[2].contains("requests.jsonl:3"),
        "{}",
        out[2]
    );
    assert!(out[3].contains("not valid for the schema"), "{}", out[3]);
    assert_eq!(
        out[4],
        r#"{"decision":"allow","reasons":["owner-has-full-access"],"errors":[]}"#
    );
    let stats: serde_json::Value =
        serde_json::from_str(stderr(&o).trim()).expect("stats are one JSON line");
    assert_eq!(stats["requests"], 5);
    assert_eq!(stats["threads"], 2);
    for key in [
        "compile_ms",
        "entities_ms",
        "eval_ns_per_request",
        "p50_ns",
        "p99_ns",
        "max_ns",
    ] {
        assert!(stats[key].is_number(), "{stats}");
    }
    let (p50, p99, max) = (&stats["p50_ns"], &stats["p99_ns"], &stats["max_ns"]);
    assert!(
        p50.as_u64() <= p99.as_u64() && p99.as_u64() <= max.as_u64(),
        "{stats}"
    );
    // The single-request flags cannot be mixed in.
    let o = authorize_example(&["--requests", &requests, "-l", r#"TinyTodo::User::"bob""#]);
    assert_eq!(o.status.code(), Some(1));
}

/// `--explain` keeps the decision, exit code and the rest of the output, and adds why each
/// policy did or did not apply, for every engine.
#[test]
fn explain_adds_the_reasons_and_keeps_the_decision() {
    let request = [
        "-l",
        r#"TinyTodo::User::"casey""#,
        "-a",
        r#"TinyTodo::Action::"CreateList""#,
        "-r",
        r#"TinyTodo::Application::"TinyTodo""#,
        "-v",
    ];
    let plain = authorize_example(&request);
    assert_eq!(plain.status.code(), Some(2), "{}", stderr(&plain));
    for engine in ["vm", "jit", "interp"] {
        let mut args = request.to_vec();
        args.extend(["--explain", "--engine", engine]);
        let explained = authorize_example(&args);
        assert_eq!(explained.status.code(), Some(2), "{}", stderr(&explained));
        let out = stdout(&explained);
        let (before, after) = out
            .split_once("\nexplanation:\n")
            .expect("an explanation follows the response");
        assert_eq!(before, stdout(&plain));
        // The forbid that decided it applied; the policies for other actions are listed by id.
        assert!(
            after.contains("  forbid interns-do-not-create (") && after.contains("): applied\n"),
            "{after}"
        );
        assert!(after.contains("  not for this action ("), "{after}");
    }
    // With batch mode, it is refused as a usage error.
    let o = authorize_example(&["--requests", "-", "--explain"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("--explain"), "{}", stderr(&o));
}

/// A reader that stops early (`thuja ... | head`) closes standard output: the command ends
/// without a panic, with the exit code it would have had.
#[test]
fn a_closed_standard_output_is_not_a_panic() {
    use std::io::Read;
    let policies = example("policies.cedar");
    for args in [
        vec!["compile", "--listing", "-p", policies.as_str()],
        vec![
            "translate-policy",
            "--direction",
            "cedar-to-json",
            "-p",
            policies.as_str(),
        ],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_thuja"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the thuja binary runs");
        // Close the read end at once.
        drop(child.stdout.take());
        let mut err = String::new();
        child
            .stderr
            .take()
            .expect("stderr is piped")
            .read_to_string(&mut err)
            .expect("stderr");
        let status = child.wait().expect("thuja ends");
        assert_eq!(status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
