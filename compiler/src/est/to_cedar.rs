//! Policies read from Cedar's JSON policy format, printed as Cedar text exactly as
//! `cedar-policy` 4.x prints them (`PolicySet::to_cedar`, which `cedar translate-policy
//! --direction json-to-cedar` prints): byte for byte the same text.
//!
//! Cedar prints such a policy from its evaluation AST, not from the JSON, so the text shows what
//! that AST keeps and loses:
//!
//! - the scope on three lines (`permit(\n  principal,\n  action in [A],\n  resource\n)`), an
//!   action `in` always as a list, uids joined by `,` without a space;
//! - annotations sorted by key, each on its own line, a bare `@key` as `@key("")`;
//! - every `when`/`unless` clause joined into one `when { c1 && (c2 && c3) }`, an `unless`
//!   clause as `!(..)`;
//! - `a != b` as `!(a == b)`, `a > b` as `!(a <= b)`, `a >= b` as `!(a < b)`, and
//!   `e is T in x` as `(e is T) && (e in x)`;
//! - `&&`/`||` of two boolean literals as the literal it makes (`true && false` is `false`),
//!   bottom-up;
//! - record literals with their keys sorted;
//! - operands in parentheses unless they are atoms (literals, variables, sets, records, member
//!   accesses, method and function calls), except the left operand of `&&`, `||`, `+`, `-`, `*`
//!   that is the same operator; a negative number as `(-1)` and a negation as `-(..)`;
//! - extension functions called as methods or functions by their name, whatever the JSON said;
//! - strings, entity ids, attribute names and annotation values escaped as Rust's
//!   `str::escape_debug` does, `like` patterns character by character (with `\*` for a literal
//!   star).
//!
//! The policies should be as read from JSON ([`super::policy_set_from_json_str`]), which keeps
//! the tree the JSON describes. A policy set with template links has no such text: it is an
//! error, with the `cedar` CLI's message for links. (`cedar-policy` 4.14.1 itself prints a link
//! read from JSON as `Template Instance of t, slots: [...]`, which is not Cedar text and lists
//! the slots in hash order; Thuja does not copy that.) Nor has a policy whose text would be more
//! than [`MAX_EXPANSION`] times its size (nested `is ... in`, whose left operand Cedar prints
//! twice): the check is linear, the printing then too.

use std::collections::HashMap;
use std::fmt::Write;

use thuja_runtime::EntityUid;
use thuja_runtime::name::{RESERVED_NAMESPACE, is_identifier, is_reserved_identifier};

use crate::ast::expr::{BinaryOp, Expr, ExprKind, Literal, UnaryOp};
use crate::ast::policy::{
    ActionConstraint, Condition, ConditionKind, Effect, EntityRef, Policy, PolicySet,
    ScopeConstraint,
};

/// How many times longer than the policy itself its Cedar text may be. Cedar's AST holds
/// `e is T in x` as `(e is T) && (e in x)`, so the text repeats `e`; nested in one another's
/// operands, `is ... in`s repeat it exponentially often. Legitimate policies stay far below this;
/// a policy above it is refused rather than printed in exponential time and space.
pub const MAX_EXPANSION: u64 = 16;

/// Why a policy set has no Cedar text as Cedar prints it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToCedarError {
    /// It links templates (Cedar's text has no links); the message is the `cedar` CLI's.
    #[error("Unable to translate policy set containing template linked policies.")]
    HasLinks,
    /// Nested `is ... in` operands would repeat the text more than [`MAX_EXPANSION`] times.
    #[error(
        "policy `{0}` would print more than {MAX_EXPANSION} times its own size: Cedar's text repeats the operand of `is ... in`, and this policy nests them"
    )]
    TooLarge(String),
}

