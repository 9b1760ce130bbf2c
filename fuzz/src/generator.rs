//! Consistent random Cedar inputs from a seed.
//!
//! [`generate`] draws a schema model first (entity types with acyclic `in` hierarchies, attributes
//! of every type, optional attributes, tags, enum types, actions with groups and `appliesTo`,
//! contexts) and then everything else from it: entities that conform to the schema, policies that
//! use its names and attributes and every construct of the language, and requests that fit it.
//!
//! Promises:
//! - the same seed and [`Mode`] give the same [`Case`], byte for byte;
//! - no seed panics;
//! - in [`Mode::Schema`] the entities and requests conform to the schema (both engines accept
//!   them with `validateRequest`), while a policy is sometimes deliberately ill-typed or
//!   unguarded (so that validator verdicts and evaluation errors both get tested);
//! - in [`Mode::Loose`] there is no schema, requests ignore `appliesTo`, and policies use
//!   names that exist nowhere, so that error paths get tested;
//! - every construct generated is counted in the [`Coverage`] passed in.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value as Json, json};

/// Which kind of case to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A schema, and entities and requests conforming to it.
    Schema,
    /// No schema: requests of any types, policies naming things that do not exist.
    Loose,
}

/// One request, as the conformance files give it (entity uids and context as JSON).
#[derive(Clone, Debug, PartialEq)]
pub struct RequestSpec {
    pub principal: Json,
    pub action: Json,
    pub resource: Json,
    pub context: Json,
}

/// A generated test case: the texts and JSON both engines read.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// The seed it was drawn from.
    pub seed: u64,
    pub mode: Mode,
    /// The `.cedarschema` text. In [`Mode::Loose`] it describes the entities but is not given
    /// to the engines (a reproduction file still needs one).
    pub schema: String,
    /// The policies, in order (ids `policy0`, `policy1`, ...).
    pub policies: Vec<String>,
    /// The entities, each one JSON object of the entities file.
    pub entities: Vec<Json>,
    pub requests: Vec<RequestSpec>,
}

impl Case {
    /// The policy file: every policy, in order.
    pub fn policy_text(&self) -> String {
        self.policies.join("\n")
    }

    /// The entities file.
    pub fn entities_json(&self) -> Json {
        Json::Array(self.entities.clone())
    }

    /// Whether the engines are given the schema.
    pub fn uses_schema(&self) -> bool {
        self.mode == Mode::Schema
    }
}

/// Every kind of construct the generator can produce; [`Coverage`] counts each.
pub const CONSTRUCTS: &[&str] = &[
    "scope-principal-any",
    "scope-principal-eq",
    "scope-principal-in",
    "scope-principal-is",
    "scope-principal-is-in",
    "scope-action-any",
    "scope-action-eq",
    "scope-action-in",
    "scope-action-in-list",
    "scope-resource-any",
    "scope-resource-eq",
    "scope-resource-in",
    "scope-resource-is",
    "scope-resource-is-in",
    "permit",
    "forbid",
    "when",
    "unless",
    "annotation",
    "and",
    "or",
    "not",
    "if-then-else",
    "eq",
    "neq",
    "lt",
    "le",
    "gt",
    "ge",
    "add",
    "sub",
    "mul",
    "neg",
    "in-entity",
    "in-set",
    "has",
    "has-path",
    "has-quoted",
    "like",
    "like-escaped-star",
    "is",
    "is-in",
    "attr-dot",
    "attr-index",
    "set-literal",
    "empty-set",
    "contains",
    "containsAll",
    "containsAny",
    "isEmpty",
    "record-literal",
    "getTag",
    "hasTag",
    "ip",
    "decimal",
    "datetime",
    "duration",
    "ip-method",
    "isInRange",
    "decimal-method",
    "datetime-method",
    "duration-method",
    "ext-compare",
    "entity-literal",
    "missing-entity",
    "enum-entity",
    "context",
    "err-overflow",
    "err-unguarded-optional",
    "err-missing-tag",
    "err-wrong-type",
    "err-bad-extension",
    "err-unknown-attr",
    "long-extreme",
    "unknown-entity-type",
    "invalid-request",
    "invalid-entities",
    "mixed-set",
    "if-mixed-branches",
    "ext-edge",
    "bad-enum-id",
    "schema-style",
    "scope-action-odd",
    "loose-env",
    "template-slot",
    "json-edge",
    "action-entities",
    "escaped-id",
    "deep-nesting",
];

/// How often each construct was generated.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    pub counts: BTreeMap<&'static str, u64>,
}

impl Coverage {
    fn hit(&mut self, what: &'static str) {
        debug_assert!(CONSTRUCTS.contains(&what), "unlisted construct {what}");
        *self.counts.entry(what).or_default() += 1;
    }

    /// The constructs never generated so far.
    pub fn missing(&self) -> Vec<&'static str> {
        CONSTRUCTS
            .iter()
            .copied()
            .filter(|c| !self.counts.contains_key(c))
            .collect()
    }

    pub fn merge(&mut self, other: &Coverage) {
        for (k, v) in &other.counts {
            *self.counts.entry(k).or_default() += v;
        }
    }
}

/// Draws the case of `seed` in `mode`, counting its constructs in `coverage`.
pub fn generate(seed: u64, mode: Mode, coverage: &mut Coverage) -> Case {
    let mut g = Gen {
        rng: StdRng::seed_from_u64(seed),
        cov: coverage,
        mode,
        model: Model::default(),
    };
    g.model = g.model();
    let schema = g.schema_text();
    let entities = g.entities();
    let mut policies = Vec::new();
    for _ in 0..g.rng.random_range(1..=5) {
        let p = g.policy();
        policies.push(p);
    }
    let mut requests = Vec::new();
    for _ in 0..g.rng.random_range(2..=6) {
        let r = g.request();
        requests.push(r);
    }
    Case {
        seed,
        mode,
        schema,
        policies,
        entities,
        requests,
    }
}

/// The types the schema model uses.
#[derive(Clone, Debug, PartialEq)]
enum Ty {
    Bool,
    Long,
    Str,
    Set(Box<Ty>),
    Rec(Vec<Attr>),
    /// An entity of the model's type with this index.
    Ent(usize),
    Ext(Ext),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ext {
    Ip,
    Dec,
    Dt,
    Dur,
}

#[derive(Clone, Debug, PartialEq)]
struct Attr {
    name: String,
    ty: Ty,
    optional: bool,
}

#[derive(Clone, Debug, Default)]
struct EntityTypeDef {
    /// The name inside the namespace.
    name: String,
    parents: Vec<usize>,
    attrs: Vec<Attr>,
    tags: Option<Ty>,
    /// Some for an enum type: its ids.
    enum_ids: Option<Vec<String>>,
    /// The ids of this type's entities in the entities file.
    ids: Vec<String>,
}

#[derive(Clone, Debug, Default)]
struct ActionDef {
    name: String,
    /// Indexes of its groups (actions with no `appliesTo`).
    groups: Vec<usize>,
    /// `None` for a group.
    applies: Option<(Vec<usize>, Vec<usize>, Vec<Attr>)>,
}

#[derive(Clone, Debug, Default)]
struct Model {
    namespace: Option<String>,
    types: Vec<EntityTypeDef>,
    actions: Vec<ActionDef>,
}

impl Model {
    fn qualify(&self, name: &str) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}::{name}"),
            None => name.to_string(),
        }
    }

    fn type_name(&self, t: usize) -> String {
        self.qualify(&self.types[t].name)
    }

    fn action_type(&self) -> String {
        self.qualify("Action")
    }

    fn action_uid(&self, a: usize) -> String {
        format!("{}::\"{}\"", self.action_type(), self.actions[a].name)
    }

    fn concrete_actions(&self) -> Vec<usize> {
        (0..self.actions.len())
            .filter(|&a| self.actions[a].applies.is_some())
            .collect()
    }

    /// Non-enum types with at least one entity.
    fn ordinary_types(&self) -> Vec<usize> {
        (0..self.types.len())
            .filter(|&t| self.types[t].enum_ids.is_none())
            .collect()
    }
}

