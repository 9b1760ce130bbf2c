//! Lowering: a policy set's AST to a [`Program`].
//!
//! Each active policy gets its own code: a template link's slots become constants (a slot
//! without a value becomes an instruction raising the interpreter's unlinked-slot error). Every
//! condition's expression is compiled in evaluation order, with jumps for `&&`, `||` and `if`,
//! and ends in [`Op::Require`]. Literals become constants, and so do sets and records whose
//! elements are all literals.
//!
//! [`lower_typed`] also takes the validator's [`PolicySetTypes`] and specialises the policies
//! that have them: a node whose type is one boolean (`True` or `False`) and whose evaluation
//! cannot fail or depend on the entity store becomes that constant (and a condition that is
//! then always met disappears), and the right operand of `&&` or `||` whose type is boolean
//! is not checked again. Lowering recurses over the expression
//! tree at most [`MAX_EVAL_DEPTH`] levels (deeper subexpressions become a failing instruction,
//! as evaluating them fails) and grows the stack on demand, so it never overflows.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::Arc;

use thuja_runtime::error::MAX_EVAL_DEPTH;
use thuja_runtime::{EntityUid, EvalError, Value};

use super::{CompiledPolicy, Constants, Op, Program};
use crate::ast::{
    ActionConstraint, BinaryOp, EntityRef, Expr, ExprKind, Literal, PolicySet, ScopeConstraint,
    SlotId, UnaryOp, Var,
};
use crate::index::ScopeIndex;
use crate::source::Span;
use crate::validator::types::{BoolType, Type};
use crate::validator::{NodeTypes, PolicySetTypes};

/// Compiles every active policy of `set`, with its scope index.
pub fn lower(set: &PolicySet) -> Program {
    lower_typed(set, None)
}

/// Compiles every active policy of `set`, specialising those that `types` (the validator's
/// [`expression_types`](crate::validator::expression_types) of `set` against a schema) has.
///
/// The program then answers as [`lower`]'s does for requests and entities that conform to that
/// schema (see [`PolicySetTypes`]); for others it may not.
pub fn lower_typed(set: &PolicySet, types: Option<&PolicySetTypes>) -> Program {
    let index = ScopeIndex::build(set);
    let mut b = Builder::default();
    let mut policies = Vec::with_capacity(index.len());
    // The index numbers at most 2^32 policies; the program has the same ones.
    for (n, active) in set.active().take(index.len()).enumerate() {
        let policy = active.policy;
        let start = b.code.len();
        b.slots = active.slots;
        let policy_types = types.and_then(|t| t.at(n, active.id));
        b.typed = policy_types.map(|t| t.nodes(policy));
        let unresolved = u32::try_from(n).is_ok_and(|n| index.unresolved().contains(n));
        if unresolved {
            b.scope(Var::Principal, &policy.principal, policy.span);
            b.action_scope(&policy.action, policy.span);
            b.scope(Var::Resource, &policy.resource, policy.span);
        }
        for condition in &policy.conditions {
            let when = condition.kind == crate::ast::ConditionKind::When;
            if b.known_bool(&condition.body, 0) == Some(when) {
                continue;
            }
            b.expr(&condition.body, 0);
            b.emit(Op::Require(when), condition.body.span);
        }
        policies.push(CompiledPolicy {
            id: active.id.clone(),
            effect: policy.effect,
            typed: policy_types.is_some(),
            code: start..b.code.len(),
            source: policy.source.clone(),
        });
    }
    Program {
        index,
        policies,
        code: b.code,
        spans: b.spans,
        constants: Constants {
            values: b.values.items,
            names: b.names.items,
            name_lists: b.name_lists.items,
            patterns: b.patterns.items,
            types: b.types.items,
            errors: b.errors,
        },
    }
}