/// The policy set as `cedar-policy`'s `PolicySet::to_cedar` prints it: static policies sorted by
/// id, then templates sorted by id, separated by a blank line, with no newline at the end.
pub fn policy_set_to_cedar(set: &PolicySet) -> Result<String, ToCedarError> {
    if !set.links().is_empty() {
        return Err(ToCedarError::HasLinks);
    }
    for p in set.policies() {
        let (size, printed) = p
            .conditions
            .iter()
            .map(|c| sizes(&c.body, 1))
            .fold((1u64, 1u64), |(a, b), (c, d)| {
                (a.saturating_add(c), b.saturating_add(d))
            });
        if printed > size.saturating_mul(MAX_EXPANSION) {
            return Err(ToCedarError::TooLarge(p.id.to_string()));
        }
    }
    let mut statics: Vec<&Policy> = set.policies().iter().filter(|p| !p.is_template()).collect();
    let mut templates: Vec<&Policy> = set.policies().iter().filter(|p| p.is_template()).collect();
    statics.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    templates.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    Ok(statics
        .into_iter()
        .chain(templates)
        .map(policy_to_cedar)
        .collect::<Vec<_>>()
        .join("\n\n"))
}

/// One policy or template as `cedar-policy` prints it when read from JSON.
pub fn policy_to_cedar(policy: &Policy) -> String {
    let mut out = String::new();
    let mut annotations: Vec<_> = policy.annotations.iter().collect();
    annotations.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
    for a in annotations {
        out.push('@');
        out.push_str(&a.key);
        out.push_str("(\"");
        push_escaped(&mut out, &a.value);
        out.push_str("\")\n");
    }
    out.push_str(match policy.effect {
        Effect::Permit => "permit",
        Effect::Forbid => "forbid",
    });
    out.push_str("(\n  ");
    push_scope(&mut out, "principal", &policy.principal);
    out.push_str(",\n  ");
    push_action(&mut out, &policy.action);
    out.push_str(",\n  ");
    push_scope(&mut out, "resource", &policy.resource);
    out.push_str("\n)");
    if policy.conditions.is_empty() {
        out.push(';');
    } else {
        let mut printer = Printer::new(&policy.conditions);
        out.push_str(" when {\n  ");
        printer.write(&mut out, Node::Conditions(0));
        out.push_str("\n};");
    }
    out
}

/// The size of an expression (its nodes and the bytes of its strings), and the size of its
/// Cedar text when it is printed `copies` times, counting the operands `is ... in` repeats.
fn sizes(e: &Expr, copies: u64) -> (u64, u64) {
    stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || {
        let own: u64 = match &e.kind {
            ExprKind::Lit(Literal::String(s)) => s.len() as u64,
            ExprKind::Lit(Literal::Entity(uid)) => uid.id().len() as u64,
            ExprKind::GetAttr { attr, .. } => attr.len() as u64,
            ExprKind::HasAttr { attrs, .. } => attrs.iter().map(|a| a.len() as u64).sum(),
            ExprKind::Like { pattern, .. } => pattern.elems().len() as u64,
            ExprKind::Record(attrs) => attrs.iter().map(|(k, _)| k.len() as u64).sum(),
            _ => 0,
        }
        .saturating_add(1);
        let mut size = own;
        let mut printed = own.saturating_mul(copies);
        let mut add = |child: &Expr, copies: u64| {
            let (s, p) = sizes(child, copies);
            size = size.saturating_add(s);
            printed = printed.saturating_add(p);
        };
        match &e.kind {
            ExprKind::Is {
                expr,
                in_expr: Some(in_expr),
                ..
            } => {
                add(expr, copies.saturating_mul(2));
                add(in_expr, copies);
            }
            _ => {
                for child in e.children() {
                    add(child, copies);
                }
            }
        }
        (size, printed)
    })
}

fn push_escaped(out: &mut String, s: &str) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{}", s.escape_debug());
}

fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    push_escaped(out, s);
    out.push('"');
}

