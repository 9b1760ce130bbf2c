//! Typechecking one policy condition in one request environment, as Cedar's strict-mode
//! typechecker does: every expression gets a type (or none, after an error), a set of
//! capabilities (attributes and tags known to exist when it is true), and whether it
//! typechecked. A failed subexpression still passes on its best-guess type, so the errors of
//! the expressions around it are still found, exactly as Cedar finds them.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use thuja_runtime::ext::{Datetime, Decimal, Duration, IpAddr};
use thuja_runtime::{EntityType, EntityUid, ExtFn, PolicyId};

use super::env::{RequestEnv, SchemaInfo};
use super::error::{ErrorKind, ValidationError};
use super::types::{AttrType, BoolType, EntityKind, Type};
use crate::ast::{BinaryOp, Expr, ExprKind, Literal, SlotId, UnaryOp, Var};
use crate::source::Span;

/// A capability: an attribute (or tag) known to exist on an expression's value. Expressions are
/// compared by shape (ignoring spans), so the key holds their [`ShapeId`]s.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Cap {
    Attr(ShapeId, Arc<str>),
    Tag(ShapeId, ShapeId),
}

/// The shape of an expression (its tree with spans ignored), as a number: within one
/// [`Checker`], two expressions have the same id exactly when they have the same shape.
pub(super) type ShapeId = u32;

/// The shapes a checker has met: each node's id is found once, from its own operator and its
/// children's ids, so a chain of `n` attribute accesses costs `n` steps, not `n²` characters.
#[derive(Default)]
pub(super) struct Shapes {
    /// Ids of the nodes of the checked condition, by address (the condition outlives the
    /// checker, and the checker makes no expressions of its own).
    by_node: HashMap<usize, ShapeId>,
    /// Ids by a node's own part of its shape and its children's ids.
    ids: HashMap<(String, Vec<ShapeId>), ShapeId>,
}

impl Shapes {
    fn intern(&mut self, head: String, children: Vec<ShapeId>) -> ShapeId {
        let next = ShapeId::try_from(self.ids.len()).unwrap_or(ShapeId::MAX);
        *self.ids.entry((head, children)).or_insert(next)
    }
}

/// The union of two capability sets, adding the smaller to the larger.
fn union(a: Caps, b: Caps) -> Caps {
    let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    big.extend(small);
    big
}

/// A node's own part of its shape: its operator and what it holds besides its children.
fn shape_head(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Lit(Literal::Bool(b)) => format!("bool {b}"),
        ExprKind::Lit(Literal::Long(n)) => format!("long {n}"),
        ExprKind::Lit(Literal::String(s)) => format!("string {s:?}"),
        ExprKind::Lit(Literal::Entity(uid)) => format!("entity {uid}"),
        ExprKind::Var(v) => v.name().to_string(),
        ExprKind::Slot(s) => s.name().to_string(),
        ExprKind::GetAttr { attr, .. } => attr_head(attr),
        ExprKind::HasAttr { attrs, .. } => format!("has {attrs:?}"),
        ExprKind::Like { pattern, .. } => format!("like {pattern:?}"),
        ExprKind::Is {
            entity_type,
            in_expr,
            ..
        } => format!("is {entity_type} {}", in_expr.is_some()),
        ExprKind::Record(attrs) => {
            let mut head = "record".to_string();
            for (k, _) in attrs {
                let _ = write!(head, " {k:?}");
            }
            head
        }
        ExprKind::If { .. } => "if".to_string(),
        ExprKind::And(..) => "&&".to_string(),
        ExprKind::Or(..) => "||".to_string(),
        ExprKind::Unary(op, _) => format!("{op:?}"),
        ExprKind::Binary(op, _, _) => format!("{op:?}"),
        ExprKind::ExtCall { func, .. } => format!("call {}", func.name()),
        ExprKind::Set(_) => "set".to_string(),
    }
}

fn attr_head(attr: &str) -> String {
    format!(". {attr:?}")
}

pub(super) type Caps = BTreeSet<Cap>;

/// What typechecking an expression gives.
#[derive(Clone, Debug)]
pub(super) struct Ans {
    pub ty: Option<Type>,
    pub caps: Caps,
    pub ok: bool,
}

impl Ans {
    fn success(ty: Type) -> Ans {
        Ans {
            ty: Some(ty),
            caps: Caps::new(),
            ok: true,
        }
    }

    fn success_caps(ty: Type, caps: Caps) -> Ans {
        Ans {
            ty: Some(ty),
            caps,
            ok: true,
        }
    }

    fn fail(ty: Option<Type>) -> Ans {
        Ans {
            ty,
            caps: Caps::new(),
            ok: false,
        }
    }

    fn into_fail(self) -> Ans {
        Ans::fail(self.ty)
    }

    /// Cedar's `then_typecheck`: continue with this answer's type; a failure stays a failure
    /// (and contributes no capabilities).
    fn then(self, f: impl FnOnce(Option<Type>, Caps) -> Ans) -> Ans {
        if self.ok {
            f(self.ty, self.caps)
        } else {
            f(self.ty, Caps::new()).into_fail()
        }
    }
}

/// The canonical text of an expression's shape (spans ignored).
pub(super) fn shape(e: &Expr) -> String {
    let mut out = String::new();
    write_shape(e, &mut out);
    out
}

