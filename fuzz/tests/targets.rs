//! Runs the body of every cargo-fuzz target (`thuja_fuzz::targets`) on a seed corpus, so that CI
//! executes them without libFuzzer: hand-written valid and invalid inputs (deep nesting, odd
//! escapes, truncations), the upstream Cedar test files when the conformance folder is present
//! (read in place; skipped with a message when absent), and a few hundred deterministic byte
//! mutations of them. A target panics on a bug, so a failure here is a bug (or a harness error).
//!
//! With `THUJA_FUZZ_WRITE_SEEDS=<dir>` the seeds (not the mutations) are also written to
//! `<dir>/<target>/`, a starting corpus for `cargo fuzz run`.

use std::path::{Path, PathBuf};

use thuja_fuzz::targets;

/// Mutations per target.
const MUTANTS: usize = 1500;

/// Debug builds use far larger stack frames than the release builds libFuzzer runs; the targets
/// run on a thread with a stack as large as a release build's main thread would need.
const STACK: usize = 256 << 20;

fn conformance_dir() -> PathBuf {
    match std::env::var_os("THUJA_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/cedar-conformance"),
    }
}

/// Every file under `dir` whose name ends in `suffix`, in a stable order.
fn files(dir: &Path, suffix: &str) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.to_string_lossy().ends_with(suffix)
                && let Ok(text) = std::fs::read_to_string(&path)
            {
                out.push((path, text));
            }
        }
    }
    out.sort();
    out
}

