//! `translate-policy`, `--policy-format json`, `link` and `visualize`, run as a user runs them.

use std::path::PathBuf;
use std::process::{Command, Output};

fn thuja(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thuja"))
        .args(args)
        .output()
        .expect("the thuja binary runs")
}

fn scratch(test: &str, name: &str, text: &str) -> String {
    let dir =
        std::env::temp_dir().join(format!("thuja-policy-tools-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const POLICIES: &str = r#"@id("owner")
permit(principal, action == Action::"view", resource) when { resource.owner == principal };
permit(principal == ?principal, action, resource in ?resource);
"#;

const ENTITIES: &str = r#"[
  {"uid": {"type": "User", "id": "alice"}, "attrs": {}, "parents": [{"type": "Team", "id": "t1"}]},
  {"uid": {"type": "Team", "id": "t1"}, "attrs": {}, "parents": [{"type": "Org", "id": "o\"q"}]},
  {"uid": {"type": "Doc", "id": "d1"}, "attrs": {"owner": {"__entity": {"type": "User", "id": "bob"}}}, "parents": [{"type": "Folder", "id": "f"}]}
]"#;

#[test]
fn translate_policy_both_ways_and_authorize_with_json_policies() {
    let cedar = scratch("translate", "p.cedar", POLICIES);
    let out = thuja(&[
        "translate-policy",
        "--direction",
        "cedar-to-json",
        "-p",
        &cedar,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert!(json["staticPolicies"]["owner"].is_object(), "{json}");
    assert!(json["templates"]["policy1"].is_object(), "{json}");
    let json_path = scratch("translate", "p.json", &stdout(&out));

    let out = thuja(&[
        "translate-policy",
        "--direction",
        "json-to-cedar",
        "-p",
        &json_path,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("action == Action::\"view\""), "{text}");
    assert!(text.contains("principal == ?principal"), "{text}");

    // Every command that reads policies takes the JSON format.
    let entities = scratch("translate", "e.json", ENTITIES);
    let links = scratch(
        "translate",
        "links.json",
        r#"[{"template_id": "policy1", "link_id": "l1", "args": {"?principal": "User::\"alice\"", "?resource": "Folder::\"f\""}}]"#,
    );
    let out = thuja(&[
        "authorize",
        "--policy-format",
        "json",
        "-p",
        &json_path,
        "--entities",
        &entities,
        "-k",
        &links,
        "-l",
        "User::\"alice\"",
        "-a",
        "Action::\"edit\"",
        "-r",
        "Doc::\"d1\"",
        "-v",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("l1"), "{}", stdout(&out));
    let out = thuja(&[
        "authorize",
        "--policy-format",
        "json",
        "-p",
        &json_path,
        "--entities",
        &entities,
        "-l",
        "User::\"bob\"",
        "-a",
        "Action::\"view\"",
        "-r",
        "Doc::\"d1\"",
        "-v",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("owner"), "{}", stdout(&out));
    for cmd in [
        vec!["check-parse", "--policy-format", "json", "-p", &json_path],
        vec!["compile", "--policy-format", "json", "-p", &json_path],
        vec![
            "validate",
            "--policy-format",
            "json",
            "-p",
            &json_path,
            "-s",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../examples/tinytodo/tinytodo.cedarschema"
            ),
        ],
    ] {
        let out = thuja(&cmd);
        assert_ne!(out.status.code(), Some(1), "{cmd:?}: {}", stderr(&out));
        assert!(out.status.code().is_some(), "{cmd:?} was killed");
    }

    // Malformed JSON policies: a located error and exit 1, no panic.
    let bad = scratch(
        "translate",
        "bad.json",
        "{\n  \"effect\": \"permit\",\n  \"principal\": {\"op\": \"All\"},\n  \"action\": {\"op\": \"All\"},\n  \"resource\": {\"op\": \"All\"},\n  \"conditions\": [{\"kind\": \"when\", \"body\": {\"Var\": \"nobody\"}}]\n}\n",
    );
    let out = thuja(&["check-parse", "--policy-format", "json", "-p", &bad]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("conditions[0].body.Var"),
        "{}",
        stderr(&out)
    );
    let bad = scratch("translate", "bad2.json", "{\n  \"effect\": \n");
    let out = thuja(&[
        "translate-policy",
        "--direction",
        "json-to-cedar",
        "-p",
        &bad,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("bad2.json:3:"), "{}", stderr(&out));
}

/// A file of the workspace's `tests/data/json_to_cedar/`, whose `.expected` files the workspace's
/// `policy_json` test checks against `cedar-policy`: what `cedar translate-policy --direction
/// json-to-cedar` prints for the `.json` beside them.
fn json_to_cedar_fixture(name: &str) -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/json_to_cedar/").to_string() + name
}

/// `json-to-cedar` prints what the `cedar` CLI prints, byte for byte: escapes in strings and
/// ids, `like` patterns with `*` and `\*`, negative literals beside negations, `has`, `is ... in`,
/// if-then-else, extension functions and methods, records and sets, annotations without a
/// value, templates, `unless`, operators nested at every precedence, and JSON-only forms.
#[test]
fn json_to_cedar_prints_as_cedar() {
    for (json, expected) in [
        ("policies.json", "policies.expected"),
        ("extra.json", "extra.expected"),
        ("single.json", "single.expected"),
    ] {
        let expected = std::fs::read_to_string(json_to_cedar_fixture(expected)).expect("fixture");
        let out = thuja(&[
            "translate-policy",
            "--direction",
            "json-to-cedar",
            "-p",
            &json_to_cedar_fixture(json),
        ]);
        assert_eq!(out.status.code(), Some(0), "{json}: {}", stderr(&out));
        assert_eq!(stdout(&out), expected, "{json}");
    }

    // Thuja's own JSON for the text prints the same (it is cedar's JSON), read from stdin too.
    let out = thuja(&[
        "translate-policy",
        "--direction",
        "cedar-to-json",
        "-p",
        &json_to_cedar_fixture("policies.cedar"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut child = Command::new(env!("CARGO_BIN_EXE_thuja"))
        .args(["translate-policy", "--direction", "json-to-cedar"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the thuja binary runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(&out.stdout).expect("write stdin");
    }
    let out = child.wait_with_output().expect("thuja finishes");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        std::fs::read_to_string(json_to_cedar_fixture("policies.expected")).expect("fixture")
    );

    // Template links have no text: an error, as in the `cedar` CLI.
    let links = scratch(
        "json-to-cedar",
        "links.json",
        r#"{"staticPolicies":{},"templates":{"t":{"effect":"permit","principal":{"op":"==","slot":"?principal"},"action":{"op":"All"},"resource":{"op":"All"},"conditions":[]}},"templateLinks":[{"templateId":"t","newId":"l","values":{"?principal":{"type":"User","id":"a"}}}]}"#,
    );
    let out = thuja(&[
        "translate-policy",
        "--direction",
        "json-to-cedar",
        "-p",
        &links,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out)
            .contains("Unable to translate policy set containing template linked policies."),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");
}

#[test]
fn link_adds_to_the_links_file_and_checks_the_link() {
    let policies = scratch("link", "p.cedar", POLICIES);
    let links = scratch("link", "links.json", "");
    std::fs::remove_file(&links).expect("start without a links file");
    let link = |id: &str, args: &str| {
        thuja(&[
            "link",
            "-p",
            &policies,
            "-k",
            &links,
            "--template-id",
            "policy1",
            "--new-id",
            id,
            "--arguments",
            args,
        ])
    };
    let out = link(
        "l1",
        r#"{"?principal": "User::\"alice\"", "?resource": "Folder::\"f\""}"#,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("principal == User::\"alice\"")
            && stdout(&out).contains("resource in Folder::\"f\""),
        "{}",
        stdout(&out)
    );
    let out = link(
        "l2",
        r#"{"?principal": "User::\"bob\"", "?resource": "Folder::\"g\""}"#,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&links).expect("links file")).expect("JSON");
    assert_eq!(written.as_array().map(Vec::len), Some(2), "{written}");
    assert_eq!(written[1]["link_id"], "l2");
    assert_eq!(written[1]["args"]["?principal"], "User::\"bob\"");

    // The file is what `-k` reads: the links decide.
    let entities = scratch("link", "e.json", ENTITIES);
    let out = thuja(&[
        "authorize",
        "-p",
        &policies,
        "-k",
        &links,
        "--entities",
        &entities,
        "-l",
        "User::\"bob\"",
        "-a",
        "Action::\"edit\"",
        "-r",
        "Folder::\"g\"",
        "-v",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("l2"));

    // Errors: a taken id, a missing slot, an unknown template, a static policy, bad arguments.
    for (id, template, args, expect) in [
        (
            "l1",
            "policy1",
            r#"{"?principal": "User::\"x\"", "?resource": "Folder::\"y\""}"#,
            "already used",
        ),
        (
            "l3",
            "policy1",
            r#"{"?principal": "User::\"x\""}"#,
            "?resource",
        ),
        (
            "l3",
            "nope",
            r#"{"?principal": "User::\"x\""}"#,
            "no template",
        ),
        (
            "l3",
            "owner",
            r#"{"?principal": "User::\"x\""}"#,
            "static policy",
        ),
        (
            "l3",
            "policy1",
            r#"{"?principal": "not a uid"}"#,
            "--arguments ?principal",
        ),
        ("l3", "policy1", "[1]", "--arguments"),
    ] {
        let out = thuja(&[
            "link",
            "-p",
            &policies,
            "-k",
            &links,
            "--template-id",
            template,
            "--new-id",
            id,
            "--arguments",
            args,
        ]);
        assert_eq!(out.status.code(), Some(1), "{id} {template} {args}");
        assert!(stderr(&out).contains(expect), "{expect}: {}", stderr(&out));
    }
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&links).expect("links file")).expect("JSON");
    assert_eq!(
        written.as_array().map(Vec::len),
        Some(2),
        "failed links are not written"
    );
}

#[test]
fn visualize_prints_the_hierarchy_as_dot() {
    let entities = scratch("visualize", "e.json", ENTITIES);
    let out = thuja(&["visualize", "--entities", &entities]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dot = stdout(&out);
    assert!(
        dot.starts_with("strict digraph {\n\tordering=\"out\"\n\tnode[shape=box]\n"),
        "{dot}"
    );
    for line in [
        "\tsubgraph \"cluster_User\" {\n\t\tlabel=\"User\"\n\t\t\"User::\\\"alice\\\"\" [label=\"alice\"]\n\t}\n",
        "\t\"User::\\\"alice\\\"\" -> \"Team::\\\"t1\\\"\"\n",
        // An id with a quote is escaped twice, as Cedar does: once in the uid, once for DOT.
        "\t\"Team::\\\"t1\\\"\" -> \"Org::\\\"o\\\\\\\"q\\\"\"\n",
        "\t\"Doc::\\\"d1\\\"\" -> \"Folder::\\\"f\\\"\"\n",
    ] {
        assert!(dot.contains(line), "{line:?} not in\n{dot}");
    }
    assert_eq!(dot.matches("subgraph").count(), 3, "User, Team, Doc: {dot}");

    // Graphviz reads it, when installed.
    if Command::new("dot").arg("-V").output().is_ok() {
        let svg = std::env::temp_dir().join(format!("thuja-viz-{}.svg", std::process::id()));
        let svg = svg.display().to_string();
        let out = thuja(&["visualize", "--entities", &entities, "--svg", &svg]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let drawn = std::fs::read_to_string(&svg).expect("svg written");
        assert!(drawn.contains("<svg") && drawn.contains("alice"), "{drawn}");
    } else {
        eprintln!("SKIPPED the SVG part: Graphviz's `dot` is not installed");
    }

    let bad = scratch("visualize", "bad.json", "[{\"uid\": 1}]");
    let out = thuja(&["visualize", "--entities", &bad]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("bad.json"), "{}", stderr(&out));
}

fn thuja_with_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_thuja"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the thuja binary runs");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    child.wait_with_output().expect("thuja finishes")
}

/// `cedar check-parse`'s flags: policies from standard input when nothing is given,
/// `--expression`, and every input that does not parse reported (exit 1), not only the first.
#[test]
fn check_parse_reads_stdin_and_expressions_and_reports_every_failure() {
    let o = thuja_with_stdin(&["check-parse"], POLICIES);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = thuja_with_stdin(
        &["check-parse"],
        "permit(principal, action, resource) when { 1 + };",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("<stdin>:1:"), "{}", stderr(&o));

    let o = thuja(&[
        "check-parse",
        "--expression",
        "context.a && [1, 2].contains(3)",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let bad_entities = scratch("check-parse", "e.json", "[{\"uid\": 3}]");
    let o = thuja(&[
        "check-parse",
        "--expression",
        "1 + (",
        "--entities",
        &bad_entities,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("<expression>:1:"), "{err}");
    assert!(err.contains("e.json"), "{err}");
}

/// `cedar authorize --timing` and `cedar validate --validation-mode`.
#[test]
fn authorize_timing_and_validate_modes() {
    let policies = scratch("flags", "p.cedar", POLICIES);
    let entities = scratch("flags", "e.json", ENTITIES);
    let o = thuja(&[
        "authorize",
        "-p",
        &policies,
        "--entities",
        &entities,
        "-l",
        r#"User::"bob""#,
        "-a",
        r#"Action::"view""#,
        "-r",
        r#"Doc::"d1""#,
        "-t",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let (timing, decision) = out.split_once('\n').expect("two lines");
    let micros = timing
        .strip_prefix("Authorization Time (micro seconds) : ")
        .expect("the timing line first");
    assert!(micros.parse::<u64>().is_ok(), "{timing}");
    assert_eq!(decision, "ALLOW\n");

    let schema = scratch(
        "flags",
        "s.cedarschema",
        "entity User; entity Doc { owner: User }; action view appliesTo { principal: User, resource: Doc };",
    );
    let static_only = scratch(
        "flags",
        "static.cedar",
        "permit(principal, action == Action::\"view\", resource) when { resource.owner == principal };",
    );
    let validate = |mode: &str| {
        thuja(&[
            "validate",
            "-p",
            &static_only,
            "-s",
            &schema,
            "--validation-mode",
            mode,
        ])
    };
    let o = validate("strict");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for mode in ["permissive", "partial"] {
        let o = validate(mode);
        assert_eq!(o.status.code(), Some(1), "{mode}");
        assert!(stderr(&o).contains("not supported"), "{}", stderr(&o));
    }
}

/// `cedar`'s `-f/--error-format` (and `CEDAR_ERROR_FORMAT`): `json` writes each error as one
/// JSON object per line, located by file and byte offset; `plain` writes sentences; `human`
/// (the default) the drawn snippet.
#[test]
fn error_format_json_plain_and_human() {
    let bad = scratch(
        "error-format",
        "bad.cedar",
        "permit(principal, action, resource)\n  when { 1 + };\n",
    );
    let o = thuja(&["check-parse", "-p", &bad, "--error-format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stderr(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect();
    assert!(!lines.is_empty());
    assert_eq!(lines[0]["severity"], "error");
    assert_eq!(lines[0]["filename"], bad.as_str());
    assert!(lines[0]["labels"][0]["span"]["offset"].as_u64().is_some());

    let o = Command::new(env!("CARGO_BIN_EXE_thuja"))
        .args(["check-parse", "-p", "/nonexistent/p.cedar"])
        .env("CEDAR_ERROR_FORMAT", "json")
        .output()
        .expect("the thuja binary runs");
    assert_eq!(o.status.code(), Some(1));
    let line: serde_json::Value = serde_json::from_str(stderr(&o).trim()).expect("one JSON object");
    assert!(
        line["message"]
            .as_str()
            .is_some_and(|m| m.contains("/nonexistent/p.cedar")),
        "{line}"
    );

    let o = thuja(&["check-parse", "-p", &bad, "-f", "plain"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("Diagnostic severity: error"),
        "{}",
        stderr(&o)
    );
    let o = thuja(&["check-parse", "-p", &bad]);
    assert!(stderr(&o).contains("bad.cedar:2:"), "{}", stderr(&o));
    assert!(stderr(&o).contains("╭─["), "{}", stderr(&o));
}
