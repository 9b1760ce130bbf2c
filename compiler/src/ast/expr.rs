//! Cedar expressions.
//!
//! An expression is a tree as deep as its operators chain: `a && b && c` is `(a && b) && c`, so
//! a chain of `n` operators written on one line is `n` levels deep. Every node knows its height
//! ([`Expr::height`]), the parser refuses trees taller than [`MAX_EXPR_DEPTH`], and the walks
//! every tree gets whether it is tall or not (`Clone`, `PartialEq`, `Debug`) grow the stack on
//! demand; dropping a tree is iterative. So no expression overflows the stack, however it was
//! built.

use std::fmt;
use std::sync::Arc;

use thuja_runtime::{EntityType, EntityUid, ExtFn, Pattern};

use crate::source::Span;

/// How tall an expression tree may be: the parser rejects, with a located error, an expression
/// whose tree is deeper than this, counting every node on the way down (a left-associated chain
/// of `n` operators is `n` deep, parentheses are not nodes). Every walk over expressions recurses
/// at most this deep (and grows its stack on demand), so this bounds the stack and time any of
/// them needs. It is above [`thuja_runtime::error::MAX_EVAL_DEPTH`]: an expression the evaluators
/// stop with a recursion-limit error still parses, as in Cedar.
pub const MAX_EXPR_DEPTH: usize = 10_000;

/// An expression and the source it was parsed from.
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// The height of the tree: 1 for a leaf, one more than its tallest child otherwise.
    height: u32,
}

/// The request variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Var {
    Principal,
    Action,
    Resource,
    Context,
}

/// Template slots: placeholders for an entity, filled in when a template is linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SlotId {
    Principal,
    Resource,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Literal {
    Bool(bool),
    Long(i64),
    String(Arc<str>),
    Entity(EntityUid),
}

/// Operators of one operand. `IsEmpty` is the `.isEmpty()` method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Not,
    Neg,
    IsEmpty,
}

/// Operators of two operands. The last five are the built-in methods
/// (`a.contains(b)`, ..., `e.hasTag(t)`), whose receiver is the left operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Eq,
    NotEq,
    Less,
    LessEq,
    Greater,
    GreaterEq,
    Add,
    Sub,
    Mul,
    In,
    Contains,
    ContainsAll,
    ContainsAny,
    GetTag,
    HasTag,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExprKind {
    Lit(Literal),
    Var(Var),
    Slot(SlotId),
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// An extension function call; for a method the receiver is the first argument.
    ExtCall {
        func: ExtFn,
        args: Vec<Expr>,
    },
    /// `e.attr` or `e["attr"]`.
    GetAttr {
        expr: Box<Expr>,
        attr: Arc<str>,
    },
    /// `e has a` or `e has a.b.c` (at least one attribute): true when every prefix path exists.
    HasAttr {
        expr: Box<Expr>,
        attrs: Vec<Arc<str>>,
    },
    Like {
        expr: Box<Expr>,
        pattern: Pattern,
    },
    /// `e is T`, or `e is T in E` when `in_expr` is present.
    Is {
        expr: Box<Expr>,
        entity_type: EntityType,
        in_expr: Option<Box<Expr>>,
    },
    Set(Vec<Expr>),
    /// Attributes in source order (keys are unique).
    Record(Vec<(Arc<str>, Expr)>),
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        let height = kind_height(&kind);
        Expr { kind, span, height }
    }

    /// The height of the expression's tree: 1 for a leaf (a literal, variable or slot, or an
    /// empty set or record), one more than its tallest subexpression otherwise.
    pub fn height(&self) -> usize {
        self.height as usize
    }

    /// The immediate subexpressions, in evaluation order.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Lit(_) | ExprKind::Var(_) | ExprKind::Slot(_) => vec![],
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => vec![cond, then, otherwise],
            ExprKind::And(a, b) | ExprKind::Or(a, b) | ExprKind::Binary(_, a, b) => vec![a, b],
            ExprKind::Unary(_, e)
            | ExprKind::GetAttr { expr: e, .. }
            | ExprKind::HasAttr { expr: e, .. }
            | ExprKind::Like { expr: e, .. } => vec![e],
            ExprKind::Is { expr, in_expr, .. } => {
                let mut v = vec![expr.as_ref()];
                v.extend(in_expr.as_deref());
                v
            }
            ExprKind::ExtCall { args, .. } | ExprKind::Set(args) => args.iter().collect(),
            ExprKind::Record(attrs) => attrs.iter().map(|(_, e)| e).collect(),
        }
    }

    /// Whether a template slot appears anywhere in the expression.
    pub fn has_slot(&self) -> bool {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            if matches!(e.kind, ExprKind::Slot(_)) {
                return true;
            }
            stack.extend(e.children());
        }
        false
    }
}