/// Variables a policy's conditions may use, with their types when known.
#[derive(Clone, Debug, Default)]
struct Env {
    principal: Option<usize>,
    resource: Option<usize>,
    context: Option<Vec<Attr>>,
}

/// How the schema text is written (all styles mean the same schema).
struct SchemaStyle {
    cedar_prefix: bool,
    common_types: bool,
    qualified_entities: bool,
    /// Common-type declarations made so far.
    declarations: Vec<String>,
}

/// A path to a value (`principal.a.b`) with the `has` tests that make it safe.
#[derive(Clone, Debug)]
struct Path {
    text: String,
    ty: Ty,
    guards: Vec<String>,
    /// The entity-typed base whose tags this path may read (its text and tag type).
    tags: Option<Ty>,
}

struct Gen<'a> {
    rng: StdRng,
    cov: &'a mut Coverage,
    mode: Mode,
    model: Model,
}

/// String values; the ones with a backslash are written with Cedar escapes in policies.
const STRINGS: &[&str] = &[
    "",
    "a",
    "ab",
    "abc",
    "a*b",
    "x y",
    "bc",
    "A",
    "é",
    "tab\there",
    "q\"uote",
    "back\\slash",
];
const LONGS: &[i64] = &[0, 1, -1, 2, 3, 7, 42, 100, -100, 1000];
const IPS: &[&str] = &[
    "10.0.0.1",
    "10.0.0.1/32",
    "127.0.0.1",
    "192.168.0.0/16",
    "10.0.0.0/8",
    "::1",
    "ff00::/8",
    "224.0.0.1",
    "2001:db8::1",
];
const BAD_IPS: &[&str] = &[
    "::ffff:127.0.0.1",
    "10.0.0.256",
    "1:2::3::4",
    "nope",
    "10.0.0.1/33",
    "",
];
const DECIMALS: &[&str] = &[
    "0.0",
    "1.5",
    "1.50",
    "-0.0",
    "-2.25",
    "3.1416",
    "922337203685477.5807",
    "1.0001",
];
const BAD_DECIMALS: &[&str] = &["1.23456", "abc", "1", "922337203685478.0", "1.-1"];
const DATETIMES: &[&str] = &[
    "2024-01-01",
    "2024-10-15T11:35:00Z",
    "2024-10-15T11:35:00.123Z",
    "2024-10-15T11:35:00+0100",
    "2024-10-15T12:35:00+0100",
    "1970-01-01",
    "2025-06-30T23:59:59-0230",
];
const BAD_DATETIMES: &[&str] = &["2024-13-01", "2024-1-1", "2024-01-01T25:00:00Z", "x"];
const DURATIONS: &[&str] = &[
    "1d2h3m4s5ms",
    "-1h",
    "1h",
    "60m",
    "0ms",
    "90m",
    "2d",
    "1s500ms",
    "-3d4h",
];
const BAD_DURATIONS: &[&str] = &["1x", "h", "1h1d", "", "1.5h"];
const EDGE_IPS: &[&str] = &[
    "10.0.0.1/24",
    "0.0.0.0/0",
    "::/0",
    "01.0.0.1",
    "1.2.3",
    "::1/129",
    "FE80::1",
    "1::",
    "::ffff:1.2.3.4",
    "255.255.255.255/32",
    "127.255.255.255",
    "ff02::1",
    "10.0.0.1/0",
];
const EDGE_DECIMALS: &[&str] = &[
    "-922337203685477.5808",
    "922337203685477.5808",
    "0.1234",
    "+1.0",
    "-0.0",
    "1.",
    ".5",
    "00.5",
    "-922337203685477.5807",
];
const EDGE_DATETIMES: &[&str] = &[
    "2024-02-29",
    "2023-02-29",
    "2024-01-01T00:00:00.000Z",
    "2024-01-01T00:00:00+2400",
    "2024-01-01T00:00:00.1Z",
    "0000-01-01",
    "9999-12-31T23:59:59Z",
    "2024-01-01T23:59:60Z",
    "2024-01-01T00:00:00-0000",
    "2024-01-01T00:00:00+0060",
    "2024-01-01T00:00:00",
];
const EDGE_DURATIONS: &[&str] = &[
    "106751991167d",
    "9223372036854775807ms",
    "9223372036854775808ms",
    "-9223372036854775808ms",
    "1d1d",
    "1ms1s",
    "-0ms",
    "+1h",
    "1D",
    "2562047788015215h",
    "-106751991167d7h",
];
const TYPE_NAMES: &[&str] = &[
    "User", "Group", "Team", "Org", "Doc", "Folder", "Photo", "Album", "Account", "Device",
];

