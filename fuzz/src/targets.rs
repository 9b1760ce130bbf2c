//! The bodies of the coverage-guided fuzz targets (the cargo-fuzz project in `fuzz/targets/`,
//! one `fuzz_target!` per function here), and of `tests/targets.rs`, which runs them on a seed
//! corpus so that CI executes them too.
//!
//! Each target takes arbitrary bytes and must not panic: a panic, a hang or a stack overflow is a
//! bug found, either in a reader (which must reject bad input with an error) or in a property
//! checked on what it read:
//! - printing parsed policies, expressions and schemas gives text that parses back to the same
//!   thing (policies and expressions: the same AST, spans aside; schemas: the same resolved
//!   schema);
//! - the VM answers every request exactly as the interpreter does (decision, reasons, errors with
//!   their spans);
//! - a template links with values for its slots, and the printed program listing, the validator
//!   and error rendering work on whatever was read.
//!
//! Inputs longer than [`MAX_INPUT`] bytes are ignored, to keep executions fast. Bytes that are not
//! UTF-8 are replaced (`U+FFFD`), so every input reaches the text readers.
//!
//! | target | reads |
//! |---|---|
//! | [`policy_text`] | a policy file |
//! | [`expression`] | one expression, alone and as a `when` condition |
//! | [`schema_cedar`] | a `.cedarschema` text |
//! | [`schema_json`] | a JSON schema |
//! | [`entities_json`] | an entities file, without and with a schema |
//! | [`request_json`] | a request file and a context, as the CLI reads them |
//! | [`differential`] | a seed for [`generate`](crate::generate), checked with [`check`](crate::check) |
//! | [`hostile`] | a recipe for long chains, deep nesting, huge literals and alias-heavy schemas ([`crate::hostile`]) |

// A target reports a bug by panicking: that is what libFuzzer catches.
#![allow(clippy::panic)]

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use thuja::input;
use thuja::{Authorizer, Entities, EntityUid, Evaluator, Request, Schema};
use thuja_compiler::ast::{
    ActionConstraint, Expr, ExprKind, Policy, PolicySet, ScopeConstraint, SlotId,
};
use thuja_compiler::parser::{parse_expr, parse_policy_set};
use thuja_compiler::schema::syntax::SchemaFile;
use thuja_compiler::schema::{json, parse, parse_schema, parse_schema_json, print, resolve};
use thuja_compiler::validator::{ValidationOptions, validate};
use thuja_compiler::{Diagnostic, Source, SourceErrors};
use thuja_runtime::EntityType;
use thuja_runtime::json::{
    context_from_json_str, entities_from_json_str, validate_request, value_from_json_str,
};
use thuja_runtime::schema::{RecordType, SchemaType};
use thuja_runtime::value::Record;

use crate::hostile::{self, Recipe};
use crate::{Coverage, Mode, check, generate, mode_of};

/// Longer inputs are ignored.
pub const MAX_INPUT: usize = 64 * 1024;

/// The fixed schema the data targets read with, and the schema-less targets validate against.
pub const SCHEMA: &str = r#"
namespace App {
  type Address = { street: String, zip?: Long, "odd key"?: Bool };
  entity Group in [Group] = { name: String };
  entity User in [Group] = {
    name: String,
    age?: Long,
    address?: Address,
    ip?: ipaddr,
    score?: decimal,
    born?: datetime,
    session?: duration,
    roles: Set<String>,
    manager?: User,
  } tags String;
  entity Doc in [Group] = { owner: User, public: Bool, readers: Set<User>, level?: Long };
  entity Color enum ["red", "green", "blue"];
  action read;
  action view in [read] appliesTo {
    principal: [User],
    resource: [Doc],
    context: {
      level: Long,
      ip?: ipaddr,
      when?: datetime,
      flags?: Set<Bool>,
      nested?: { a: String, b?: Set<Long> },
      who?: User,
      color?: Color,
    }
  };
  action edit in [read] appliesTo { principal: User, resource: [Doc, Group], context: {} };
}
action "global" appliesTo { principal: App::User, resource: App::Doc };
"#;

/// Policies the data targets authorize with: scopes, attributes, tags, `in`, extension calls and
/// errors.
pub const POLICIES: &str = r#"
permit(principal, action == App::Action::"view", resource)
when { resource.public || principal in resource.owner || resource.readers.contains(principal) };
permit(principal is App::User, action in App::Action::"read", resource is App::Doc in App::Group::"g")
when { context has level && context.level >= 3 && principal has age && principal.age > 17 };
forbid(principal, action, resource)
when { principal.hasTag("blocked") && principal.getTag("blocked") == "yes" };
permit(principal, action, resource)
when { context.ip.isInRange(ip("10.0.0.0/8")) && principal.score.lessThan(decimal("1.5")) };
forbid(principal == App::User::"mallory", action, resource)
unless { context has nested && context.nested.a like "ok*" };
permit(principal, action, resource)
when { principal.born < context.when && principal.roles.containsAny(["admin", "ops"]) };
@id("t1")
permit(principal == ?principal, action, resource in ?resource)
when { principal.name == "alice" };
"#;