/// The bodies of the `when`/`unless` clauses of a policy file (brace-matched, naively).
fn conditions(policies: &str) -> Vec<String> {
    let mut out = Vec::new();
    for kw in ["when", "unless"] {
        for (start, _) in policies.match_indices(kw) {
            let rest = &policies[start + kw.len()..];
            let Some(open) = rest.find('{') else {
                continue;
            };
            if !rest[..open].trim().is_empty() {
                continue;
            }
            let mut depth = 0usize;
            for (i, c) in rest[open..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            out.push(rest[open + 1..open + i].to_string());
                            break;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

/// The seeds of every target: hand-written inputs, and the conformance data when present.
struct Seeds {
    policy_text: Vec<Vec<u8>>,
    expression: Vec<Vec<u8>>,
    schema_cedar: Vec<Vec<u8>>,
    schema_json: Vec<Vec<u8>>,
    entities_json: Vec<Vec<u8>>,
    request_json: Vec<Vec<u8>>,
    differential: Vec<Vec<u8>>,
}

fn bytes<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Vec<Vec<u8>> {
    items
        .into_iter()
        .map(|s| s.as_ref().as_bytes().to_vec())
        .collect()
}

fn hand_written() -> Seeds {
    let deep_expr = nested("(", "1", ")", 1200);
    let deep_set = nested("[", "", "]", 1200);
    let deep_not = format!("{}true", "!".repeat(5000));
    let deep_record = nested("{\"a\": ", "1", "}", 1200);
    let long_chain = vec!["1"; 3000].join(" + ");
    let deep_json = nested("[", "", "]", 5000);
    let deep_json_record = nested("{\"a\":", "1", "}", 5000);
    let policy_text = bytes([
        targets::POLICIES.to_string(),
        "permit(principal, action, resource);".into(),
        "forbid(principal == User::\"a\", action in [Action::\"x\", Action::\"y\"], resource is Photo in Album::\"b\") unless { context.x.y.z has w };".into(),
        "@id(\"p\") @other permit(principal in ?principal, action, resource == ?resource) when { principal.a[\"b c\"] like \"*\\**\" };".into(),
        "permit(principal, action, resource) when { ip(\"1.2.3.4\").isIpv4() && decimal(\"1.23\") < decimal(\"2.0\") && datetime(\"2024-01-01\").offset(duration(\"1d\")) > datetime(\"2023-12-31\") };".into(),
        "permit(principal, action, resource) when { -(5) == -5 && -9223372036854775808 < 0 && 9223372036854775807 + 1 > 0 };".into(),
        "permit(principal, action, resource) when { if context.a then [1, 2].containsAll([1]) else {\"k\": principal}.k in resource };".into(),
        "permit(principal, action, resource) when { principal.getTag(\"t\").hasTag(\"u\") && resource.isEmpty() };".into(),
        format!("permit(principal, action, resource) when {{ {deep_expr} }};"),
        format!("permit(principal, action, resource) when {{ {deep_set} }};"),
        format!("permit(principal, action, resource) when {{ {deep_not} }};"),
        format!("permit(principal, action, resource) when {{ {deep_record} }};"),
        format!("permit(principal, action, resource) when {{ {long_chain} }};"),
        "permit(principal, action, resource) when { 1 < 2 < 3 };".into(),
        "permit(principal, action, resource) when { \"\\u{110000}\" };".into(),
        "permit(principal, action, resource".into(),
        "permit(principal == ?principal, action, resource) when { ?resource };".into(),
        "/* */ // comment\npermit(principal, action, resource);\u{0}".into(),
    ]);
    let expression = bytes([
        "1 + 2 * 3".to_string(),
        "-(5)".into(),
        "- 5".into(),
        "-9223372036854775808".into(),
        "!!true || false && context.a".into(),
        "principal has a.b.c".into(),
        "principal has \"odd key\"".into(),
        "context[\"a b\"].c".into(),
        "\"a\\\"b\\n\\u{1F600}\" like \"\\*a*b\"".into(),
        "User::\"alice\" in [Group::\"g\", User::\"bob\"]".into(),
        "principal is App::User in App::Group::\"g\"".into(),
        "if principal.age > 17 then \"adult\" else \"minor\"".into(),
        "{\"a\": [1, {\"b\": true}], \"c\": ip(\"10.0.0.1/8\")}".into(),
        "ip(\"::1\").isLoopback() && decimal(\"-0.0001\").greaterThanOrEqual(decimal(\"-1.0\"))".into(),
        "datetime(\"2024-01-01T00:00:00Z\").toDate() == datetime(\"2024-01-01\")".into(),
        "duration(\"1d2h3m4s5ms\").toMilliseconds()".into(),
        "principal.getTag(\"blocked\")".into(),
        "?principal == principal".into(),
        "[].containsAny([])".into(),
        "context.level * -1 - 9223372036854775807".into(),
        "\"*\" like \"****************************************************************b\"".into(),
        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" like \"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\"".into(),
        deep_expr,
        deep_set,
        deep_not,
        deep_record,
        long_chain,
        "1 +".into(),
        "principal.".into(),
        "foo(1)".into(),
        "1 / 2".into(),
    ]);
    let schema_cedar = bytes([
        targets::SCHEMA.to_string(),
        "entity User;".into(),
        "namespace A { entity B in [B] = { c?: Set<{ d: __cedar::Long }> } tags Set<String>; }".into(),
        "type T = Bool; entity E = { t: T }; action \"a\\\"b\" appliesTo { principal: E, resource: E, context: T };".into(),
        "@doc(\"x\") namespace N { @a entity X enum [\"p\", \"q\"]; action a, b in a appliesTo { principal: [X], resource: [X] }; }".into(),
        "action a; action b in [a, \"c\"];".into(),
        "action a in a;".into(),
        "entity E = { a: Undefined };".into(),
        "type Long = String; entity E = { a: Long, b: __cedar::Long };".into(),
        format!("entity E = {{ a: {}Long{} }};", "Set<".repeat(1500), ">".repeat(1500)),
        format!("entity E = {};", nested("{ a: ", "Long", " }", 1500)),
        "namespace __cedar { entity E; }".into(),
        "entity E".into(),
    ]);
    let schema_json = bytes([
        r#"{"": {"entityTypes": {"User": {"memberOfTypes": ["Group"], "shape": {"type": "Record", "attributes": {"age": {"type": "Long", "required": false}}}}, "Group": {}}, "actions": {"view": {"appliesTo": {"principalTypes": ["User"], "resourceTypes": ["Group"], "context": {"type": "Record", "attributes": {}}}}}}}"#.to_string(),
        r#"{"NS": {"commonTypes": {"T": {"type": "Record", "attributes": {"s": {"type": "Set", "element": {"type": "Extension", "name": "ipaddr"}}}}}, "entityTypes": {"E": {"shape": {"type": "T"}, "tags": {"type": "String"}}, "F": {"enum": ["a", "b"]}}, "actions": {"a": {"memberOf": [{"id": "b"}]}, "b": {"appliesTo": {"principalTypes": [], "resourceTypes": ["E"]}}}}}"#.into(),
        r#"{"A": {"commonTypes": {"R": {"type": "Record", "attributes": {"x": {"type": "EntityOrCommon", "name": "B::E"}}}}, "entityTypes": {"E": {"shape": {"type": "R"}}}, "actions": {}}, "B": {"entityTypes": {"E": {}}, "actions": {}}}"#.into(),
        r#"{"N": {"entityTypes": {}, "actions": {}, "annotations": {"doc": "x"}}}"#.into(),
        r#"{"": {"entityTypes": {"E": {"shape": {"type": "Record", "attributes": {"a": {"type": "Set"}}}}}, "actions": {}}}"#.into(),
        r#"{"": {"entityTypes": {}, "actions": {}}, "": {}}"#.into(),
        "{".into(),
        format!(
            r#"{{"": {{"entityTypes": {{"E": {{"shape": {}}}}}, "actions": {{}}}}}}"#,
            nested(
                r#"{"type": "Record", "attributes": {"a": "#,
                r#"{"type": "Long"}"#,
                "}}",
                1500
            )
        ),
        deep_json.clone(),
    ]);
    let entities_json = bytes([
        targets::ENTITIES.to_string(),
        "[]".into(),
        r#"[{"uid": {"__entity": {"type": "App::User", "id": "x"}}, "attrs": {"name": "x", "roles": [], "ip": {"__extn": {"fn": "ip", "arg": "1.2.3.4"}}}, "parents": []}]"#.into(),
        r#"[{"uid": {"type": "App::User", "id": "x"}, "attrs": {"name": "x", "roles": [], "score": {"__extn": {"fn": "decimal", "arg": "nope"}}}, "parents": []}]"#.into(),
        r#"[{"uid": {"type": "App::Color", "id": "purple"}, "attrs": {}, "parents": []}]"#.into(),
        r#"[{"uid": {"type": "App::Action", "id": "view"}, "attrs": {}, "parents": []}]"#.into(),
        r#"[{"uid": {"type": "A", "id": "a"}, "attrs": {"a": 1, "a": 2}, "parents": []}]"#.into(),
        r#"[{"uid": {"type": "A", "id": "a"}, "attrs": {"x": 99999999999999999999}, "parents": [{"type": "A", "id": "a"}]}]"#.into(),
        r#"[{"uid": {"type": "A", "id": "a"}, "attrs": {}, "parents": [{"type": "A", "id": "b"}]}, {"uid": {"type": "A", "id": "b"}, "attrs": {}, "parents": [{"type": "A", "id": "a"}]}]"#.into(),
        format!(r#"[{{"uid": {{"type": "A", "id": "a"}}, "attrs": {{"x": {deep_json}}}, "parents": []}}]"#),
        format!(r#"[{{"uid": {{"type": "A", "id": "a"}}, "attrs": {{"x": {deep_json_record}}}, "parents": []}}]"#),
        "[{\"uid\": {\"type\": \"A\", \"id\": \"\\ud800\"}}]".into(),
        "[".into(),
    ]);
    let request_json = bytes([
        r#"{"principal": "App::User::\"alice\"", "action": "App::Action::\"view\"", "resource": "App::Doc::\"d1\"", "context": {"level": 5, "ip": "10.0.0.1"}}"#.to_string(),
        r#"{"principal": {"type": "App::User", "id": "bob"}, "action": {"__entity": {"type": "App::Action", "id": "edit"}}, "resource": {"type": "App::Group", "id": "g"}}"#.into(),
        r#"{"principal": "App::User::\"alice\"", "action": "App::Action::\"view\"", "resource": "App::Doc::\"d1\"", "context": {"level": "high"}}"#.into(),
        r#"{"principal": "App::User::\"alice\"", "action": "App::Action::\"nope\"", "resource": "App::Doc::\"d1\""}"#.into(),
        r#"{"principal": "App::User::\"alice\"", "action": "App::Action::\"view\"", "resource": "App::Doc::\"d1\"", "context": {"level": 1, "level": 2}}"#.into(),
        r#"{"principal": "User::alice", "action": 1, "resource": null}"#.into(),
        "App::User::\"alice\"\nApp::Action::\"view\"\nApp::Doc::\"d1\"\n{\"level\": 3, \"when\": \"2024-01-01\"}".into(),
        "App::User::\"alice\"\nApp::Action::\"edit\"\nApp::Group::\"g\"".into(),
        r#"{"level": 3, "ip": {"__extn": {"fn": "ip", "arg": "::1"}}, "nested": {"a": "ok"}}"#.into(),
        format!(r#"{{"principal": "A::\"a\"", "action": "A::\"b\"", "resource": "A::\"c\"", "context": {{"x": {deep_json}}}}}"#),
        format!(r#"{{"x": {deep_json_record}}}"#),
    ]);
    let differential = vec![
        vec![],
        1u64.to_le_bytes().to_vec(),
        4u64.to_le_bytes().to_vec(),
        [&20_251_125u64.to_le_bytes()[..], &[1]].concat(),
    ];
    Seeds {
        policy_text,
        expression,
        schema_cedar,
        schema_json,
        entities_json,
        request_json,
        differential,
    }
}

/// Adds the conformance data's files to the seeds; `false` when the folder is absent.
fn add_conformance(seeds: &mut Seeds) -> bool {
    let dir = conformance_dir();
    if !dir.is_dir() {
        eprintln!(
            "SKIPPED (conformance seeds): no conformance data at {}",
            dir.display()
        );
        return false;
    }
    for base in [dir.join("tests"), dir.join("sample-data")] {
        for (_, text) in files(&base, ".cedar") {
            seeds
                .expression
                .extend(bytes(conditions(&text).into_iter().take(4)));
            seeds.policy_text.push(text.into_bytes());
        }
        for (path, text) in files(&base, ".cedarschema") {
            match thuja::input::translate_schema(
                &path.display().to_string(),
                &text,
                thuja::input::SchemaFormat::Cedar,
            ) {
                Ok(json) => seeds.schema_json.push(json.into_bytes()),
                Err(e) => eprintln!("note: {} does not translate: {}", path.display(), e),
            }
            seeds.schema_cedar.push(text.into_bytes());
        }
        for (_, text) in files(&base, "entities.json") {
            seeds.entities_json.push(text.into_bytes());
        }
        for (_, text) in files(&base, ".json") {
            let Ok(test) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            let Some(requests) = test.get("requests").and_then(|r| r.as_array()) else {
                continue;
            };
            for r in requests.iter().take(3) {
                let mut request = serde_json::Map::new();
                for key in ["principal", "action", "resource", "context"] {
                    if let Some(v) = r.get(key) {
                        request.insert(key.into(), v.clone());
                    }
                }
                let request = serde_json::Value::Object(request).to_string();
                seeds.request_json.push(request.into_bytes());
            }
        }
    }
    true
}

/// A deterministic pseudo-random sequence (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Tokens worth inserting: the grammar's punctuation and keywords, and JSON's.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "\\",
    "\\u{",
    "::",
    ":",
    ";",
    ",",
    ".",
    "@",
    "?principal",
    "?resource",
    "*",
    "-",
    "!",
    "&&",
    "||",
    "==",
    "<=",
    "in",
    "has",
    "like",
    "is",
    "if",
    "then",
    "else",
    "when",
    "unless",
    "permit",
    "forbid",
    "principal",
    "action",
    "resource",
    "context",
    "entity",
    "action",
    "namespace",
    "type",
    "appliesTo",
    "tags",
    "enum",
    "Set<",
    "Long",
    "String",
    "Bool",
    "__cedar",
    "__entity",
    "__extn",
    "\"type\"",
    "\"id\"",
    "\"attrs\"",
    "\"parents\"",
    "\"fn\"",
    "\"arg\"",
    "ip",
    "decimal",
    "datetime",
    "duration",
    "9223372036854775807",
    "-9223372036854775808",
    "1e400",
    "null",
    "true",
    "\u{0}",
    "\u{FEFF}",
    "é",
    "\n",
    "//",
    "/*",
];

/// One to four random edits of `input` (or of it spliced with `other`).
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = out.len();
        let at = rng.below(len + 1);
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let end = (at + 1 + rng.below(16)).min(len);
                out.drain(at.min(end)..end);
            }
            2 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(32)).min(len);
                let piece = out[start..end].to_vec();
                out.splice(at..at, piece);
            }
            3 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                out.splice(at..at, token.iter().copied());
            }
            4 => out.truncate(at),
            5 if !other.is_empty() => {
                let from = rng.below(other.len());
                out.truncate(at);
                out.extend_from_slice(&other[from..]);
            }
            _ => {
                let byte = b"{}[]()\"\\:;,.0 -a"[rng.below(16)];
                out.insert(at, byte);
            }
        }
    }
    out
}