fn write_shape(e: &Expr, out: &mut String) {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
        let _ = match &e.kind {
            ExprKind::Lit(Literal::Bool(b)) => write!(out, "{b}"),
            ExprKind::Lit(Literal::Long(n)) => write!(out, "{n}"),
            ExprKind::Lit(Literal::String(s)) => write!(out, "{s:?}"),
            ExprKind::Lit(Literal::Entity(uid)) => write!(out, "{uid}"),
            ExprKind::Var(v) => write!(out, "{}", v.name()),
            ExprKind::Slot(s) => write!(out, "{}", s.name()),
            ExprKind::GetAttr { expr, attr } => {
                out.push_str("(. ");
                write_shape(expr, out);
                write!(out, " {attr:?})")
            }
            ExprKind::HasAttr { expr, attrs } => {
                out.push_str("(has ");
                write_shape(expr, out);
                write!(out, " {attrs:?})")
            }
            ExprKind::Like { expr, pattern } => {
                out.push_str("(like ");
                write_shape(expr, out);
                write!(out, " {pattern:?})")
            }
            ExprKind::Is {
                expr,
                entity_type,
                in_expr,
            } => {
                out.push_str("(is ");
                write_shape(expr, out);
                let _ = write!(out, " {entity_type}");
                if let Some(i) = in_expr {
                    out.push(' ');
                    write_shape(i, out);
                }
                write!(out, ")")
            }
            ExprKind::Record(attrs) => {
                out.push_str("(record");
                for (k, v) in attrs {
                    let _ = write!(out, " {k:?} ");
                    write_shape(v, out);
                }
                write!(out, ")")
            }
            other => {
                let head = match other {
                    ExprKind::If { .. } => "if".to_string(),
                    ExprKind::And(..) => "&&".to_string(),
                    ExprKind::Or(..) => "||".to_string(),
                    ExprKind::Unary(op, _) => format!("{op:?}"),
                    ExprKind::Binary(op, _, _) => format!("{op:?}"),
                    ExprKind::ExtCall { func, .. } => func.name().to_string(),
                    ExprKind::Set(_) => "set".to_string(),
                    _ => String::new(),
                };
                out.push('(');
                out.push_str(&head);
                for c in e.children() {
                    out.push(' ');
                    write_shape(c, out);
                }
                write!(out, ")")
            }
        };
    })
}

/// The types the typechecker gave each expression node (by address), for level validation:
/// `None` where Cedar's typed AST has no type.
/// The second key part is `true` for the `is` half of an `e is T in E` node (which Cedar
/// typechecks as `e is T && e in E`).
pub(super) type TypeTable = RefCell<HashMap<(usize, bool), Option<Type>>>;

/// The address of an expression node, its key in a [`TypeTable`].
pub(super) fn node_key(e: &Expr) -> usize {
    std::ptr::from_ref(e) as usize
}

/// The typechecker for one policy in one request environment.
pub(super) struct Checker<'a> {
    pub info: &'a SchemaInfo<'a>,
    pub env: &'a RequestEnv,
    pub policy_id: &'a PolicyId,
    /// Where to record every node's type, when level validation needs them.
    pub types: Option<&'a TypeTable>,
    pub shapes: RefCell<Shapes>,
}

type Errs = Vec<ValidationError>;

