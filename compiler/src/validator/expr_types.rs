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

use std::collections::HashMap;
use std::sync::Arc;

use thuja_runtime::PolicyId;

use super::types::Type;
use crate::ast::{Expr, Policy};

/// The types of the expressions of every valid active policy of a set.
#[derive(Clone, Debug, Default)]
pub struct PolicySetTypes {
    by_id: HashMap<PolicyId, Arc<PolicyTypes>>,
}

impl PolicySetTypes {
    /// The types of the active policy (a static policy, or a template link) with this id, if
    /// it validated.
    pub fn of(&self, id: &str) -> Option<&PolicyTypes> {
        self.by_id.get(id).map(Arc::as_ref)
    }

    /// How many active policies have types.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub(super) fn insert(&mut self, id: PolicyId, types: Arc<PolicyTypes>) {
        self.by_id.insert(id, types);
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
        let mut by_node = HashMap::new();
        for (c, types) in policy.conditions.iter().zip(&self.conditions) {
            for (node, ty) in preorder(&c.body).into_iter().zip(types) {
                if let Some(ty) = ty {
                    by_node.insert(node_address(node), ty);
                }
            }
        }
        NodeTypes {
            by_node,
            _policy: std::marker::PhantomData,
        }
    }
}

/// A policy's expression types by node, valid while the policy is borrowed.
#[derive(Debug, Default)]
pub struct NodeTypes<'p> {
    by_node: HashMap<usize, &'p Type>,
    _policy: std::marker::PhantomData<&'p Policy>,
}

impl NodeTypes<'_> {
    /// The type of `e`, a node of the policy; `None` where it is unknown.
    pub fn type_of(&self, e: &Expr) -> Option<&Type> {
        self.by_node.get(&node_address(e)).copied()
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
        stack.extend(node.children().into_iter().rev());
    }
    out
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
