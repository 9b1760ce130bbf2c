//! Cedar's JSON policy format: on every policy file of the conformance data (hand-written tests
//! and the corpus), Thuja's JSON equals `cedar-policy`'s `PolicySet::to_json`, reads back to the
//! same JSON (text → JSON → policies → JSON), and `cedar-policy` reads Thuja's JSON to the same
//! policies (its `from_json_value` then `to_json` gives the JSON back). JSON back to text
//! (`translate-policy --direction json-to-cedar`) is byte for byte `cedar-policy`'s
//! `PolicySet::to_cedar` on the same JSON, and text → JSON → text → JSON is stable.

mod support;

use thuja::input::{PolicyDirection, translate_policy};
use thuja_compiler::Source;
use thuja_compiler::ast::PolicySet;
use thuja_compiler::est;
use thuja_compiler::parser::parse_policies_as_written;

/// Every `.cedar` policy file: the hand-written tests' and the corpus's, by name.
fn policy_files() -> Vec<(String, String)> {
    let Some(dir) = support::conformance_dir() else {
        return Vec::new();
    };
    let mut files = Vec::new();
    let mut stack = vec![dir.join("tests"), dir.join("sample-data")];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "cedar") {
                let text = std::fs::read_to_string(&path).expect("readable policy file");
                files.push((path.display().to_string(), text));
            }
        }
    }
    if let Some(corpus) = support::corpus() {
        files.extend(
            corpus
                .into_iter()
                .filter(|(name, _)| name.ends_with(".cedar")),
        );
    }
    files.sort();
    files
}

fn as_written(name: &str, text: &str) -> Option<PolicySet> {
    let policies = parse_policies_as_written(Source::new(name, text)).ok()?;
    let mut set = PolicySet::new();
    for p in policies {
        set.add(p).expect("generated ids are unique");
    }
    Some(set)
}

/// Where two JSON values first differ, as a path and the two parts.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => {
                        if let Some(d) = first_difference(v, w, &format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{path}.{k}: only in thuja's")),
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| format!("{path}.{k}: only in cedar's"))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: thuja {a} / cedar {b}")),
    }
}

fn value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("Thuja writes valid JSON")
}

