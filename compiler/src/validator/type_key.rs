//! The key under which policies that typecheck alike share one typechecking.
//!
//! Large policy sets are mostly a few shapes repeated with different entities (a tenant's
//! roles, a user's folders): `permit (principal in Role::"t7-editor", ...) when { ... }` for
//! every tenant. The typechecker's verdict and the type of every node are the same for all of
//! them, because the typechecker looks at a non-action entity literal only through its type,
//! and through which other literals of the same policy it equals: `==` of two literals is
//! `True` or `False` by their equality, and capabilities (`has` facts) are keyed by the text of
//! an expression, compared within the policy. [`TypeKeys`] encodes a policy's scope and
//! conditions exactly, except that the id of each entity literal that is neither an action nor
//! of an enumerated type is replaced by the order in which that uid first appears in the
//! policy: two policies with equal keys differ only by a one-to-one renaming of such ids, so
//! they get the same types in every request environment, and the same verdict on their names
//! ([`check_names`](super::scope::check_names) reads the ids of actions and of enumerated
//! entities only). Action literals (whose ids the typechecker reads from the schema's action
//! hierarchy), enumerated entities, every other literal, attribute names, patterns, types and
//! operators are kept as written.

use thuja_runtime::{EntityType, EntityUid, PatternElem};

use crate::ast::{
    ActionConstraint, ConditionKind, EntityRef, Expr, ExprKind, Literal, Policy, ScopeConstraint,
    SlotId, Var,
};

/// Makes the keys described in the [module documentation](self), reusing its buffers from one
/// policy to the next.
pub(super) struct TypeKeys<'p, 'e> {
    out: Vec<u8>,
    /// Renamed uids in order of first appearance; such a uid is written as its position here.
    seen: Vec<&'p EntityUid>,
    /// Entity types in order of first appearance, written as their position here.
    types: Vec<&'p EntityType>,
    /// The entity types whose ids are kept (enumerated ones).
    enumerated: &'e dyn Fn(&EntityType) -> bool,
}

impl<'p, 'e> TypeKeys<'p, 'e> {
    pub(super) fn new(enumerated: &'e dyn Fn(&EntityType) -> bool) -> Self {
        TypeKeys {
            out: Vec::new(),
            seen: Vec::new(),
            types: Vec::new(),
            enumerated,
        }
    }

    /// `policy`'s key (valid until the next call).
    pub(super) fn key(&mut self, policy: &'p Policy) -> &[u8] {
        self.out.clear();
        self.seen.clear();
        self.types.clear();
        self.scope(&policy.principal);
        self.action(&policy.action);
        self.scope(&policy.resource);
        for c in &policy.conditions {
            self.byte(match c.kind {
                ConditionKind::When => b'w',
                ConditionKind::Unless => b'u',
            });
            self.expr(&c.body);
        }
        // The entity types, which the key names by their position here.
        self.byte(b'/');
        for i in 0..self.types.len() {
            let t = self.types[i];
            self.text(t.as_str());
        }
        &self.out
    }
}

