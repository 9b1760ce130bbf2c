//! A type for every expression: what the typechecker proved about each node of a valid policy,
//! in all request environments at once, kept as the input the compiler lowers.
//!
//! [`expression_types`](super::expression_types) typechecks each policy as [`validate`]
//! does, recording every node's type in every environment, and keeps the types of the
//! policies (and template links) that validate without errors. A node's type is the least
//! upper bound of its types in the environments that reached it, or unknown where they have
//! none, so it holds whichever environment a request falls in.
//!
//! ## What the types promise
//!
//! They describe evaluation on data that conforms to the schema: a request that
//! `validate_request` accepts and entities read with the schema. Evaluating a node then gives
//! a value of its type, or an error Cedar allows in a valid policy (a missing entity, overflow,
//! an extension function's failure). One caveat is Cedar's: an attribute or tag test (`has`,
//! `hasTag`) of a missing entity is false even where its type is `True`.
//!
//! ## Where a node's type is kept
//!
//! [`PolicyTypes`] keeps, per condition (in source order), the types of the condition body's
//! nodes in preorder (a node, then its [`Expr::children`] in order), which stays meaningful
//! for any copy of the policy. [`PolicyTypes::nodes`] attaches them to one policy's nodes.
//!
//! [`validate`]: super::validate

use std::sync::Arc;

use thuja_runtime::PolicyId;

use super::types::Type;
use crate::ast::{Expr, ExprKind, Policy};

/// foldhash, seeded per process: these maps are built for every policy compiled.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// The types of the expressions of every valid active policy of a set.
///
/// Kept in the order of [`PolicySet::active`](crate::ast::PolicySet::active), with each
/// policy's id: [`at`](Self::at) finds a policy by its position (what lowering a whole set
/// asks, without hashing an id per policy); [`of`](Self::of) by its id.
#[derive(Clone, Debug, Default)]
pub struct PolicySetTypes {
    /// Each active policy's id and its types (`None` if it did not validate), in order.
    active: Vec<(PolicyId, Option<Arc<PolicyTypes>>)>,
    /// The positions in `active` by id, made the first time [`of`](Self::of) is asked.
    by_id: std::sync::OnceLock<HashMap<PolicyId, usize>>,
}

impl PolicySetTypes {
    /// The types of the active policy (a static policy, or a template link) with this id, if
    /// it validated.
    pub fn of(&self, id: &str) -> Option<&PolicyTypes> {
        let by_id = self.by_id.get_or_init(|| {
            self.active
                .iter()
                .enumerate()
                .map(|(at, (id, _))| (id.clone(), at))
                .collect()
        });
        let at = *by_id.get(id)?;
        self.active.get(at)?.1.as_deref()
    }

    /// The types of the active policy at `position` in the set's order, if its id is `id`
    /// (else as [`of`](Self::of) finds them by id).
    pub fn at(&self, position: usize, id: &str) -> Option<&PolicyTypes> {
        match self.active.get(position) {
            Some((at_id, types)) if at_id.as_str() == id => types.as_deref(),
            _ => self.of(id),
        }
    }

    /// How many active policies have types.
    pub fn len(&self) -> usize {
        self.active.iter().filter(|(_, t)| t.is_some()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn with_capacity(n: usize) -> Self {
        PolicySetTypes {
            active: Vec::with_capacity(n),
            by_id: std::sync::OnceLock::new(),
        }
    }

    /// Adds the next active policy, with its types if it validated.
    pub(super) fn push(&mut self, id: PolicyId, types: Option<Arc<PolicyTypes>>) {
        self.active.push((id, types));
    }
}

/// One policy's expression types: per condition, its body's nodes in preorder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyTypes {
    conditions: Vec<Vec<Option<Type>>>,
}

impl PolicyTypes {
    /// The types of condition `i`'s body nodes, in preorder; `None` where unknown.
    pub fn condition(&self, i: usize) -> &[Option<Type>] {
        self.conditions.get(i).map_or(&[], Vec::as_slice)
    }