/// Constants numbered in the order first seen, each stored once.
struct Pool<T> {
    items: Vec<T>,
    numbers: HashMap<T, u32>,
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool {
            items: Vec::new(),
            numbers: HashMap::new(),
        }
    }
}

impl<T: Clone + Eq + Hash> Pool<T> {
    fn add(&mut self, item: T) -> u32 {
        if let Some(&n) = self.numbers.get(&item) {
            return n;
        }
        let n = number(self.items.len());
        self.items.push(item.clone());
        self.numbers.insert(item, n);
        n
    }
}

/// A position or count as an operand. Programs stay far below 2^32 instructions and constants;
/// were one not to, the VM finds the operand out of range and fails closed.
fn number(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[derive(Default)]
struct Builder<'a> {
    code: Vec<Op>,
    spans: Vec<Span>,
    values: Pool<Value>,
    names: Pool<Arc<str>>,
    name_lists: Pool<Vec<Arc<str>>>,
    patterns: Pool<thuja_runtime::Pattern>,
    types: Pool<thuja_runtime::EntityType>,
    errors: Vec<EvalError>,
    /// The slot values of the link being compiled.
    slots: Option<&'a BTreeMap<SlotId, EntityUid>>,
    /// The expression types of the policy being compiled, if it has them.
    typed: Option<NodeTypes<'a>>,
}

impl<'a> Builder<'a> {
    /// Appends an instruction; returns its position.
    fn emit(&mut self, op: Op, span: Span) -> usize {
        self.code.push(op);
        self.spans.push(span);
        self.code.len() - 1
    }

    /// Points the jump at `at` to the next instruction's position.
    fn patch(&mut self, at: usize) {
        let here = number(self.code.len());
        if let Some(op) = self.code.get_mut(at) {
            match op {
                Op::Jump(t) | Op::JumpIfFalse(t) => *t = here,
                Op::ShortCircuit { target, .. } | Op::IsOrJump { target, .. } => *target = here,
                _ => {}
            }
        }
    }

    fn push_value(&mut self, v: Value, span: Span) {
        let n = self.values.add(v);
        self.emit(Op::Push(n), span);
    }

    fn fail(&mut self, error: EvalError, span: Span) {
        let n = number(self.errors.len());
        self.errors.push(error);
        self.emit(Op::Fail(n), span);
    }

    /// Pushes a slot's value, or raises the unlinked-slot error.
    fn slot(&mut self, slot: SlotId, span: Span) {
        match self.slots.and_then(|s| s.get(&slot)) {
            Some(uid) => self.push_value(Value::Entity(uid.clone()), span),
            None => self.fail(EvalError::UnlinkedSlot(slot.name()), span),
        }
    }

    fn entity_ref(&mut self, r: &EntityRef, span: Span) {
        match r {
            EntityRef::Uid(uid) => self.push_value(Value::Entity(uid.clone()), span),
            EntityRef::Slot(slot) => self.slot(*slot, span),
        }
    }

    /// A principal or resource scope check, as the interpreter makes it (only for policies
    /// the index cannot decide).
    fn scope(&mut self, var: Var, constraint: &ScopeConstraint, span: Span) {
        let holds = |b: &mut Self, op: Op| {
            b.emit(op, span);
            b.emit(Op::Require(true), span);
        };
        match constraint {
            ScopeConstraint::Any => {}
            ScopeConstraint::Eq(r) | ScopeConstraint::In(r) => {
                self.emit(Op::Var(var), span);
                self.entity_ref(r, span);
                let op = if matches!(constraint, ScopeConstraint::Eq(_)) {
                    BinaryOp::Eq
                } else {
                    BinaryOp::In
                };
                holds(self, Op::Binary(op));
            }
            ScopeConstraint::Is(ty) | ScopeConstraint::IsIn(ty, _) => {
                self.emit(Op::Var(var), span);
                let ty = self.types.add(ty.clone());
                holds(self, Op::Is(ty));
                if let ScopeConstraint::IsIn(_, r) = constraint {
                    self.emit(Op::Var(var), span);
                    self.entity_ref(r, span);
                    holds(self, Op::Binary(BinaryOp::In));
                }
            }
        }
    }