impl Checker<'_> {
    fn error(&self, errs: &mut Errs, kind: ErrorKind, span: Span, message: String) {
        errs.push(ValidationError {
            policy_id: self.policy_id.clone(),
            kind,
            span,
            message,
        });
    }

    /// The shape of `e`, a node of the checked condition.
    fn shape_id(&self, e: &Expr) -> ShapeId {
        let key = node_key(e);
        if let Some(&id) = self.shapes.borrow().by_node.get(&key) {
            return id;
        }
        let children: Vec<ShapeId> = stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
            e.children().into_iter().map(|c| self.shape_id(c)).collect()
        });
        let mut shapes = self.shapes.borrow_mut();
        let id = shapes.intern(shape_head(e), children);
        shapes.by_node.insert(key, id);
        id
    }

    /// The shape of `.attr` applied to an expression of shape `of`.
    fn attr_shape(&self, of: ShapeId, attr: &str) -> ShapeId {
        self.shapes.borrow_mut().intern(attr_head(attr), vec![of])
    }

    /// The type of an entity literal, if its type (or action) is declared.
    fn euid_literal(&self, uid: &EntityUid) -> Option<Type> {
        if uid.is_action() {
            self.info
                .is_known_action(uid)
                .then(|| Type::named_entity(uid.entity_type().clone()))
        } else {
            self.info
                .schema
                .entity_types
                .contains_key(uid.entity_type())
                .then(|| Type::named_entity(uid.entity_type().clone()))
        }
    }

    /// Typechecks `e` and demands one of `expected` (permissive subtyping); on a mismatch the
    /// answer has no type.
    pub fn expect_one_of(&self, caps: &Caps, e: &Expr, expected: &[Type], errs: &mut Errs) -> Ans {
        let ans = self.typecheck(caps, e, errs);
        let ans = self.check_one_of(ans, e.span, expected, errs);
        if ans.ty.is_none() {
            self.record(e, None);
        }
        ans
    }

    fn record(&self, e: &Expr, ty: Option<Type>) {
        if let Some(table) = self.types {
            table.borrow_mut().insert((node_key(e), false), ty);
        }
    }

    fn check_one_of(&self, ans: Ans, span: Span, expected: &[Type], errs: &mut Errs) -> Ans {
        ans.then(|ty, caps| match ty {
            Some(actual) => {
                if expected.iter().any(|t| Type::is_subtype(&actual, t, false)) {
                    Ans::success_caps(actual, caps)
                } else {
                    let list = expected
                        .iter()
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let msg = if expected.len() == 1 {
                        format!("unexpected type: expected {list} but saw `{actual}`")
                    } else {
                        format!("unexpected type: expected one of {list} but saw `{actual}`")
                    };
                    self.error(errs, ErrorKind::UnexpectedType, span, msg);
                    Ans::fail(None)
                }
            }
            None => Ans::fail(None),
        })
    }

    pub fn expect(&self, caps: &Caps, e: &Expr, expected: Type, errs: &mut Errs) -> Ans {
        self.expect_one_of(caps, e, &[expected], errs)
    }

    pub fn typecheck(&self, caps: &Caps, e: &Expr, errs: &mut Errs) -> Ans {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || {
            let ans = self.typecheck_inner(caps, e, errs);
            if self.types.is_some() {
                self.record(e, ans.ty.clone());
            }
            ans
        })
    }

    fn typecheck_inner(&self, caps: &Caps, e: &Expr, errs: &mut Errs) -> Ans {
        match &e.kind {
            ExprKind::Var(Var::Principal) => {
                Ans::success(Type::named_entity(self.env.principal.clone()))
            }
            ExprKind::Var(Var::Action) => match self.euid_literal(&self.env.action) {
                Some(t) => Ans::success(t),
                None => Ans::fail(None),
            },
            ExprKind::Var(Var::Resource) => {
                Ans::success(Type::named_entity(self.env.resource.clone()))
            }
            ExprKind::Var(Var::Context) => Ans::success(self.env.context.clone()),
            ExprKind::Slot(slot) => {
                let linked = match slot {
                    SlotId::Principal => &self.env.principal_slot,
                    SlotId::Resource => &self.env.resource_slot,
                };
                Ans::success(match linked {
                    Some(t) => Type::named_entity(t.clone()),
                    None => Type::any_entity(),
                })
            }
            ExprKind::Lit(Literal::Bool(b)) => Ans::success(Type::singleton_bool(*b)),
            ExprKind::Lit(Literal::Long(_)) => Ans::success(Type::Long),
            ExprKind::Lit(Literal::String(_)) => Ans::success(Type::String),
            ExprKind::Lit(Literal::Entity(uid)) => match self.euid_literal(uid) {
                Some(t) => Ans::success(t),
                None => Ans::fail(None),
            },
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => self.check_if(caps, e, cond, then, otherwise, errs),
            ExprKind::And(l, r) => self.check_and(
                caps,
                |c, errs| self.expect(c, l, Type::bool_any(), errs),
                |c, errs| self.expect(c, r, Type::bool_any(), errs),
                errs,
            ),
            ExprKind::Or(l, r) => self.check_or(caps, l, r, errs),
            ExprKind::Unary(op, arg) => self.check_unary(caps, *op, arg, errs),
            ExprKind::Binary(op, a, b) => self.check_binary(caps, e, *op, a, b, errs),
            ExprKind::ExtCall { func, args } => self.check_ext(caps, e, *func, args, errs),
            ExprKind::GetAttr { expr, attr } => self.check_get_attr(caps, e, expr, attr, errs),
            ExprKind::HasAttr { expr, attrs } => match attrs.as_slice() {
                [attr] => self.check_has_attr(caps, expr, attr, errs),
                _ => self.check_ext_has_attr(caps, expr, attrs, errs),
            },
            ExprKind::Like { expr, .. } => {
                let ans = self.expect(caps, expr, Type::String, errs);
                ans.then(|_, _| Ans::success(Type::bool_any()))
            }
            ExprKind::Is {
                expr,
                entity_type,
                in_expr,
            } => match in_expr {
                None => self.check_is(caps, expr, entity_type, errs),
                Some(target) => {
                    // `e is T in E` is `e is T && e in E`; `e is T` contributes no capabilities,
                    // so both halves type `e` alike: type it once.
                    let lhs = self.expect(caps, expr, Type::any_entity(), errs);
                    self.check_and(
                        caps,
                        |_, errs| {
                            let ans = Self::is_of(lhs.clone(), entity_type);
                            if let Some(table) = self.types {
                                table
                                    .borrow_mut()
                                    .insert((node_key(e), true), ans.ty.clone());
                            }
                            self.check_one_of(ans, e.span, &[Type::bool_any()], errs)
                        },
                        |c, errs| {
                            let ans = self.check_in_with(c, lhs.clone(), expr, target, errs);
                            self.check_one_of(ans, e.span, &[Type::bool_any()], errs)
                        },
                        errs,
                    )
                }
            },
            ExprKind::Set(elems) => {
                let answers: Vec<Ans> = elems
                    .iter()
                    .map(|x| self.typecheck(caps, x, errs))
                    .collect();
                let any_failed = answers.iter().any(|a| !a.ok);
                let tys: Option<Vec<Type>> = answers.into_iter().map(|a| a.ty).collect();
                let lub = tys.and_then(|tys| match Type::lub_all(&tys, true) {
                    Ok(t) => Some(t),
                    Err(_) => {
                        let list = tys.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ");
                        self.error(
                            errs,
                            ErrorKind::IncompatibleTypes,
                            e.span,
                            format!("the types {list} are not compatible (elements of a set must have compatible types)"),
                        );
                        None
                    }
                });
                let ans = if elems.is_empty() {
                    self.error(
                        errs,
                        ErrorKind::EmptySetForbidden,
                        e.span,
                        "empty set literals are forbidden in policies".into(),
                    );
                    Ans::fail(None)
                } else {
                    match lub {
                        Some(t) => Ans::success(Type::set_of(t)),
                        None => Ans::fail(None),
                    }
                };
                if any_failed { ans.into_fail() } else { ans }
            }
            ExprKind::Record(fields) => {
                let answers: Vec<Ans> = fields
                    .iter()
                    .map(|(_, x)| self.typecheck(caps, x, errs))
                    .collect();
                let any_failed = answers.iter().any(|a| !a.ok);
                let tys: Option<Vec<Type>> = answers.into_iter().map(|a| a.ty).collect();
                match tys {
                    Some(tys) => {
                        let attrs = fields
                            .iter()
                            .zip(tys)
                            .map(|((k, _), ty)| (k.clone(), AttrType { ty, required: true }))
                            .collect();
                        let ans = Ans::success(Type::closed_record(attrs));
                        if any_failed { ans.into_fail() } else { ans }
                    }
                    None => Ans::fail(None),
                }
            }
        }
    }

    fn check_if(
        &self,
        caps: &Caps,
        e: &Expr,
        cond: &Expr,
        then: &Expr,
        otherwise: &Expr,
        errs: &mut Errs,
    ) -> Ans {
        let ans_test = self.expect(caps, cond, Type::bool_any(), errs);
        ans_test.then(|ty_test, test_caps| {
            if ty_test == Some(Type::singleton_bool(true)) {
                let with: Caps = caps.union(&test_caps).cloned().collect();
                let ans_then = self.typecheck(&with, then, errs);
                ans_then.then(|ty, then_caps| Ans {
                    ty,
                    caps: then_caps.union(&test_caps).cloned().collect(),
                    ok: true,
                })
            } else if ty_test == Some(Type::singleton_bool(false)) {
                let ans_else = self.typecheck(caps, otherwise, errs);
                ans_else.then(|ty, else_caps| Ans { ty, caps: else_caps, ok: true })
            } else {
                let with: Caps = caps.union(&test_caps).cloned().collect();
                let mut ans_then = self.typecheck(&with, then, errs);
                if ans_then.ok {
                    ans_then.caps = ans_then.caps.union(&test_caps).cloned().collect();
                }
                let ans_else = self.typecheck(caps, otherwise, errs);
                ans_then.then(|ty_then, then_caps| {
                    ans_else.then(|ty_else, else_caps| {
                        let lub = match (ty_then, ty_else) {
                            (Some(a), Some(b)) => match Type::lub(&a, &b, true) {
                                Ok(t) => Some(t),
                                Err(_) => {
                                    self.error(
                                        errs,
                                        ErrorKind::IncompatibleTypes,
                                        e.span,
                                        format!("the types `{a}` and `{b}` are not compatible (both branches of a conditional must have compatible types)"),
                                    );
                                    None
                                }
                            },
                            _ => None,
                        };
                        match lub {
                            Some(t) => Ans::success_caps(t, else_caps.intersection(&then_caps).cloned().collect()),
                            None => Ans::fail(None),
                        }
                    })
                })
            }
        })
    }

    /// `left && right`, where `left` and `right` typecheck the operands (demanding booleans).
    fn check_and(
        &self,
        caps: &Caps,
        left: impl FnOnce(&Caps, &mut Errs) -> Ans,
        right: impl FnOnce(&Caps, &mut Errs) -> Ans,
        errs: &mut Errs,
    ) -> Ans {
        let ans_left = left(caps, errs);
        ans_left.then(|ty_left, caps_left| {
            if ty_left == Some(Type::singleton_bool(false)) {
                return Ans::success(Type::singleton_bool(false));
            }
            // A chain `a && b && ...` gathers capabilities link by link: the sets are reused,
            // not copied at every link (which would cost the square of the chain's length).
            let joined;
            let with = if caps.is_empty() {
                &caps_left
            } else if caps_left.is_empty() {
                caps
            } else {
                joined = caps.union(&caps_left).cloned().collect::<Caps>();
                &joined
            };
            let ans_right = right(with, errs);
            ans_right.then(|ty_right, caps_right| match (&ty_left, &ty_right) {
                (Some(_), Some(Type::Bool(BoolType::False))) => {
                    Ans::success(Type::singleton_bool(false))
                }
                (Some(l), Some(Type::Bool(BoolType::True))) => {
                    Ans::success_caps(l.clone(), union(caps_left, caps_right))
                }
                (Some(Type::Bool(BoolType::True)), Some(r)) => {
                    Ans::success_caps(r.clone(), caps_right)
                }
                (Some(_), Some(_)) => {
                    Ans::success_caps(Type::bool_any(), union(caps_left, caps_right))
                }
                _ => Ans::fail(Some(Type::bool_any())),
            })
        })
    }

    fn check_or(&self, caps: &Caps, l: &Expr, r: &Expr, errs: &mut Errs) -> Ans {
        let ans_left = self.expect(caps, l, Type::bool_any(), errs);
        ans_left.then(|ty_left, caps_left| {
            if ty_left == Some(Type::singleton_bool(true)) {
                return Ans::success_caps(Type::singleton_bool(true), caps_left);
            }
            let ans_right = self.expect(caps, r, Type::bool_any(), errs);
            ans_right.then(|ty_right, caps_right| match (&ty_left, &ty_right) {
                (Some(_), Some(Type::Bool(BoolType::True))) => {
                    Ans::success_caps(Type::singleton_bool(true), caps_right)
                }
                (Some(l), Some(Type::Bool(BoolType::False))) => {
                    Ans::success_caps(l.clone(), caps_left)
                }
                (Some(Type::Bool(BoolType::False)), Some(r)) => {
                    Ans::success_caps(r.clone(), caps_right)
                }
                (Some(_), Some(_)) => Ans::success_caps(
                    Type::bool_any(),
                    caps_right.intersection(&caps_left).cloned().collect(),
                ),
                _ => Ans::fail(Some(Type::bool_any())),
            })
        })
    }

    /// `!` applied to an answer that is already known to be boolean-typed (or failed).
    fn not_of(&self, ans: Ans, span: Span, errs: &mut Errs) -> Ans {
        let ans = self.check_one_of(ans, span, &[Type::bool_any()], errs);
        ans.then(|ty, _| match ty {
            Some(Type::Bool(BoolType::True)) => Ans::success(Type::singleton_bool(false)),
            Some(Type::Bool(BoolType::False)) => Ans::success(Type::singleton_bool(true)),
            Some(_) => Ans::success(Type::bool_any()),
            None => Ans::fail(Some(Type::bool_any())),
        })
    }

    fn check_unary(&self, caps: &Caps, op: UnaryOp, arg: &Expr, errs: &mut Errs) -> Ans {
        match op {
            UnaryOp::Not => {
                let ans = self.typecheck(caps, arg, errs);
                self.not_of(ans, arg.span, errs)
            }
            UnaryOp::Neg => {
                let ans = self.expect(caps, arg, Type::Long, errs);
                ans.then(|_, _| Ans::success(Type::Long))
            }
            UnaryOp::IsEmpty => {
                let ans = self.expect(caps, arg, Type::any_set(), errs);
                ans.then(|_, _| Ans::success(Type::bool_any()))
            }
        }
    }

    /// The literal `e` stands for, with the `action` variable replaced by the environment's
    /// action, and `&&`/`||` of boolean literals folded into one literal (inside out), as Cedar's
    /// expression builder folds them when it parses a policy.
    fn literal_of<'e>(&'e self, e: &'e Expr) -> Option<LitRef<'e>> {
        let both_bools = |a: &'e Expr, b: &'e Expr| match (self.literal_of(a)?, self.literal_of(b)?)
        {
            (LitRef::Bool(x), LitRef::Bool(y)) => Some((x, y)),
            _ => None,
        };
        match &e.kind {
            ExprKind::Var(Var::Action) => Some(LitRef::Uid(&self.env.action)),
            ExprKind::Lit(Literal::Entity(uid)) => Some(LitRef::Uid(uid)),
            ExprKind::Lit(Literal::Bool(b)) => Some(LitRef::Bool(*b)),
            ExprKind::Lit(l) => Some(LitRef::Other(l)),
            ExprKind::And(a, b) => both_bools(a, b).map(|(x, y)| LitRef::Bool(x && y)),
            ExprKind::Or(a, b) => both_bools(a, b).map(|(x, y)| LitRef::Bool(x || y)),
            _ => None,
        }
    }

    fn uid_literal<'e>(&'e self, e: &'e Expr) -> Option<&'e EntityUid> {
        match self.literal_of(e) {
            Some(LitRef::Uid(uid)) => Some(uid),
            _ => None,
        }
    }

    fn check_eq(&self, caps: &Caps, e: &Expr, a: &Expr, b: &Expr, errs: &mut Errs) -> Ans {
        let lhs = self.typecheck(caps, a, errs);
        let rhs = self.typecheck(caps, b, errs);
        lhs.then(|lt, _| {
            rhs.then(|rt, _| {
                let disjoint = match (&lt, &rt) {
                    (Some(l), Some(r)) => Type::are_disjoint(l, r),
                    _ => false,
                };
                let ty = if disjoint {
                    Type::singleton_bool(false)
                } else {
                    match (self.literal_of(a), self.literal_of(b)) {
                        (Some(x), Some(y)) => Type::singleton_bool(x == y),
                        _ => Type::bool_any(),
                    }
                };
                self.strict_equality(
                    e.span,
                    ty,
                    lt.as_ref(),
                    rt.as_ref(),
                    "operands of `==`",
                    errs,
                )
            })
        })
    }

    fn strict_equality(
        &self,
        span: Span,
        ty: Type,
        lhs: Option<&Type>,
        rhs: Option<&Type>,
        what: &str,
        errs: &mut Errs,
    ) -> Ans {
        if matches!(ty, Type::Bool(BoolType::True | BoolType::False)) {
            return Ans::success(ty);
        }
        match (lhs, rhs) {
            (Some(l), Some(r)) => {
                if Type::lub(l, r, true).is_err() {
                    self.error(
                        errs,
                        ErrorKind::IncompatibleTypes,
                        span,
                        format!("the types `{l}` and `{r}` are not compatible ({what} must have compatible types)"),
                    );
                    Ans::fail(Some(ty))
                } else {
                    Ans::success(ty)
                }
            }
            _ => Ans::success(ty),
        }
    }

    fn comparison_ok(t: &Type) -> bool {
        matches!(
            t,
            Type::Long | Type::Ext("datetime") | Type::Ext("duration")
        )
    }

    fn comparison_types() -> Vec<Type> {
        vec![Type::Ext("datetime"), Type::Ext("duration"), Type::Long]
    }

    fn check_less(&self, caps: &Caps, a: &Expr, b: &Expr, errs: &mut Errs) -> Ans {
        let ans_a = self.typecheck(caps, a, errs);
        ans_a.then(|t1, _| {
            let ans_b = self.typecheck(caps, b, errs);
            ans_b.then(|t2, _| {
                let ok = Ans::success(Type::bool_any());
                let bad = |errs: &mut Errs, span: Span, expected: Vec<Type>, actual: &Type| {
                    let list = expected
                        .iter()
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    self.error(
                        errs,
                        ErrorKind::UnexpectedType,
                        span,
                        format!("unexpected type: expected one of {list} but saw `{actual}`"),
                    );
                    Ans::fail(Some(Type::bool_any()))
                };
                match (&t1, &t2) {
                    (Some(Type::Never), Some(Type::Never)) => Ans::fail(Some(Type::bool_any())),
                    (Some(Type::Never), Some(other)) => {
                        if Self::comparison_ok(other) {
                            ok
                        } else {
                            bad(errs, b.span, Self::comparison_types(), other)
                        }
                    }
                    (Some(other), Some(Type::Never)) => {
                        if Self::comparison_ok(other) {
                            ok
                        } else {
                            bad(errs, a.span, Self::comparison_types(), other)
                        }
                    }
                    (Some(x), Some(y)) if x == y && Self::comparison_ok(x) => ok,
                    (Some(Type::Long), Some(other)) => bad(errs, b.span, vec![Type::Long], other),
                    (Some(other), Some(Type::Long)) => bad(errs, a.span, vec![Type::Long], other),
                    (Some(x), Some(y)) if Self::comparison_ok(x) => {
                        bad(errs, b.span, vec![x.clone()], y)
                    }
                    (Some(x), Some(y)) if Self::comparison_ok(y) => {
                        bad(errs, a.span, vec![y.clone()], x)
                    }
                    (Some(x), Some(y)) => {
                        bad(errs, a.span, Self::comparison_types(), x);
                        bad(errs, b.span, Self::comparison_types(), y)
                    }
                    _ => Ans::fail(Some(Type::bool_any())),
                }
            })
        })
    }

    fn check_binary(
        &self,
        caps: &Caps,
        e: &Expr,
        op: BinaryOp,
        a: &Expr,
        b: &Expr,
        errs: &mut Errs,
    ) -> Ans {
        match op {
            BinaryOp::Eq => self.check_eq(caps, e, a, b, errs),
            BinaryOp::NotEq => {
                let ans = self.check_eq(caps, e, a, b, errs);
                self.not_of(ans, e.span, errs)
            }
            BinaryOp::Less | BinaryOp::LessEq => self.check_less(caps, a, b, errs),
            BinaryOp::Greater | BinaryOp::GreaterEq => {
                let ans = self.check_less(caps, a, b, errs);
                self.not_of(ans, e.span, errs)
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul => {
                let ans_a = self.expect(caps, a, Type::Long, errs);
                ans_a.then(|_, _| {
                    let ans_b = self.expect(caps, b, Type::Long, errs);
                    ans_b.then(|_, _| Ans::success(Type::Long))
                })
            }
            BinaryOp::In => self.check_in(caps, a, b, errs),
            BinaryOp::Contains => {
                let ans_a = self.expect(caps, a, Type::any_set(), errs);
                ans_a.then(|t1, _| {
                    let ans_b = self.typecheck(caps, b, errs);
                    ans_b.then(|t2, _| {
                        let elem = match &t1 {
                            Some(Type::Set(Some(elem))) => Some(elem.as_ref()),
                            _ => None,
                        };
                        self.strict_equality(
                            e.span,
                            Type::bool_any(),
                            elem,
                            t2.as_ref(),
                            "the element type of a set and the argument of `contains`",
                            errs,
                        )
                    })
                })
            }
            BinaryOp::ContainsAll | BinaryOp::ContainsAny => {
                let ans_a = self.expect(caps, a, Type::any_set(), errs);
                ans_a.then(|t1, _| {
                    let ans_b = self.expect(caps, b, Type::any_set(), errs);
                    ans_b.then(|t2, _| {
                        self.strict_equality(
                            e.span,
                            Type::bool_any(),
                            t1.as_ref(),
                            t2.as_ref(),
                            "the operands of `containsAll` and `containsAny`",
                            errs,
                        )
                    })
                })
            }
            BinaryOp::HasTag => {
                let ans_a = self.expect(caps, a, Type::any_entity(), errs);
                ans_a.then(|t1, _| {
                    let ans_b = self.expect(caps, b, Type::String, errs);
                    ans_b.then(|_, _| {
                        let kind = match &t1 {
                            Some(Type::Entity(kind)) => kind,
                            Some(_) => {
                                self.error(
                                    errs,
                                    ErrorKind::InternalInvariantViolation,
                                    e.span,
                                    "internal invariant violated".into(),
                                );
                                return Ans::fail(None);
                            }
                            None => return Ans::fail(None),
                        };
                        let cap = Cap::Tag(self.shape_id(a), self.shape_id(b));
                        let ty = if self.tag_types(kind).is_empty() {
                            Type::singleton_bool(false)
                        } else if caps.contains(&cap) {
                            Type::singleton_bool(true)
                        } else {
                            Type::bool_any()
                        };
                        Ans::success_caps(ty, Caps::from([cap]))
                    })
                })
            }
            BinaryOp::GetTag => {
                let ans_a = self.expect(caps, a, Type::any_entity(), errs);
                ans_a.then(|t1, _| {
                    let ans_b = self.expect(caps, b, Type::String, errs);
                    ans_b.then(|_, _| {
                        let kind = match &t1 {
                            Some(Type::Entity(kind)) => kind,
                            Some(_) => {
                                self.error(errs, ErrorKind::InternalInvariantViolation, e.span, "internal invariant violated".into());
                                return Ans::fail(None);
                            }
                            None => return Ans::fail(None),
                        };
                        let cap = Cap::Tag(self.shape_id(a), self.shape_id(b));
                        if !caps.contains(&cap) {
                            self.error(
                                errs,
                                ErrorKind::UnsafeTagAccess,
                                e.span,
                                format!("unable to guarantee safety of access to tag `{}`", shape(b)),
                            );
                            return Ans::fail(None);
                        }
                        let tag_types = self.tag_types(kind);
                        if tag_types.is_empty() {
                            let what = match kind {
                                EntityKind::Lub(l) if l.len() == 1 => {
                                    format!("`{}`", l.iter().next().map(|t| t.to_string()).unwrap_or_default())
                                }
                                _ => "this entity type".to_string(),
                            };
                            self.error(
                                errs,
                                ErrorKind::NoTagsAllowed,
                                e.span,
                                format!("`getTag()` is not allowed on entities of {what} because no `tags` were declared on the entity type in the schema"),
                            );
                            return Ans::fail(None);
                        }
                        match Type::lub_all(tag_types.iter(), true) {
                            Ok(t) => Ans::success(t),
                            Err(_) => {
                                self.error(
                                    errs,
                                    ErrorKind::IncompatibleTypes,
                                    e.span,
                                    "the tag types of these entity types are not compatible".into(),
                                );
                                Ans::fail(None)
                            }
                        }
                    })
                })
            }
        }
    }

    /// The distinct tag types of entities of `kind` (compared with `==`, which is quick on the
    /// types a schema shares; types have no order that is).
    fn tag_types(&self, kind: &EntityKind) -> Vec<Type> {
        let all: Vec<&Type> = match kind {
            EntityKind::Lub(lub) => lub.iter().filter_map(|t| self.info.tag_type(t)).collect(),
            EntityKind::AnyEntity => self.info.all_tag_types().collect(),
        };
        let mut distinct: Vec<Type> = Vec::new();
        for t in all {
            if !distinct.contains(t) {
                distinct.push(t.clone());
            }
        }
        distinct
    }

    fn check_in(&self, caps: &Caps, lhs: &Expr, rhs: &Expr, errs: &mut Errs) -> Ans {
        let ans_l = self.expect(caps, lhs, Type::any_entity(), errs);
        self.check_in_with(caps, ans_l, lhs, rhs, errs)
    }

    /// `lhs in rhs`, where `ans_l` is `lhs` already typechecked (as an entity).
    fn check_in_with(
        &self,
        caps: &Caps,
        ans_l: Ans,
        lhs: &Expr,
        rhs: &Expr,
        errs: &mut Errs,
    ) -> Ans {
        let ans_r = self.expect_one_of(
            caps,
            rhs,
            &[Type::set_of(Type::any_entity()), Type::any_entity()],
            errs,
        );
        let both_ok = ans_l.ok && ans_r.ok;
        ans_l.then(|lt, _| {
            ans_r.then(|rt, _| {
                if !both_ok {
                    return Ans::fail(Some(Type::bool_any()));
                }
                let lhs_uid = self.uid_literal(lhs);
                let rhs_uids: Option<Vec<&EntityUid>> = match self.uid_literal(rhs) {
                    Some(uid) => Some(vec![uid]),
                    None => match &rhs.kind {
                        ExprKind::Set(elems) => elems.iter().map(|x| self.uid_literal(x)).collect(),
                        _ => None,
                    },
                };
                match (lhs_uid, rhs_uids) {
                    (Some(l), Some(rs)) if l.is_action() => {
                        let actions: Vec<&EntityUid> =
                            rs.into_iter().filter(|u| u.is_action()).collect();
                        if actions.is_empty() {
                            Ans::success(Type::singleton_bool(false))
                        } else {
                            match self.info.action_in_any(l, &actions) {
                                Some(is_in) => Ans::success(Type::singleton_bool(is_in)),
                                None => Ans::fail(Some(Type::bool_any())),
                            }
                        }
                    }
                    _ => {
                        let l = lt.as_ref().and_then(Type::as_entity_lub);
                        let r = rt.as_ref().and_then(Type::as_set_or_entity_lub);
                        match (l, r) {
                            (Some(l), Some(r)) if !self.info.any_descendant_of(l, r) => {
                                Ans::success(Type::singleton_bool(false))
                            }
                            _ => Ans::success(Type::bool_any()),
                        }
                    }
                }
            })
        })
    }

    fn check_is(&self, caps: &Caps, expr: &Expr, ety: &EntityType, errs: &mut Errs) -> Ans {
        let ans = self.expect(caps, expr, Type::any_entity(), errs);
        Self::is_of(ans, ety)
    }

    /// `e is ety`, where `ans` is `e` typechecked (as an entity).
    fn is_of(ans: Ans, ety: &EntityType) -> Ans {
        ans.then(|ty, _| match ty {
            Some(Type::Entity(EntityKind::Lub(lub))) => {
                let t = if !lub.contains(ety) {
                    Type::singleton_bool(false)
                } else if lub.len() == 1 {
                    Type::singleton_bool(true)
                } else {
                    Type::bool_any()
                };
                Ans::success(t)
            }
            Some(Type::Entity(EntityKind::AnyEntity)) => Ans::success(Type::bool_any()),
            _ => Ans::fail(Some(Type::bool_any())),
        })
    }

    fn lookup_attr(&self, ty: &Type, attr: &str) -> Option<AttrType> {
        match ty {
            Type::Record { attrs, .. } => attrs.get(attr).cloned(),
            Type::Entity(EntityKind::Lub(lub)) => self.info.lub_attrs(lub).get(attr).cloned(),
            _ => None,
        }
    }

    fn may_have_attr(&self, ty: &Type, attr: &str) -> bool {
        match ty {
            Type::Never => true,
            Type::Entity(EntityKind::AnyEntity) => true,
            Type::Entity(EntityKind::Lub(lub)) => {
                lub.iter()
                    .any(|t| !t.is_action() && !self.info.schema.entity_types.contains_key(t))
                    || lub.iter().any(|t| {
                        self.info
                            .entity_attrs(t)
                            .is_some_and(|a| a.contains_key(attr))
                    })
            }
            Type::Record { attrs, open } => *open || attrs.contains_key(attr),
            _ => false,
        }
    }

    fn attr_access_message(&self, ty: &Type, attr: &str) -> String {
        format!("attribute `{attr}` on a value of type `{ty}`")
    }

    fn check_get_attr(
        &self,
        caps: &Caps,
        e: &Expr,
        expr: &Expr,
        attr: &Arc<str>,
        errs: &mut Errs,
    ) -> Ans {
        let ans = self.expect_one_of(caps, expr, &[Type::any_entity(), Type::any_record()], errs);
        ans.then(|ty, _| match ty {
            Some(actual) => match self.lookup_attr(&actual, attr) {
                Some(at) => {
                    if at.required || caps.contains(&Cap::Attr(self.shape_id(expr), attr.clone())) {
                        Ans::success(at.ty)
                    } else {
                        self.error(
                            errs,
                            ErrorKind::UnsafeOptionalAttributeAccess,
                            e.span,
                            format!(
                                "unable to guarantee safety of access to optional {}",
                                self.attr_access_message(&actual, attr)
                            ),
                        );
                        Ans::fail(Some(at.ty))
                    }
                }
                None => {
                    self.error(
                        errs,
                        ErrorKind::UnsafeAttributeAccess,
                        e.span,
                        format!("{} not found", self.attr_access_message(&actual, attr)),
                    );
                    Ans::fail(None)
                }
            },
            None => Ans::fail(None),
        })
    }

    fn check_has_attr(&self, caps: &Caps, expr: &Expr, attr: &Arc<str>, errs: &mut Errs) -> Ans {
        let ans = self.expect_one_of(caps, expr, &[Type::any_entity(), Type::any_record()], errs);
        ans.then(|ty, _| match ty {
            Some(actual) => {
                let cap = Cap::Attr(self.shape_id(expr), attr.clone());
                match self.lookup_attr(&actual, attr) {
                    Some(at) => {
                        let known = if at.required {
                            matches!(actual, Type::Record { .. }) || caps.contains(&cap)
                        } else {
                            caps.contains(&cap)
                        };
                        let t = if known {
                            Type::singleton_bool(true)
                        } else {
                            Type::bool_any()
                        };
                        Ans::success_caps(t, Caps::from([cap]))
                    }
                    None => Ans::success(if self.may_have_attr(&actual, attr) {
                        Type::bool_any()
                    } else {
                        Type::singleton_bool(false)
                    }),
                }
            }
            None => Ans::fail(Some(Type::bool_any())),
        })
    }

    fn check_ext_has_attr(
        &self,
        caps: &Caps,
        expr: &Expr,
        attrs: &[Arc<str>],
        errs: &mut Errs,
    ) -> Ans {
        let ans = self.expect_one_of(caps, expr, &[Type::any_entity(), Type::any_record()], errs);
        ans.then(|ty, _| {
            let Some(mut cur_ty) = ty else {
                return Ans::fail(Some(Type::bool_any()));
            };
            let mut cur_shape = self.shape_id(expr);
            let mut cur_caps = caps.clone();
            let mut steps: Vec<(BoolType, Caps)> = Vec::new();
            for (index, attr) in attrs.iter().enumerate() {
                // `has` on the current value
                let known_to_exist = match &cur_ty {
                    Type::Record { .. } => true,
                    Type::Entity(_) => false,
                    other => {
                        self.error(
                            errs,
                            ErrorKind::UnexpectedType,
                            expr.span,
                            format!("unexpected type: expected one of `__cedar::internal::AnyEntity`, `__cedar::internal::OpenRecord{{}}` but saw `{other}`"),
                        );
                        return Ans::fail(Some(Type::bool_any()));
                    }
                };
                let cap = Cap::Attr(cur_shape, attr.clone());
                let looked = self.lookup_attr(&cur_ty, attr);
                let (has_ty, has_caps) = match &looked {
                    Some(at) => {
                        if cur_caps.contains(&cap) || (at.required && known_to_exist) {
                            (BoolType::True, Caps::new())
                        } else {
                            (BoolType::AnyBool, Caps::from([cap.clone()]))
                        }
                    }
                    None if self.may_have_attr(&cur_ty, attr) => (BoolType::AnyBool, Caps::new()),
                    None => (BoolType::False, Caps::new()),
                };
                let is_last = index + 1 == attrs.len();
                let short = has_ty == BoolType::False;
                steps.push((has_ty, has_caps.clone()));
                if is_last || short {
                    break;
                }
                let next_caps: Caps = cur_caps.union(&has_caps).cloned().collect();
                // the value of the attribute, for the next step
                let next_ty = match looked {
                    Some(at) if at.required || next_caps.contains(&cap) => at.ty,
                    Some(_) => {
                        self.error(
                            errs,
                            ErrorKind::UnsafeOptionalAttributeAccess,
                            expr.span,
                            format!(
                                "unable to guarantee safety of access to optional {}",
                                self.attr_access_message(&cur_ty, attr)
                            ),
                        );
                        return Ans::fail(Some(Type::bool_any()));
                    }
                    None => {
                        self.error(
                            errs,
                            ErrorKind::UnsafeAttributeAccess,
                            expr.span,
                            format!("{} not found", self.attr_access_message(&cur_ty, attr)),
                        );
                        return Ans::fail(Some(Type::bool_any()));
                    }
                };
                cur_caps = next_caps;
                cur_ty = next_ty;
                cur_shape = self.attr_shape(cur_shape, attr);
            }
            let Some((mut result_ty, mut result_caps)) = steps.pop() else {
                return Ans::success(Type::bool_any());
            };
            while let Some((has_ty, has_caps)) = steps.pop() {
                match result_ty {
                    BoolType::False => result_caps = Caps::new(),
                    BoolType::True => {
                        result_ty = has_ty;
                        result_caps = has_caps.union(&result_caps).cloned().collect();
                    }
                    BoolType::AnyBool => {
                        result_caps = has_caps.union(&result_caps).cloned().collect();
                    }
                }
            }
            Ans::success_caps(Type::Bool(result_ty), result_caps)
        })
    }

    fn check_ext(&self, caps: &Caps, e: &Expr, func: ExtFn, args: &[Expr], errs: &mut Errs) -> Ans {
        let (arg_tys, ret) = ext_signature(func);
        let mut failed = false;
        if args.len() != arg_tys.len() {
            self.error(
                errs,
                ErrorKind::WrongNumberArguments,
                e.span,
                format!(
                    "wrong number of arguments in extension function application: expected {}, got {}",
                    arg_tys.len(),
                    args.len()
                ),
            );
            failed = true;
        }
        let is_constructor = matches!(
            func,
            ExtFn::Decimal | ExtFn::Ip | ExtFn::Datetime | ExtFn::Duration
        );
        if is_constructor
            && let [arg] = args
            && let ExprKind::Lit(Literal::String(s)) = &arg.kind
        {
            let parsed = match func {
                ExtFn::Decimal => Decimal::parse(s).map(|_| ()),
                ExtFn::Ip => IpAddr::parse(s).map(|_| ()),
                ExtFn::Datetime => Datetime::parse(s).map(|_| ()),
                _ => Duration::parse(s).map(|_| ()),
            };
            if let Err(why) = parsed {
                self.error(
                    errs,
                    ErrorKind::FunctionArgumentValidation,
                    e.span,
                    format!("error during extension function argument validation: failed to parse as a {} value: {s:?}: {why}", ret),
                );
                failed = true;
            }
        }
        if is_constructor && !args.iter().all(|a| matches!(a.kind, ExprKind::Lit(_))) {
            self.error(
                errs,
                ErrorKind::NonLitExtConstructor,
                e.span,
                format!(
                    "extension constructors may not be called with non-literal expressions: `{}`",
                    func.name()
                ),
            );
            failed = true;
        }
        if failed {
            for a in args {
                self.typecheck(caps, a, errs);
            }
            return Ans::fail(Some(ret));
        }
        let mut any_failed = false;
        for (a, t) in args.iter().zip(arg_tys) {
            let ans = self.expect(caps, a, t, errs);
            any_failed |= !ans.ok;
        }
        if any_failed {
            Ans::fail(Some(ret))
        } else {
            Ans::success(ret)
        }
    }
}