/// Entities of the fixed schema.
pub const ENTITIES: &str = r#"[
  {"uid": {"type": "App::Group", "id": "g"}, "attrs": {"name": "g"}, "parents": []},
  {"uid": {"type": "App::Group", "id": "h"}, "attrs": {"name": "h"},
   "parents": [{"type": "App::Group", "id": "g"}]},
  {"uid": {"type": "App::User", "id": "alice"},
   "attrs": {"name": "alice", "age": 30, "roles": ["admin"], "ip": "10.1.2.3", "score": "1.25",
             "born": "1990-01-01", "address": {"street": "Main"},
             "manager": {"type": "App::User", "id": "bob"}},
   "parents": [{"type": "App::Group", "id": "h"}], "tags": {"blocked": "no"}},
  {"uid": {"type": "App::User", "id": "bob"},
   "attrs": {"name": "bob", "roles": [], "session": "1h30m"}, "parents": [],
   "tags": {"blocked": "yes"}},
  {"uid": {"type": "App::User", "id": "mallory"}, "attrs": {"name": "m", "roles": ["ops"]},
   "parents": []},
  {"uid": {"type": "App::Doc", "id": "d1"},
   "attrs": {"owner": {"type": "App::User", "id": "alice"}, "public": false,
             "readers": [{"type": "App::User", "id": "bob"}], "level": 2},
   "parents": [{"type": "App::Group", "id": "h"}]},
  {"uid": {"type": "App::Doc", "id": "d2"},
   "attrs": {"owner": {"__entity": {"type": "App::User", "id": "bob"}}, "public": true,
             "readers": []},
   "parents": []}
]"#;

/// A context for `App::Action::"view"` (and, being JSON, anything).
const CONTEXT: &str = r#"{"level": 4, "ip": "10.0.0.7", "when": "2024-05-01T00:00:00Z",
  "flags": [true], "nested": {"a": "okay", "b": [1, 2]}, "who": {"type": "App::User", "id": "bob"},
  "color": {"type": "App::Color", "id": "red"}}"#;

struct Fixture {
    schema: Schema,
    policies: PolicySet,
    entities: Entities,
    requests: Vec<Request>,
}

/// The fixed schema, policies, entities and requests, read once.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let schema = input::schema_from_str("fixture.cedarschema", SCHEMA)
            .unwrap_or_else(|e| panic!("the fixed schema: {}", e.render()));
        let mut policies = input::policies_from_str("fixture.cedar", POLICIES)
            .unwrap_or_else(|e| panic!("the fixed policies: {}", e.render()));
        link_templates(&mut policies);
        let entities = input::entities_from_str("fixture.json", ENTITIES, Some(&schema))
            .unwrap_or_else(|e| panic!("the fixed entities: {}", e.render()));
        let view = uid("App::Action", "view");
        let context = context_from_json_str(CONTEXT, Some((&schema, &view)))
            .unwrap_or_else(|e| panic!("the fixed context: {e}"));
        let mut requests = Vec::new();
        for (p, r) in [
            ("alice", "d1"),
            ("bob", "d1"),
            ("mallory", "d2"),
            ("nobody", "d3"),
        ] {
            requests.push(Request::new(
                uid("App::User", p),
                view.clone(),
                uid("App::Doc", r),
                context.clone(),
            ));
        }
        requests.push(Request::new(
            uid("App::User", "alice"),
            uid("App::Action", "edit"),
            uid("App::Group", "g"),
            Record::default(),
        ));
        Fixture {
            schema,
            policies,
            entities,
            requests,
        }
    })
}

fn uid(ty: &str, id: &str) -> EntityUid {
    EntityUid::new(EntityType::new_unchecked(ty), id)
}

/// The input as text, or `None` when it is too long.
fn text(data: &[u8]) -> Option<Cow<'_, str>> {
    (data.len() <= MAX_INPUT).then(|| String::from_utf8_lossy(data))
}