/// Runs `target` on every seed and on `MUTANTS` mutations of them; returns how many inputs.
fn run(name: &str, target: fn(&[u8]), seeds: &[Vec<u8>], mutants: usize) -> usize {
    if let Some(dir) = std::env::var_os("THUJA_FUZZ_WRITE_SEEDS") {
        let dir = PathBuf::from(dir).join(name);
        std::fs::create_dir_all(&dir).expect("seed folder");
        for (i, seed) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:03}")), seed).expect("seed written");
        }
    }
    let name_owned = name.to_string();
    let seeds = seeds.to_vec();
    std::thread::Builder::new()
        .name(name.into())
        .stack_size(STACK)
        .spawn(move || {
            let start = std::time::Instant::now();
            for seed in &seeds {
                target(seed);
            }
            let mut rng = Rng(name_owned.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            }));
            for _ in 0..mutants {
                if seeds.is_empty() {
                    break;
                }
                let a = &seeds[rng.below(seeds.len())];
                let b = &seeds[rng.below(seeds.len())];
                let input = mutate(&mut rng, a, b);
                target(&input);
            }
            eprintln!(
                "{name_owned}: {} seeds, {mutants} mutations, {:.1?}",
                seeds.len(),
                start.elapsed()
            );
            seeds.len() + mutants
        })
        .expect("thread")
        .join()
        // The target's panic (printed above) fails the test.
        .unwrap_or_else(|payload| std::panic::resume_unwind(payload))
}