/// A literal for `==` between literals (with `action` already replaced).
#[derive(PartialEq)]
enum LitRef<'a> {
    Uid(&'a EntityUid),
    Bool(bool),
    Other(&'a Literal),
}

/// Argument and return types of an extension function.
fn ext_signature(func: ExtFn) -> (Vec<Type>, Type) {
    let dec = Type::Ext("decimal");
    let ip = Type::Ext("ipaddr");
    let dt = Type::Ext("datetime");
    let dur = Type::Ext("duration");
    match func {
        ExtFn::Decimal => (vec![Type::String], dec),
        ExtFn::Ip => (vec![Type::String], ip),
        ExtFn::Datetime => (vec![Type::String], dt),
        ExtFn::Duration => (vec![Type::String], dur),
        ExtFn::LessThan
        | ExtFn::LessThanOrEqual
        | ExtFn::GreaterThan
        | ExtFn::GreaterThanOrEqual => (vec![dec.clone(), dec], Type::bool_any()),
        ExtFn::IsIpv4 | ExtFn::IsIpv6 | ExtFn::IsLoopback | ExtFn::IsMulticast => {
            (vec![ip], Type::bool_any())
        }
        ExtFn::IsInRange => (vec![ip.clone(), ip], Type::bool_any()),
        ExtFn::Offset => (vec![dt.clone(), dur], dt),
        ExtFn::DurationSince => (vec![dt.clone(), dt], dur),
        ExtFn::ToDate => (vec![dt.clone()], dt),
        ExtFn::ToTime => (vec![dt], dur),
        ExtFn::ToMilliseconds
        | ExtFn::ToSeconds
        | ExtFn::ToMinutes
        | ExtFn::ToHours
        | ExtFn::ToDays => (vec![dur], Type::Long),
    }
}
