//! Cedar expressions.

use std::sync::Arc;

use thuja_runtime::{EntityType, EntityUid, ExtFn, Pattern};

use crate::source::Span;

/// An expression and the source it was parsed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
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
        Expr { kind, span }
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
