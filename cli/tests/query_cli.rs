//! `thuja query resources|principals|actions` on the bundled example: each list equals what
//! `thuja authorize` decides candidate by candidate, the stats line is printed on stderr, and bad
//! input is an error (exit 1), never a panic.

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

fn files() -> Vec<String> {
    vec![
        "-p".into(),
        example("policies.cedar"),
        "-s".into(),
        example("tinytodo.cedarschema"),
        "--entities".into(),
        example("entities.json"),
    ]
}

fn run(args: &[&str]) -> Output {
    let files = files();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(files.iter().map(String::as_str));
    thuja(&all)
}

fn lines(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Whether `thuja authorize` allows the request.
fn allows(principal: &str, action: &str, resource: &str) -> bool {
    let o = run(&[
        "authorize",
        "--principal",
        principal,
        "--action",
        action,
        "--resource",
        resource,
    ]);
    assert!(
        matches!(o.status.code(), Some(0..=2)),
        "authorize ends normally"
    );
    o.status.code() == Some(0)
}

const USERS: [&str; 3] = [
    r#"TinyTodo::User::"alice""#,
    r#"TinyTodo::User::"bob""#,
    r#"TinyTodo::User::"casey""#,
];
const LISTS: [&str; 1] = [r#"TinyTodo::List::"groceries""#];
const ACTIONS: [&str; 3] = [
    r#"TinyTodo::Action::"GetList""#,
    r#"TinyTodo::Action::"UpdateList""#,
    r#"TinyTodo::Action::"DeleteList""#,
];

/// The lists in the example's entities (to check `LISTS` is all of them).
fn example_lists() -> Vec<String> {
    let text = std::fs::read_to_string(example("entities.json")).expect("entities");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let mut lists: Vec<String> = json
        .as_array()
        .expect("an array")
        .iter()
        .filter(|e| e["uid"]["type"] == "TinyTodo::List")
        .map(|e| {
            format!(
                r#"TinyTodo::List::"{}""#,
                e["uid"]["id"].as_str().expect("id")
            )
        })
        .collect();
    lists.sort();
    lists
}

#[test]
fn query_resources_and_principals_equal_authorize_one_by_one() {
    assert_eq!(example_lists(), LISTS.to_vec(), "the example's lists");
    for action in ACTIONS {
        for user in USERS {
            let o = run(&[
                "query",
                "resources",
                "--principal",
                user,
                "--action",
                action,
                "--resource-type",
                "TinyTodo::List",
            ]);
            assert_eq!(o.status.code(), Some(0), "{o:?}");
            let expected: Vec<String> = LISTS
                .iter()
                .filter(|l| allows(user, action, l))
                .map(|l| l.to_string())
                .collect();
            assert_eq!(lines(&o), expected, "{user} {action}");
            let stats = String::from_utf8_lossy(&o.stderr);
            assert!(stats.contains("evaluated"), "{stats}");
        }
        for list in LISTS {
            let o = run(&[
                "query",
                "principals",
                "--action",
                action,
                "--resource",
                list,
                "--principal-type",
                "TinyTodo::User",
            ]);
            assert_eq!(o.status.code(), Some(0), "{o:?}");
            let expected: Vec<String> = USERS
                .iter()
                .filter(|u| allows(u, action, list))
                .map(|u| u.to_string())
                .collect();
            assert_eq!(lines(&o), expected, "{action} {list}");
        }
    }
}

#[test]
fn query_actions_equals_authorize_one_by_one() {
    let all = [
        "GetList",
        "UpdateList",
        "DeleteList",
        "CreateTask",
        "UpdateTask",
        "DeleteTask",
        "EditShare",
    ];
    for user in USERS {
        for list in LISTS {
            let o = run(&["query", "actions", "--principal", user, "--resource", list]);
            assert_eq!(o.status.code(), Some(0), "{o:?}");
            let mut expected: Vec<String> = all
                .iter()
                .map(|a| format!(r#"TinyTodo::Action::"{a}""#))
                .filter(|a| allows(user, a, list))
                .collect();
            expected.sort();
            assert_eq!(lines(&o), expected, "{user} {list}");
        }
    }
}

#[test]
fn query_bad_input_is_an_error() {
    for args in [
        &[
            "query",
            "resources",
            "--principal",
            "TinyTodo::User::\"alice\"",
            "--action",
            "TinyTodo::Action::\"GetList\"",
            "--resource-type",
            "TinyTodo::Nothing",
        ][..],
        &[
            "query",
            "resources",
            "--principal",
            "not a uid",
            "--action",
            "TinyTodo::Action::\"GetList\"",
            "--resource-type",
            "TinyTodo::List",
        ][..],
        &[
            "query",
            "principals",
            "--action",
            "TinyTodo::Action::\"GetList\"",
            "--resource",
            "TinyTodo::List::\"groceries\"",
            "--principal-type",
            "::",
        ][..],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {o:?}");
        assert!(!o.stderr.is_empty());
        assert!(
            !String::from_utf8_lossy(&o.stderr).contains("panicked"),
            "{o:?}"
        );
    }
}

/// `thuja partially-authorize`: the decision as the exit code (0 ALLOW, 2 DENY, 4 UNKNOWN),
/// residual policies that parse as Cedar and are what `authorize` decides with, JSON output,
/// and bad input refused (exit 1).
#[test]
fn partially_authorize_prints_the_decision_and_the_residuals() {
    let alice = r#"TinyTodo::User::"alice""#;
    let update = r#"TinyTodo::Action::"UpdateTask""#;
    let o = run(&[
        "partially-authorize",
        "-l",
        alice,
        "-a",
        update,
        "--resource-type",
        "TinyTodo::List",
    ]);
    assert_eq!(o.status.code(), Some(4), "{o:?}");
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let (decision, residuals) = text.split_once('\n').expect("a decision line");
    assert_eq!(decision, "UNKNOWN");
    assert!(residuals.contains("// owner-has-full-access\n"), "{text}");
    assert!(
        residuals.contains(r#"when { TinyTodo::User::"alice" in resource.editors };"#),
        "{text}"
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("2 residual, 0 satisfied"),
        "{o:?}"
    );
    // The residuals are Cedar: with them, authorize decides the completed request as with
    // the policies.
    let dir = std::env::temp_dir().join(format!("thuja-partial-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let residual_file = dir.join("residuals.cedar");
    std::fs::write(&residual_file, residuals).expect("written");
    let groceries = r#"TinyTodo::List::"groceries""#;
    let with_residuals = thuja(&[
        "authorize",
        "-p",
        residual_file.to_str().expect("utf-8 path"),
        "-s",
        &example("tinytodo.cedarschema"),
        "--entities",
        &example("entities.json"),
        "--principal",
        alice,
        "--action",
        update,
        "--resource",
        groceries,
    ]);
    assert_eq!(
        with_residuals.status.code(),
        Some(if allows(alice, update, groceries) {
            0
        } else {
            2
        }),
        "{with_residuals:?}"
    );
    std::fs::remove_dir_all(&dir).expect("removed");

    // Decided whoever asks: ALLOW (exit 0) and DENY (exit 2).
    let application = r#"TinyTodo::Application::"TinyTodo""#;
    let o = run(&[
        "partially-authorize",
        "--principal-type",
        "TinyTodo::User",
        "-a",
        r#"TinyTodo::Action::"GetLists""#,
        "-r",
        application,
        "--output",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(json["decision"], "ALLOW");
    assert_eq!(json["reasons"], serde_json::json!(["anyone-creates-lists"]));
    assert!(json["residuals"]["staticPolicies"]["anyone-creates-lists"].is_object());
    let o = run(&[
        "partially-authorize",
        "--principal-type",
        "TinyTodo::User",
        "-a",
        r#"TinyTodo::Action::"DeleteList""#,
        "-r",
        application,
        "--unknown-context",
    ]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");

    // Bad input: neither the principal nor its type; an undeclared type; a bad uid.
    for args in [
        vec!["partially-authorize", "-a", update, "-r", groceries],
        vec![
            "partially-authorize",
            "--principal-type",
            "TinyTodo::Nobody",
            "-a",
            update,
            "-r",
            groceries,
        ],
        vec![
            "partially-authorize",
            "-l",
            "alice",
            "-a",
            update,
            "-r",
            groceries,
        ],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {o:?}");
        assert!(!o.stderr.is_empty(), "{args:?}: an error message");
    }
}
