//! `thuja validate`: exit 0 for valid policies, 3 for invalid ones (each error printed with its
//! policy id, kind and the located snippet), 3 for warnings under `--deny-warnings`, 1 for bad
//! input; `--level` adds level validation.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/tinytodo");

fn thuja(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thuja"))
        .args(args)
        .output()
        .expect("the thuja binary runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("thuja-validate-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    path.display().to_string()
}

const SCHEMA: &str = r#"
entity User { name: String, boss?: User };
entity Doc;
action read appliesTo { principal: User, resource: Doc };
action noop;
"#;

fn validate(name: &str, policies: &str, extra: &[&str]) -> (i32, String, String) {
    let dir = scratch(name);
    let schema = write(&dir, "s.cedarschema", SCHEMA);
    let policies = write(&dir, "p.cedar", policies);
    let mut args = vec!["validate", "-s", &schema, "-p", &policies];
    args.extend_from_slice(extra);
    let out = thuja(&args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_example_validates() {
    let schema = format!("{EXAMPLE}/tinytodo.cedarschema");
    let policies = format!("{EXAMPLE}/policies.cedar");
    let out = thuja(&["validate", "-s", &schema, "-p", &policies]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn valid_policies_exit_0() {
    let (code, stdout, _) = validate(
        "valid",
        r#"permit(principal, action == Action::"read", resource) when { principal.name == "a" };"#,
        &[],
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("validation passed"), "{stdout}");
}

#[test]
fn invalid_policies_exit_3_with_located_errors() {
    let (code, stdout, stderr) = validate(
        "invalid",
        "permit(principal, action, resource);\n@id(\"second\")\npermit(principal, action == Action::\"read\", resource) when { principal.boss.name == \"a\" };",
        &[],
    );
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(
        stderr.contains("unsafe-optional-attribute-access"),
        "{stderr}"
    );
    assert!(stderr.contains("`second`"), "{stderr}");
    assert!(stderr.contains("p.cedar:3:"), "{stderr}");
    assert!(stderr.contains("principal.boss"), "{stderr}");
    assert!(stdout.contains("validation failed"), "{stdout}");
}

#[test]
fn warnings_pass_unless_denied() {
    let policy = r#"permit(principal, action == Action::"noop", resource);"#;
    let (code, _, stderr) = validate("warn", policy, &[]);
    assert_eq!(code, 0);
    assert!(stderr.contains("impossible-policy"), "{stderr}");
    let (code, _, _) = validate("deny-warn", policy, &["--deny-warnings"]);
    assert_eq!(code, 3);
}

#[test]
fn level_validation() {
    let policy = r#"permit(principal, action == Action::"read", resource) when { principal has boss && principal.boss.name == "a" };"#;
    assert_eq!(validate("level-none", policy, &[]).0, 0);
    assert_eq!(validate("level-2", policy, &["--level", "2"]).0, 0);
    let (code, _, stderr) = validate("level-1", policy, &["--level", "1"]);
    assert_eq!(code, 3);
    assert!(stderr.contains("entity-deref-level-violation"), "{stderr}");
}

#[test]
fn bad_input_exits_1() {
    let (code, _, stderr) = validate("bad-policy", "permit(principal, action, resource", &[]);
    assert_eq!(code, 1, "{stderr}");
    let dir = scratch("bad-schema");
    let schema = write(&dir, "s.cedarschema", "entity User in [Nope];");
    let policies = write(&dir, "p.cedar", "permit(principal, action, resource);");
    let out = thuja(&["validate", "-s", &schema, "-p", &policies]);
    assert_eq!(out.status.code(), Some(1));
    let out = thuja(&[
        "validate",
        "-s",
        "/nonexistent.cedarschema",
        "-p",
        &policies,
    ]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn json_schemas_too() {
    let dir = scratch("json");
    let schema = write(
        &dir,
        "s.json",
        r#"{"": {"entityTypes": {"User": {"shape": {"type": "Record", "attributes": {"name": {"type": "String"}}}}},
             "actions": {"read": {"appliesTo": {"principalTypes": ["User"], "resourceTypes": ["User"]}}}}}"#,
    );
    let good = write(
        &dir,
        "good.cedar",
        r#"permit(principal, action, resource) when { principal.name == "a" };"#,
    );
    let bad = write(
        &dir,
        "bad.cedar",
        r#"permit(principal, action, resource) when { principal.nme == "a" };"#,
    );
    let run = |p: &str| {
        thuja(&[
            "validate",
            "-s",
            &schema,
            "--schema-format",
            "json",
            "-p",
            p,
        ])
        .status
        .code()
    };
    assert_eq!(run(&good), Some(0));
    assert_eq!(run(&bad), Some(3));
}

#[test]
fn many_errors_are_listed_compactly_after_the_first_fifty() {
    let policy = r#"permit(principal, action == Action::"read", resource) when { principal.boss.name == "a" };"#;
    let text = vec![policy; 60].join("\n");
    let (code, _, stderr) = validate("many", &text, &[]);
    assert_eq!(code, 3);
    assert_eq!(
        stderr.matches("unsafe-optional-attribute-access").count(),
        60
    );
    assert!(
        stderr.contains(
            "p.cedar:60:62: error [unsafe-optional-attribute-access] for policy `policy59`"
        ),
        "{stderr}"
    );
}
