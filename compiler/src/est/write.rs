//! Policies as written to Cedar's JSON policy format: each node of the tree the parser built
//! (read as written, see [`crate::parser::parse_policies_as_written`]) to its JSON object.
//!
//! Objects' keys come in the order Cedar's serializer writes them (`effect`, `principal`,
//! `action`, `resource`, `conditions`, `annotations`; an operator's `left` before `right`), and
//! records' and annotations' keys sorted, so the text is the one `cedar translate-policy` prints.

use smol_str::SmolStr;
use thuja_runtime::ext::ExtFn;
use thuja_runtime::json::Json;
use thuja_runtime::pattern::PatternElem;
use thuja_runtime::{EntityType, EntityUid};

use crate::ast::{
    ActionConstraint, BinaryOp, ConditionKind, Effect, EntityRef, Expr, ExprKind, Literal, Policy,
    PolicySet, ScopeConstraint, SlotId, UnaryOp,
};

fn obj(entries: Vec<(&str, Json)>) -> Json {
    Json::Object(
        entries
            .into_iter()
            .map(|(k, v)| (SmolStr::from(k), v))
            .collect(),
    )
}

fn string(s: &str) -> Json {
    Json::String(s.into())
}

/// `{"type": ..., "id": ...}`: an entity uid in the scope or a link.
pub fn uid_json(uid: &EntityUid) -> Json {
    obj(vec![
        ("type", string(uid.entity_type().as_str())),
        ("id", string(uid.id())),
    ])
}

fn entity_ref(r: &EntityRef) -> (&'static str, Json) {
    match r {
        EntityRef::Uid(uid) => ("entity", uid_json(uid)),
        EntityRef::Slot(slot) => ("slot", string(slot.name())),
    }
}

fn scope(c: &ScopeConstraint) -> Json {
    match c {
        ScopeConstraint::Any => obj(vec![("op", string("All"))]),
        ScopeConstraint::Eq(r) => obj(vec![("op", string("==")), entity_ref(r)]),
        ScopeConstraint::In(r) => obj(vec![("op", string("in")), entity_ref(r)]),
        ScopeConstraint::Is(t) => obj(vec![
            ("op", string("is")),
            ("entity_type", string(t.as_str())),
        ]),
        ScopeConstraint::IsIn(t, r) => obj(vec![
            ("op", string("is")),
            ("entity_type", string(t.as_str())),
            ("in", obj(vec![entity_ref(r)])),
        ]),
    }
}

/// `action in [A]` is written as `action in A`, as Cedar writes it (from its AST's scope).
fn action(c: &ActionConstraint) -> Json {
    match c {
        ActionConstraint::Any => obj(vec![("op", string("All"))]),
        ActionConstraint::Eq(uid) => obj(vec![("op", string("==")), ("entity", uid_json(uid))]),
        ActionConstraint::In(uids) => match uids.as_slice() {
            [one] => obj(vec![("op", string("in")), ("entity", uid_json(one))]),
            _ => obj(vec![
                ("op", string("in")),
                ("entities", Json::Array(uids.iter().map(uid_json).collect())),
            ]),
        },
    }
}

/// One policy or template (without its id, which Cedar's format keeps outside the policy).
pub fn policy_json(p: &Policy) -> Json {
    let mut entries = vec![
        (
            "effect",
            string(match p.effect {
                Effect::Permit => "permit",
                Effect::Forbid => "forbid",
            }),
        ),
        ("principal", scope(&p.principal)),
        ("action", action(&p.action)),
        ("resource", scope(&p.resource)),
        (
            "conditions",
            Json::Array(
                p.conditions
                    .iter()
                    .map(|c| {
                        obj(vec![
                            (
                                "kind",
                                string(match c.kind {
                                    ConditionKind::When => "when",
                                    ConditionKind::Unless => "unless",
                                }),
                            ),
                            ("body", expr_json(&c.body)),
                        ])
                    })
                    .collect(),
            ),
        ),
    ];
    if !p.annotations.is_empty() {
        let mut annotations: Vec<(SmolStr, Json)> = p
            .annotations
            .iter()
            .map(|a| {
                let value = if a.bare { Json::Null } else { string(&a.value) };
                (SmolStr::from(&*a.key), value)
            })
            .collect();
        annotations.sort_by(|a, b| a.0.cmp(&b.0));
        entries.push(("annotations", Json::Object(annotations)));
    }
    obj(entries)
}

/// A policy set: `{"templates": {id: policy}, "staticPolicies": {id: policy}, "templateLinks":
/// [{"templateId", "newId", "values": {"?principal": uid}}]}`, in the set's order.
pub fn policy_set_json(set: &PolicySet) -> Json {
    let mut templates = Vec::new();
    let mut statics = Vec::new();
    for p in set.policies() {
        let entry = (SmolStr::from(p.id.to_string()), policy_json(p));
        if p.is_template() {
            templates.push(entry);
        } else {
            statics.push(entry);
        }
    }
    let links = set
        .links()
        .iter()
        .map(|l| {
            obj(vec![
                ("templateId", string(&l.template_id)),
                ("newId", string(&l.id)),
                (
                    "values",
                    Json::Object(
                        l.values
                            .iter()
                            .map(|(slot, uid)| (SmolStr::from(slot.name()), uid_json(uid)))
                            .collect(),
                    ),
                ),
            ])
        })
        .collect();
    obj(vec![
        ("templates", Json::Object(templates)),
        ("staticPolicies", Json::Object(statics)),
        ("templateLinks", Json::Array(links)),
    ])
}

