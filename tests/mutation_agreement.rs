//! The policy, schema and entities readers accept and reject exactly what `cedar-policy` does
//! on near-valid text: every corpus-dev policy, schema and entities file, mutated many ways (one or two edits: a few characters deleted,
//! duplicated or replaced by a token that matters to Cedar's grammar). Skipped with a message when the corpus is absent.

use thuja_compiler::Source;
use thuja_compiler::parser::parse_policies;
use thuja_compiler::schema::parse_schema;

mod support;

/// The corpus files whose names end in `.{extension}`, with their names, in name order.
fn corpus_named_files(extension: &str) -> Option<Vec<(String, String)>> {
    let suffix = format!(".{extension}");
    Some(
        support::corpus()?
            .into_iter()
            .filter(|(name, _)| name.ends_with(&suffix))
            .collect(),
    )
}

/// The texts of the corpus files whose names end in `.{extension}`.
fn corpus_files(extension: &str) -> Option<Vec<String>> {
    Some(
        corpus_named_files(extension)?
            .into_iter()
            .map(|(_, text)| text)
            .collect(),
    )
}

/// Counts mutated inputs, how many `cedar-policy` accepted, and where Thuja judged otherwise.
#[derive(Default)]
struct Tally {
    tried: usize,
    accepted: usize,
    disagreements: Vec<String>,
}

impl Tally {
    fn record(&mut self, ours: bool, theirs: bool, input: impl FnOnce() -> String) {
        self.tried += 1;
        self.accepted += usize::from(theirs);
        if ours != theirs {
            self.disagreements
                .push(format!("thuja {ours}, cedar {theirs}:\n{}", input()));
        }
    }

    /// Asserts no disagreement, and that at least one in `min_accepted_per` inputs was accepted
    /// (so acceptance, not only rejection, was compared).
    fn finish(self, what: &str, min_accepted_per: usize) {
        let Tally {
            tried,
            accepted,
            disagreements,
        } = self;
        eprintln!("{tried} mutated {what}, {accepted} accepted by cedar");
        assert!(tried > 1000, "too few {what} tried");
        assert!(
            accepted * min_accepted_per >= tried,
            "too few mutated {what} stay valid"
        );
        assert!(
            disagreements.is_empty(),
            "{} disagreements, e.g.:\n{}",
            disagreements.len(),
            disagreements
                .iter()
                .take(8)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n---\n")
        );
    }
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

const REPLACEMENTS: &[&str] = &[
    "",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    ".",
    "::",
    ":",
    "\"",
    "\\",
    "*",
    "-",
    "!",
    "&&",
    "||",
    "==",
    "<",
    ">=",
    "in",
    "has",
    "like",
    "is",
    "if",
    "then",
    "else",
    "when",
    "unless",
    "principal",
    "action",
    "resource",
    "context",
    "?principal",
    "?resource",
    "@id(\"x\")",
    "0",
    "9223372036854775808",
    "__cedar",
    "true",
    "ip",
    "decimal",
    "contains",
    "getTag",
    " ",
    "\n",
];

fn mutate(text: &str, rng: &mut Rng) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = rng.below(chars.len());
    let len = 1 + rng.below(3);
    let mut out: String = chars[..at].iter().collect();
    match rng.below(3) {
        0 => out.extend(chars[at..(at + len).min(chars.len())].iter()),
        1 => out.push_str(REPLACEMENTS[rng.below(REPLACEMENTS.len())]),
        _ => {}
    }
    out.extend(chars[(at + len).min(chars.len())..].iter());
    out
}

#[test]
fn mutated_corpus_policies_are_judged_like_cedar() {
    let Some(policies) = corpus_files("cedar") else {
        return;
    };
    assert!(
        policies.len() > 1000,
        "the corpus holds thousands of policies"
    );
    let mut rng = Rng(0x5eed_cafe_f00d_beef);
    let mut tally = Tally::default();
    for text in &policies {
        for round in 0..40 {
            let mut mutated = mutate(text, &mut rng);
            if round % 2 == 1 {
                mutated = mutate(&mutated, &mut rng);
            }
            let ours = parse_policies(Source::new("mutated.cedar", mutated.as_str())).is_ok();
            let theirs = mutated.parse::<cedar_policy::PolicySet>().is_ok();
            tally.record(ours, theirs, || mutated.clone());
        }
    }
    tally.finish("policy files", 10);
}