    /// The types of `policy`'s nodes (the policy these types were computed for, or a copy of
    /// it), looked up by node.
    pub fn nodes<'p>(&'p self, policy: &'p Policy) -> NodeTypes<'p> {
        let known = self
            .conditions
            .iter()
            .flatten()
            .filter(|t| t.is_some())
            .count();
        let mut by_node = Vec::with_capacity(known);
        let mut stack = Vec::new();
        for (c, types) in policy.conditions.iter().zip(&self.conditions) {
            // The body's nodes in preorder (as `preorder` lists them), without listing them.
            stack.push(&c.body);
            let mut types = types.iter();
            while let Some(node) = stack.pop() {
                let Some(ty) = types.next() else { break };
                if let Some(ty) = ty {
                    by_node.push((node_address(node), ty));
                }
                push_children_reversed(node, &mut stack);
            }
            stack.clear();
        }
        by_node.sort_unstable_by_key(|&(address, _)| address);
        NodeTypes {
            by_node,
            _policy: std::marker::PhantomData,
        }
    }
}

/// A policy's expression types by node, valid while the policy is borrowed.
#[derive(Debug, Default)]
pub struct NodeTypes<'p> {
    /// By node address, in increasing order (a sorted array: cheaper to build than a hash
    /// map, and a policy's nodes are few).
    by_node: Vec<(usize, &'p Type)>,
    _policy: std::marker::PhantomData<&'p Policy>,
}

impl NodeTypes<'_> {
    /// The type of `e`, a node of the policy; `None` where it is unknown.
    pub fn type_of(&self, e: &Expr) -> Option<&Type> {
        let at = self
            .by_node
            .binary_search_by_key(&node_address(e), |&(address, _)| address)
            .ok()?;
        self.by_node.get(at).map(|&(_, ty)| ty)
    }
}

fn node_address(e: &Expr) -> usize {
    std::ptr::from_ref(e) as usize
}

/// The nodes of `e` in preorder: a node, then its children in [`Expr::children`] order.
pub(super) fn preorder(e: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    let mut stack = vec![e];
    while let Some(node) = stack.pop() {
        out.push(node);
        push_children_reversed(node, &mut stack);
    }
    out
}

/// Pushes `e`'s children (in [`Expr::children`] order) onto `stack` last first, so that they
/// are popped in order; unlike `children`, allocates nothing for each node.
pub(super) fn push_children_reversed<'e>(e: &'e Expr, stack: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::Lit(_) | ExprKind::Var(_) | ExprKind::Slot(_) => {}
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => stack.extend([&**otherwise, &**then, &**cond]),
        ExprKind::And(a, b) | ExprKind::Or(a, b) | ExprKind::Binary(_, a, b) => {
            stack.extend([&**b, &**a]);
        }
        ExprKind::Unary(_, e)
        | ExprKind::GetAttr { expr: e, .. }
        | ExprKind::HasAttr { expr: e, .. }
        | ExprKind::Like { expr: e, .. } => stack.push(e),
        ExprKind::Is { expr, in_expr, .. } => {
            stack.extend(in_expr.as_deref());
            stack.push(expr);
        }
        ExprKind::ExtCall { args, .. } | ExprKind::Set(args) => stack.extend(args.iter().rev()),
        ExprKind::Record(attrs) => stack.extend(attrs.iter().rev().map(|(_, e)| e)),
    }
}

/// A node's type while environments are merged into it.
#[derive(Clone, Debug)]
enum Merged {
    /// No environment reached it yet.
    Unseen,
    Known(Type),
    /// An environment gave no type, or the types have no least upper bound.
    Unknown,
}

/// Builds one policy's [`PolicyTypes`], one request environment at a time.
pub(super) struct PolicyTypesBuilder {
    conditions: Vec<Vec<Merged>>,
}

impl PolicyTypesBuilder {
    pub fn new(policy: &Policy) -> Self {
        PolicyTypesBuilder {
            conditions: policy
                .conditions
                .iter()
                .map(|c| vec![Merged::Unseen; preorder(&c.body).len()])
                .collect(),
        }
    }

    /// Merges one environment's types: `bodies` are the condition bodies as typechecked (the
    /// same shape as the policy's), `type_of` what the typechecker recorded for a node there.
    pub fn absorb<'e>(
        &mut self,
        bodies: &[&'e Expr],
        type_of: impl Fn(&'e Expr) -> Option<Option<Type>>,
    ) {
        for (merged, body) in self.conditions.iter_mut().zip(bodies) {
            for (m, node) in merged.iter_mut().zip(preorder(body)) {
                let Some(ty) = type_of(node) else { continue };
                *m = match (std::mem::replace(m, Merged::Unknown), ty) {
                    (Merged::Unknown, _) | (_, None) => Merged::Unknown,
                    (Merged::Unseen, Some(t)) => Merged::Known(t),
                    (Merged::Known(a), Some(b)) => match Type::lub(&a, &b, false) {
                        Ok(t) => Merged::Known(t),
                        Err(_) => Merged::Unknown,
                    },
                };
            }
        }
    }

    pub fn finish(self) -> PolicyTypes {
        PolicyTypes {
            conditions: self
                .conditions
                .into_iter()
                .map(|c| {
                    c.into_iter()
                        .map(|m| match m {
                            Merged::Known(t) => Some(t),
                            Merged::Unseen | Merged::Unknown => None,
                        })
                        .collect()
                })
                .collect(),
        }
    }
}