fn push_uid(out: &mut String, uid: &EntityUid) {
    out.push_str(uid.entity_type().as_str());
    out.push_str("::");
    push_quoted(out, uid.id());
}

fn push_ref(out: &mut String, r: &EntityRef) {
    match r {
        EntityRef::Uid(uid) => push_uid(out, uid),
        EntityRef::Slot(slot) => out.push_str(slot.name()),
    }
}

fn push_scope(out: &mut String, var: &str, c: &ScopeConstraint) {
    out.push_str(var);
    match c {
        ScopeConstraint::Any => {}
        ScopeConstraint::Eq(r) => {
            out.push_str(" == ");
            push_ref(out, r);
        }
        ScopeConstraint::In(r) => {
            out.push_str(" in ");
            push_ref(out, r);
        }
        ScopeConstraint::Is(ty) => {
            out.push_str(" is ");
            out.push_str(ty.as_str());
        }
        ScopeConstraint::IsIn(ty, r) => {
            out.push_str(" is ");
            out.push_str(ty.as_str());
            out.push_str(" in ");
            push_ref(out, r);
        }
    }
}

fn push_action(out: &mut String, c: &ActionConstraint) {
    match c {
        ActionConstraint::Any => out.push_str("action"),
        ActionConstraint::Eq(uid) => {
            out.push_str("action == ");
            push_uid(out, uid);
        }
        ActionConstraint::In(uids) => {
            out.push_str("action in [");
            for (i, uid) in uids.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_uid(out, uid);
            }
            out.push(']');
        }
    }
}

/// An attribute name Cedar prints bare (`e.a`, `e has a`, `{a: 1}`): an identifier that is not
/// reserved.
fn is_plain_name(s: &str) -> bool {
    is_identifier(s) && !is_reserved_identifier(s) && s != RESERVED_NAMESPACE
}

/// A node of the expression Cedar prints: a node of the policy's tree as Cedar's AST holds it,
/// or one Cedar makes of the conditions.
#[derive(Clone, Copy)]
enum Node<'a> {
    /// A boolean literal that `&&`/`||` of literals folded into.
    Bool(bool),
    /// A node of the tree (which does not fold into a literal).
    Expr(&'a Expr),
    /// `!e`: an `unless` clause.
    Not(&'a Expr),
    /// The conditions from this one on, joined by `&&` to the right.
    Conditions(usize),
}

/// How a node prints as an operand.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Never in parentheses.
    Atom,
    /// In parentheses, except as the left operand of the same operator.
    And,
    Or,
    Add,
    Sub,
    Mul,
    /// Always in parentheses.
    Compound,
}

struct Printer<'a> {
    conditions: &'a [Condition],
    /// For each condition, the literal the conditions from it on fold into, if they do.
    conditions_fold: Vec<Option<bool>>,
    /// The literal each `&&`/`||` node (by address) folds into, if it does.
    folds: HashMap<usize, Option<bool>>,
}

impl<'a> Printer<'a> {
    fn new(conditions: &'a [Condition]) -> Self {
        let mut printer = Printer {
            conditions,
            conditions_fold: vec![None; conditions.len()],
            folds: HashMap::new(),
        };
        // Cedar folds the conditions from the last one back: `c1 && (c2 && c3)`.
        let mut rest: Option<bool> = None;
        for (i, c) in conditions.iter().enumerate().rev() {
            let this = match c.kind {
                ConditionKind::When => printer.fold(&c.body),
                ConditionKind::Unless => None,
            };
            rest = if i + 1 == conditions.len() {
                this
            } else {
                match (this, rest) {
                    (Some(a), Some(b)) => Some(a && b),
                    _ => None,
                }
            };
            if let Some(slot) = printer.conditions_fold.get_mut(i) {
                *slot = rest;
            }
        }
        printer
    }