/// The height of a node of this kind: one more than its tallest child.
fn kind_height(kind: &ExprKind) -> u32 {
    let h = |e: &Expr| e.height;
    let tallest = match kind {
        ExprKind::Lit(_) | ExprKind::Var(_) | ExprKind::Slot(_) => 0,
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => h(cond).max(h(then)).max(h(otherwise)),
        ExprKind::And(a, b) | ExprKind::Or(a, b) | ExprKind::Binary(_, a, b) => h(a).max(h(b)),
        ExprKind::Unary(_, e)
        | ExprKind::GetAttr { expr: e, .. }
        | ExprKind::HasAttr { expr: e, .. }
        | ExprKind::Like { expr: e, .. } => h(e),
        ExprKind::Is { expr, in_expr, .. } => h(expr).max(in_expr.as_deref().map_or(0, h)),
        ExprKind::ExtCall { args, .. } | ExprKind::Set(args) => {
            args.iter().map(h).max().unwrap_or(0)
        }
        ExprKind::Record(attrs) => attrs.iter().map(|(_, e)| h(e)).max().unwrap_or(0),
    };
    tallest.saturating_add(1)
}

/// Runs a step of a recursive walk over expressions with enough stack for it, growing the stack
/// on the heap when little is left.
fn with_stack<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, f)
}

impl Clone for Expr {
    fn clone(&self) -> Self {
        with_stack(|| Expr {
            kind: self.kind.clone(),
            span: self.span,
            height: self.height,
        })
    }
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        with_stack(|| self.span == other.span && self.kind == other.kind)
    }
}

impl Eq for Expr {}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        with_stack(|| {
            f.debug_struct("Expr")
                .field("kind", &self.kind)
                .field("span", &self.span)
                .finish()
        })
    }
}

/// Dropping a tree takes its nodes apart one at a time from a list, not by recursion: a chain
/// of a million operators drops in constant stack.
impl Drop for Expr {
    fn drop(&mut self) {
        if self.height <= 2 {
            // The children, if any, are leaves: dropping them recurses no further.
            return;
        }
        let mut pending = vec![take_kind(self)];
        while let Some(kind) = pending.pop() {
            let mut push = |mut e: Expr| {
                if e.height > 1 {
                    pending.push(take_kind(&mut e));
                }
            };
            match kind {
                ExprKind::Lit(_) | ExprKind::Var(_) | ExprKind::Slot(_) => {}
                ExprKind::If {
                    cond,
                    then,
                    otherwise,
                } => {
                    push(*cond);
                    push(*then);
                    push(*otherwise);
                }
                ExprKind::And(a, b) | ExprKind::Or(a, b) | ExprKind::Binary(_, a, b) => {
                    push(*a);
                    push(*b);
                }
                ExprKind::Unary(_, e)
                | ExprKind::GetAttr { expr: e, .. }
                | ExprKind::HasAttr { expr: e, .. }
                | ExprKind::Like { expr: e, .. } => push(*e),
                ExprKind::Is { expr, in_expr, .. } => {
                    push(*expr);
                    if let Some(e) = in_expr {
                        push(*e);
                    }
                }
                ExprKind::ExtCall { args, .. } | ExprKind::Set(args) => {
                    args.into_iter().for_each(&mut push)
                }
                ExprKind::Record(attrs) => attrs.into_iter().for_each(|(_, e)| push(e)),
            }
        }
    }
}

/// Takes a node's kind out, leaving a leaf whose drop does nothing more.
fn take_kind(e: &mut Expr) -> ExprKind {
    e.height = 1;
    std::mem::replace(&mut e.kind, ExprKind::Lit(Literal::Bool(false)))
}

impl Var {
    pub fn name(self) -> &'static str {
        match self {
            Var::Principal => "principal",
            Var::Action => "action",
            Var::Resource => "resource",
            Var::Context => "context",
        }
    }
}

impl SlotId {
    pub fn name(self) -> &'static str {
        match self {
            SlotId::Principal => "?principal",
            SlotId::Resource => "?resource",
        }
    }
}