fn value_uid(uid: &EntityUid) -> Json {
    obj(vec![("__entity", uid_json(uid))])
}

fn binary_key(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Eq => "==",
        BinaryOp::NotEq => "!=",
        BinaryOp::Less => "<",
        BinaryOp::LessEq => "<=",
        BinaryOp::Greater => ">",
        BinaryOp::GreaterEq => ">=",
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::In => "in",
        BinaryOp::Contains => "contains",
        BinaryOp::ContainsAll => "containsAll",
        BinaryOp::ContainsAny => "containsAny",
        BinaryOp::GetTag => "getTag",
        BinaryOp::HasTag => "hasTag",
    }
}

fn entity_type_json(t: &EntityType) -> Json {
    string(t.as_str())
}

/// An expression as a JSON tree. Expressions are at most `MAX_EXPR_DEPTH` deep; the walk grows
/// its stack on demand.
pub fn expr_json(e: &Expr) -> Json {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || expr_json_inner(e))
}

fn two(key: &str, left: &Expr, right: &Expr) -> Json {
    obj(vec![(
        key,
        obj(vec![("left", expr_json(left)), ("right", expr_json(right))]),
    )])
}

fn expr_json_inner(e: &Expr) -> Json {
    match &e.kind {
        ExprKind::Lit(lit) => obj(vec![(
            "Value",
            match lit {
                Literal::Bool(b) => Json::Bool(*b),
                Literal::Long(i) => Json::Int(*i),
                Literal::String(s) => string(s),
                Literal::Entity(uid) => value_uid(uid),
            },
        )]),
        ExprKind::Var(v) => obj(vec![("Var", string(v.name()))]),
        ExprKind::Slot(s) => obj(vec![("Slot", string(slot_name(*s)))]),
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => obj(vec![(
            "if-then-else",
            obj(vec![
                ("if", expr_json(cond)),
                ("then", expr_json(then)),
                ("else", expr_json(otherwise)),
            ]),
        )]),
        ExprKind::And(a, b) => two("&&", a, b),
        ExprKind::Or(a, b) => two("||", a, b),
        ExprKind::Unary(op, arg) => {
            let key = match op {
                UnaryOp::Not => "!",
                UnaryOp::Neg => "neg",
                UnaryOp::IsEmpty => "isEmpty",
            };
            obj(vec![(key, obj(vec![("arg", expr_json(arg))]))])
        }
        ExprKind::Binary(op, a, b) => two(binary_key(*op), a, b),
        ExprKind::ExtCall { func, args } => obj(vec![(
            ext_name(*func),
            Json::Array(args.iter().map(expr_json).collect()),
        )]),
        ExprKind::GetAttr { expr, attr } => obj(vec![(
            ".",
            obj(vec![("left", expr_json(expr)), ("attr", string(attr))]),
        )]),
        ExprKind::HasAttr { expr, attrs } => {
            let attr = match attrs.as_slice() {
                [one] => string(one),
                many => Json::Array(many.iter().map(|a| string(a)).collect()),
            };
            obj(vec![(
                "has",
                obj(vec![("left", expr_json(expr)), ("attr", attr)]),
            )])
        }
        ExprKind::Like { expr, pattern } => {
            let elems = pattern
                .elems()
                .iter()
                .map(|el| match el {
                    PatternElem::Wildcard => string("Wildcard"),
                    PatternElem::Char(c) => obj(vec![(
                        "Literal",
                        Json::String(SmolStr::from(c.to_string())),
                    )]),
                })
                .collect();
            obj(vec![(
                "like",
                obj(vec![
                    ("left", expr_json(expr)),
                    ("pattern", Json::Array(elems)),
                ]),
            )])
        }
        ExprKind::Is {
            expr,
            entity_type,
            in_expr,
        } => {
            let mut entries = vec![
                ("left", expr_json(expr)),
                ("entity_type", entity_type_json(entity_type)),
            ];
            if let Some(in_expr) = in_expr {
                entries.push(("in", expr_json(in_expr)));
            }
            obj(vec![("is", obj(entries))])
        }
        ExprKind::Set(items) => obj(vec![(
            "Set",
            Json::Array(items.iter().map(expr_json).collect()),
        )]),
        ExprKind::Record(attrs) => {
            let mut entries: Vec<(SmolStr, Json)> = attrs
                .iter()
                .map(|(k, v)| (SmolStr::from(&**k), expr_json(v)))
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            obj(vec![("Record", Json::Object(entries))])
        }
    }
}

fn slot_name(s: SlotId) -> &'static str {
    s.name()
}

fn ext_name(f: ExtFn) -> &'static str {
    f.name()
}