fn seeds() -> Seeds {
    let mut seeds = hand_written();
    add_conformance(&mut seeds);
    seeds
}

#[test]
fn policy_text() {
    let s = seeds();
    run("policy_text", targets::policy_text, &s.policy_text, MUTANTS);
}

#[test]
fn expression() {
    let s = seeds();
    run("expression", targets::expression, &s.expression, MUTANTS);
}

#[test]
fn schema_cedar() {
    let s = seeds();
    run(
        "schema_cedar",
        targets::schema_cedar,
        &s.schema_cedar,
        MUTANTS,
    );
}

#[test]
fn schema_json() {
    let s = seeds();
    run("schema_json", targets::schema_json, &s.schema_json, MUTANTS);
}

#[test]
fn entities_json() {
    let s = seeds();
    run(
        "entities_json",
        targets::entities_json,
        &s.entities_json,
        MUTANTS,
    );
}

#[test]
fn request_json() {
    let s = seeds();
    run(
        "request_json",
        targets::request_json,
        &s.request_json,
        MUTANTS,
    );
}

/// The differential target checks whole generated cases; a few seeds, no mutations (every input
/// is a seed of the generator).
#[test]
fn differential() {
    let s = seeds();
    run("differential", targets::differential, &s.differential, 40);
}

/// Hostile recipes: one per shape of expression and of schema, at each size class, then a
/// few pseudo-random ones; no mutations (every byte string is a recipe).
#[test]
fn hostile() {
    let mut recipes: Vec<Vec<u8>> = Vec::new();
    for shape in 0..12u8 {
        for size in 0..4u8 {
            // one policy, permit, when; the shape; its operator or form; the size class and
            // size; then terms and forms
            recipes.push(vec![
                0, 0, 0, 0, shape, 0, shape, size, 0x7f, 0x40, 200, 17, 5, 9, 3,
            ]);
        }
    }
    for size in 0..4u8 {
        for form in 0..6u8 {
            // a schema; the size class and size; not cyclic; the forms of the types
            recipes.push(vec![2, size, 0x7f, 0x30, 200, form, 0, 1, form, 2, 0, 3]);
        }
    }
    // a schema of three types, not cyclic; then 999 action groups (or, size class 2, near
    // their limit in number), each in the `width`-th choice of groups before it, applying to
    // requests or not
    let groups = |class: u8, width: u8, apply: u8| {
        vec![
            5, 0, 3, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, class, 3, 0xe7, 0, width, apply,
        ]
    };
    let mut hierarchies: Vec<(Vec<u8>, &str)> =
        vec![(groups(2, 0, 0), "action g20000 in [g19999]")];
    for width in 0..5u8 {
        for apply in [0, 255] {
            hierarchies.push((groups(1, width, apply), "action g998 in ["));
        }
    }
    for (recipe, expected) in hierarchies {
        let inputs = targets::hostile_inputs(&recipe);
        assert!(
            inputs.iter().any(|(_, text)| text.contains(expected)),
            "the recipe {recipe:?} makes the action groups it should"
        );
        recipes.push(recipe);
    }
    let mut rng = Rng(0x5eed);
    for _ in 0..16 {
        recipes.push((0..64).map(|_| rng.below(256) as u8).collect());
    }
    run("hostile", targets::hostile, &recipes, 0);
}

