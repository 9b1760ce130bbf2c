//! Thuja's validator against `cedar-policy`'s (strict mode) on every corpus-dev test: both must
//! agree on whether the policy set is valid and on the set of (policy id, error kind) pairs.
//! The same at entity-dereference levels 0, 1 and 2, and for a set of policies exercising every
//! construct against a schema with every kind of type. Warnings (`impossible-policy`,
//! `invalid-action-application`) must agree too; Cedar's warnings about confusable or mixed-script
//! text are left out (Thuja does not give them).
//! Skipped (with a message) when the corpus is absent.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;
use std::str::FromStr;

use serde_json::Value as Json;
use thuja_compiler::validator::{self, ValidationOptions};

fn corpus() -> Option<BTreeMap<String, String>> {
    let dir = match std::env::var_os("THUJA_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/cedar-conformance"),
    };
    let archive = dir.join("corpus-dev.tar.gz");
    let Ok(file) = std::fs::File::open(&archive) else {
        eprintln!("SKIPPED: no corpus at {}", archive.display());
        return None;
    };
    let mut files = BTreeMap::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in tar.entries().expect("readable archive") {
        let mut entry = entry.expect("readable entry");
        let path = entry
            .path()
            .expect("entry path")
            .to_string_lossy()
            .into_owned();
        let mut text = String::new();
        if entry.read_to_string(&mut text).is_ok() {
            files.insert(path.trim_start_matches("./").to_string(), text);
        }
    }
    Some(files)
}