#[test]
fn mutated_corpus_schemas_are_judged_like_cedar() {
    let Some(schemas) = corpus_files("cedarschema") else {
        return;
    };
    assert!(
        schemas.len() > 1000,
        "the corpus holds thousands of schemas"
    );
    let mut rng = Rng(0xdead_beef_1234_5678);
    let mut tally = Tally::default();
    for text in &schemas {
        for _ in 0..10 {
            let mutated = mutate(text, &mut rng);
            let ours = parse_schema(Source::new("mutated.cedarschema", mutated.as_str())).is_ok();
            let theirs = cedar_policy::Schema::from_cedarschema_str(&mutated).is_ok();
            tally.record(ours, theirs, || mutated.clone());
        }
    }
    tally.finish("schema files", 10);
}

#[test]
fn mutated_corpus_entities_are_judged_like_cedar() {
    let (Some(schemas), Some(entity_files)) = (
        corpus_named_files("cedarschema"),
        corpus_named_files("entities.json"),
    ) else {
        return;
    };
    let schemas: std::collections::BTreeMap<String, String> = schemas
        .into_iter()
        .map(|(name, text)| (name.trim_end_matches(".cedarschema").to_string(), text))
        .collect();
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut tally = Tally::default();
    for (name, text) in &entity_files {
        let Some(schema_text) = schemas.get(name.trim_end_matches(".entities.json")) else {
            continue;
        };
        let ours_schema = thuja::input::schema_from_str("schema", schema_text).expect("schema");
        let (theirs_schema, _) =
            cedar_policy::Schema::from_cedarschema_str(schema_text).expect("cedar schema");
        let Ok(tree) = serde_json::from_str::<serde_json::Value>(text) else {
            continue;
        };
        for round in 0..8 {
            let mutated = if round % 4 == 0 {
                mutate_json(text, &mut rng)
            } else {
                let mut tree = tree.clone();
                mutate_value(&mut tree, &mut rng);
                tree.to_string()
            };
            let ours =
                thuja::input::entities_from_str("e.json", &mutated, Some(&ours_schema)).is_ok();
            let theirs =
                cedar_policy::Entities::from_json_str(&mutated, Some(&theirs_schema)).is_ok();
            tally.record(ours, theirs, || format!("{name}: {mutated}"));
        }
    }
    tally.finish("entities files", 20);
}

const JSON_REPLACEMENTS: &[&str] = &[
    "",
    "\"\"",
    "0",
    "-1",
    "1.5",
    "true",
    "null",
    "[]",
    "{}",
    "\"__entity\"",
    "\"__extn\"",
    "\"type\"",
    "\"id\"",
    "\"fn\"",
    "\"arg\"",
    "\"attrs\"",
    "\"parents\"",
    "\"tags\"",
    "\"uid\"",
    ",",
    ":",
    "\"10.0.0.1\"",
    "\"1.5\"",
    "\"2024-01-01\"",
    "\"1h\"",
    "9223372036854775808",
    "\"Action\"",
];

/// Values that exercise Cedar's JSON readers: escapes, uids, extension strings, wrong types.
fn candidate_values() -> Vec<serde_json::Value> {
    use serde_json::json;
    vec![
        json!(null),
        json!(true),
        json!(0),
        json!(-7),
        json!(1.5),
        json!(9223372036854775807_i64),
        json!(""),
        json!("x"),
        json!("10.0.0.1"),
        json!("10.0.0.0/33"),
        json!("1.5"),
        json!("1.23456"),
        json!("2024-01-01"),
        json!("2024-13-01"),
        json!("1h30m"),
        json!("1x"),
        json!([]),
        json!([1, 2]),
        json!(["a", "a"]),
        json!({}),
        json!({"a": 1}),
        json!({"type": "a", "id": "b"}),
        json!({"__entity": {"type": "a", "id": "b"}}),
        json!({"__extn": {"fn": "ip", "arg": "10.0.0.1"}}),
        json!({"__extn": {"fn": "decimal", "arg": "x"}}),
        json!({"__extn": {"fn": "nope", "arg": "x"}}),
        json!({"__expr": "1"}),
    ]
}