    /// The boolean literal `e` is in Cedar's AST, where `&&` and `||` of two literals are
    /// folded as they are built, bottom-up.
    fn fold(&mut self, e: &Expr) -> Option<bool> {
        match &e.kind {
            ExprKind::Lit(Literal::Bool(b)) => Some(*b),
            ExprKind::And(l, r) | ExprKind::Or(l, r) => {
                let key = e as *const Expr as usize;
                if let Some(known) = self.folds.get(&key) {
                    return *known;
                }
                let folded = stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || {
                    let l = self.fold(l);
                    let r = self.fold(r);
                    match (l, r, &e.kind) {
                        (Some(a), Some(b), ExprKind::And(..)) => Some(a && b),
                        (Some(a), Some(b), _) => Some(a || b),
                        _ => None,
                    }
                });
                self.folds.insert(key, folded);
                folded
            }
            _ => None,
        }
    }

    fn node(&mut self, e: &'a Expr) -> Node<'a> {
        match self.fold(e) {
            Some(b) => Node::Bool(b),
            None => Node::Expr(e),
        }
    }

    /// The node condition `i` is: its body, or `!body` for `unless`.
    fn condition(&mut self, i: usize) -> Node<'a> {
        match self.conditions.get(i) {
            Some(c) if c.kind == ConditionKind::When => self.node(&c.body),
            Some(c) => Node::Not(&c.body),
            None => Node::Bool(true),
        }
    }

    fn shape(&mut self, n: Node<'a>) -> Shape {
        match n {
            Node::Bool(_) => Shape::Atom,
            Node::Not(_) => Shape::Compound,
            Node::Conditions(i) => {
                if i + 1 >= self.conditions.len() {
                    let c = self.condition(i);
                    self.shape(c)
                } else if self.conditions_fold.get(i).copied().flatten().is_some() {
                    Shape::Atom
                } else {
                    Shape::And
                }
            }
            Node::Expr(e) => match &e.kind {
                ExprKind::Lit(_)
                | ExprKind::Var(_)
                | ExprKind::Slot(_)
                | ExprKind::Set(_)
                | ExprKind::Record(_)
                | ExprKind::GetAttr { .. }
                | ExprKind::ExtCall { .. }
                | ExprKind::Unary(UnaryOp::IsEmpty, _) => Shape::Atom,
                ExprKind::Binary(op, _, _) => match op {
                    BinaryOp::Contains
                    | BinaryOp::ContainsAll
                    | BinaryOp::ContainsAny
                    | BinaryOp::GetTag
                    | BinaryOp::HasTag => Shape::Atom,
                    BinaryOp::Add => Shape::Add,
                    BinaryOp::Sub => Shape::Sub,
                    BinaryOp::Mul => Shape::Mul,
                    _ => Shape::Compound,
                },
                ExprKind::And(..) => Shape::And,
                ExprKind::Or(..) => Shape::Or,
                // `e is T in x` is `(e is T) && (e in x)` in Cedar's AST.
                ExprKind::Is {
                    in_expr: Some(_), ..
                } => Shape::And,
                _ => Shape::Compound,
            },
        }
    }

    /// An operand: in parentheses unless it is an atom.
    fn operand(&mut self, out: &mut String, n: Node<'a>) {
        if self.shape(n) == Shape::Atom {
            self.write(out, n);
        } else {
            out.push('(');
            self.write(out, n);
            out.push(')');
        }
    }

    /// A left-associative operator: the left operand needs no parentheses if it is the same
    /// operator.
    fn chain(&mut self, out: &mut String, shape: Shape, op: &str, l: Node<'a>, r: Node<'a>) {
        if self.shape(l) == shape {
            self.write(out, l);
        } else {
            self.operand(out, l);
        }
        out.push_str(op);
        self.operand(out, r);
    }

    fn infix(&mut self, out: &mut String, op: &str, l: Node<'a>, r: Node<'a>) {
        self.operand(out, l);
        out.push_str(op);
        self.operand(out, r);
    }

    /// `e.name(arg)`: a built-in method, its argument printed whole.
    fn method(&mut self, out: &mut String, receiver: Node<'a>, name: &str, arg: Node<'a>) {
        self.operand(out, receiver);
        out.push('.');
        out.push_str(name);
        out.push('(');
        self.write(out, arg);
        out.push(')');
    }

    fn list(&mut self, out: &mut String, items: &'a [Expr]) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let n = self.node(item);
            self.write(out, n);
        }
    }

    fn write(&mut self, out: &mut String, n: Node<'a>) {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.write_inner(out, n));
    }

    fn write_inner(&mut self, out: &mut String, n: Node<'a>) {
        match n {
            Node::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            Node::Not(e) => {
                out.push('!');
                let n = self.node(e);
                self.operand(out, n);
            }
            Node::Conditions(i) => {
                if i + 1 >= self.conditions.len() {
                    let c = self.condition(i);
                    self.write(out, c);
                } else if let Some(b) = self.conditions_fold.get(i).copied().flatten() {
                    self.write(out, Node::Bool(b));
                } else {
                    let first = self.condition(i);
                    self.chain(out, Shape::And, " && ", first, Node::Conditions(i + 1));
                }
            }
            Node::Expr(e) => self.write_expr(out, e),
        }
    }

    fn write_expr(&mut self, out: &mut String, e: &'a Expr) {
        match &e.kind {
            ExprKind::Lit(lit) => match lit {
                Literal::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                Literal::Long(i) if *i < 0 => {
                    let _ = write!(out, "({i})");
                }
                Literal::Long(i) => {
                    let _ = write!(out, "{i}");
                }
                Literal::String(s) => push_quoted(out, s),
                Literal::Entity(uid) => push_uid(out, uid),
            },
            ExprKind::Var(v) => out.push_str(v.name()),
            ExprKind::Slot(s) => out.push_str(s.name()),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                out.push_str("if ");
                let n = self.node(cond);
                self.write(out, n);
                out.push_str(" then ");
                let n = self.node(then);
                self.write(out, n);
                out.push_str(" else ");
                let n = self.node(otherwise);
                self.write(out, n);
            }
            ExprKind::And(l, r) | ExprKind::Or(l, r) => {
                if let Some(b) = self.fold(e) {
                    self.write(out, Node::Bool(b));
                    return;
                }
                let (shape, op) = match &e.kind {
                    ExprKind::And(..) => (Shape::And, " && "),
                    _ => (Shape::Or, " || "),
                };
                let (l, r) = (self.node(l), self.node(r));
                self.chain(out, shape, op, l, r);
            }
            ExprKind::Unary(op, arg) => {
                let arg = self.node(arg);
                match op {
                    UnaryOp::Not => {
                        out.push('!');
                        self.operand(out, arg);
                    }
                    UnaryOp::Neg => {
                        out.push_str("-(");
                        self.write(out, arg);
                        out.push(')');
                    }
                    UnaryOp::IsEmpty => {
                        self.operand(out, arg);
                        out.push_str(".isEmpty()");
                    }
                }
            }
            ExprKind::Binary(op, l, r) => {
                let (l, r) = (self.node(l), self.node(r));
                match op {
                    BinaryOp::Eq => self.infix(out, " == ", l, r),
                    BinaryOp::Less => self.infix(out, " < ", l, r),
                    BinaryOp::LessEq => self.infix(out, " <= ", l, r),
                    BinaryOp::In => self.infix(out, " in ", l, r),
                    // Cedar's AST has no `!=`, `>`, `>=`: they are `!(==)`, `!(<=)`, `!(<)`.
                    BinaryOp::NotEq => self.negated(out, " == ", l, r),
                    BinaryOp::Greater => self.negated(out, " <= ", l, r),
                    BinaryOp::GreaterEq => self.negated(out, " < ", l, r),
                    BinaryOp::Add => self.chain(out, Shape::Add, " + ", l, r),
                    BinaryOp::Sub => self.chain(out, Shape::Sub, " - ", l, r),
                    BinaryOp::Mul => self.chain(out, Shape::Mul, " * ", l, r),
                    BinaryOp::Contains => self.method(out, l, "contains", r),
                    BinaryOp::ContainsAll => self.method(out, l, "containsAll", r),
                    BinaryOp::ContainsAny => self.method(out, l, "containsAny", r),
                    BinaryOp::GetTag => self.method(out, l, "getTag", r),
                    BinaryOp::HasTag => self.method(out, l, "hasTag", r),
                }
            }
            ExprKind::ExtCall { func, args } => match args.split_first() {
                Some((receiver, rest)) if func.is_method() => {
                    let n = self.node(receiver);
                    self.operand(out, n);
                    out.push('.');
                    out.push_str(func.name());
                    out.push('(');
                    self.list(out, rest);
                    out.push(')');
                }
                _ => {
                    out.push_str(func.name());
                    out.push('(');
                    self.list(out, args);
                    out.push(')');
                }
            },
            ExprKind::GetAttr { expr, attr } => {
                let n = self.node(expr);
                self.operand(out, n);
                if is_plain_name(attr) {
                    out.push('.');
                    out.push_str(attr);
                } else {
                    out.push('[');
                    push_quoted(out, attr);
                    out.push(']');
                }
            }
            ExprKind::HasAttr { expr, attrs } => {
                let n = self.node(expr);
                self.operand(out, n);
                out.push_str(" has ");
                for (i, attr) in attrs.iter().enumerate() {
                    if i > 0 {
                        out.push('.');
                    }
                    if is_plain_name(attr) {
                        out.push_str(attr);
                    } else {
                        push_quoted(out, attr);
                    }
                }
            }
            ExprKind::Like { expr, pattern } => {
                let n = self.node(expr);
                self.operand(out, n);
                out.push_str(" like \"");
                for elem in pattern.elems() {
                    match elem {
                        thuja_runtime::PatternElem::Wildcard => out.push('*'),
                        thuja_runtime::PatternElem::Char('*') => out.push_str("\\*"),
                        thuja_runtime::PatternElem::Char(c) => {
                            let _ = write!(out, "{}", c.escape_debug());
                        }
                    }
                }
                out.push('"');
            }
            ExprKind::Is {
                expr,
                entity_type,
                in_expr,
            } => {
                let n = self.node(expr);
                match in_expr {
                    None => {
                        self.operand(out, n);
                        out.push_str(" is ");
                        out.push_str(entity_type.as_str());
                    }
                    Some(in_expr) => {
                        // `(e is T) && (e in x)`, as Cedar's AST holds it.
                        out.push('(');
                        self.operand(out, n);
                        out.push_str(" is ");
                        out.push_str(entity_type.as_str());
                        out.push_str(") && (");
                        self.operand(out, n);
                        out.push_str(" in ");
                        let x = self.node(in_expr);
                        self.operand(out, x);
                        out.push(')');
                    }
                }
            }
            ExprKind::Set(items) => {
                out.push('[');
                self.list(out, items);
                out.push(']');
            }
            ExprKind::Record(attrs) => {
                let mut sorted: Vec<_> = attrs.iter().collect();
                sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                out.push('{');
                for (i, (key, value)) in sorted.into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if is_plain_name(key) {
                        out.push_str(key);
                    } else {
                        push_quoted(out, key);
                    }
                    out.push_str(": ");
                    let n = self.node(value);
                    self.write(out, n);
                }
                out.push('}');
            }
        }
    }

    /// `!(l op r)`: how Cedar's AST holds `!=`, `>` and `>=`.
    fn negated(&mut self, out: &mut String, op: &str, l: Node<'a>, r: Node<'a>) {
        out.push_str("!(");
        self.infix(out, op, l, r);
        out.push(')');
    }
}