/// At most the first 2,000 bytes of a text, for messages.
fn clip(text: &str) -> String {
    let mut end = text.len().min(2000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if end < text.len() {
        format!("{}... ({} bytes)", &text[..end], text.len())
    } else {
        text.to_string()
    }
}

/// Whether parsing failed only because the text nests too deeply. The printer parenthesises
/// compound operands (arithmetic chains excepted, which print flat), so an expression the parser
/// reads without nesting, such as a long run of unary operators, may print nested past the
/// parser's limit.
fn too_deep(errors: &SourceErrors) -> bool {
    errors
        .errors
        .iter()
        .all(|d| d.message.contains("nested too deeply"))
}

/// Renders a parse error (the renderer reads its spans against the source).
fn render(errors: &SourceErrors) {
    let _ = errors.render();
    let _ = errors.to_string();
}

// ---------------------------------------------------------------------------------------------
// Policies and expressions
// ---------------------------------------------------------------------------------------------

/// A policy file: parse, print and parse back to the same policies, link every template, list
/// the compiled program, validate against the fixed schema, and answer the fixed requests with
/// the interpreter and the VM (which must agree).
pub fn policy_text(data: &[u8]) {
    let Some(text) = text(data) else {
        return;
    };
    check_policy_text(&text);
}

/// The checks of [`policy_text`] on a text of any length.
fn check_policy_text(text: &str) {
    let set = match parse_policy_set(Source::new("fuzz.cedar", text)) {
        Ok(set) => set,
        Err(e) => return render(&e),
    };
    let printed = print_policies(&set);
    let again = match parse_policy_set(Source::new("printed.cedar", printed.as_str())) {
        Ok(again) => again,
        Err(e) if too_deep(&e) => return,
        Err(e) => panic!(
            "printed policies do not parse:\n{}\n--- input:\n{}\n--- printed:\n{}",
            e.render(),
            clip(text),
            clip(&printed)
        ),
    };
    if let Err(why) = same_policies(&set, &again) {
        panic!(
            "printed policies parse differently: {why}\n--- input:\n{}\n--- printed:\n{}",
            clip(text),
            clip(&printed)
        );
    }
    // Printing is stable: the printed policies print the same.
    assert_eq!(print_policies(&again), printed, "printing is not stable");

    let mut linked = set;
    link_templates(&mut linked);
    let fx = fixture();
    let _ = validate(&fx.schema, &linked, ValidationOptions::default());
    let _ = validate(&fx.schema, &linked, ValidationOptions { level: Some(1) });
    same_answers(&linked, &fx.entities, &fx.requests);
    let mut renamed = linked;
    if input::rename_from_id_annotations(&mut renamed).is_ok() {
        same_answers(&renamed, &fx.entities, &fx.requests[..1]);
    }
}

/// One expression: parse, print and parse back to the same AST; then as the condition of a
/// policy (which must parse when the expression has no slot), answered by both engines.
pub fn expression(data: &[u8]) {
    let Some(text) = text(data) else {
        return;
    };
    let expr = match parse_expr(Source::new("fuzz.expr", &*text)) {
        Ok(e) => e,
        Err(e) => return render(&e),
    };
    let printed = expr.to_string();
    let again = match parse_expr(Source::new("printed.expr", printed.as_str())) {
        Ok(again) => again,
        Err(e) if too_deep(&e) => return,
        Err(e) => panic!(
            "a printed expression does not parse:\n{}\n--- input:\n{}\n--- printed:\n{}",
            e.render(),
            clip(&text),
            clip(&printed)
        ),
    };
    if let Err(why) = same_expr(&expr, &again) {
        panic!(
            "a printed expression parses differently: {why}\n--- input:\n{}\n--- printed:\n{}",
            clip(&text),
            clip(&printed)
        );
    }
    if expr.has_slot() {
        return;
    }
    let policy = format!("permit(principal, action, resource) when {{\n{text}\n}};");
    let set = parse_policy_set(Source::new("wrapped.cedar", policy.as_str())).unwrap_or_else(|e| {
        panic!(
            "an expression does not parse as a condition:\n{}\n--- input:\n{}",
            e.render(),
            clip(&text)
        )
    });
    let fx = fixture();
    same_answers(&set, &fx.entities, &fx.requests);
}

/// The policies (and templates) as text, one after the other; links are not printed.
fn print_policies(set: &PolicySet) -> String {
    let mut out = String::new();
    for p in set.policies() {
        out.push_str(&p.to_string());
        out.push('\n');
    }
    out
}

/// Links every template with values for its slots, through the API and through the CLI's links
/// JSON.
fn link_templates(set: &mut PolicySet) {
    let templates: Vec<(String, Vec<SlotId>)> = set
        .policies()
        .iter()
        .filter(|p| p.is_template())
        .map(|p| (p.id.to_string(), p.slots()))
        .collect();
    for (n, (id, slots)) in templates.iter().enumerate() {
        let mut values = BTreeMap::new();
        let mut args = serde_json::Map::new();
        for slot in slots {
            let (value, text) = match slot {
                SlotId::Principal => (uid("App::User", "alice"), r#"App::User::"bob""#),
                SlotId::Resource => (uid("App::Group", "g"), r#"App::Doc::"d1""#),
            };
            values.insert(*slot, value);
            args.insert(slot.name().to_string(), text.into());
        }
        if let Err(e) = thuja_compiler::template::link(set, id, &format!("link{n}"), values) {
            panic!("template `{id}` does not link with values for its slots {slots:?}: {e}");
        }
        let links =
            serde_json::json!([{ "template_id": id, "link_id": format!("json{n}"), "args": args }]);
        if let Err(e) = input::links_from_str("links.json", &links.to_string(), set) {
            panic!(
                "template `{id}` does not link from JSON {links}: {}",
                e.render()
            );
        }
    }
    // Linking a static policy, or under a taken id, is an error.
    if let Some(p) = set.policies().iter().find(|p| !p.is_template()) {
        let id = p.id.to_string();
        assert!(thuja_compiler::template::link(set, &id, "static", BTreeMap::new()).is_err());
    }
    if let Some((id, _)) = templates.first() {
        assert!(thuja_compiler::template::link(set, id, id, BTreeMap::new()).is_err());
    }
}

/// Answers `requests` with the interpreter, with the VM (compiled once, its listing printed)
/// and with the JIT (the same program as native code), each also bound to the entities: the
/// responses must be equal.
fn same_answers(set: &PolicySet, entities: &Entities, requests: &[Request]) {
    let interp = Authorizer::with_engine(Evaluator::Interp);
    let vm = Authorizer::with_engine(Evaluator::Vm);
    let jit = Authorizer::with_engine(Evaluator::Jit);
    let compiled = vm.compile(set);
    let _ = compiled.program().to_string();
    let bound = vm.bind(&compiled, entities);
    for request in requests {
        let expected = interp.is_authorized(request, set, entities);
        let runs = [
            (
                "VM",
                vm.is_authorized_compiled(request, &compiled, entities),
            ),
            (
                "JIT",
                jit.is_authorized_compiled(request, &compiled, entities),
            ),
            ("bound VM", vm.is_authorized_bound(request, &bound)),
            ("bound JIT", jit.is_authorized_bound(request, &bound)),
        ];
        for (engine, got) in runs {
            assert_eq!(
                expected,
                got,
                "the interpreter (left) and the {engine} (right) differ on {request:?} with \
                 policies\n{}",
                print_policies(set)
            );
        }
    }
}

/// Whether two policy sets hold the same policies, spans and sources aside.
fn same_policies(a: &PolicySet, b: &PolicySet) -> Result<(), String> {
    if a.policies().len() != b.policies().len() {
        return Err(format!(
            "{} policies, then {}",
            a.policies().len(),
            b.policies().len()
        ));
    }
    for (p, q) in a.policies().iter().zip(b.policies()) {
        same_policy(p, q).map_err(|why| format!("policy `{}`: {why}", p.id))?;
    }
    Ok(())
}

fn same_policy(p: &Policy, q: &Policy) -> Result<(), String> {
    let annotations = |p: &Policy| -> Vec<(String, String)> {
        p.annotations
            .iter()
            .map(|a| (a.key.to_string(), a.value.to_string()))
            .collect()
    };
    let scope = |c: &ScopeConstraint| format!("{c:?}");
    let action = |c: &ActionConstraint| format!("{c:?}");
    if p.id != q.id {
        return Err(format!("id {} then {}", p.id, q.id));
    }
    if annotations(p) != annotations(q) {
        return Err(format!(
            "annotations {:?} then {:?}",
            annotations(p),
            annotations(q)
        ));
    }
    if p.effect != q.effect
        || p.principal != q.principal
        || p.action != q.action
        || p.resource != q.resource
    {
        return Err(format!(
            "scope {:?} {} {} {} then {:?} {} {} {}",
            p.effect,
            scope(&p.principal),
            action(&p.action),
            scope(&p.resource),
            q.effect,
            scope(&q.principal),
            action(&q.action),
            scope(&q.resource)
        ));
    }
    if p.conditions.len() != q.conditions.len() {
        return Err(format!(
            "{} conditions then {}",
            p.conditions.len(),
            q.conditions.len()
        ));
    }
    for (c, d) in p.conditions.iter().zip(&q.conditions) {
        if c.kind != d.kind {
            return Err(format!("condition {:?} then {:?}", c.kind, d.kind));
        }
        same_expr(&c.body, &d.body)?;
    }
    Ok(())
}

/// Whether two expressions are the same tree, spans aside (compared without recursion, so deep
/// expressions do not need a deep stack here).
fn same_expr(a: &Expr, b: &Expr) -> Result<(), String> {
    let mut stack = vec![(a, b)];
    while let Some((a, b)) = stack.pop() {
        let ca = a.children();
        let cb = b.children();
        if !same_node(&a.kind, &b.kind) || ca.len() != cb.len() {
            return Err(format!("`{a}` then `{b}`"));
        }
        stack.extend(ca.into_iter().zip(cb));
    }
    Ok(())
}

/// Whether two expression nodes are the same apart from their subexpressions.
fn same_node(a: &ExprKind, b: &ExprKind) -> bool {
    use ExprKind as K;
    match (a, b) {
        (K::Lit(x), K::Lit(y)) => x == y,
        (K::Var(x), K::Var(y)) => x == y,
        (K::Slot(x), K::Slot(y)) => x == y,
        (K::If { .. }, K::If { .. })
        | (K::And(..), K::And(..))
        | (K::Or(..), K::Or(..))
        | (K::Set(_), K::Set(_)) => true,
        (K::Unary(x, _), K::Unary(y, _)) => x == y,
        (K::Binary(x, _, _), K::Binary(y, _, _)) => x == y,
        (K::ExtCall { func: x, .. }, K::ExtCall { func: y, .. }) => x == y,
        (K::GetAttr { attr: x, .. }, K::GetAttr { attr: y, .. }) => x == y,
        (K::HasAttr { attrs: x, .. }, K::HasAttr { attrs: y, .. }) => x == y,
        (K::Like { pattern: x, .. }, K::Like { pattern: y, .. }) => x == y,
        (
            K::Is {
                entity_type: x,
                in_expr: i,
                ..
            },
            K::Is {
                entity_type: y,
                in_expr: j,
                ..
            },
        ) => x == y && i.is_some() == j.is_some(),
        (K::Record(x), K::Record(y)) => x.iter().map(|(k, _)| k).eq(y.iter().map(|(k, _)| k)),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------

/// Parses (with `parse_file`) and resolves a schema, rendering the errors of one that does not;
/// `parse_and_resolve`, the public function doing both, must agree.
fn read_schema(
    source: Source,
    parse_file: fn(&str) -> Result<SchemaFile, Diagnostic>,
    parse_and_resolve: fn(Source) -> Result<Schema, SourceErrors>,
) -> Option<(SchemaFile, Schema)> {
    let file = match parse_file(&source.text) {
        Ok(file) => file,
        Err(d) => {
            render(&SourceErrors::single(source, d));
            return None;
        }
    };
    let schema = match resolve::resolve(&file) {
        Ok(schema) => schema,
        Err(ds) => {
            assert!(!ds.is_empty(), "resolution failed without an error");
            render(&SourceErrors::new(source, ds));
            return None;
        }
    };
    match parse_and_resolve(source) {
        Ok(s) => assert!(
            same_schema(&s, &schema),
            "parsing and resolving at once resolves differently"
        ),
        Err(e) => panic!(
            "parsing and resolving at once rejects a schema that resolves: {}",
            e.render()
        ),
    }
    Some((file, schema))
}

/// A `.cedarschema` text: parse and resolve (as `parse_schema` does); the tree written as JSON
/// resolves to the same schema, and printed as text to the same schema (up to the actions that
/// apply to no request); then the schema is used.
pub fn schema_cedar(data: &[u8]) {
    let Some(text) = text(data) else {
        return;
    };
    let Some((file, schema)) = read_schema(
        Source::new("fuzz.cedarschema", &*text),
        parse::parse_schema_file,
        parse_schema,
    ) else {
        return;
    };
    schema_trips_through_json(&file, &schema, &text);
    match print::to_cedarschema(&file) {
        Ok(printed) => text_resolves_same(&printed, &schema, &text),
        Err(d) => panic!(
            "a text schema does not print: {}\n--- input:\n{}",
            d.message,
            clip(&text)
        ),
    }
    use_schema(&schema);
}

/// A JSON schema: parse and resolve; written back as JSON it resolves to the same schema, and
/// printed as text (when the text format can say it) to the same schema up to the actions that
/// apply to no request; then the schema is used.
pub fn schema_json(data: &[u8]) {
    let Some(text) = text(data) else {
        return;
    };
    let Some((file, schema)) = read_schema(
        Source::new("fuzz.json", &*text),
        json::parse_json_schema_file,
        parse_schema_json,
    ) else {
        return;
    };
    schema_trips_through_json(&file, &schema, &text);
    if let Ok(printed) = print::to_cedarschema(&file) {
        text_resolves_same(&printed, &schema, &text);
    }
    use_schema(&schema);
}

fn schema_trips_through_json(
    file: &thuja_compiler::schema::syntax::SchemaFile,
    schema: &Schema,
    input: &str,
) {
    let written = json::to_json_string(file);
    match parse_schema_json(Source::new("written.json", written.as_str())) {
        Ok(s) => assert!(
            same_schema(&s, schema),
            "the schema written as JSON resolves differently\n--- input:\n{}\n--- JSON:\n{}",
            clip(input),
            clip(&written)
        ),
        Err(e) => panic!(
            "the schema written as JSON is rejected: {}\n--- input:\n{}",
            e.render(),
            clip(input)
        ),
    }
}

fn text_resolves_same(printed: &str, schema: &Schema, input: &str) {
    match parse_schema(Source::new("printed.cedarschema", printed)) {
        Ok(s) => assert!(
            same_schema(&usable(s), &usable(schema.clone())),
            "the printed schema resolves differently\n--- input:\n{}\n--- printed:\n{}",
            clip(input),
            clip(printed)
        ),
        Err(e) => panic!(
            "the printed schema is rejected: {}\n--- input:\n{}\n--- printed:\n{}",
            e.render(),
            clip(input),
            clip(printed)
        ),
    }
}

/// Whether two resolved schemas are the same. Their types are compared as the DAGs they are:
/// a pair of records found equal is not compared again, so schemas whose common types share
/// parts (and would be exponentially large written out) compare in time linear in their size.
fn same_schema(a: &Schema, b: &Schema) -> bool {
    let mut same = SameTypes::default();
    a.entity_types.len() == b.entity_types.len()
        && a.actions.len() == b.actions.len()
        && a.entity_types
            .iter()
            .zip(&b.entity_types)
            .all(|((ka, x), (kb, y))| {
                ka == kb
                    && x.name == y.name
                    && x.member_of == y.member_of
                    && x.enum_ids == y.enum_ids
                    && same.records(&x.attrs, &y.attrs)
                    && match (&x.tags, &y.tags) {
                        (Some(s), Some(t)) => same.types(s, t),
                        (None, None) => true,
                        _ => false,
                    }
            })
        && a.actions.iter().zip(&b.actions).all(|((ka, x), (kb, y))| {
            ka == kb
                && x.uid == y.uid
                && x.member_of == y.member_of
                && x.principals == y.principals
                && x.resources == y.resources
                && same.records(&x.context, &y.context)
        })
}

/// Pairs of records (by address) already found equal.
#[derive(Default)]
struct SameTypes(std::collections::HashSet<(usize, usize)>);

impl SameTypes {
    fn types(&mut self, a: &SchemaType, b: &SchemaType) -> bool {
        match (a, b) {
            (SchemaType::Set(x), SchemaType::Set(y)) => {
                stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.types(x, y))
            }
            (SchemaType::Record(x), SchemaType::Record(y)) => self.records(x, y),
            (SchemaType::Set(_) | SchemaType::Record(_), _)
            | (_, SchemaType::Set(_) | SchemaType::Record(_)) => false,
            _ => a == b,
        }
    }

    fn records(&mut self, a: &Arc<RecordType>, b: &Arc<RecordType>) -> bool {
        if Arc::ptr_eq(a, b) {
            return true;
        }
        let key = (Arc::as_ptr(a) as usize, Arc::as_ptr(b) as usize);
        if self.0.contains(&key) {
            return true;
        }
        let same = a.attrs.len() == b.attrs.len()
            && a.attrs.iter().zip(&b.attrs).all(|((ka, x), (kb, y))| {
                ka == kb
                    && x.required == y.required
                    && stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.types(&x.ty, &y.ty))
            });
        if same {
            self.0.insert(key);
        }
        same
    }
}

/// The schema with the `appliesTo` of actions that apply to no request cleared (the text format
/// cannot write it, so printing drops it).
fn usable(mut schema: Schema) -> Schema {
    for action in schema.actions.values_mut() {
        if action.principals.is_empty() || action.resources.is_empty() {
            action.principals.clear();
            action.resources.clear();
            action.context = Default::default();
        }
    }
    schema
}

/// Uses a schema as the CLI would: validate the fixed policies, read the fixed entities and a
/// context with it, and check a request per action.
fn use_schema(schema: &Schema) {
    let fx = fixture();
    let _ = validate(schema, &fx.policies, ValidationOptions::default());
    // A resolved schema's action hierarchy is acyclic, and closes.
    if let Err(e) = schema.action_entities() {
        panic!("the action hierarchy does not close: {e}");
    }
    let _ = entities_from_json_str(ENTITIES, Some(schema));
    for action in schema.actions.values().take(8) {
        let _ = context_from_json_str(CONTEXT, Some((schema, &action.uid)));
        let _ = context_from_json_str("{}", Some((schema, &action.uid)));
        let principal = action.principals.iter().next();
        let resource = action.resources.iter().next();
        if let (Some(p), Some(r)) = (principal, resource) {
            let request = Request::new(
                EntityUid::new(p.clone(), "p"),
                action.uid.clone(),
                EntityUid::new(r.clone(), "r"),
                Record::default(),
            );
            let _ = validate_request(schema, &request);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile inputs
// ---------------------------------------------------------------------------------------------

/// Hostile policies or schemas (issue #23), made from the bytes by [`crate::hostile`]: long
/// chains of one operator, deep nesting, huge literals, backtracking `like` patterns; common
/// types aliasing and doubling one another, sometimes cyclic. Whatever their size (not limited
/// to [`MAX_INPUT`]), reading ends in an answer or a located error: policies go through every
/// check of [`policy_text`] (printing back, validation, the interpreter, VM and JIT agreeing),
/// schemas through those of [`schema_cedar`], then validate policies reading their types.
pub fn hostile(data: &[u8]) {
    let mut recipe = Recipe::new(data);
    if recipe_says_policies(data) {
        check_policy_text(&hostile::policies(&mut recipe));
        return;
    }
    let text = hostile::schema(&mut recipe);
    let actions = hostile::actions(&mut recipe);
    let text = match &actions {
        Some(actions) => hostile::with_actions(&text, actions),
        None => text,
    };
    let Some((file, schema)) = read_schema(
        Source::new("hostile.cedarschema", text.as_str()),
        parse::parse_schema_file,
        parse_schema,
    ) else {
        return;
    };
    schema_trips_through_json(&file, &schema, &text);
    if let Ok(printed) = print::to_cedarschema(&file) {
        text_resolves_same(&printed, &schema, &text);
    }
    use_schema(&schema);
    if let Some(actions) = &actions {
        groups_nest(&schema, actions);
    }
    let policies = hostile::schema_policies(&mut recipe);
    let set = parse_policy_set(Source::new("schema.cedar", policies.as_str()))
        .unwrap_or_else(|e| panic!("the schema's policies do not parse: {}", e.render()));
    let _ = validate(&schema, &set, ValidationOptions::default());
    let types = thuja_compiler::validator::expression_types(&schema, &set);
    let _ = thuja_compiler::program::lower_typed(&set, Some(&types));
}

/// The files a `hostile` recipe makes, by name (`hostile.cedar`, or `hostile.cedarschema` and
/// `schema.cedar`), so that a slow or failing recipe can be tried with the command line.
pub fn hostile_inputs(data: &[u8]) -> Vec<(&'static str, String)> {
    let mut recipe = Recipe::new(data);
    if recipe_says_policies(data) {
        return vec![("hostile.cedar", hostile::policies(&mut recipe))];
    }
    let schema = hostile::schema(&mut recipe);
    let schema = match hostile::actions(&mut recipe) {
        Some(actions) => hostile::with_actions(&schema, &actions),
        None => schema,
    };
    let policies = hostile::schema_policies(&mut recipe);
    vec![("hostile.cedarschema", schema), ("schema.cedar", policies)]
}

/// The action groups of a [`hostile::with_actions`] schema, closed: group `g<j>` is in `g<i>`
/// exactly when `j >= i`, and `view` in every group; checked at the ends and the middle.
fn groups_nest(schema: &Schema, actions: &hostile::Actions) {
    let store = schema
        .action_store()
        .unwrap_or_else(|e| panic!("the action hierarchy does not close: {e}"));
    let n = actions.groups;
    let group = |i: usize| EntityUid::new(EntityType::new_unchecked("Action"), format!("g{i}"));
    let view = EntityUid::new(EntityType::new_unchecked("Action"), "view");
    let sampled: Vec<usize> = [0, 1, n / 2, n.saturating_sub(2), n.saturating_sub(1)]
        .into_iter()
        .filter(|&i| i < n)
        .collect();
    for &j in &sampled {
        let member = store.get(&group(j)).expect("every group is an action");
        for &i in &sampled {
            let is_in = i == j || member.is_descendant_of(&group(i));
            assert_eq!(is_in, j >= i, "g{j} in g{i}, {actions:?}");
        }
        let view = store.get(&view).expect("view is an action");
        assert!(
            view.is_descendant_of(&group(j)),
            "view in g{j}, {actions:?}"
        );
    }
}

/// The first byte chooses: mostly policies.
fn recipe_says_policies(data: &[u8]) -> bool {
    data.first().is_none_or(|b| b % 3 != 2)
}

// ---------------------------------------------------------------------------------------------
// JSON data
// ---------------------------------------------------------------------------------------------

/// An entities file, read without a schema and with the fixed one (errors rendered with their
/// location); what is read answers requests for its entities, with both engines agreeing. The
/// text is also read as one JSON value.
pub fn entities_json(data: &[u8]) {
    let Some(text) = text(data) else {
        return;
    };
    let fx = fixture();
    let _ = value_from_json_str(&text, None);
    for schema in [None, Some(&fx.schema)] {
        match input::entities_from_str("fuzz.json", &text, schema) {
            Ok(entities) => {
                let mut requests = fx.requests.clone();
                let uids: Vec<EntityUid> =
                    entities.iter().take(3).map(|e| e.uid().clone()).collect();
                for p in &uids {
                    for r in &uids {
                        requests.push(Request::new(
                            p.clone(),
                            uid("App::Action", "view"),
                            r.clone(),
                            fx.requests[0].context().clone(),
                        ));
                    }
                }
                same_answers(&fx.policies, &entities, &requests);
            }
            Err(e) => {
                let _ = e.render();
            }
        }
    }
}

/// A request file as `authorize --request-json` reads it, without a schema, with the fixed one,
/// and validated against it; a context file for two actions; and the first three lines as entity
/// uids with the rest as context (`authorize --principal ... --context`). Requests read are
/// answered by both engines, which must agree.
pub fn request_json(data: &[u8]) {
    let Some(text) = text(data) else {
        return;
    };
    let fx = fixture();
    let schema = Some(&fx.schema);
    let answer = |request: Request| {
        same_answers(&fx.policies, &fx.entities, std::slice::from_ref(&request));
    };
    let readings = [
        (input::RequestSchema::None, None),
        (input::RequestSchema::Typed(&fx.schema), None),
        (input::RequestSchema::Validated(&fx.schema), schema),
    ];
    for (reading, validated) in readings {
        match input::request_json_from_str("request.json", &text, reading) {
            Ok(request) => {
                if let Some(s) = validated {
                    assert!(
                        validate_request(s, &request).is_ok(),
                        "a validated request does not validate"
                    );
                }
                answer(request);
            }
            Err(e) => {
                let _ = e.render();
            }
        }
    }
    for action in [uid("App::Action", "view"), uid("App::Action", "edit")] {
        for typed in [None, schema] {
            if let Err(e) = input::context_from_str("context.json", &text, typed, &action) {
                let _ = e.render();
            }
        }
    }
    let mut lines = text.splitn(4, '\n');
    if let (Some(p), Some(a), Some(r)) = (lines.next(), lines.next(), lines.next()) {
        let context = lines.next().map(|c| ("context.json", c));
        match input::request_from_parts(
            p,
            a,
            r,
            context,
            input::RequestSchema::Validated(&fx.schema),
        ) {
            Ok(request) => answer(request),
            Err(e) => {
                let _ = e.render();
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Differential
// ---------------------------------------------------------------------------------------------

/// The first 8 bytes (little-endian, zero-padded) are a seed for [`generate`]; a ninth byte, when
/// present, picks the mode (odd: schema-less), otherwise [`mode_of`] does. The case is run
/// through [`check`] (interpreter, VM and `cedar-policy`, and the properties): any mismatch
/// panics.
pub fn differential(data: &[u8]) {
    let mut seed = [0u8; 8];
    let n = data.len().min(8);
    seed[..n].copy_from_slice(&data[..n]);
    let seed = u64::from_le_bytes(seed);
    let mode = match data.get(8) {
        Some(b) if b & 1 == 1 => Mode::Loose,
        Some(_) => Mode::Schema,
        None => mode_of(seed),
    };
    let case = generate(seed, mode, &mut Coverage::default());
    let checked = check(&case);
    if let Some(first) = checked.mismatches.first() {
        panic!(
            "seed {seed} ({mode:?}): {} mismatches, the first {}: {}\nreproduce with: drt --seed {seed} --cases 1 (mode {mode:?})",
            checked.mismatches.len(),
            first.kind,
            first.detail
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_reads_and_answers() {
        let fx = fixture();
        assert_eq!(fx.requests.len(), 5);
        assert!(!fx.entities.is_empty());
        assert!(!fx.policies.links().is_empty());
        let interp = Authorizer::with_engine(Evaluator::Interp);
        let decisions: Vec<_> = fx
            .requests
            .iter()
            .map(|r| interp.is_authorized(r, &fx.policies, &fx.entities).decision)
            .collect();
        assert!(decisions.contains(&thuja::Decision::Allow), "{decisions:?}");
        assert!(decisions.contains(&thuja::Decision::Deny), "{decisions:?}");
    }

    #[test]
    fn fixed_policies_validate_against_the_fixed_schema() {
        let fx = fixture();
        let result = validate(&fx.schema, &fx.policies, ValidationOptions::default());
        // Not required to pass (some policies err on purpose), but the validator runs.
        let _ = result;
    }
}