    fn action_scope(&mut self, constraint: &ActionConstraint, span: Span) {
        let (target, op) = match constraint {
            ActionConstraint::Any => return,
            ActionConstraint::Eq(a) => (Value::Entity(a.clone()), BinaryOp::Eq),
            ActionConstraint::In(groups) => (
                Value::Set(groups.iter().cloned().map(Value::Entity).collect()),
                BinaryOp::In,
            ),
        };
        self.emit(Op::Var(Var::Action), span);
        self.push_value(target, span);
        self.emit(Op::Binary(op), span);
        self.emit(Op::Require(true), span);
    }

    /// Code that pushes the value of `e`, found `depth` levels below its condition's root.
    fn expr(&mut self, e: &Expr, depth: usize) {
        if depth >= MAX_EVAL_DEPTH {
            self.fail(EvalError::RecursionLimit, e.span);
            return;
        }
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.expr_kind(e, depth + 1));
    }

    /// The value of `e`, found `depth` levels below its condition's root, when its type is one
    /// boolean and evaluating it can neither fail nor depend on the entity store. A subtree
    /// reaching [`MAX_EVAL_DEPTH`] could fail with the recursion limit, so it is not known.
    fn known_bool(&self, e: &Expr, depth: usize) -> Option<bool> {
        if depth.saturating_add(e.height()) > MAX_EVAL_DEPTH {
            return None;
        }
        let value = match self.typed.as_ref()?.type_of(e)? {
            Type::Bool(BoolType::True) => true,
            Type::Bool(BoolType::False) => false,
            _ => return None,
        };
        store_free_and_infallible(e).then_some(value)
    }

    /// Whether `e`'s type says it is a boolean.
    fn known_boolean(&self, e: &Expr) -> bool {
        self.typed
            .as_ref()
            .and_then(|t| t.type_of(e))
            .is_some_and(|t| matches!(t, Type::Bool(_)))
    }

    /// `e`'s code, its subexpressions being at `depth`.
    fn expr_kind(&mut self, e: &Expr, depth: usize) {
        let span = e.span;
        if let Some(value) = self.known_bool(e, depth.saturating_sub(1)) {
            self.push_value(Value::Bool(value), span);
            return;
        }
        match &e.kind {
            ExprKind::Lit(lit) => self.push_value(literal(lit), span),
            ExprKind::Var(var) => {
                self.emit(Op::Var(*var), span);
            }
            ExprKind::Slot(slot) => self.slot(*slot, span),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.expr(cond, depth);
                let to_else = self.emit(Op::JumpIfFalse(0), cond.span);
                self.expr(then, depth);
                let to_end = self.emit(Op::Jump(0), span);
                self.patch(to_else);
                self.expr(otherwise, depth);
                self.patch(to_end);
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let when = matches!(e.kind, ExprKind::Or(..));
                self.expr(a, depth);
                let skip = self.emit(Op::ShortCircuit { when, target: 0 }, a.span);
                self.expr(b, depth);
                if !self.known_boolean(b) {
                    self.emit(Op::CheckBool, b.span);
                }
                self.patch(skip);
            }
            ExprKind::Unary(op, arg) => {
                self.expr(arg, depth);
                self.emit(Op::Unary(*op), span);
            }
            ExprKind::Binary(op, a, b) => {
                self.expr(a, depth);
                self.expr(b, depth);
                self.emit(Op::Binary(*op), span);
            }
            ExprKind::ExtCall { func, args } => {
                for a in args {
                    self.expr(a, depth);
                }
                let argc = number(args.len());
                self.emit(Op::Call { func: *func, argc }, span);
            }
            ExprKind::GetAttr { expr, attr } => {
                self.expr(expr, depth);
                let n = self.names.add(attr.clone());
                self.emit(Op::GetAttr(n), span);
            }
            ExprKind::HasAttr { expr, attrs } => {
                self.expr(expr, depth);
                let n = self.name_lists.add(attrs.clone());
                self.emit(Op::HasAttrs(n), span);
            }
            ExprKind::Like { expr, pattern } => {
                self.expr(expr, depth);
                let n = self.patterns.add(pattern.clone());
                self.emit(Op::Like(n), span);
            }
            ExprKind::Is {
                expr,
                entity_type,
                in_expr,
            } => {
                self.expr(expr, depth);
                let ty = self.types.add(entity_type.clone());
                match in_expr {
                    None => {
                        self.emit(Op::Is(ty), span);
                    }
                    Some(target) => {
                        let skip = self.emit(Op::IsOrJump { ty, target: 0 }, span);
                        self.expr(target, depth);
                        self.emit(Op::InTarget, span);
                        self.patch(skip);
                    }
                }
            }
            ExprKind::Set(items) => {
                let start = self.code.len();
                for item in items {
                    self.expr(item, depth);
                }
                match self.pushed_constants(start, items.len()) {
                    Some(values) => self.push_value(Value::Set(values.into_iter().collect()), span),
                    None => {
                        self.emit(Op::MakeSet(number(items.len())), span);
                    }
                }
            }
            ExprKind::Record(attrs) => {
                let start = self.code.len();
                for (_, v) in attrs {
                    self.expr(v, depth);
                }
                let keys: Vec<Arc<str>> = attrs.iter().map(|(k, _)| k.clone()).collect();
                match self.pushed_constants(start, attrs.len()) {
                    Some(values) => {
                        let record = keys.into_iter().zip(values).collect();
                        self.push_value(Value::Record(record), span);
                    }
                    None => {
                        let n = self.name_lists.add(keys);
                        self.emit(Op::MakeRecord(n), span);
                    }
                }
            }
        }
    }

    /// When the code from `start` is exactly `n` pushes of constants, removes it and returns
    /// their values (for folding a literal set or record).
    fn pushed_constants(&mut self, start: usize, n: usize) -> Option<Vec<Value>> {
        let pushed = self.code.get(start..)?;
        if pushed.len() != n {
            return None;
        }
        let values = pushed
            .iter()
            .map(|op| match op {
                Op::Push(i) => self.values.items.get(*i as usize).cloned(),
                _ => None,
            })
            .collect::<Option<Vec<Value>>>()?;
        self.code.truncate(start);
        self.spans.truncate(start);
        Some(values)
    }
}

/// Whether evaluating `e` (well typed, on conforming data) can neither fail nor look at the
/// entity store beyond ancestry: literals, variables, `==`, `!=`, `in`, `is`, the boolean
/// operators and `if`, and sets and records of those. Attribute and tag access can fail on a
/// missing entity, and `has` of a missing entity is false whatever the schema says.
fn store_free_and_infallible(e: &Expr) -> bool {
    let mut stack = vec![e];
    while let Some(node) = stack.pop() {
        let allowed = matches!(
            &node.kind,
            ExprKind::Lit(_)
                | ExprKind::Var(_)
                | ExprKind::If { .. }
                | ExprKind::And(..)
                | ExprKind::Or(..)
                | ExprKind::Unary(UnaryOp::Not, _)
                | ExprKind::Binary(BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::In, _, _)
                | ExprKind::Is { .. }
                | ExprKind::Set(_)
                | ExprKind::Record(_)
        );
        if !allowed {
            return false;
        }
        stack.extend(node.children());
    }
    true
}

fn literal(lit: &Literal) -> Value {
    match lit {
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Long(i) => Value::Long(*i),
        Literal::String(s) => Value::String(s.clone()),
        Literal::Entity(uid) => Value::Entity(uid.clone()),
    }
}