#[test]
fn json_equals_cedar_and_round_trips_on_every_conformance_policy_file() {
    let files = policy_files();
    let (mut compared, mut both_reject) = (0, 0);
    let mut failures = Vec::new();
    for (name, text) in &files {
        let ours = as_written(name, text);
        let cedar = text.parse::<cedar_policy::PolicySet>();
        let (ours, cedar) = match (ours, cedar) {
            (Some(o), Ok(c)) => (o, c),
            (None, Err(_)) => {
                both_reject += 1;
                continue;
            }
            (o, c) => {
                failures.push(format!(
                    "{name}: parsers disagree (thuja accepts: {}, cedar accepts: {})",
                    o.is_some(),
                    c.is_ok()
                ));
                continue;
            }
        };
        compared += 1;
        let json = value(&est::policy_set_to_json_string(&ours));
        let cedar_json = cedar.to_json().expect("cedar writes JSON");
        if json != cedar_json {
            failures.push(format!(
                "{name}: JSON differs at {}",
                first_difference(&json, &cedar_json, "").unwrap_or_default()
            ));
            continue;
        }
        // Read back: JSON → policies → JSON gives the same JSON.
        let back = match est::policy_set_from_json_str(name, &json.to_string()) {
            Ok(set) => set,
            Err(e) => {
                failures.push(format!("{name}: Thuja cannot read its own JSON: {e}"));
                continue;
            }
        };
        let again = value(&est::policy_set_to_json_string(&back));
        if again != json {
            failures.push(format!(
                "{name}: JSON → policies → JSON changed it\n before: {json}\n after:  {again}"
            ));
            continue;
        }
        // Cedar reads Thuja's JSON as the same policies.
        match cedar_policy::PolicySet::from_json_value(json.clone()) {
            Ok(set) => {
                let cedar_again = set.to_json().expect("cedar writes JSON");
                if cedar_again != json {
                    failures.push(format!("{name}: cedar reads Thuja's JSON differently"));
                }
            }
            Err(e) => failures.push(format!("{name}: cedar rejects Thuja's JSON: {e}")),
        }
    }
    eprintln!(
        "{compared} policy files compared, {both_reject} rejected by both, {} files in all",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} files differ:\n{}",
        failures.len(),
        files.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Cedar's JSON for hand-written policies covering every operator, scope form, annotation and
/// literal: Thuja reads it to policies whose JSON is Cedar's again, and reads the single-policy
/// form with Cedar's id for it.
#[test]
fn every_construct_matches_cedar_both_ways() {
    let text = r#"
@id("first") @bare
permit(principal == User::"a\"b", action in Action::"view", resource is Photo in Album::"x")
when { true && false || !context.flag && -(1) < -1 && 2 * 3 - 4 + 5 >= 0 && 1 != 2 && 3 > 2 && 4 <= 5 }
unless { principal in [Group::"g", Group::"h"] && principal.tags.contains("a") && [1].containsAll([1]) && [1].containsAny([2]) };
forbid(principal is User, action in [Action::"edit"], resource)
when { if context has a.b then context.a.b like "x*y\*z" else principal has "odd key" }
when { principal.getTag("t") == resource.hasTag("u") && [].isEmpty() && {b: 1, a: {"c d": "e"}} == context["r"] }
when { ip("1.2.3.4").isInRange(ip("1.0.0.0/8")) && decimal("1.5").lessThan(decimal("2.0")) && datetime("2024-01-01").offset(duration("1h")) > datetime("2024-01-01") && resource is Photo && resource is Photo in Album::"y" };
permit(principal in ?principal, action == Action::"view", resource == ?resource);
permit(principal is User in ?principal, action, resource);
"#;
    let ours = as_written("t", text).expect("parses");
    let cedar: cedar_policy::PolicySet = text.parse().expect("cedar parses");
    let json = value(&est::policy_set_to_json_string(&ours));
    let cedar_json = cedar.to_json().expect("cedar writes JSON");
    assert_eq!(
        json,
        cedar_json,
        "{:?}",
        first_difference(&json, &cedar_json, "")
    );
    let back = est::policy_set_from_json_str("t.json", &json.to_string()).expect("reads back");
    assert_eq!(value(&est::policy_set_to_json_string(&back)), json);

    // A single policy, as `cedar` reads `--policy-format json`.
    let single = cedar_policy::Policy::parse(
        None,
        "permit(principal, action, resource) when { context.x == 1 };",
    )
    .expect("cedar parses")
    .to_json()
    .expect("cedar writes JSON");
    let set = est::policy_set_from_json_str("p.json", &single.to_string()).expect("reads");
    let p = set
        .get(est::SINGLE_POLICY_ID)
        .expect("the id Cedar gives a JSON policy");
    assert_eq!(value(&est::policy_json(p).to_compact_string()), single);
}

/// Malformed JSON policies are errors that say where (the JSON's line and column for syntax,
/// a path for shape), never a panic.
#[test]
fn malformed_json_policies_are_located_errors() {
    let cases = [
        ("{\"effect\": ", "invalid JSON"),
        ("[]", "cannot tell"),
        (
            r#"{"effect":"permit","principal":{"op":"bogus"},"action":{"op":"All"},"resource":{"op":"All"},"conditions":[]}"#,
            "principal.op",
        ),
        (
            r#"{"effect":"allow","principal":{"op":"All"},"action":{"op":"All"},"resource":{"op":"All"},"conditions":[]}"#,
            "effect",
        ),
        (
            r#"{"effect":"permit","principal":{"op":"All"},"action":{"op":"All"},"resource":{"op":"All"},"conditions":[{"kind":"when","body":{"nope":[]}}]}"#,
            "conditions[0].body",
        ),
        (
            r#"{"effect":"permit","principal":{"op":"All"},"action":{"op":"All"},"resource":{"op":"All"},"conditions":[{"kind":"when","body":{"Value":null}}]}"#,
            "Value",
        ),
        (
            r#"{"effect":"permit","principal":{"op":"==","entity":{"type":"1x","id":"a"}},"action":{"op":"All"},"resource":{"op":"All"},"conditions":[]}"#,
            "principal.entity.type",
        ),
        (
            r#"{"staticPolicies":{},"templates":{},"templateLinks":[{"templateId":"t","newId":"l","values":{}}]}"#,
            "no template",
        ),
        (
            r#"{"staticPolicies":{"a":{"effect":"permit","principal":{"op":"==","slot":"?principal"},"action":{"op":"All"},"resource":{"op":"All"},"conditions":[]}},"templates":{},"templateLinks":[]}"#,
            "static policy cannot have slots",
        ),
    ];
    for (text, expect) in cases {
        let err = est::policy_set_from_json_str("bad.json", text).expect_err(text);
        let msg = err.to_string();
        assert!(msg.contains(expect), "{text}: {msg}");
        assert!(
            cedar_policy::PolicySet::from_json_str(text).is_err()
                && cedar_policy::Policy::from_json(
                    None,
                    serde_json::from_str(text).unwrap_or_default()
                )
                .is_err(),
            "cedar accepts {text}"
        );
    }
}

/// Thuja's `translate-policy` one way or the other.
fn translate(name: &str, text: &str, direction: PolicyDirection) -> Result<String, String> {
    translate_policy(name, text, direction).map_err(|e| e.to_string())
}

/// The policies of a text `to_cedar` printed (one per blank-line-separated chunk: the printed
/// policies have no blank lines inside, strings' newlines being escaped), sorted.
fn chunks(text: &str) -> Vec<&str> {
    let mut v: Vec<&str> = text.split("\n\n").collect();
    v.sort_unstable();
    v
}

/// The policies and templates of a JSON policy set, whatever their ids, sorted.
fn json_policies(json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).expect("Thuja writes valid JSON");
    let mut out: Vec<String> = ["staticPolicies", "templates"]
        .iter()
        .filter_map(|k| v.get(*k).and_then(|m| m.as_object()))
        .flat_map(|m| m.values().map(|p| p.to_string()))
        .collect();
    out.sort_unstable();
    out
}