impl<'p> TypeKeys<'p, '_> {
    fn byte(&mut self, b: u8) {
        self.out.push(b);
    }

    /// A count, length or position (nothing in a policy comes near 2^32).
    fn number(&mut self, n: usize) {
        self.out
            .extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
    }

    fn text(&mut self, s: &str) {
        self.number(s.len());
        self.out.extend_from_slice(s.as_bytes());
    }

    fn ty(&mut self, t: &'p EntityType) {
        let at = match self.types.iter().position(|u| *u == t) {
            Some(at) => at,
            None => {
                self.types.push(t);
                self.types.len() - 1
            }
        };
        self.number(at);
    }

    fn uid(&mut self, uid: &'p EntityUid) {
        self.ty(uid.entity_type());
        if uid.is_action() || (self.enumerated)(uid.entity_type()) {
            self.byte(b'a');
            self.text(uid.id());
            return;
        }
        let at = match self.seen.iter().position(|u| *u == uid) {
            Some(at) => at,
            None => {
                self.seen.push(uid);
                self.seen.len() - 1
            }
        };
        self.byte(b'#');
        self.number(at);
    }

    fn slot(&mut self, s: SlotId) {
        self.byte(match s {
            SlotId::Principal => b'P',
            SlotId::Resource => b'R',
        });
    }

    fn entity_ref(&mut self, r: &'p EntityRef) {
        match r {
            EntityRef::Uid(uid) => {
                self.byte(b'u');
                self.uid(uid);
            }
            EntityRef::Slot(s) => {
                self.byte(b's');
                self.slot(*s);
            }
        }
    }

    fn scope(&mut self, c: &'p ScopeConstraint) {
        match c {
            ScopeConstraint::Any => self.byte(b'*'),
            ScopeConstraint::Eq(r) => {
                self.byte(b'=');
                self.entity_ref(r);
            }
            ScopeConstraint::In(r) => {
                self.byte(b'<');
                self.entity_ref(r);
            }
            ScopeConstraint::Is(t) => {
                self.byte(b':');
                self.ty(t);
            }
            ScopeConstraint::IsIn(t, r) => {
                self.byte(b';');
                self.ty(t);
                self.entity_ref(r);
            }
        }
    }

    fn action(&mut self, c: &'p ActionConstraint) {
        match c {
            ActionConstraint::Any => self.byte(b'*'),
            ActionConstraint::Eq(uid) => {
                self.byte(b'=');
                self.uid(uid);
            }
            ActionConstraint::In(uids) => {
                self.byte(b'<');
                self.number(uids.len());
                for uid in uids {
                    self.uid(uid);
                }
            }
        }
    }

    /// `e` in preorder, each node's kind and what it holds; the kind fixes how many children
    /// follow (counts are written where it does not). Iterative, so any depth is fine.
    fn expr(&mut self, e: &'p Expr) {
        let mut stack = vec![e];
        while let Some(e) = stack.pop() {
            self.node(e);
            super::expr_types::push_children_reversed(e, &mut stack);
        }
    }

    fn node(&mut self, e: &'p Expr) {
        match &e.kind {
            ExprKind::Lit(Literal::Bool(b)) => self.byte(if *b { b'T' } else { b'F' }),
            ExprKind::Lit(Literal::Long(n)) => {
                self.byte(b'L');
                self.out.extend_from_slice(&n.to_le_bytes());
            }
            ExprKind::Lit(Literal::String(s)) => {
                self.byte(b'S');
                self.text(s);
            }
            ExprKind::Lit(Literal::Entity(uid)) => {
                self.byte(b'E');
                self.uid(uid);
            }
            ExprKind::Var(v) => self.byte(match v {
                Var::Principal => b'p',
                Var::Action => b'a',
                Var::Resource => b'r',
                Var::Context => b'c',
            }),
            ExprKind::Slot(s) => {
                self.byte(b'$');
                self.slot(*s);
            }
            ExprKind::If { .. } => self.byte(b'?'),
            ExprKind::And(..) => self.byte(b'&'),
            ExprKind::Or(..) => self.byte(b'|'),
            ExprKind::Unary(op, _) => {
                self.byte(b'!');
                self.byte(*op as u8);
            }
            ExprKind::Binary(op, _, _) => {
                self.byte(b'b');
                self.byte(*op as u8);
            }
            ExprKind::ExtCall { func, args } => {
                self.byte(b'f');
                self.text(func.name());
                self.number(args.len());
            }
            ExprKind::GetAttr { attr, .. } => {
                self.byte(b'.');
                self.text(attr);
            }
            ExprKind::HasAttr { attrs, .. } => {
                self.byte(b'h');
                self.number(attrs.len());
                for a in attrs {
                    self.text(a);
                }
            }
            ExprKind::Like { pattern, .. } => {
                self.byte(b'~');
                self.number(pattern.elems().len());
                for el in pattern.elems() {
                    match el {
                        PatternElem::Wildcard => self.byte(b'*'),
                        PatternElem::Char(c) => {
                            self.byte(b'c');
                            self.out.extend_from_slice(&u32::from(*c).to_le_bytes());
                        }
                    }
                }
            }
            ExprKind::Is {
                entity_type,
                in_expr,
                ..
            } => {
                self.byte(if in_expr.is_some() { b'I' } else { b'i' });
                self.ty(entity_type);
            }
            ExprKind::Set(items) => {
                self.byte(b'[');
                self.number(items.len());
            }
            ExprKind::Record(attrs) => {
                self.byte(b'{');
                self.number(attrs.len());
                for (k, _) in attrs {
                    self.text(k);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::Source;
    use crate::parser::parse_policy_set;

    fn keys(text: &str) -> Vec<Vec<u8>> {
        let set = parse_policy_set(Source::new("p.cedar", text)).unwrap();
        let enumerated = |t: &EntityType| t.as_str() == "Color";
        let mut keys = TypeKeys::new(&enumerated);
        set.policies()
            .iter()
            .map(|p| keys.key(p).to_vec())
            .collect()
    }

    #[test]
    fn renamed_entities_share_a_key_and_nothing_else_does() {
        let k = keys(
            r#"permit (principal in Role::"a", action == Action::"read", resource in T::"x") when { resource.owner == User::"u" };
permit (principal in Role::"b", action == Action::"read", resource in T::"y") when { resource.owner == User::"v" };
permit (principal in Role::"a", action == Action::"write", resource in T::"x") when { resource.owner == User::"u" };
permit (principal in Role::"a", action == Action::"read", resource in T::"a") when { resource.owner == User::"u" };
permit (principal in Role::"a", action == Action::"read", resource in T::"x") when { resource.owner == User::"a" };
permit (principal in Role::"a", action == Action::"read", resource in T::"x") when { resource.owner == Role::"a" };
permit (principal in Role::"a", action == Action::"read", resource in T::"x") when { resource.owner == Role::"b" };
permit (principal in Role::"a", action == Action::"read", resource in T::"x") when { resource.owners == User::"u" };
permit (principal in Role::"a", action == Action::"read", resource in T::"x") unless { resource.owner == User::"u" };
permit (principal in Role::"a", action == Action::"read", resource in T::"x") when { resource.owner == Color::"red" };
permit (principal in Role::"a", action == Action::"read", resource in T::"x") when { resource.owner == Color::"blue" };"#,
        );
        // Only a consistent renaming of non-action ids keeps the key.
        assert_eq!(k[0], k[1]);
        // A different action, and a different pattern of equal literals, do not.
        assert_ne!(k[0], k[2]);
        assert_eq!(k[0], k[3], "ids are compared with the same type's only");
        assert_eq!(k[0], k[4]);
        assert_ne!(
            k[5], k[6],
            "Role::\"a\" twice is not Role::\"a\" and Role::\"b\""
        );
        for other in &k[7..] {
            assert_ne!(&k[0], other);
        }
        assert_ne!(k[9], k[10], "the ids of enumerated entities are kept");
    }

    #[test]
    fn literals_and_structure_are_kept() {
        let k = keys(
            r#"permit (principal, action, resource) when { context.n == 1 };
permit (principal, action, resource) when { context.n == 2 };
permit (principal, action, resource) when { context.s like "a*" };
permit (principal, action, resource) when { context.s like "b*" };
permit (principal, action, resource) when { ip("10.0.0.1").isInRange(ip("10.0.0.0/8")) };
permit (principal, action, resource) when { ip("10.0.0.1").isInRange(ip("10.0.0.0/16")) };
permit (principal, action, resource) when { [1, 2].contains(1) };
permit (principal, action, resource) when { [1].contains(1) || true };"#,
        );
        for i in 0..k.len() {
            for j in 0..i {
                assert_ne!(k[i], k[j], "{i} and {j}");
            }
        }
    }
}