/// `UnexpectedType(..)` (a Debug rendering) to `unexpected-type`.
fn kebab_variant(debug: &str) -> String {
    let name: String = debug.chars().take_while(|c| c.is_alphanumeric()).collect();
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

type Pairs = BTreeSet<(String, String)>;

/// Cedar's warnings about confusable or mixed-script text and bidi characters, which Thuja does
/// not give.
fn without_text_warnings(warnings: Pairs) -> Pairs {
    warnings
        .into_iter()
        .filter(|(_, k)| {
            !k.starts_with("confusable") && !k.starts_with("mixed") && !k.starts_with("bidi")
        })
        .collect()
}

fn thuja_verdict(schema: &str, policies: &str) -> (Pairs, Pairs) {
    thuja_verdict_at(schema, policies, None)
}

fn thuja_verdict_at(schema: &str, policies: &str, level: Option<u32>) -> (Pairs, Pairs) {
    let schema = thuja::input::schema_from_str("schema", schema).expect("schema");
    let policies = thuja::input::policies_from_str("policies", policies).expect("policies");
    let result = validator::validate(&schema, &policies, ValidationOptions { level });
    let errors = result
        .errors
        .iter()
        .map(|e| (e.policy_id.to_string(), e.kind.name().to_string()))
        .collect();
    let warnings = result
        .warnings
        .iter()
        .map(|w| (w.policy_id.to_string(), w.kind.name().to_string()))
        .collect();
    (errors, warnings)
}

fn cedar_verdict(schema: &str, policies: &str) -> (Pairs, Pairs) {
    cedar_verdict_at(schema, policies, None)
}

fn cedar_verdict_at(schema: &str, policies: &str, level: Option<u32>) -> (Pairs, Pairs) {
    use cedar_policy::{PolicySet, Schema, ValidationMode, Validator};
    let (schema, _) = Schema::from_cedarschema_str(schema).expect("cedar schema");
    let policies = PolicySet::from_str(policies).expect("cedar policies");
    let validator = Validator::new(schema);
    let result = match level {
        None => validator.validate(&policies, ValidationMode::Strict),
        Some(level) => validator.validate_with_level(&policies, ValidationMode::Strict, level),
    };
    let errors = result
        .validation_errors()
        .map(|e| (e.policy_id().to_string(), kebab_variant(&format!("{e:?}"))))
        .collect();
    let warnings = result
        .validation_warnings()
        .map(|w| (w.policy_id().to_string(), kebab_variant(&format!("{w:?}"))))
        .collect();
    (errors, warnings)
}

#[test]
fn validator_agrees_with_cedar_on_the_corpus() {
    let Some(files) = corpus() else { return };
    let tests: Vec<Json> = files
        .iter()
        .filter(|(k, _)| k.ends_with(".json") && !k.ends_with(".entities.json"))
        .filter_map(|(_, text)| serde_json::from_str(text).ok())
        .collect();
    assert!(tests.len() > 1000, "the corpus holds thousands of tests");
    let (mut same_validity, mut same_errors, mut same_warnings) = (0usize, 0usize, 0usize);
    let mut same_levels = 0usize;
    let mut disagreements = Vec::new();
    let mut warning_disagreements = Vec::new();
    for test in &tests {
        let file = |key: &str| files[test[key].as_str().unwrap_or_default()].as_str();
        let (ours, our_warnings) = thuja_verdict(file("schema"), file("policies"));
        let (theirs, their_warnings) = cedar_verdict(file("schema"), file("policies"));
        let their_warnings = without_text_warnings(their_warnings);
        same_validity += usize::from(ours.is_empty() == theirs.is_empty());
        if ours == theirs {
            same_errors += 1;
        } else {
            disagreements.push(format!(
                "{}: thuja {ours:?}, cedar {theirs:?}",
                test["policies"]
            ));
        }
        for level in 0..3 {
            let (ours, _) = thuja_verdict_at(file("schema"), file("policies"), Some(level));
            let (theirs, _) = cedar_verdict_at(file("schema"), file("policies"), Some(level));
            if ours == theirs {
                same_levels += 1;
            } else {
                disagreements.push(format!(
                    "{} at level {level}: thuja {ours:?}, cedar {theirs:?}",
                    test["policies"]
                ));
            }
        }
        if our_warnings == their_warnings {
            same_warnings += 1;
        } else {
            warning_disagreements.push(format!(
                "{}: thuja {our_warnings:?}, cedar {their_warnings:?}",
                test["policies"]
            ));
        }
    }
    let n = tests.len();
    eprintln!(
        "{n} tests: validity agrees on {same_validity}, error (policy, kind) sets on {same_errors}, warning sets on {same_warnings}; with levels 0, 1 and 2: {same_levels} of {}",
        3 * n
    );
    assert!(
        warning_disagreements.is_empty(),
        "{} warning disagreements:\n{}",
        warning_disagreements.len(),
        warning_disagreements
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A schema with every kind of type, tags, an enumerated type, action groups and an action that
/// applies to nothing.
const SCHEMA: &str = r#"
type Addr = { street: String, zip?: Long };
entity Group in [Group] { name: String };
entity User in [Group] {
    name: String, age: Long, email?: String, manager?: User, addr: Addr,
    labels: Set<String>, friends: Set<User>, ip: ipaddr, score: decimal,
    born: datetime, ttl: duration, profile?: { nick?: String, level: Long }
} tags String;
entity Admin in [Group] { name: String, level: Long };
entity Folder in [Folder] { owner: User, name: String };
entity Doc in [Folder] { owner: User, public: Bool, title: String, readers: Set<User> } tags Long;
entity Color enum ["red", "green"];
action read, write appliesTo {
    principal: [User, Admin], resource: [Doc, Folder],
    context: { ip: ipaddr, mfa: Bool, opt?: String, n: Long, rec: { a: Long, b?: Bool } }
};
action admin appliesTo { principal: [Admin], resource: [Doc], context: {} };
action all;
action view in [all] appliesTo { principal: User, resource: Doc, context: {} };
action paint appliesTo { principal: User, resource: Color, context: {} };
action noop;
"#;

/// Policies exercising every construct the typechecker knows, each valid or invalid in some way.
const POLICIES: &[&str] = &[
    // scope
    r#"permit(principal, action, resource);"#,
    r#"permit(principal == User::"a", action == Action::"read", resource == Doc::"d");"#,
    r#"permit(principal == Nope::"a", action, resource);"#,
    r#"permit(principal, action == Action::"nope", resource);"#,
    r#"permit(principal, action in [Action::"all", Action::"read"], resource);"#,
    r#"permit(principal, action == Action::"noop", resource);"#,
    r#"permit(principal == Admin::"a", action == Action::"view", resource);"#,
    r#"permit(principal in Group::"g", action, resource in Folder::"f");"#,
    r#"permit(principal is User, action, resource is Doc in Folder::"f");"#,
    r#"permit(principal is Nope, action, resource);"#,
    r#"permit(principal is Group, action, resource);"#,
    r#"permit(principal in User::"a", action == Action::"admin", resource);"#,
    r#"permit(principal, action == Action::"paint", resource == Color::"red");"#,
    r#"permit(principal, action == Action::"paint", resource == Color::"blue");"#,
    r#"permit(principal, action, resource) when { resource == Color::"blue" };"#,
    r#"permit(principal, action in Action::"all", resource);"#,
    r#"permit(principal, action in [], resource);"#,
    // templates
    r#"permit(principal == ?principal, action, resource);"#,
    r#"permit(principal in ?principal, action == Action::"read", resource in ?resource) when { principal.name == "x" };"#,
    r#"permit(principal, action, resource == ?resource) when { resource.owner == principal };"#,
    r#"permit(principal is User in ?principal, action, resource) when { principal.age > 3 };"#,
    // attributes
    r#"permit(principal, action, resource) when { principal.name == "a" };"#,
    r#"permit(principal is User, action, resource) when { principal.age > 3 };"#,
    r#"permit(principal is User, action, resource) when { principal.email == "a" };"#,
    r#"permit(principal is User, action, resource) when { principal has email && principal.email == "a" };"#,
    r#"permit(principal is User, action, resource) when { principal has email || principal.email == "a" };"#,
    r#"permit(principal is User, action, resource) when { !(principal has email) || principal.email == "a" };"#,
    r#"permit(principal is User, action, resource) when { if principal has email then principal.email == "a" else false };"#,
    r#"permit(principal is User, action, resource) when { if principal has email then true else principal.email == "a" };"#,
    r#"permit(principal is User, action, resource) when { principal.nope == 1 };"#,
    r#"permit(principal is User, action, resource) when { principal has nope };"#,
    r#"permit(principal is User, action, resource) when { principal.addr.zip == 1 };"#,
    r#"permit(principal is User, action, resource) when { principal.addr has zip && principal.addr.zip == 1 };"#,
    r#"permit(principal is User, action, resource) when { principal has addr.zip && principal.addr.zip == 1 };"#,
    r#"permit(principal is User, action, resource) when { principal has profile.nick && principal.profile.nick == "n" };"#,
    r#"permit(principal is User, action, resource) when { principal has profile.level && principal.profile.level == 1 };"#,
    r#"permit(principal is User, action, resource) when { principal has profile && principal.profile.nick == "n" };"#,
    r#"permit(principal is User, action, resource) when { principal has profile.nope };"#,
    r#"permit(principal is User, action, resource) when { principal has manager.manager.email };"#,
    r#"permit(principal is User, action, resource) when { principal has manager && principal.manager.name == "m" };"#,
    r#"permit(principal is User, action, resource) when { principal.manager.name == "m" };"#,
    r#"permit(principal, action, resource) when { principal.level > 2 };"#,
    r#"permit(principal, action, resource) when { principal has level && principal.level > 2 };"#,
    r#"permit(principal, action, resource) when { action.foo };"#,
    r#"permit(principal, action, resource) when { action has foo };"#,
    r#"permit(principal, action, resource) when { context.mfa };"#,
    r#"permit(principal, action, resource) when { context.opt == "x" };"#,
    r#"permit(principal, action, resource) when { context has opt && context.opt == "x" };"#,
    r#"permit(principal, action == Action::"read", resource) when { context.mfa && context.rec.a > 1 };"#,
    r#"permit(principal, action == Action::"read", resource) when { context.rec.b };"#,
    r#"permit(principal, action == Action::"read", resource) when { context.rec has b && context.rec.b };"#,
    r#"permit(principal, action, resource) when { {a: 1}.a == 1 };"#,
    r#"permit(principal, action, resource) when { {a: 1}.b == 1 };"#,
    r#"permit(principal, action, resource) when { {a: 1} has b };"#,
    r#"permit(principal, action, resource) when { {a: 1} has a };"#,
    r#"permit(principal, action, resource) when { 1.a == 1 };"#,
    r#"permit(principal, action, resource) when { "s" has a };"#,
    r#"permit(principal, action, resource) when { [1] has a };"#,
    r#"permit(principal is User, action, resource) when { principal.name has a };"#,
    r#"permit(principal is User, action, resource) when { principal has name.first };"#,
    // booleans and short circuits
    r#"permit(principal, action, resource) when { 1 };"#,
    r#"permit(principal, action, resource) when { false && 1 };"#,
    r#"permit(principal, action, resource) when { true || 1 };"#,
    r#"permit(principal, action, resource) when { 1 && false };"#,
    r#"permit(principal, action, resource) when { false };"#,
    r#"permit(principal, action, resource) unless { true };"#,
    r#"permit(principal, action, resource) when { 1 == 1 && principal.nope };"#,
    r#"permit(principal, action, resource) when { 1 != 1 && principal.nope };"#,
    r#"permit(principal, action, resource) when { !true && principal.nope };"#,
    r#"permit(principal, action, resource) when { !1 };"#,
    r#"permit(principal, action, resource) when { if 1 then true else false };"#,
    r#"permit(principal, action, resource) when { if true then 1 else "a" };"#,
    r#"permit(principal, action, resource) when { if context.mfa then 1 else "a" };"#,
    r#"permit(principal, action, resource) when { (if context.mfa then 1 else 2) == 2 };"#,
    r#"permit(principal, action, resource) when { if false then principal.nope else true };"#,
    r#"permit(principal is User, action, resource) when { principal is Admin && principal.nope };"#,
    r#"permit(principal, action, resource) when { principal is User || principal.level > 1 };"#,
    // equality
    r#"permit(principal, action, resource) when { 1 == "a" };"#,
    r#"permit(principal, action, resource) when { principal == resource };"#,
    r#"permit(principal, action, resource) when { principal == User::"a" };"#,
    r#"permit(principal is User, action, resource) when { principal.manager == principal };"#,
    r#"permit(principal, action, resource) when { principal != 1 };"#,
    r#"permit(principal, action, resource) when { [1] == [true] };"#,
    r#"permit(principal, action, resource) when { {a: 1} == {a: 1, b: 2} };"#,
    r#"permit(principal, action, resource) when { {a: 1} == {a: "x"} };"#,
    r#"permit(principal, action, resource) when { context == {} };"#,
    r#"permit(principal, action, resource) when { action == Action::"read" };"#,
    r#"permit(principal, action, resource) when { action == principal };"#,
    r#"permit(principal, action, resource) when { true == false };"#,
    r#"permit(principal, action, resource) when { ip("1.2.3.4") == decimal("1.0") };"#,
    // arithmetic and comparison
    r#"permit(principal, action, resource) when { 1 + 2 > 2 };"#,
    r#"permit(principal, action, resource) when { 1 + "a" > 2 };"#,
    r#"permit(principal, action, resource) when { -"a" == 1 };"#,
    r#"permit(principal, action, resource) when { "a" < "b" };"#,
    r#"permit(principal, action, resource) when { 1 < "b" };"#,
    r#"permit(principal, action, resource) when { "b" <= 1 };"#,
    r#"permit(principal, action, resource) when { datetime("2024-01-01") < datetime("2024-01-02") };"#,
    r#"permit(principal, action, resource) when { duration("1h") >= duration("1m") };"#,
    r#"permit(principal, action, resource) when { datetime("2024-01-01") < duration("1m") };"#,
    r#"permit(principal, action, resource) when { decimal("1.0") < decimal("2.0") };"#,
    r#"permit(principal, action, resource) when { datetime("2024-01-01") < 1 };"#,
    r#"permit(principal, action, resource) when { 2 > datetime("2024-01-01") };"#,
    // sets
    r#"permit(principal, action, resource) when { [].isEmpty() };"#,
    r#"permit(principal, action, resource) when { [1, "a"].isEmpty() };"#,
    r#"permit(principal, action, resource) when { [1, 2].contains(1) };"#,
    r#"permit(principal, action, resource) when { [1, 2].contains("a") };"#,
    r#"permit(principal, action, resource) when { [1, 2].containsAll([1]) };"#,
    r#"permit(principal, action, resource) when { [1, 2].containsAny(["a"]) };"#,
    r#"permit(principal, action, resource) when { [1, 2].containsAll(1) };"#,
    r#"permit(principal, action, resource) when { 1.contains(1) };"#,
    r#"permit(principal, action, resource) when { "a".isEmpty() };"#,
    r#"permit(principal is User, action, resource) when { principal.labels.contains("x") };"#,
    r#"permit(principal is User, action, resource) when { principal.friends.contains(principal) };"#,
    r#"permit(principal, action, resource is Doc) when { resource.readers.contains(principal) };"#,
    r#"permit(principal, action, resource) when { [principal, resource].isEmpty() };"#,
    r#"permit(principal, action, resource) when { [[1], []].isEmpty() };"#,
    r#"permit(principal, action, resource) when { [{a: 1}, {a: 2}].isEmpty() };"#,
    r#"permit(principal, action, resource) when { [{a: 1}, {b: 2}].isEmpty() };"#,
    // in
    r#"permit(principal, action, resource) when { principal in Group::"g" };"#,
    r#"permit(principal, action, resource) when { principal in [Group::"g", Group::"h"] };"#,
    r#"permit(principal, action, resource) when { principal in [Group::"g", User::"h"] };"#,
    r#"permit(principal, action, resource) when { principal in resource };"#,
    r#"permit(principal, action, resource) when { 1 in Group::"g" };"#,
    r#"permit(principal, action, resource) when { principal in 1 };"#,
    r#"permit(principal, action, resource) when { principal in [1] };"#,
    r#"permit(principal, action, resource) when { action in Action::"all" };"#,
    r#"permit(principal, action, resource) when { action in [Action::"all", Action::"nope"] };"#,
    r#"permit(principal, action, resource) when { action in Group::"g" };"#,
    r#"permit(principal, action, resource) when { Action::"view" in Action::"all" && principal.nope };"#,
    r#"permit(principal, action, resource) when { User::"a" in principal };"#,
    // is
    r#"permit(principal, action, resource) when { principal is User };"#,
    r#"permit(principal, action, resource) when { 1 is User };"#,
    r#"permit(principal, action, resource) when { principal is User in Group::"g" };"#,
    r#"permit(principal, action, resource) when { principal is User in 1 };"#,
    // like
    r#"permit(principal, action, resource) when { "abc" like "a*" };"#,
    r#"permit(principal, action, resource) when { 1 like "a*" };"#,
    r#"permit(principal, action, resource) when { principal like "a*" };"#,
    // tags
    r#"permit(principal is User, action, resource) when { principal.hasTag("t") };"#,
    r#"permit(principal is User, action, resource) when { principal.getTag("t") == "x" };"#,
    r#"permit(principal is User, action, resource) when { principal.hasTag("t") && principal.getTag("t") == "x" };"#,
    r#"permit(principal is User, action, resource) when { principal.hasTag("t") && principal.getTag("u") == "x" };"#,
    r#"permit(principal is Admin, action, resource) when { principal.hasTag("t") && principal.getTag("t") == "x" };"#,
    r#"permit(principal is Admin, action, resource) when { principal.getTag("t") == "x" };"#,
    r#"permit(principal, action, resource is Doc) when { resource.hasTag("t") && resource.getTag("t") > 1 };"#,
    r#"permit(principal, action, resource is Doc) when { resource.hasTag("t") && resource.getTag("t") == "x" };"#,
    r#"permit(principal, action, resource) when { resource.hasTag(1) };"#,
    r#"permit(principal, action, resource) when { context.hasTag("a") };"#,
    r#"permit(principal, action, resource) when { principal.hasTag(principal.name) && principal.getTag(principal.name) == "x" };"#,
    // extension functions
    r#"permit(principal, action, resource) when { ip("1.2.3.4").isIpv4() };"#,
    r#"permit(principal, action, resource) when { ip("1.2.3.x").isIpv4() };"#,
    r#"permit(principal, action, resource) when { decimal("1.23456").lessThan(decimal("1.0")) };"#,
    r#"permit(principal, action, resource) when { decimal(context.opt).lessThan(decimal("1.0")) };"#,
    r#"permit(principal, action, resource) when { decimal(1).lessThan(decimal("1.0")) };"#,
    r#"permit(principal, action, resource) when { datetime("2024-13-01") < datetime("2024-01-01") };"#,
    r#"permit(principal, action, resource) when { duration("1x") < duration("1h") };"#,
    r#"permit(principal, action, resource) when { context.ip.isInRange(ip("10.0.0.0/8")) };"#,
    r#"permit(principal, action, resource) when { context.ip.isInRange(decimal("1.0")) };"#,
    r#"permit(principal is User, action, resource) when { principal.born.offset(principal.ttl) > datetime("2024-01-01") };"#,
    r#"permit(principal is User, action, resource) when { principal.born.durationSince(principal.born).toHours() > 1 };"#,
    r#"permit(principal is User, action, resource) when { principal.score.greaterThan(decimal("1.0")) };"#,
    r#"permit(principal is User, action, resource) when { principal.born.toDate() == principal.born.toTime() };"#,
    r#"permit(principal, action, resource) when { "a".isIpv4() };"#,
    // records and sets of records
    r#"permit(principal, action, resource) when { {a: principal.nope, b: 1} == {a: 1, b: 1} };"#,
    r#"permit(principal, action, resource) when { [principal.nope, 1].isEmpty() };"#,
    r#"permit(principal is User, action, resource) when { principal.addr == {street: "s"} };"#,
    r#"permit(principal is User, action, resource) when { principal.addr == {street: "s", zip: 1} };"#,
    // entity dereference levels
    r#"permit(principal is User, action, resource) when { principal has manager && principal.manager has manager && principal.manager.manager.name == "x" };"#,
    r#"permit(principal, action, resource is Doc) when { resource.owner.name == "a" };"#,
    r#"permit(principal, action, resource) when { User::"a".name == "x" };"#,
    r#"permit(principal, action, resource) when { User::"a" has name };"#,
    r#"permit(principal, action, resource is Doc) when { principal in resource.owner };"#,
    r#"permit(principal, action, resource is Doc) when { resource.owner in Group::"g" };"#,
    r#"permit(principal is User, action, resource) when { {a: principal}.a.name == "x" };"#,
    r#"permit(principal is User, action, resource) when { {a: principal, b: principal.name}.a.name == "x" };"#,
    r#"permit(principal is User, action, resource) when { (if context.mfa then principal else principal).name == "x" };"#,
    r#"permit(principal is User, action, resource) when { (if true then principal else User::"a").name == "x" };"#,
    r#"permit(principal, action, resource is Doc) when { resource.owner.hasTag("t") && resource.owner.getTag("t") == "x" };"#,
    r#"permit(principal is User, action, resource) when { principal has manager.manager.email };"#,
    r#"permit(principal is User, action, resource) when { principal has manager && principal.manager has addr.zip };"#,
    r#"permit(principal, action == Action::"read", resource) when { context.rec.a > 1 };"#,
    r#"permit(principal, action, resource) when { action.foo == 1 };"#,
    r#"permit(principal is User, action, resource) when { principal.manager.manager is User };"#,
    r#"permit(principal is User in Group::"g", action, resource is Doc) when { resource.owner is User in principal };"#,
    // arity, more ext
    r#"permit(principal, action, resource) when { ip("1.2.3.4", "x").isIpv4() };"#,
    r#"permit(principal, action, resource) when { decimal("1.0").lessThan() };"#,
    r#"permit(principal, action, resource) when { decimal(1, 2) == decimal("1.0") };"#,
    r#"permit(principal, action, resource) when { ip("::1").isLoopback() && ip("10.0.0.1").isInRange(ip("10.0.0.0/8")) };"#,
    r#"permit(principal, action, resource) when { duration("1d2h").toMilliseconds() > 0 };"#,
    r#"permit(principal, action, resource) when { datetime("2024-01-01T00:00:00Z").toTime() < duration("1h") };"#,
    // more mixes
    r#"permit(principal, action, resource) when { principal == Action::"read" };"#,
    r#"permit(principal, action, resource) when { resource in Action::"read" };"#,
    r#"permit(principal, action == Action::"read", resource) when { context.rec == {a: 1} };"#,
    r#"permit(principal, action == Action::"read", resource) when { context.rec == {a: 1, b: true} };"#,
    r#"permit(principal is User, action, resource) when { principal.profile has nick };"#,
    r#"permit(principal, action == Action::"paint", resource) when { Color::"red" == resource };"#,
    r#"permit(principal is User, action, resource) when { principal.labels.containsAll(["a"]) && principal.friends.containsAny([User::"a"]) };"#,
    r#"permit(principal is User, action, resource) when { [principal.labels, ["a"]].isEmpty() };"#,
    r#"permit(principal, action, resource) when { (if context.mfa then {a: 1} else {a: 2}).a == 1 };"#,
    r#"permit(principal, action, resource) when { (if context.mfa then {a: 1} else {b: 2}).a == 1 };"#,
    r#"permit(principal is User, action, resource) when { principal.hasTag("a") || principal.hasTag("b") };"#,
    r#"permit(principal is User, action, resource) when { (principal.hasTag("a") && principal.getTag("a") == "x") || true };"#,
    r#"permit(principal is User, action, resource) when { (principal.hasTag("a") || principal.hasTag("a")) && principal.getTag("a") == "x" };"#,
    r#"permit(principal is User, action, resource) when { (principal has email || principal has email) && principal.email == "x" };"#,
    r#"permit(principal is User, action, resource) when { if principal has email && principal.email == "a" then principal.email == "b" else false };"#,
    r#"permit(principal, action, resource) when { -(1) == 1 * 2 - 3 };"#,
    r#"permit(principal, action, resource) when { [action, Action::"read"].contains(action) };"#,
    r#"permit(principal, action, resource) when { action in [Action::"read", Action::"write"] && principal.age > 1 };"#,
    r#"permit(principal, action in [Action::"read", Action::"write"], resource) when { principal.name == resource.title };"#,
    r#"permit(principal, action, resource) when { principal is Admin in Group::"g" && principal.level > 1 };"#,
    r#"permit(principal, action, resource) when { principal is User in resource };"#,
    r#"permit(principal, action, resource) when { context has rec.b && context.rec.b };"#,
    r#"permit(principal, action, resource) when { context has rec.a && context.rec.a > 1 };"#,
    r#"permit(principal, action, resource) when { context has nope.a };"#,
    r#"permit(principal is User, action, resource) when { principal has manager.nope };"#,
    r#"permit(principal is User, action, resource) when { principal has addr.street.x };"#,
    r#"permit(principal, action, resource) when { principal.name == "a" && false };"#,
    r#"permit(principal, action, resource) when { principal.nope == "a" || true };"#,
    r#"forbid(principal is Admin, action == Action::"read", resource is Folder);"#,
    r#"permit(principal == ?principal, action == Action::"admin", resource in ?resource) when { resource.public };"#,
    r#"permit(principal is Admin in ?principal, action, resource is Doc in ?resource);"#,
    // unless and multiple clauses
    r#"permit(principal, action, resource) when { true } unless { 1 } when { "a" };"#,
    r#"forbid(principal, action, resource) unless { principal has nope };"#,
];

#[test]
fn level_validation_agrees_with_cedar() {
    let mut disagreements = Vec::new();
    for level in 0..3 {
        for text in POLICIES {
            let (ours, _) = thuja_verdict_at(SCHEMA, text, Some(level));
            let (theirs, _) = cedar_verdict_at(SCHEMA, text, Some(level));
            if ours != theirs {
                disagreements.push(format!(
                    "level {level}: {text}\n    thuja {ours:?}\n    cedar {theirs:?}"
                ));
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagree:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

#[test]
fn validator_agrees_with_cedar_on_every_construct() {
    let mut disagreements = Vec::new();
    let mut invalid = 0;
    for text in POLICIES {
        let (ours, our_warnings) = thuja_verdict(SCHEMA, text);
        invalid += usize::from(!ours.is_empty());
        let (theirs, their_warnings) = cedar_verdict(SCHEMA, text);
        let their_warnings = without_text_warnings(their_warnings);
        if ours != theirs || our_warnings != their_warnings {
            disagreements.push(format!(
                "{text}\n    thuja {ours:?} {our_warnings:?}\n    cedar {theirs:?} {their_warnings:?}"
            ));
        }
    }
    eprintln!("{} policies, {invalid} invalid", POLICIES.len());
    assert!(
        disagreements.is_empty(),
        "{} of {} disagree:\n{}",
        disagreements.len(),
        POLICIES.len(),
        disagreements.join("\n")
    );
}

fn conformance_dir() -> PathBuf {
    match std::env::var_os("THUJA_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/cedar-conformance"),
    }
}

fn files_with_extension(dir: &std::path::Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_with_extension(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// Every policy file of the hand-written tests and sample data against every sample schema.
#[test]
fn validator_agrees_with_cedar_on_the_hand_written_tests() {
    let dir = conformance_dir();
    if !dir.is_dir() {
        eprintln!("SKIPPED: no conformance data at {}", dir.display());
        return;
    }
    let (mut policy_files, mut schema_files) = (Vec::new(), Vec::new());
    files_with_extension(&dir, "cedar", &mut policy_files);
    files_with_extension(&dir, "cedarschema", &mut schema_files);
    assert!(!policy_files.is_empty() && !schema_files.is_empty());
    let (mut compared, mut invalid) = (0usize, 0usize);
    let mut disagreements = Vec::new();
    for schema_path in &schema_files {
        let schema = std::fs::read_to_string(schema_path).expect("schema");
        for policy_path in &policy_files {
            let policies = std::fs::read_to_string(policy_path).expect("policies");
            compared += 1;
            let (ours, our_warnings) = thuja_verdict(&schema, &policies);
            let (theirs, their_warnings) = cedar_verdict(&schema, &policies);
            let their_warnings = without_text_warnings(their_warnings);
            invalid += usize::from(!theirs.is_empty());
            if ours != theirs || our_warnings != their_warnings {
                disagreements.push(format!(
                    "{} with {}: thuja {ours:?} {our_warnings:?}, cedar {theirs:?} {their_warnings:?}",
                    policy_path.display(),
                    schema_path.display()
                ));
            }
        }
    }
    eprintln!(
        "{compared} (policies, schema) pairs, {invalid} invalid for Cedar, {} disagreements",
        disagreements.len()
    );
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
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

/// Groups of tokens that may stand in for each other and still parse, mostly changing types.
const SWAPS: &[&[&str]] = &[
    &[" && ", " || "],
    &[" == ", " != ", " < ", " <= ", " > ", " >= ", " in "],
    &["principal", "resource", "context", "action"],
    &[".contains(", ".containsAll(", ".containsAny("],
    &["true", "false"],
    &[" has ", "."],
    &["if ", "!"],
];

/// The identifiers a schema text mentions (attribute and type names among them).
fn schema_words(schema: &str) -> Vec<&str> {
    let mut words: Vec<&str> = schema
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| {
            w.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
        })
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// One random edit: a token swapped for another of its group, or an attribute for a schema word.
fn mutate(text: &str, words: &[&str], rng: &mut Rng) -> Option<String> {
    if rng.below(3) == 0 && !words.is_empty() {
        let dots: Vec<usize> = text.match_indices('.').map(|(i, _)| i + 1).collect();
        let start = *dots.get(rng.below(dots.len()))?;
        let rest = text.get(start..)?;
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        let word = words[rng.below(words.len())];
        return Some(format!("{}{word}{}", &text[..start], &rest[len..]));
    }
    let group = SWAPS[rng.below(SWAPS.len())];
    let from = group[rng.below(group.len())];
    let hits: Vec<usize> = text.match_indices(from).map(|(i, _)| i).collect();
    let at = *hits.get(rng.below(hits.len()))?;
    let to = group[rng.below(group.len())];
    Some(format!("{}{to}{}", &text[..at], &text[at + from.len()..]))
}

/// Corpus and construct policies edited a few ways each (operators, variables, attributes
/// swapped), validated by both wherever both parse them.
#[test]
fn mutated_corpus_policies_agree_with_cedar() {
    let Some(files) = corpus() else { return };
    let tests: Vec<Json> = files
        .iter()
        .filter(|(k, _)| k.ends_with(".json") && !k.ends_with(".entities.json"))
        .filter_map(|(_, text)| serde_json::from_str(text).ok())
        .collect();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let (mut compared, mut invalid) = (0usize, 0usize);
    let mut disagreements = Vec::new();
    // the corpus policies with their schemas, and the construct policies with theirs
    let mut cases: Vec<(String, &str, &str, usize)> = tests
        .iter()
        .map(|test| {
            let file = |key: &str| files[test[key].as_str().unwrap_or_default()].as_str();
            (
                test["policies"].to_string(),
                file("schema"),
                file("policies"),
                3,
            )
        })
        .collect();
    cases.extend(
        POLICIES
            .iter()
            .map(|p| ("construct".to_string(), SCHEMA, *p, 30)),
    );
    for (name, schema, original, count) in cases {
        let words = schema_words(schema);
        for _ in 0..count {
            let mut text = original.to_string();
            for _ in 0..=rng.below(2) {
                if let Some(t) = mutate(&text, &words, &mut rng) {
                    text = t;
                }
            }
            let parses = thuja::input::policies_from_str("p", &text).is_ok()
                && cedar_policy::PolicySet::from_str(&text).is_ok();
            if !parses {
                continue;
            }
            compared += 1;
            let (ours, our_warnings) = thuja_verdict(schema, &text);
            let (theirs, their_warnings) = cedar_verdict(schema, &text);
            let their_warnings = without_text_warnings(their_warnings);
            invalid += usize::from(!theirs.is_empty());
            if name == "construct" {
                let (ours, _) = thuja_verdict_at(schema, &text, Some(1));
                let (theirs, _) = cedar_verdict_at(schema, &text, Some(1));
                if ours != theirs {
                    disagreements.push(format!(
                        "{name} mutated to:\n{text}\n  at level 1: thuja {ours:?}\n    cedar {theirs:?}"
                    ));
                }
            }
            if ours != theirs || our_warnings != their_warnings {
                disagreements.push(format!(
                    "{name} mutated to:\n{text}\n    thuja {ours:?} {our_warnings:?}\n    cedar {theirs:?} {their_warnings:?}"
                ));
            }
        }
    }
    eprintln!(
        "{compared} mutated policy sets compared, {invalid} invalid for Cedar, {} disagreements",
        disagreements.len()
    );
    assert!(compared > 1000, "most mutants should parse");
    assert!(
        disagreements.is_empty(),
        "{}",
        disagreements
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Template links: slot values of undeclared types are errors, inapplicable links warnings.
#[test]
fn template_links_agree_with_cedar() {
    use std::collections::{BTreeMap, HashMap};

    use thuja_compiler::ast::SlotId;

    let templates = [
        r#"permit(principal == ?principal, action == Action::"read", resource in ?resource);"#,
        r#"permit(principal in ?principal, action == Action::"admin", resource == ?resource);"#,
        r#"permit(principal is User in ?principal, action, resource == ?resource);"#,
    ];
    let values = [
        (r#"User::"a""#, r#"Doc::"d""#),
        (r#"Admin::"a""#, r#"Doc::"d""#),
        (r#"Group::"g""#, r#"Folder::"f""#),
        (r#"Usr::"a""#, r#"Doc::"d""#),
        (r#"User::"a""#, r#"Dok::"d""#),
        (r#"Color::"red""#, r#"Color::"blue""#),
    ];
    let mut disagreements = Vec::new();
    for template in templates {
        let mut ours = thuja::input::policies_from_str("t", template).expect("template");
        let mut theirs = cedar_policy::PolicySet::from_str(template).expect("cedar template");
        for (i, (p, r)) in values.iter().enumerate() {
            let id = format!("link{i}");
            let p_uid = thuja::input::entity_uid_from_str("principal", p).expect("uid");
            let r_uid = thuja::input::entity_uid_from_str("resource", r).expect("uid");
            thuja_compiler::template::link(
                &mut ours,
                "policy0",
                &id,
                BTreeMap::from([(SlotId::Principal, p_uid), (SlotId::Resource, r_uid)]),
            )
            .expect("link");
            theirs
                .link(
                    cedar_policy::PolicyId::new("policy0"),
                    cedar_policy::PolicyId::new(&id),
                    HashMap::from([
                        (
                            cedar_policy::SlotId::principal(),
                            cedar_policy::EntityUid::from_str(p).expect("uid"),
                        ),
                        (
                            cedar_policy::SlotId::resource(),
                            cedar_policy::EntityUid::from_str(r).expect("uid"),
                        ),
                    ]),
                )
                .expect("cedar link");
        }
        let schema = thuja::input::schema_from_str("schema", SCHEMA).expect("schema");
        let result = validator::validate(&schema, &ours, ValidationOptions::default());
        let our_errors: Pairs = result
            .errors
            .iter()
            .map(|e| (e.policy_id.to_string(), e.kind.name().to_string()))
            .collect();
        let our_warnings: Pairs = result
            .warnings
            .iter()
            .map(|w| (w.policy_id.to_string(), w.kind.name().to_string()))
            .collect();
        let (cedar_schema, _) =
            cedar_policy::Schema::from_cedarschema_str(SCHEMA).expect("cedar schema");
        let cedar = cedar_policy::Validator::new(cedar_schema)
            .validate(&theirs, cedar_policy::ValidationMode::Strict);
        let their_errors: Pairs = cedar
            .validation_errors()
            .map(|e| (e.policy_id().to_string(), kebab_variant(&format!("{e:?}"))))
            .collect();
        let their_warnings = without_text_warnings(
            cedar
                .validation_warnings()
                .map(|w| (w.policy_id().to_string(), kebab_variant(&format!("{w:?}"))))
                .collect(),
        );
        assert!(
            our_errors.iter().any(|(id, _)| id == "link3"),
            "{our_errors:?}"
        );
        if our_errors != their_errors || our_warnings != their_warnings {
            disagreements.push(format!(
                "{template}\n    thuja {our_errors:?} {our_warnings:?}\n    cedar {their_errors:?} {their_warnings:?}"
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