/// Where two texts first differ, with a little context.
fn text_difference(ours: &str, cedar: &str) -> String {
    let at = ours
        .char_indices()
        .zip(cedar.chars())
        .find(|((_, a), b)| a != b)
        .map_or(ours.len().min(cedar.len()), |((i, _), _)| i);
    let from = at.saturating_sub(60);
    let part = |s: &str| {
        let from = (0..=from.min(s.len()))
            .rev()
            .find(|i| s.is_char_boundary(*i))
            .unwrap_or(0);
        s.chars()
            .skip(s[..from].chars().count())
            .take(140)
            .collect::<String>()
    };
    format!(
        "at byte {at}:\n  thuja: {:?}\n  cedar: {:?}",
        part(ours),
        part(cedar)
    )
}

/// `json-to-cedar` on every conformance policy file: `cedar-policy` writes the file's JSON, and
/// Thuja's text for it is byte for byte `cedar-policy`'s `PolicySet::to_cedar` of that JSON.
/// Then, with Thuja alone, text → JSON → text → JSON → text: the second text has the same
/// policies as the first (their ids, and so their order, may change), and so do the JSONs.
#[test]
fn json_to_cedar_equals_cedar_on_every_conformance_policy_file() {
    let files = policy_files();
    let (mut compared, mut identical, mut skipped) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    let mut unstable = Vec::new();
    for (name, text) in &files {
        let Ok(cedar) = text.parse::<cedar_policy::PolicySet>() else {
            skipped += 1;
            continue;
        };
        let json = cedar.to_json().expect("cedar writes JSON");
        let expected = cedar_policy::PolicySet::from_json_value(json.clone())
            .expect("cedar reads its JSON")
            .to_cedar()
            .expect("no template links in a text file");
        compared += 1;
        match translate(name, &json.to_string(), PolicyDirection::JsonToCedar) {
            Ok(ours) if ours == expected => identical += 1,
            Ok(ours) => failures.push(format!(
                "{name}: differs {}",
                text_difference(&ours, &expected)
            )),
            Err(e) => failures.push(format!("{name}: Thuja rejects cedar's JSON: {e}")),
        }

        // Thuja alone: text → JSON → text → JSON → text.
        let stable = (|| -> Result<(), String> {
            let j1 = translate(name, text, PolicyDirection::CedarToJson)?;
            let t1 = translate(name, &j1, PolicyDirection::JsonToCedar)?;
            let j2 = translate(name, &t1, PolicyDirection::CedarToJson)?;
            let t2 = translate(name, &j2, PolicyDirection::JsonToCedar)?;
            let j3 = translate(name, &t2, PolicyDirection::CedarToJson)?;
            if chunks(&t1) != chunks(&t2) {
                return Err(format!("text changed: {}", text_difference(&t2, &t1)));
            }
            if json_policies(&j2) != json_policies(&j3) {
                return Err("JSON of the printed text changed".into());
            }
            Ok(())
        })();
        if let Err(e) = stable {
            unstable.push(format!("{name}: {e}"));
        }
    }
    eprintln!(
        "json-to-cedar: {compared} policy files compared with cedar-policy, {identical} identical, {} differ, {} not stable text → JSON → text; {skipped} rejected by cedar; {} files in all",
        failures.len(),
        unstable.len(),
        files.len()
    );
    if !files.is_empty() {
        assert!(compared > 0, "no policy file compared");
    }
    assert!(
        failures.is_empty() && unstable.is_empty(),
        "{} of {compared} files differ, {} unstable:\n{}",
        failures.len(),
        unstable.len(),
        failures
            .iter()
            .chain(&unstable)
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A file of `tests/data/json_to_cedar/`.
fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/json_to_cedar")
        .join(name);
    std::fs::read_to_string(&path).expect("the json_to_cedar fixtures are readable")
}

/// Hand-written policies (`policies.cedar`, whose JSON `cedar-policy` writes as
/// `policies.json`) and JSON only the JSON format can say (`extra.json`: a negative literal
/// beside a negated one, `__extn` and `__entity` values, `is ... in` in a condition, literals
/// to fold, sorted ids and annotations, escapes Rust's `escape_debug` treats apart;
/// `single.json`, one policy rather than a set, with `>` of a negative number in `unless`): the
/// `.expected` files are what `cedar translate-policy --direction json-to-cedar` prints
/// (`to_cedar` and a newline), checked here against `cedar-policy`; the CLI's tests compare the
/// binary's output with the same files.
#[test]
fn hand_written_json_prints_as_cedar_prints_it() {
    let cedar: cedar_policy::PolicySet = fixture("policies.cedar").parse().expect("cedar parses");
    let cedar_json = cedar.to_json().expect("cedar writes JSON");
    let fixture_json: serde_json::Value =
        serde_json::from_str(&fixture("policies.json")).expect("policies.json is JSON");
    assert_eq!(
        cedar_json, fixture_json,
        "policies.json is cedar-policy's JSON for policies.cedar"
    );
    for (json_file, expected_file) in [
        ("policies.json", "policies.expected"),
        ("extra.json", "extra.expected"),
        ("single.json", "single.expected"),
    ] {
        let json = fixture(json_file);
        let expected = fixture(expected_file);
        // A policy set, or one policy (which the `cedar` CLI reads as a set of one).
        let cedar_set = cedar_policy::PolicySet::from_json_str(&json).unwrap_or_else(|_| {
            let value = serde_json::from_str(&json).expect("JSON");
            let policy = cedar_policy::Policy::from_json(None, value).expect("cedar reads it");
            cedar_policy::PolicySet::from_policies([policy]).expect("a set of one")
        });
        let cedar_text = cedar_set.to_cedar().expect("no links");
        assert_eq!(
            format!("{cedar_text}\n"),
            expected,
            "{expected_file} is what cedar prints for {json_file}"
        );
        let ours = translate(json_file, &json, PolicyDirection::JsonToCedar).expect("reads");
        assert_eq!(
            format!("{ours}\n"),
            expected,
            "{}",
            text_difference(&ours, &cedar_text)
        );
    }
}

/// A policy set with template links has no Cedar text: Thuja refuses it with the `cedar` CLI's
/// message for links. (Where Thuja knowingly differs: `cedar-policy` 4.14.1's `to_cedar` refuses
/// links only for policies parsed from text; a link read from JSON it prints as `Template
/// Instance of t, slots: [...]`, which is not Cedar text, its slots in hash order. This test
/// notices if that changes.)
#[test]
fn json_with_template_links_has_no_text() {
    let json = r#"{"staticPolicies":{},"templates":{"t":{"effect":"permit","principal":{"op":"==","slot":"?principal"},"action":{"op":"All"},"resource":{"op":"All"},"conditions":[]}},"templateLinks":[{"templateId":"t","newId":"l","values":{"?principal":{"type":"User","id":"a"}}}]}"#;
    let err = translate("links.json", json, PolicyDirection::JsonToCedar).expect_err("links");
    assert!(
        err.contains("Unable to translate policy set containing template linked policies."),
        "{err}"
    );
    let cedar = cedar_policy::PolicySet::from_json_str(json)
        .expect("cedar reads it")
        .to_cedar()
        .expect("cedar prints links read from JSON");
    assert!(
        cedar.starts_with("Template Instance of t, slots: [?principal -> User::\"a\"]"),
        "{cedar}"
    );
}

/// `e is T in x` prints `e` twice (`(e is T) && (e in x)`), so nested ones print it
/// exponentially often: a few levels print as Cedar prints them, many (30, within the JSON
/// reader's nesting limit: a billion copies) are refused at once rather than printed in
/// exponential time and space.
#[test]
fn nested_is_in_prints_as_cedar_or_is_refused() {
    let nested = |depth: usize| {
        let mut e = r#"{"Var":"principal"}"#.to_string();
        for _ in 0..depth {
            e = format!(
                r#"{{"is":{{"left":{e},"entity_type":"User","in":{{"Var":"resource"}}}}}}"#
            );
        }
        format!(
            r#"{{"staticPolicies":{{"p":{{"effect":"permit","principal":{{"op":"All"}},"action":{{"op":"All"}},"resource":{{"op":"All"}},"conditions":[{{"kind":"when","body":{e}}}]}}}},"templates":{{}},"templateLinks":[]}}"#
        )
    };
    for depth in [1, 2, 3] {
        let json = nested(depth);
        let cedar = cedar_policy::PolicySet::from_json_str(&json)
            .expect("cedar reads it")
            .to_cedar()
            .expect("no links");
        let ours = translate("nested.json", &json, PolicyDirection::JsonToCedar).expect("prints");
        assert_eq!(ours, cedar, "depth {depth}");
    }
    let start = std::time::Instant::now();
    let err =
        translate("nested.json", &nested(30), PolicyDirection::JsonToCedar).expect_err("too large");
    assert!(err.contains("more than 16 times"), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

/// Cedar joins the conditions into one right-nested `&&`: many conditions print as Cedar prints
/// them, and twenty thousand print without overflowing the stack (Cedar's own printer is not
/// run on those: it recurses).
#[test]
fn many_conditions_print_as_cedar() {
    let policy = |n: usize| {
        let conditions = (0..n)
            .map(|i| match i % 3 {
                0 => r#"{"kind":"when","body":{".":{"left":{"Var":"context"},"attr":"a"}}}"#,
                1 => r#"{"kind":"unless","body":{"Value":false}}"#,
                _ => r#"{"kind":"when","body":{"Value":true}}"#,
            })
            .collect::<Vec<_>>()
            .join(",");
        format!(
            r#"{{"effect":"permit","principal":{{"op":"All"}},"action":{{"op":"All"}},"resource":{{"op":"All"}},"conditions":[{conditions}]}}"#
        )
    };
    for n in [2, 3, 4, 50] {
        let json = policy(n);
        let cedar_policy =
            cedar_policy::Policy::from_json(None, serde_json::from_str(&json).expect("JSON"))
                .expect("cedar reads it");
        let cedar = cedar_policy::PolicySet::from_policies([cedar_policy])
            .expect("a set of one")
            .to_cedar()
            .expect("no links");
        let ours = translate("many.json", &json, PolicyDirection::JsonToCedar).expect("prints");
        assert_eq!(ours, cedar, "{n} conditions");
    }
    let ours =
        translate("many.json", &policy(20_000), PolicyDirection::JsonToCedar).expect("prints");
    assert_eq!(ours.matches("context.a").count(), 6_667);
}