impl Gen<'_> {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        let i = self.rng.random_range(0..items.len());
        items[i].clone()
    }

    /// The probability of a deliberate error at one point of a policy.
    fn err_rate(&self) -> f64 {
        match self.mode {
            Mode::Schema => 0.05,
            Mode::Loose => 0.15,
        }
    }

    // ---------------------------------------------------------------- schema model

    fn model(&mut self) -> Model {
        let mut m = Model {
            namespace: self
                .chance(0.4)
                .then(|| self.pick(&["NS", "App", "A::B"]).to_string()),
            ..Model::default()
        };
        let n = self.rng.random_range(2..=5usize);
        let mut names: Vec<&str> = TYPE_NAMES.to_vec();
        for _ in 0..n {
            let i = self.rng.random_range(0..names.len());
            let name = names.remove(i);
            m.types.push(EntityTypeDef {
                name: name.to_string(),
                ..EntityTypeDef::default()
            });
        }
        // Hierarchy: type i may be in types j > i, and sometimes in itself.
        for i in 0..n {
            let mut parents = Vec::new();
            for j in i + 1..n {
                if self.chance(0.45) {
                    parents.push(j);
                }
            }
            if self.chance(0.2) {
                parents.push(i);
            }
            m.types[i].parents = parents;
        }
        // Sometimes one enum type, which is no one's parent.
        if self.chance(0.35) {
            let ids: Vec<String> = ["red", "green", "blue"][..self.rng.random_range(1..=3)]
                .iter()
                .map(|s| s.to_string())
                .collect();
            m.types.push(EntityTypeDef {
                name: "Color".into(),
                enum_ids: Some(ids.clone()),
                ids,
                ..EntityTypeDef::default()
            });
        }
        let ntypes = m.types.len();
        for t in 0..n {
            let k = self.rng.random_range(0..=5usize);
            let mut attrs = Vec::new();
            for a in 0..k {
                let name = if self.chance(0.08) {
                    "x y".to_string()
                } else {
                    format!("a{a}")
                };
                if attrs.iter().any(|x: &Attr| x.name == name) {
                    continue;
                }
                let ty = self.attr_type(ntypes, 2);
                attrs.push(Attr {
                    name,
                    ty,
                    optional: self.chance(0.3),
                });
            }
            m.types[t].attrs = attrs;
            if self.chance(0.3) {
                m.types[t].tags =
                    Some(self.pick(&[Ty::Str, Ty::Long, Ty::Bool, Ty::Set(Box::new(Ty::Str))]));
            }
            let count = self.rng.random_range(1..=4usize);
            m.types[t].ids = (0..count)
                .map(|i| {
                    let base = m.types[t].name.to_lowercase();
                    // Now and then an id with a space, a non-ASCII letter, or none at all.
                    match self.rng.random_range(0..20) {
                        0 => format!("{base} {i}"),
                        1 => format!("é{base}{i}"),
                        2 if i == 0 => String::new(),
                        _ => format!("{base}{i}"),
                    }
                })
                .collect();
        }
        // Actions: 2-4 concrete ones, 0-2 groups.
        let ngroups = self.rng.random_range(0..=2usize);
        let nactions = self.rng.random_range(2..=4usize);
        for gi in 0..ngroups {
            m.actions.push(ActionDef {
                name: format!("group{gi}"),
                groups: if gi > 0 && self.chance(0.5) {
                    vec![gi - 1]
                } else {
                    vec![]
                },
                applies: None,
            });
        }
        let ordinary: Vec<usize> = (0..n).collect();
        for ai in 0..nactions {
            let pick_types = |g: &mut Self| {
                let mut ts: Vec<usize> =
                    ordinary.iter().copied().filter(|_| g.chance(0.4)).collect();
                if ts.is_empty() {
                    ts.push(g.pick(&ordinary));
                }
                ts
            };
            let principals = pick_types(self);
            let mut resources = pick_types(self);
            // An enum type can be a resource: its entities are exactly its ids.
            if ntypes > n && self.chance(0.25) {
                resources.push(n);
            }
            let mut ctx = Vec::new();
            for c in 0..self.rng.random_range(0..=3usize) {
                let ty = self.attr_type(ntypes, 2);
                ctx.push(Attr {
                    name: format!("c{c}"),
                    ty,
                    optional: self.chance(0.25),
                });
            }
            let groups = (0..ngroups).filter(|_| self.chance(0.5)).collect();
            m.actions.push(ActionDef {
                name: ["view", "edit", "delete", "share"][ai].to_string(),
                groups,
                applies: Some((principals, resources, ctx)),
            });
        }
        m
    }

    fn attr_type(&mut self, ntypes: usize, depth: u32) -> Ty {
        let k = self.rng.random_range(0..if depth == 0 { 8 } else { 11 });
        match k {
            0 | 1 => Ty::Bool,
            2 | 3 => Ty::Long,
            4 => Ty::Str,
            5 => Ty::Ent(self.rng.random_range(0..ntypes)),
            6 => Ty::Ext(self.pick(&[Ext::Ip, Ext::Dec, Ext::Dt, Ext::Dur])),
            7 => Ty::Str,
            8 | 9 => {
                let t = self.rng.random_range(0..ntypes);
                let mut inner = self.pick(&[Ty::Long, Ty::Str, Ty::Ent(t)]);
                if depth > 0 && self.chance(0.15) {
                    inner = self.attr_type(ntypes, depth - 1);
                }
                Ty::Set(Box::new(inner))
            }
            _ => {
                let mut fields = Vec::new();
                for f in 0..self.rng.random_range(1..=3usize) {
                    let ty = self.attr_type(ntypes, depth - 1);
                    fields.push(Attr {
                        name: format!("f{f}"),
                        ty,
                        optional: self.chance(0.3),
                    });
                }
                Ty::Rec(fields)
            }
        }
    }

    // ---------------------------------------------------------------- schema text

    fn schema_type(&self, ty: &Ty, style: &mut SchemaStyle) -> String {
        let prim = |name: &str, style: &SchemaStyle| {
            if style.cedar_prefix {
                format!("__cedar::{name}")
            } else {
                name.to_string()
            }
        };
        match ty {
            Ty::Bool => prim("Bool", style),
            Ty::Long => prim("Long", style),
            Ty::Str => prim("String", style),
            Ty::Set(t) => format!("Set<{}>", self.schema_type(t, style)),
            Ty::Rec(fields) => {
                let body = self.schema_record(fields, style);
                if style.common_types {
                    // A common type declared before its first use.
                    let name = format!("R{}", style.declarations.len());
                    style.declarations.push(format!("type {name} = {body};"));
                    name
                } else {
                    body
                }
            }
            Ty::Ent(t) => {
                let name = &self.model.types[*t].name;
                if style.qualified_entities {
                    self.model.qualify(name)
                } else {
                    name.clone()
                }
            }
            Ty::Ext(Ext::Ip) => prim("ipaddr", style),
            Ty::Ext(Ext::Dec) => prim("decimal", style),
            Ty::Ext(Ext::Dt) => prim("datetime", style),
            Ty::Ext(Ext::Dur) => prim("duration", style),
        }
    }

    fn schema_record(&self, fields: &[Attr], style: &mut SchemaStyle) -> String {
        let body: Vec<String> = fields
            .iter()
            .map(|a| {
                format!(
                    "\"{}\"{}: {}",
                    a.name,
                    if a.optional { "?" } else { "" },
                    self.schema_type(&a.ty, style)
                )
            })
            .collect();
        format!("{{{}}}", body.join(", "))
    }

    /// The schema text, in one of several equivalent styles (common types or inline records,
    /// `__cedar::` or bare primitive names, qualified or bare entity type names).
    fn schema_text(&mut self) -> String {
        let mut style = SchemaStyle {
            cedar_prefix: self.chance(0.15),
            common_types: self.chance(0.25),
            qualified_entities: self.model.namespace.is_some() && self.chance(0.25),
            declarations: Vec::new(),
        };
        if style.cedar_prefix || style.common_types || style.qualified_entities {
            self.cov.hit("schema-style");
        }
        let m = &self.model;
        let mut out = String::new();
        for t in &m.types {
            if let Some(ids) = &t.enum_ids {
                let ids: Vec<String> = ids.iter().map(|i| format!("\"{i}\"")).collect();
                out += &format!("entity {} enum [{}];\n", t.name, ids.join(", "));
                continue;
            }
            out += &format!("entity {}", t.name);
            if !t.parents.is_empty() {
                let ps: Vec<String> = t
                    .parents
                    .iter()
                    .map(|&p| self.schema_type(&Ty::Ent(p), &mut style))
                    .collect();
                out += &format!(" in [{}]", ps.join(", "));
            }
            out += &format!(" = {}", self.schema_record(&t.attrs, &mut style));
            if let Some(tags) = &t.tags {
                out += &format!(" tags {}", self.schema_type(tags, &mut style));
            }
            out += ";\n";
        }
        for a in &m.actions {
            out += &format!("action \"{}\"", a.name);
            if !a.groups.is_empty() {
                let gs: Vec<String> = a
                    .groups
                    .iter()
                    .map(|&g| format!("\"{}\"", m.actions[g].name))
                    .collect();
                out += &format!(" in [{}]", gs.join(", "));
            }
            if let Some((ps, rs, ctx)) = &a.applies {
                let names = |ts: &[usize], style: &mut SchemaStyle| {
                    ts.iter()
                        .map(|&t| self.schema_type(&Ty::Ent(t), style))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let principals = names(ps, &mut style);
                let resources = names(rs, &mut style);
                let context = self.schema_type(&Ty::Rec(ctx.clone()), &mut style);
                out += &format!(
                    " appliesTo {{ principal: [{principals}], resource: [{resources}], context: {context} }}"
                );
            }
            out += ";\n";
        }
        let mut text = String::new();
        for d in &style.declarations {
            text += d;
            text.push('\n');
        }
        text += &out;
        match &m.namespace {
            Some(ns) => format!("namespace {ns} {{\n{text}}}\n"),
            None => text,
        }
    }

    // ---------------------------------------------------------------- data

    fn uid_json(&self, t: usize, id: &str) -> Json {
        json!({"type": self.model.type_name(t), "id": id})
    }

    fn ext_json(&mut self, e: Ext) -> Json {
        let (f, arg) = match e {
            Ext::Ip => ("ip", self.pick(IPS)),
            Ext::Dec => ("decimal", self.pick(DECIMALS)),
            Ext::Dt => ("datetime", self.pick(DATETIMES)),
            Ext::Dur => ("duration", self.pick(DURATIONS)),
        };
        json!({"__extn": {"fn": f, "arg": arg}})
    }

    /// A JSON value of type `ty`; entity references point at existing entities mostly.
    fn value_json(&mut self, ty: &Ty) -> Json {
        match ty {
            Ty::Bool => Json::Bool(self.chance(0.5)),
            Ty::Long => {
                if self.chance(0.05) {
                    json!(self.pick(&[i64::MAX, i64::MIN, i64::MAX - 1]))
                } else {
                    json!(self.pick(LONGS))
                }
            }
            Ty::Str => json!(self.pick(STRINGS)),
            Ty::Set(inner) => {
                let n = self.rng.random_range(0..=3);
                let items: Vec<Json> = (0..n).map(|_| self.value_json(inner)).collect();
                Json::Array(items)
            }
            Ty::Rec(fields) => {
                let mut map = serde_json::Map::new();
                for f in fields.clone() {
                    if f.optional && self.chance(0.4) {
                        continue;
                    }
                    let v = self.value_json(&f.ty);
                    map.insert(f.name.clone(), v);
                }
                Json::Object(map)
            }
            Ty::Ent(t) => {
                let id = self.entity_id(*t);
                let uid = self.uid_json(*t, &id);
                // With a schema, a plain `{type, id}` is an entity reference too.
                if self.mode == Mode::Schema && self.chance(0.5) {
                    uid
                } else {
                    json!({ "__entity": uid })
                }
            }
            Ty::Ext(e) => {
                let v = self.ext_json(*e);
                // With a schema, a plain string is the extension value.
                if self.mode == Mode::Schema && self.chance(0.5) {
                    v["__extn"]["arg"].clone()
                } else {
                    v
                }
            }
        }
    }

    /// An id of type `t`: an existing entity's mostly, sometimes one with no entity.
    fn entity_id(&mut self, t: usize) -> String {
        let ids = self.model.types[t].ids.clone();
        let is_enum = self.model.types[t].enum_ids.is_some();
        if !is_enum && self.chance(0.08) {
            "ghost".into()
        } else if is_enum && self.chance(0.01) {
            // Not one of the enum's ids: invalid wherever the schema is consulted.
            self.cov.hit("bad-enum-id");
            "purple".into()
        } else {
            self.pick(&ids)
        }
    }

    fn entities(&mut self) -> Vec<Json> {
        let mut out = Vec::new();
        for t in self.model.ordinary_types() {
            let def = self.model.types[t].clone();
            for (k, id) in def.ids.iter().enumerate() {
                let mut parents = Vec::new();
                for &p in &def.parents {
                    let pids = self.model.types[p].ids.clone();
                    // Same-type parents only point back, which keeps the graph acyclic.
                    let limit = if p == t { k } else { pids.len() };
                    for pid in pids.iter().take(limit) {
                        if self.chance(0.45) {
                            parents.push(self.uid_json(p, pid));
                        }
                    }
                }
                let mut attrs = serde_json::Map::new();
                for a in &def.attrs {
                    if a.optional && self.chance(0.4) {
                        continue;
                    }
                    let v = self.value_json(&a.ty);
                    attrs.insert(a.name.clone(), v);
                }
                let mut e =
                    json!({"uid": self.uid_json(t, id), "attrs": attrs, "parents": parents});
                if let Some(tags) = &def.tags {
                    let mut map = serde_json::Map::new();
                    for key in ["k0", "k1", "k2"] {
                        if self.chance(0.5) {
                            let v = self.value_json(tags);
                            map.insert(key.to_string(), v);
                        }
                    }
                    e["tags"] = Json::Object(map);
                }
                out.push(e);
            }
        }
        // Rarely, entities the schema rejects (an extra or mistyped attribute, a parent of a
        // type not declared): both engines must refuse to load them.
        if self.mode == Mode::Schema && !out.is_empty() && self.chance(0.015) {
            self.cov.hit("invalid-entities");
            let i = self.rng.random_range(0..out.len());
            match self.rng.random_range(0..3) {
                0 => out[i]["attrs"]["undeclared"] = json!(1),
                1 => {
                    let keys: Vec<String> = out[i]["attrs"]
                        .as_object()
                        .map(|o| o.keys().cloned().collect())
                        .unwrap_or_default();
                    match keys.first() {
                        Some(k) => out[i]["attrs"][k] = json!({"not": "this"}),
                        None => out[i]["attrs"]["a0"] = json!(true),
                    }
                }
                _ => {
                    let t = self.model.ordinary_types()[0];
                    let parent = self.uid_json(t, "p");
                    if let Some(parents) = out[i]["parents"].as_array_mut() {
                        parents.push(parent);
                    }
                }
            }
        }
        // Rarely, JSON edge forms that both engines must treat alike (mostly rejections).
        if !out.is_empty() && self.chance(0.015) {
            self.cov.hit("json-edge");
            let i = self.rng.random_range(0..out.len());
            let edge = self.pick(&[
                json!(1.0),
                json!(9_223_372_036_854_775_808u64),
                json!({"__entity": {"type": "X", "id": "y", "extra": 1}}),
                json!({"__extn": {"fn": "decimal", "arg": "1.0"}}),
                json!({"__extn": {"fn": "nosuch", "arg": "1"}}),
                json!({"__expr": "1 + 1"}),
                json!(null),
                json!([[1], [2]]),
            ]);
            out[i]["attrs"]["a0"] = edge;
        }
        // Action entities may be in the entities file as well, matching the schema.
        let actions_in_file = self.mode == Mode::Loose || self.chance(0.03);
        if actions_in_file && self.mode == Mode::Schema {
            self.cov.hit("action-entities");
        }
        if actions_in_file {
            // Without a schema the action hierarchy comes from the entities file.
            for a in 0..self.model.actions.len() {
                let parents: Vec<Json> = self.model.actions[a]
                    .groups
                    .iter()
                    .map(|&g| json!({"type": self.model.action_type(), "id": self.model.actions[g].name}))
                    .collect();
                out.push(json!({
                    "uid": {"type": self.model.action_type(), "id": self.model.actions[a].name},
                    "attrs": {}, "parents": parents
                }));
            }
        }
        out
    }

    fn request(&mut self) -> RequestSpec {
        let concrete = self.model.concrete_actions();
        let a = self.pick(&concrete);
        let Some((ps, rs, ctx)) = self.model.actions[a].applies.clone() else {
            unreachable!("concrete actions apply to something")
        };
        let (pt, rt) = if self.mode == Mode::Loose && self.chance(0.5) {
            let all = self.model.ordinary_types();
            (self.pick(&all), self.pick(&all))
        } else {
            (self.pick(&ps), self.pick(&rs))
        };
        let pid = self.entity_id(pt);
        let rid = self.entity_id(rt);
        let mut context = self.value_json(&Ty::Rec(ctx.clone()));
        let mut principal = self.uid_json(pt, &pid);
        // Now and then a request the schema rejects: both engines must reject it.
        if self.mode == Mode::Schema && self.chance(0.04) {
            self.cov.hit("invalid-request");
            match self.rng.random_range(0..4) {
                0 => {
                    let all = self.model.ordinary_types();
                    let t = self.pick(&all);
                    principal = self.uid_json(t, &pid);
                }
                1 => {
                    if let Json::Object(map) = &mut context {
                        map.insert("extra".into(), json!(1));
                    }
                }
                2 if self.model.actions[0].applies.is_none() => {
                    // A group is no action a request can name.
                    let g = self.model.actions[0].name.clone();
                    let action = json!({"type": self.model.action_type(), "id": g});
                    return RequestSpec {
                        principal,
                        action,
                        resource: self.uid_json(rt, &rid),
                        context,
                    };
                }
                _ => {
                    if let (Json::Object(map), Some(first)) = (&mut context, ctx.first())
                        && map.remove(&first.name).is_none()
                    {
                        map.insert(first.name.clone(), json!("wrong"));
                    }
                }
            }
        }
        RequestSpec {
            principal,
            action: json!({"type": self.model.action_type(), "id": self.model.actions[a].name}),
            resource: self.uid_json(rt, &rid),
            context,
        }
    }

    // ---------------------------------------------------------------- policies

    fn policy(&mut self) -> String {
        let m = self.model.clone();
        let concrete = m.concrete_actions();
        let a = self.pick(&concrete);
        let Some((ps, rs, ctx)) = m.actions[a].applies.clone() else {
            unreachable!("concrete actions apply to something")
        };
        let pt = self.pick(&ps);
        let rt = self.pick(&rs);
        let mut env = Env::default();
        let mut out = String::new();
        if self.chance(0.1) {
            self.cov.hit("annotation");
            let a = self.pick(&[
                "@advice(\"generated\")\n",
                "@id(\"named\") @note(\"two\")\n",
                "@empty\n",
                "// a comment\n@advice(\"x // not a comment\")\n",
            ]);
            out += a;
        }
        if self.chance(0.6) {
            self.cov.hit("permit");
            out += "permit(\n";
        } else {
            self.cov.hit("forbid");
            out += "forbid(\n";
        }
        let (scope, known) = if self.chance(0.03) {
            // A template: never linked, so it never applies, but it is parsed and validated.
            self.cov.hit("template-slot");
            (
                self.pick(&["principal == ?principal", "principal in ?principal"])
                    .to_string(),
                false,
            )
        } else {
            self.var_scope("principal", pt)
        };
        out += &format!("  {scope},\n");
        if known {
            env.principal = Some(pt);
        }
        // Action scope.
        let action_scope = match self.rng.random_range(0..6) {
            0 => {
                self.cov.hit("scope-action-any");
                "action".to_string()
            }
            1 if self.chance(0.1) => {
                // An action the schema does not declare, or a group.
                self.cov.hit("scope-action-odd");
                let g = m.action_uid(0);
                let unknown = format!("{}::\"nosuch\"", m.action_type());
                format!("action == {}", self.pick(&[g, unknown]))
            }
            1 | 2 => {
                self.cov.hit("scope-action-eq");
                env.context = Some(ctx.clone());
                format!("action == {}", m.action_uid(a))
            }
            3 => {
                self.cov.hit("scope-action-in");
                match m.actions[a].groups.first() {
                    Some(&g) if self.chance(0.7) => format!("action in {}", m.action_uid(g)),
                    _ => {
                        env.context = Some(ctx.clone());
                        format!("action in {}", m.action_uid(a))
                    }
                }
            }
            _ => {
                self.cov.hit("scope-action-in-list");
                let mut list = vec![m.action_uid(a)];
                if self.chance(0.5) {
                    let b = self.pick(&concrete);
                    if b != a {
                        list.push(m.action_uid(b));
                    }
                }
                if list.len() == 1 {
                    env.context = Some(ctx.clone());
                }
                format!("action in [{}]", list.join(", "))
            }
        };
        out += &format!("  {action_scope},\n");
        let (scope, known) = self.var_scope("resource", rt);
        out += &format!("  {scope}\n)");
        if known {
            env.resource = Some(rt);
        }
        // Sometimes use what the scope does not pin down (the validator then checks every
        // request environment the scope allows, some without these attributes).
        if env.principal.is_none() && self.chance(0.15) {
            self.cov.hit("loose-env");
            env.principal = Some(pt);
        }
        if env.resource.is_none() && self.chance(0.15) {
            self.cov.hit("loose-env");
            env.resource = Some(rt);
        }
        if env.context.is_none() && self.chance(0.15) {
            self.cov.hit("loose-env");
            env.context = Some(ctx.clone());
        }
        for _ in 0..self.rng.random_range(0..=2) {
            let depth = self.rng.random_range(2..=5);
            let body = self.expr(&env, &Ty::Bool, depth);
            if self.chance(0.7) {
                self.cov.hit("when");
                out += &format!("\nwhen {{ {body} }}");
            } else {
                self.cov.hit("unless");
                out += &format!("\nunless {{ {body} }}");
            }
        }
        out += ";";
        out
    }

    /// A principal or resource scope for a variable whose intended type is `t`; whether the
    /// scope fixes the type.
    fn var_scope(&mut self, var: &'static str, t: usize) -> (String, bool) {
        let m = &self.model;
        let tn = m.type_name(t);
        let (any, eq, is_in, is, is_is_in) = if var == "principal" {
            (
                "scope-principal-any",
                "scope-principal-eq",
                "scope-principal-in",
                "scope-principal-is",
                "scope-principal-is-in",
            )
        } else {
            (
                "scope-resource-any",
                "scope-resource-eq",
                "scope-resource-in",
                "scope-resource-is",
                "scope-resource-is-in",
            )
        };
        match self.rng.random_range(0..6) {
            0 => {
                self.cov.hit(any);
                (var.to_string(), false)
            }
            1 => {
                self.cov.hit(eq);
                let id = self.entity_id(t);
                (format!("{var} == {tn}::\"{id}\""), true)
            }
            2 => {
                self.cov.hit(is_in);
                let (ut, id) = self.ancestor_or_self(t);
                (
                    format!("{var} in {}::\"{id}\"", self.model.type_name(ut)),
                    false,
                )
            }
            3 | 4 => {
                self.cov.hit(is);
                (format!("{var} is {tn}"), true)
            }
            _ => {
                self.cov.hit(is_is_in);
                let (ut, id) = self.ancestor_or_self(t);
                (
                    format!("{var} is {tn} in {}::\"{id}\"", self.model.type_name(ut)),
                    true,
                )
            }
        }
    }

    /// A type that `t` may be in (itself or a declared ancestor) and an id of it.
    fn ancestor_or_self(&mut self, t: usize) -> (usize, String) {
        let mut candidates = vec![t];
        let mut i = 0;
        while i < candidates.len() {
            for &p in &self.model.types[candidates[i]].parents {
                if !candidates.contains(&p) {
                    candidates.push(p);
                }
            }
            i += 1;
        }
        let u = self.pick(&candidates);
        let id = self.entity_id(u);
        (u, id)
    }

    /// The paths reachable from the environment's variables, two attribute steps deep.
    fn paths(&mut self, env: &Env) -> Vec<Path> {
        let mut roots = Vec::new();
        if let Some(t) = env.principal {
            roots.push(("principal".to_string(), Ty::Ent(t)));
        }
        if let Some(t) = env.resource {
            roots.push(("resource".to_string(), Ty::Ent(t)));
        }
        if let Some(ctx) = &env.context {
            self.cov.hit("context");
            roots.push(("context".to_string(), Ty::Rec(ctx.clone())));
        }
        // An entity literal as a root, now and then.
        if self.chance(0.3) {
            let ts = self.model.ordinary_types();
            let t = self.pick(&ts);
            let id = self.entity_id(t);
            roots.push((format!("{}::\"{id}\"", self.model.type_name(t)), Ty::Ent(t)));
        }
        let mut out = Vec::new();
        for (text, ty) in roots {
            self.walk(&text, &ty, &[], 2, &mut out);
        }
        out
    }

    fn walk(&self, text: &str, ty: &Ty, guards: &[String], depth: u32, out: &mut Vec<Path>) {
        let tags = match ty {
            Ty::Ent(t) => self.model.types[*t].tags.clone(),
            _ => None,
        };
        out.push(Path {
            text: text.to_string(),
            ty: ty.clone(),
            guards: guards.to_vec(),
            tags,
        });
        if depth == 0 {
            return;
        }
        let attrs = match ty {
            Ty::Ent(t) => self.model.types[*t].attrs.clone(),
            Ty::Rec(fields) => fields.clone(),
            _ => return,
        };
        for a in attrs {
            let (access, has) = if a.name.contains(' ') {
                (
                    format!("{text}[\"{}\"]", a.name),
                    format!("{text} has \"{}\"", a.name),
                )
            } else {
                (
                    format!("{text}.{}", a.name),
                    format!("{text} has {}", a.name),
                )
            };
            let mut g = guards.to_vec();
            if a.optional {
                g.push(has);
            }
            self.walk(&access, &a.ty, &g, depth - 1, out);
        }
    }

    fn ext_literal(&mut self, e: Ext) -> String {
        if self.chance(0.1) {
            // Edge strings whose acceptance is subtle; errors are fine, agreement is the point.
            self.cov.hit("ext-edge");
            let (f, pool) = match e {
                Ext::Ip => ("ip", EDGE_IPS),
                Ext::Dec => ("decimal", EDGE_DECIMALS),
                Ext::Dt => ("datetime", EDGE_DATETIMES),
                Ext::Dur => ("duration", EDGE_DURATIONS),
            };
            let arg = self.pick(pool);
            return format!("{f}(\"{arg}\")");
        }
        let bad = self.chance(self.err_rate() / 2.0);
        if bad {
            self.cov.hit("err-bad-extension");
        }
        let (f, arg, what) = match e {
            Ext::Ip => ("ip", self.pick(if bad { BAD_IPS } else { IPS }), "ip"),
            Ext::Dec => (
                "decimal",
                self.pick(if bad { BAD_DECIMALS } else { DECIMALS }),
                "decimal",
            ),
            Ext::Dt => (
                "datetime",
                self.pick(if bad { BAD_DATETIMES } else { DATETIMES }),
                "datetime",
            ),
            Ext::Dur => (
                "duration",
                self.pick(if bad { BAD_DURATIONS } else { DURATIONS }),
                "duration",
            ),
        };
        self.cov.hit(what);
        format!("{f}(\"{arg}\")")
    }

    fn str_literal(&mut self) -> String {
        let s = self.pick(STRINGS);
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out += "\\\"",
                '\\' => out += "\\\\",
                '\t' => out += if self.chance(0.5) { "\\t" } else { "\\u{9}" },
                'é' if self.chance(0.5) => out += "\\u{e9}",
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    fn entity_literal(&mut self, t: usize) -> String {
        if self.mode == Mode::Loose && self.chance(0.1) {
            self.cov.hit("unknown-entity-type");
            return "Nowhere::\"x\"".into();
        }
        let id = self.entity_id(t);
        if id == "ghost" {
            self.cov.hit("missing-entity");
        }
        if self.model.types[t].enum_ids.is_some() {
            self.cov.hit("enum-entity");
        } else {
            self.cov.hit("entity-literal");
        }
        // The id as Cedar text: `é` sometimes as an escape, and the type name sometimes
        // spaced around `::`.
        let id = if id.contains('é') && self.chance(0.5) {
            self.cov.hit("escaped-id");
            id.replace('é', "\\u{e9}")
        } else {
            id
        };
        let sep = if self.chance(0.05) { " :: " } else { "::" };
        let name = self.model.type_name(t).replace("::", sep);
        format!("{name}{sep}\"{id}\"")
    }

    /// A literal of type `ty` (no errors, no variables).
    fn literal(&mut self, ty: &Ty) -> String {
        match ty {
            Ty::Bool => if self.chance(0.5) { "true" } else { "false" }.into(),
            Ty::Long => self.pick(LONGS).to_string(),
            Ty::Str => self.str_literal(),
            Ty::Set(inner) => {
                let n = self.rng.random_range(1..=3);
                let items: Vec<String> = (0..n).map(|_| self.literal(inner)).collect();
                self.cov.hit("set-literal");
                format!("[{}]", items.join(", "))
            }
            Ty::Rec(fields) => {
                self.cov.hit("record-literal");
                let mut items = Vec::new();
                for f in fields.clone() {
                    if f.optional && self.chance(0.5) {
                        continue;
                    }
                    let v = self.literal(&f.ty);
                    // Keys bare or quoted; order does not matter to `==`.
                    if self.chance(0.5) {
                        items.push(format!("{}: {v}", f.name));
                    } else {
                        items.push(format!("\"{}\": {v}", f.name));
                    }
                }
                if self.chance(0.3) {
                    items.reverse();
                }
                format!("{{{}}}", items.join(", "))
            }
            Ty::Ent(t) => self.entity_literal(*t),
            Ty::Ext(e) => self.ext_literal(*e),
        }
    }

    /// Uses a path: the value, guarded by its `has` tests unless an error is wanted.
    fn use_path(&mut self, p: &Path, want: &Ty) -> String {
        let access = if p.text.contains('[') {
            self.cov.hit("attr-index");
            p.text.clone()
        } else if p.text.contains('.') {
            self.cov.hit("attr-dot");
            p.text.clone()
        } else {
            p.text.clone()
        };
        if p.guards.is_empty() {
            return access;
        }
        if self.chance(self.err_rate()) {
            self.cov.hit("err-unguarded-optional");
            return access;
        }
        self.cov.hit("has");
        if p.guards.iter().any(|g| g.contains('"')) {
            self.cov.hit("has-quoted");
        }
        let guards = p.guards.join(" && ");
        if *want == Ty::Bool {
            self.cov.hit("and");
            format!("({guards} && {access})")
        } else {
            self.cov.hit("if-then-else");
            let default = self.literal(want);
            format!("(if {guards} then {access} else {default})")
        }
    }

    /// An expression of type `want` over `env`, at most `depth` operators deep.
    fn expr(&mut self, env: &Env, want: &Ty, depth: u32) -> String {
        if depth > 1 && self.chance(0.002) {
            return self.deep(env, want);
        }
        if depth > 0 && self.chance(self.err_rate()) {
            return self.wrong_type(env, want);
        }
        // Paths of the wanted type.
        if self.chance(0.5) {
            let paths: Vec<Path> = self
                .paths(env)
                .into_iter()
                .filter(|p| p.ty == *want)
                .collect();
            if !paths.is_empty() {
                let p = self.pick(&paths);
                return self.use_path(&p, want);
            }
        }
        if depth == 0 {
            return self.literal(want);
        }
        if self.chance(0.08) {
            self.cov.hit("if-then-else");
            let c = self.expr(env, &Ty::Bool, depth - 1);
            let a = self.expr(env, want, depth - 1);
            let b = self.expr(env, want, depth - 1);
            return format!("(if {c} then {a} else {b})");
        }
        match want {
            Ty::Bool => self.bool_expr(env, depth),
            Ty::Long => self.long_expr(env, depth),
            Ty::Str => {
                if self.chance(0.3)
                    && let Some(s) = self.tag_expr(env, &Ty::Str)
                {
                    return s;
                }
                self.literal(want)
            }
            Ty::Set(inner) => {
                if self.chance(0.5) {
                    self.cov.hit("set-literal");
                    let n = self.rng.random_range(1..=3);
                    let items: Vec<String> =
                        (0..n).map(|_| self.expr(env, inner, depth - 1)).collect();
                    format!("[{}]", items.join(", "))
                } else {
                    self.literal(want)
                }
            }
            Ty::Rec(fields) => {
                self.cov.hit("record-literal");
                let mut items = Vec::new();
                for f in fields.clone() {
                    if f.optional && self.chance(0.5) {
                        continue;
                    }
                    let v = self.expr(env, &f.ty, depth - 1);
                    items.push(format!("\"{}\": {v}", f.name));
                }
                format!("{{{}}}", items.join(", "))
            }
            Ty::Ent(t) => {
                if env.principal == Some(*t) && self.chance(0.4) {
                    "principal".into()
                } else if env.resource == Some(*t) && self.chance(0.4) {
                    "resource".into()
                } else {
                    self.entity_literal(*t)
                }
            }
            Ty::Ext(Ext::Dt) if self.chance(0.4) => {
                self.cov.hit("datetime-method");
                let d = self.expr(env, &Ty::Ext(Ext::Dt), depth - 1);
                if self.chance(0.5) {
                    let dur = self.expr(env, &Ty::Ext(Ext::Dur), depth - 1);
                    format!("{d}.offset({dur})")
                } else {
                    format!("{d}.toDate()")
                }
            }
            Ty::Ext(Ext::Dur) if self.chance(0.4) => {
                self.cov.hit("datetime-method");
                let d = self.expr(env, &Ty::Ext(Ext::Dt), depth - 1);
                if self.chance(0.5) {
                    let e = self.expr(env, &Ty::Ext(Ext::Dt), depth - 1);
                    format!("{d}.durationSince({e})")
                } else {
                    format!("{d}.toTime()")
                }
            }
            Ty::Ext(e) => self.ext_literal(*e),
        }
    }

    /// An expression nested 20 to 300 levels deep (parsers and evaluators that recurse must
    /// agree on it; both stay far below Thuja's evaluation depth limit).
    fn deep(&mut self, env: &Env, want: &Ty) -> String {
        self.cov.hit("deep-nesting");
        let n = self.rng.random_range(20..=300usize);
        let inner = self.expr(env, want, 1);
        match (want, self.rng.random_range(0..3)) {
            (Ty::Long, 0) => format!("{}{inner}{}", "(1 + ".repeat(n), ")".repeat(n)),
            (Ty::Bool, 0) => format!("{}{inner}{}", "(true && ".repeat(n), ")".repeat(n)),
            (Ty::Bool, 1) => format!("{}{inner}{}", "!(!(".repeat(n / 2), "))".repeat(n / 2)),
            _ => {
                let els = self.literal(want);
                format!(
                    "{}{inner}{}",
                    "(if true then ".repeat(n),
                    format!(" else {els})").repeat(n)
                )
            }
        }
    }

    /// `e.getTag(k)` of the wanted tag type, guarded by `hasTag` unless an error is wanted.
    fn tag_expr(&mut self, env: &Env, want: &Ty) -> Option<String> {
        let paths: Vec<Path> = self
            .paths(env)
            .into_iter()
            .filter(|p| p.tags.as_ref() == Some(want) && p.guards.is_empty())
            .collect();
        if paths.is_empty() {
            return None;
        }
        let p = self.pick(&paths);
        let key = self.pick(&["k0", "k1", "k2"]);
        self.cov.hit("getTag");
        let get = format!("{}.getTag(\"{key}\")", p.text);
        if self.chance(0.2) {
            self.cov.hit("err-missing-tag");
            return Some(get);
        }
        self.cov.hit("hasTag");
        let has = format!("{}.hasTag(\"{key}\")", p.text);
        if *want == Ty::Bool {
            Some(format!("({has} && {get})"))
        } else {
            self.cov.hit("if-then-else");
            let d = self.literal(want);
            Some(format!("(if {has} then {get} else {d})"))
        }
    }

    /// Something of another type than `want`, or a reference to a name that does not exist.
    fn wrong_type(&mut self, env: &Env, want: &Ty) -> String {
        if self.chance(0.3) {
            self.cov.hit("err-unknown-attr");
            let base = if env.principal.is_some() || self.mode == Mode::Loose {
                "principal"
            } else {
                "context"
            };
            return format!("{base}.nosuch");
        }
        if self.chance(0.15) {
            self.cov.hit("mixed-set");
            let a = self.literal(want);
            return format!("[{a}, \"mixed\", 1]");
        }
        if self.chance(0.15) {
            self.cov.hit("if-mixed-branches");
            let c = self.expr(env, &Ty::Bool, 1);
            let a = self.literal(want);
            return format!("(if {c} then {a} else \"other\")");
        }
        if self.chance(0.1) && self.mode == Mode::Schema {
            self.cov.hit("unknown-entity-type");
            return "Nowhere::\"x\"".into();
        }
        self.cov.hit("err-wrong-type");
        let others = [
            Ty::Bool,
            Ty::Long,
            Ty::Str,
            Ty::Set(Box::new(Ty::Long)),
            Ty::Ext(Ext::Ip),
        ];
        let other: Vec<Ty> = others.into_iter().filter(|t| t != want).collect();
        let t = self.pick(&other);
        self.expr(env, &t, 1)
    }

    fn bool_expr(&mut self, env: &Env, depth: u32) -> String {
        let d = depth - 1;
        match self.rng.random_range(0..20) {
            0 | 1 => {
                self.cov.hit("and");
                let a = self.expr(env, &Ty::Bool, d);
                let b = self.expr(env, &Ty::Bool, d);
                format!("({a} && {b})")
            }
            2 | 3 => {
                self.cov.hit("or");
                let a = self.expr(env, &Ty::Bool, d);
                let b = self.expr(env, &Ty::Bool, d);
                format!("({a} || {b})")
            }
            4 => {
                self.cov.hit("not");
                let a = self.expr(env, &Ty::Bool, d);
                // `!-1` does not parse: a unary chain is all `!` or all `-`.
                if a.starts_with('-') {
                    format!("!({a})")
                } else {
                    format!("!{a}")
                }
            }
            5 | 6 => {
                let ty = self.any_type(env);
                let a = self.expr(env, &ty, d);
                // Values of different types are unequal, never an error.
                let other = if self.chance(0.08) {
                    self.any_type(env)
                } else {
                    ty
                };
                let b = self.expr(env, &other, d);
                if self.chance(0.7) {
                    self.cov.hit("eq");
                    format!("({a} == {b})")
                } else {
                    self.cov.hit("neq");
                    format!("({a} != {b})")
                }
            }
            7 | 8 => {
                let ty = if self.chance(0.8) {
                    Ty::Long
                } else {
                    self.cov.hit("ext-compare");
                    self.pick(&[Ty::Ext(Ext::Dt), Ty::Ext(Ext::Dur)])
                };
                let a = self.expr(env, &ty, d);
                let b = self.expr(env, &ty, d);
                let (op, what) = self.pick(&[("<", "lt"), ("<=", "le"), (">", "gt"), (">=", "ge")]);
                self.cov.hit(what);
                format!("({a} {op} {b})")
            }
            9 | 10 => {
                // `in` over entities: an entity and an ancestor (type), or a set of them.
                let ts = self.model.ordinary_types();
                let t = env
                    .principal
                    .or(env.resource)
                    .unwrap_or_else(|| self.pick(&ts));
                let a = self.expr(env, &Ty::Ent(t), d);
                let (u, _) = self.ancestor_or_self(t);
                if self.chance(0.7) {
                    self.cov.hit("in-entity");
                    let b = self.expr(env, &Ty::Ent(u), d);
                    format!("({a} in {b})")
                } else {
                    self.cov.hit("in-set");
                    let b = self.expr(env, &Ty::Set(Box::new(Ty::Ent(u))), d);
                    format!("({a} in {b})")
                }
            }
            11 => {
                // `has` on paths, including `has a.b`.
                let paths = self.paths(env);
                let recs: Vec<Path> = paths
                    .into_iter()
                    .filter(|p| matches!(p.ty, Ty::Ent(_) | Ty::Rec(_)) && p.guards.is_empty())
                    .collect();
                if recs.is_empty() {
                    return self.literal(&Ty::Bool);
                }
                let p = self.pick(&recs);
                let attrs = match &p.ty {
                    Ty::Ent(t) => self.model.types[*t].attrs.clone(),
                    Ty::Rec(f) => f.clone(),
                    _ => Vec::new(),
                };
                self.cov.hit("has");
                let plain: Vec<Attr> = attrs
                    .into_iter()
                    .filter(|a| !a.name.contains(' '))
                    .collect();
                if plain.is_empty() {
                    return format!("({} has a9)", p.text);
                }
                let a = self.pick(&plain);
                if let Ty::Rec(fields) = &a.ty
                    && !fields.is_empty()
                {
                    self.cov.hit("has-path");
                    let f = self.pick(fields);
                    // Three steps where the record nests another.
                    if let Ty::Rec(inner) = &f.ty
                        && let Some(g) = inner.first()
                    {
                        return format!("({} has {}.{}.{})", p.text, a.name, f.name, g.name);
                    }
                    return format!("({} has {}.{})", p.text, a.name, f.name);
                }
                format!("({} has {})", p.text, a.name)
            }
            12 => {
                let s = self.expr(env, &Ty::Str, d);
                let pat = if self.chance(0.3) {
                    self.cov.hit("like-escaped-star");
                    self.pick(&["a\\*b", "*\\**", "\\*", "back\\\\*"])
                } else {
                    self.pick(&[
                        "*", "a*", "*b*", "a*c", "", "x y", "*c", "\\u{e9}", "*\\t*", "q\\\"*",
                        "**", "*a*b*",
                    ])
                };
                self.cov.hit("like");
                format!("({s} like \"{pat}\")")
            }
            13 => {
                let ts = self.model.ordinary_types();
                let t = self.pick(&ts);
                let e = self.expr(env, &Ty::Ent(t), d);
                let u = self.pick(&ts);
                if self.chance(0.6) {
                    self.cov.hit("is");
                    format!("({e} is {})", self.model.type_name(u))
                } else {
                    self.cov.hit("is-in");
                    let (v, _) = self.ancestor_or_self(t);
                    let b = self.expr(env, &Ty::Ent(v), d);
                    format!("({e} is {} in {b})", self.model.type_name(u))
                }
            }
            14 | 15 => {
                let inner = self.pick(&[Ty::Long, Ty::Str]);
                let inner = match self.rng.random_range(0..10) {
                    0..3 => {
                        let ts = self.model.ordinary_types();
                        Ty::Ent(self.pick(&ts))
                    }
                    3 | 4 => self.any_type(env),
                    _ => inner,
                };
                let set_ty = Ty::Set(Box::new(inner.clone()));
                let s = if self.chance(0.05) {
                    self.cov.hit("empty-set");
                    "[]".to_string()
                } else {
                    self.expr(env, &set_ty, d)
                };
                match self.rng.random_range(0..4) {
                    0 => {
                        self.cov.hit("contains");
                        let x = self.expr(env, &inner, d);
                        format!("{s}.contains({x})")
                    }
                    1 => {
                        self.cov.hit("containsAll");
                        let x = self.expr(env, &set_ty, d);
                        format!("{s}.containsAll({x})")
                    }
                    2 => {
                        self.cov.hit("containsAny");
                        let x = self.expr(env, &set_ty, d);
                        format!("{s}.containsAny({x})")
                    }
                    _ => {
                        self.cov.hit("isEmpty");
                        format!("{s}.isEmpty()")
                    }
                }
            }
            16 => {
                let ip = self.expr(env, &Ty::Ext(Ext::Ip), d);
                if self.chance(0.3) {
                    self.cov.hit("isInRange");
                    let r = self.expr(env, &Ty::Ext(Ext::Ip), d);
                    format!("{ip}.isInRange({r})")
                } else {
                    self.cov.hit("ip-method");
                    let m = self.pick(&["isIpv4", "isIpv6", "isLoopback", "isMulticast"]);
                    format!("{ip}.{m}()")
                }
            }
            17 => {
                self.cov.hit("decimal-method");
                let a = self.expr(env, &Ty::Ext(Ext::Dec), d);
                let b = self.expr(env, &Ty::Ext(Ext::Dec), d);
                let m = self.pick(&[
                    "lessThan",
                    "lessThanOrEqual",
                    "greaterThan",
                    "greaterThanOrEqual",
                ]);
                format!("{a}.{m}({b})")
            }
            18 | 19 => {
                // Tags: `hasTag`, and `getTag` of the tag type compared with a value.
                let paths: Vec<Path> = self
                    .paths(env)
                    .into_iter()
                    .filter(|p| p.tags.is_some())
                    .collect();
                if paths.is_empty() {
                    return self.literal(&Ty::Bool);
                }
                let p = self.pick(&paths);
                let key = self.pick(&["k0", "k1", "k2", "k9"]);
                let has = format!("{}.hasTag(\"{key}\")", p.text);
                self.cov.hit("hasTag");
                if self.chance(0.3) {
                    return has;
                }
                let tag_ty = p.tags.clone().unwrap_or(Ty::Str);
                let get = format!("{}.getTag(\"{key}\")", p.text);
                self.cov.hit("getTag");
                let v = self.expr(env, &tag_ty, d);
                if self.chance(0.2) {
                    self.cov.hit("err-missing-tag");
                    format!("({get} == {v})")
                } else {
                    format!("({has} && {get} == {v})")
                }
            }
            _ => self.literal(&Ty::Bool),
        }
    }

    fn long_expr(&mut self, env: &Env, depth: u32) -> String {
        let d = depth - 1;
        match self.rng.random_range(0..10) {
            0 => {
                self.cov.hit("add");
                let a = self.expr(env, &Ty::Long, d);
                let b = self.expr(env, &Ty::Long, d);
                format!("({a} + {b})")
            }
            1 => {
                self.cov.hit("sub");
                let a = self.expr(env, &Ty::Long, d);
                let b = self.expr(env, &Ty::Long, d);
                format!("({a} - {b})")
            }
            2 => {
                self.cov.hit("mul");
                let a = self.expr(env, &Ty::Long, d);
                let b = self.expr(env, &Ty::Long, d);
                format!("({a} * {b})")
            }
            3 => {
                self.cov.hit("neg");
                let a = self.expr(env, &Ty::Long, d);
                if a.starts_with('!') {
                    format!("(-({a}))")
                } else {
                    format!("(-{a})")
                }
            }
            4 if self.chance(self.err_rate() * 4.0) => {
                self.cov.hit("err-overflow");
                self.cov.hit("long-extreme");
                let a = self.expr(env, &Ty::Long, d);
                let (op, big) = self.pick(&[
                    ("+", "9223372036854775807"),
                    ("*", "9223372036854775807"),
                    ("-", "-9223372036854775808"),
                    ("*", "4611686018427387904"),
                ]);
                format!("({a} {op} {big})")
            }
            5 => {
                self.cov.hit("long-extreme");
                self.pick(&[
                    "9223372036854775807",
                    "-9223372036854775808",
                    "(-9223372036854775807)",
                ])
                .to_string()
            }
            6 => {
                self.cov.hit("duration-method");
                let dur = self.expr(env, &Ty::Ext(Ext::Dur), d);
                let m = self.pick(&[
                    "toMilliseconds",
                    "toSeconds",
                    "toMinutes",
                    "toHours",
                    "toDays",
                ]);
                format!("{dur}.{m}()")
            }
            7 => self
                .tag_expr(env, &Ty::Long)
                .unwrap_or_else(|| self.literal(&Ty::Long)),
            _ => self.literal(&Ty::Long),
        }
    }

    /// A type for `==`: one the environment has values of, mostly.
    fn any_type(&mut self, env: &Env) -> Ty {
        if self.chance(0.5) {
            let paths = self.paths(env);
            if !paths.is_empty() {
                return self.pick(&paths).ty;
            }
        }
        let ts = self.model.ordinary_types();
        let t = self.pick(&ts);
        let mut choices = vec![
            Ty::Bool,
            Ty::Long,
            Ty::Str,
            Ty::Ent(t),
            Ty::Set(Box::new(Ty::Long)),
        ];
        if let Some(e) = self.model.types.iter().position(|d| d.enum_ids.is_some()) {
            choices.push(Ty::Ent(e));
        }
        choices.push(Ty::Ext(self.pick(&[Ext::Ip, Ext::Dec, Ext::Dt, Ext::Dur])));
        self.pick(&choices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_case() {
        let mut c = Coverage::default();
        for seed in 0..50 {
            let a = generate(seed, Mode::Schema, &mut c);
            let b = generate(seed, Mode::Schema, &mut c);
            assert_eq!(a, b);
        }
    }
}