/// Replaces, removes, or renames one node of a JSON tree (or copies a sibling into an array).
fn mutate_value(tree: &mut serde_json::Value, rng: &mut Rng) {
    use serde_json::Value as J;
    // Count nodes, pick one by preorder index.
    fn count(v: &J) -> usize {
        1 + match v {
            J::Array(a) => a.iter().map(count).sum(),
            J::Object(o) => o.values().map(count).sum(),
            _ => 0,
        }
    }
    fn nth<'a>(v: &'a mut J, n: &mut usize) -> Option<&'a mut J> {
        if *n == 0 {
            return Some(v);
        }
        *n -= 1;
        match v {
            J::Array(a) => a.iter_mut().find_map(|c| nth(c, n)),
            J::Object(o) => o.values_mut().find_map(|c| nth(c, n)),
            _ => None,
        }
    }
    let mut index = rng.below(count(tree));
    let candidates = candidate_values();
    let Some(node) = nth(tree, &mut index) else {
        return;
    };
    match (rng.below(4), &mut *node) {
        (0, J::Object(o)) if !o.is_empty() => {
            let key = o
                .keys()
                .nth(rng.below(o.len()))
                .cloned()
                .unwrap_or_default();
            o.remove(&key);
        }
        (1, J::Object(o)) if !o.is_empty() => {
            let key = o
                .keys()
                .nth(rng.below(o.len()))
                .cloned()
                .unwrap_or_default();
            let value = o.remove(&key).unwrap_or(J::Null);
            let names = [
                "uid", "attrs", "parents", "tags", "type", "id", "extra", "__entity",
            ];
            o.insert(names[rng.below(names.len())].to_string(), value);
        }
        (0 | 1, J::Array(a)) if !a.is_empty() => {
            let i = rng.below(a.len());
            if rng.below(2) == 0 {
                a.remove(i);
            } else {
                let copy = a[i].clone();
                a.push(copy);
            }
        }
        _ => *node = candidates[rng.below(candidates.len())].clone(),
    }
}

/// Like [`mutate`], with replacements that matter to Cedar's JSON formats; edits land on token
/// boundaries half of the time so the text often stays well-formed JSON.
fn mutate_json(text: &str, rng: &mut Rng) -> String {
    let chars: Vec<char> = text.chars().collect();
    let boundaries: Vec<usize> = (0..chars.len())
        .filter(|&i| matches!(chars[i], '"' | ',' | ':' | '[' | ']' | '{' | '}'))
        .collect();
    let at = if rng.below(2) == 0 && !boundaries.is_empty() {
        boundaries[rng.below(boundaries.len())]
    } else {
        rng.below(chars.len())
    };
    let len = rng.below(4);
    let mut out: String = chars[..at].iter().collect();
    out.push_str(JSON_REPLACEMENTS[rng.below(JSON_REPLACEMENTS.len())]);
    out.extend(chars[(at + len).min(chars.len())..].iter());
    out
}

#[test]
fn mutated_request_contexts_are_judged_like_cedar() {
    let (Some(tests), Some(schemas)) = (
        corpus_named_files("json"),
        corpus_named_files("cedarschema"),
    ) else {
        return;
    };
    let schemas: std::collections::BTreeMap<String, String> = schemas.into_iter().collect();
    let mut rng = Rng(0x7777_3333_1111_9999);
    let mut tally = Tally::default();
    for (name, text) in tests.iter().filter(|(n, _)| !n.ends_with(".entities.json")) {
        let Ok(test) = serde_json::from_str::<serde_json::Value>(text) else {
            continue;
        };
        let Some(schema_text) = test["schema"].as_str().and_then(|s| schemas.get(s)) else {
            continue;
        };
        let ours_schema = thuja::input::schema_from_str("schema", schema_text).expect("schema");
        let (theirs_schema, _) =
            cedar_policy::Schema::from_cedarschema_str(schema_text).expect("cedar schema");
        for request in test["requests"].as_array().into_iter().flatten() {
            let mut context = request["context"].clone();
            mutate_value(&mut context, &mut rng);
            let ours = thuja::input::request_from_json_values(
                &request["principal"],
                &request["action"],
                &request["resource"],
                &context,
                thuja::input::RequestSchema::Validated(&ours_schema),
            )
            .is_ok();
            let theirs = (|| {
                use cedar_policy::{Context, EntityUid, Request};
                let uid = |j: &serde_json::Value| EntityUid::from_json(j.clone()).ok();
                let action = uid(&request["action"])?;
                let context =
                    Context::from_json_value(context.clone(), Some((&theirs_schema, &action)))
                        .ok()?;
                Request::new(
                    uid(&request["principal"])?,
                    action,
                    uid(&request["resource"])?,
                    context,
                    Some(&theirs_schema),
                )
                .ok()
            })()
            .is_some();
            tally.record(ours, theirs, || format!("{name}: {context}"));
        }
    }
    tally.finish("contexts", 20);
}
