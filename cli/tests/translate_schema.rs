//! `thuja translate-schema`: both directions on the bundled example, the other commands reading
//! the JSON schema with `--schema-format json`, and located errors.

use std::path::PathBuf;
use std::process::{Command, Output};

fn thuja(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thuja"))
        .args(args)
        .output()
        .expect("the thuja binary runs")
}

fn scratch(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("thuja-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/tinytodo");

#[test]
fn translate_schema_both_ways_and_use_json_schemas() {
    let schema = format!("{EXAMPLE}/tinytodo.cedarschema");
    let out = thuja(&[
        "translate-schema",
        "--direction",
        "cedar-to-json",
        "-s",
        &schema,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json_text = String::from_utf8(out.stdout).expect("utf-8");
    serde_json::from_str::<serde_json::Value>(&json_text).expect("JSON");
    let json_path = scratch("tinytodo.cedarschema.json", &json_text);
    let out = thuja(&[
        "translate-schema",
        "--direction",
        "json-to-cedar",
        "-s",
        &json_path,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("namespace TinyTodo {"), "{text}");

    // The other commands read the JSON schema with `--schema-format json`.
    let out = thuja(&["check-parse", "-s", &json_path, "--schema-format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = thuja(&["check-parse", "-s", &json_path]);
    assert_eq!(out.status.code(), Some(1));
    let (p, e) = (
        format!("{EXAMPLE}/policies.cedar"),
        format!("{EXAMPLE}/entities.json"),
    );
    let with_text = thuja(&[
        "authorize",
        "-p",
        &p,
        "-s",
        &schema,
        "--entities",
        &e,
        "--request-json",
        &format!("{EXAMPLE}/request.json"),
    ]);
    let with_json = thuja(&[
        "authorize",
        "-p",
        &p,
        "-s",
        &json_path,
        "--schema-format",
        "json",
        "--entities",
        &e,
        "--request-json",
        &format!("{EXAMPLE}/request.json"),
    ]);
    assert_eq!(with_text.status.code(), with_json.status.code());
    assert_eq!(with_text.stdout, with_json.stdout);
}

#[test]
fn translate_schema_reports_located_errors() {
    let bad = scratch(
        "bad.json",
        "{\n  \"\": {\n    \"entityTypes\": {\"A\": {\"bogus\": 1}},\n    \"actions\": {}\n  }\n}\n",
    );
    let out = thuja(&[
        "translate-schema",
        "--direction",
        "json-to-cedar",
        "-s",
        &bad,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.json:3:27"), "{err}");
    assert!(err.contains("unknown field `bogus`"), "{err}");
    let bad = scratch("bad.cedarschema", "entity A in [B];");
    let out = thuja(&[
        "translate-schema",
        "--direction",
        "cedar-to-json",
        "-s",
        &bad,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.cedarschema:1:14"));
    assert!(out.stdout.is_empty());
    let out = thuja(&["translate-schema", "--direction", "sideways", "-s", &bad]);
    assert_eq!(out.status.code(), Some(1));
    let out = thuja(&["check-parse", "-s", &bad, "--schema-format", "yaml"]);
    assert_eq!(out.status.code(), Some(1));
}