#[test]
fn inputs_over_the_cap_are_ignored() {
    let big = vec![b'('; targets::MAX_INPUT + 1];
    for target in [
        targets::policy_text,
        targets::expression,
        targets::schema_cedar,
        targets::schema_json,
        targets::entities_json,
        targets::request_json,
    ] {
        target(&big);
    }
}

#[test]
fn hand_written_seeds_are_read_as_intended() {
    // A few seeds must be accepted, so that the targets reach past the readers.
    let fixed = thuja::input::schema_from_str("s", targets::SCHEMA).expect("the fixed schema");
    let s = hand_written();
    let ok = s
        .request_json
        .iter()
        .filter(|r| {
            let text = std::str::from_utf8(r).expect("UTF-8");
            thuja::input::request_json_from_str(
                "r",
                text,
                thuja::input::RequestSchema::Validated(&fixed),
            )
            .is_ok()
        })
        .count();
    assert!(ok >= 2, "{ok} hand-written requests validate");
    let results: Vec<_> = s
        .schema_json
        .iter()
        .map(|j| {
            let text = std::str::from_utf8(j).expect("UTF-8");
            thuja::input::schema_from_str_with_format("j", text, thuja::input::SchemaFormat::Json)
                .map_err(|e| e.render())
        })
        .collect();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert!(
        ok >= 3,
        "{ok} hand-written JSON schemas resolve: {results:#?}"
    );
}
