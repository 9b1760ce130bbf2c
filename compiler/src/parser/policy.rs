//! Policies: annotations, effect, the `(principal, action, resource)` scope, and conditions.

use std::sync::Arc;

use thuja_runtime::{EntityUid, PolicyId};

use super::{PResult, Parser};
use crate::ast::{
    ActionConstraint, Annotation, Condition, ConditionKind, Effect, EntityRef, Expr, ExprKind,
    Literal, Policy, ScopeConstraint, SlotId,
};
use crate::diagnostic::Diagnostic;
use crate::lexer::{Token, TokenKind};
use crate::source::{Source, Span};

/// One element of the scope as written: a variable with optional `is` and relation.
struct ScopeElement {
    var: Token,
    is_type: Option<(Vec<Token>, Span)>,
    relation: Option<(TokenKind, bool, Expr)>, // (op token kind, op is `in`, right side)
    span: Span,
}

const SCOPE_VARS: [&str; 3] = ["principal", "action", "resource"];

impl<'s> Parser<'s> {
    pub(crate) fn policy(&mut self, id: PolicyId, source: &Arc<Source>) -> PResult<Policy> {
        let start = self.peek().span;
        let annotations = self.annotations()?;
        let effect_tok = self.expect(TokenKind::Ident)?;
        let effect = match self.text_of(effect_tok) {
            "permit" => Effect::Permit,
            "forbid" => Effect::Forbid,
            other => {
                return Err(Diagnostic::new(
                    format!(
                        "`{other}` is not a valid policy effect; expected `permit` or `forbid`"
                    ),
                    effect_tok.span,
                ));
            }
        };
        let open = self.expect(TokenKind::LParen)?;
        let elements = self.comma_list(TokenKind::RParen, |p| p.scope_element())?;
        let close = self.expect(TokenKind::RParen)?;
        let (principal, action, resource) = self.scope(elements, open.span.to(close.span))?;
        let mut conditions = Vec::new();
        while self.at(TokenKind::Ident) {
            conditions.push(self.condition()?);
        }
        let semi = self.expect(TokenKind::Semi).map_err(|e| {
            if self.at(TokenKind::Eof) {
                e.with_help("every policy ends with `;`")
            } else {
                e
            }
        })?;
        Ok(Policy {
            id,
            annotations,
            effect,
            principal,
            action,
            resource,
            conditions,
            span: start.to(semi.span),
            source: source.clone(),
        })
    }

    fn annotations(&mut self) -> PResult<Vec<Annotation>> {
        let mut annotations: Vec<Annotation> = Vec::new();
        let mut keys = std::collections::HashSet::new();
        while let Some(at) = self.eat(TokenKind::At) {
            let key_tok = self.expect(TokenKind::Ident)?;
            let key = self.text_of(key_tok);
            let (value, end, bare) = if self.eat(TokenKind::LParen).is_some() {
                let v = self.expect(TokenKind::Str)?;
                let value = self.string_value(v)?;
                let close = self.expect(TokenKind::RParen)?;
                (value, close.span, false)
            } else {
                (String::new(), key_tok.span, true)
            };
            if !keys.insert(key) {
                return Err(Diagnostic::new(
                    format!("duplicate annotation: @{key}"),
                    at.span.to(end),
                ));
            }
            annotations.push(Annotation {
                key: key.into(),
                value: value.into(),
                bare,
                span: at.span.to(end),
            });
        }
        Ok(annotations)
    }

    fn scope_element(&mut self) -> PResult<ScopeElement> {
        let var = self.expect(TokenKind::Ident)?;
        if self.at(TokenKind::Colon) {
            return Err(Diagnostic::new(
                "type constraints using `:` are not supported; use `is` instead",
                self.peek().span,
            ));
        }
        let mut end = var.span;
        let is_type = if self.eat_word("is").is_some() {
            let (path, span) = self.path()?;
            end = span;
            Some((path, span))
        } else {
            None
        };
        let t = self.peek();
        let relation = match t.kind {
            TokenKind::EqEq => Some((t.kind, false)),
            TokenKind::Ident if self.text_of(t) == "in" => Some((t.kind, true)),
            TokenKind::Eq => {
                return Err(Diagnostic::new("`=` is not a valid operator", t.span)
                    .with_help("did you mean `==`?"));
            }
            TokenKind::NotEq | TokenKind::Lt | TokenKind::Le | TokenKind::Gt | TokenKind::Ge => {
                return Err(Diagnostic::new(
                    format!(
                        "`{}` is not allowed in the policy scope; only `==`, `in` and `is` are",
                        self.text_of(t)
                    ),
                    t.span,
                ));
            }
            _ => None,
        };
        let relation = match relation {
            Some((kind, is_in)) => {
                self.bump();
                let rhs = self.expr()?;
                end = rhs.span;
                Some((kind, is_in, rhs))
            }
            None => None,
        };
        Ok(ScopeElement {
            var,
            is_type,
            relation,
            span: var.span.to(end),
        })
    }

    fn scope(
        &self,
        elements: Vec<ScopeElement>,
        span: Span,
    ) -> PResult<(ScopeConstraint, ActionConstraint, ScopeConstraint)> {
        if elements.len() > 3 {
            return Err(Diagnostic::new(
                "the policy scope has more than three elements; it is `(principal ..., action ..., resource ...)`",
                elements[3].span,
            ));
        }
        for (i, el) in elements.iter().enumerate() {
            let got = self.text_of(el.var);
            if got != SCOPE_VARS[i] {
                return Err(Diagnostic::new(
                    format!("expected `{}` in the scope, found `{got}`", SCOPE_VARS[i]),
                    el.var.span,
                ));
            }
        }
        if let Some(missing) = SCOPE_VARS.get(elements.len()) {
            return Err(Diagnostic::new(
                format!("this policy's scope is missing the `{missing}` variable"),
                span,
            ));
        }
        let mut elements = elements.into_iter();
        let (Some(p), Some(a), Some(r)) = (elements.next(), elements.next(), elements.next())
        else {
            return Err(Diagnostic::new("malformed policy scope", span));
        };
        Ok((
            self.entity_scope(p, SlotId::Principal)?,
            self.action_scope(a)?,
            self.entity_scope(r, SlotId::Resource)?,
        ))
    }

    fn entity_scope(&self, el: ScopeElement, slot: SlotId) -> PResult<ScopeConstraint> {
        let is_type = match &el.is_type {
            Some((path, span)) => Some(self.entity_type(path, *span)?),
            None => None,
        };
        let Some((_, is_in, rhs)) = el.relation else {
            return Ok(match is_type {
                Some(t) => ScopeConstraint::Is(t),
                None => ScopeConstraint::Any,
            });
        };
        if is_in && matches!(rhs.kind, ExprKind::Is { .. }) {
            return Err(Diagnostic::new(
                "when `is` and `in` are used together, `is` must come first: `principal is T in E`",
                el.span,
            ));
        }
        let target = match &rhs.kind {
            ExprKind::Lit(Literal::Entity(uid)) => EntityRef::Uid(uid.clone()),
            &ExprKind::Slot(s) if s == slot => EntityRef::Slot(s),
            &ExprKind::Slot(s) => {
                return Err(Diagnostic::new(
                    format!(
                        "the slot `{}` cannot be used for `{}`; use `{}`",
                        s.name(),
                        self.text_of(el.var),
                        slot.name()
                    ),
                    rhs.span,
                ));
            }
            _ => {
                return Err(Diagnostic::new(
                    format!(
                        "the right side of `{}` in the scope must be an entity uid or the slot `{}`",
                        if is_in { "in" } else { "==" },
                        slot.name()
                    ),
                    rhs.span,
                ));
            }
        };
        match (is_in, is_type) {
            (false, None) => Ok(ScopeConstraint::Eq(target)),
            (false, Some(_)) => Err(Diagnostic::new(
                "`is` cannot be combined with `==` in the scope",
                el.span,
            )
            .with_help("`principal == E` already fixes the type")),
            (true, None) => Ok(ScopeConstraint::In(target)),
            (true, Some(t)) => Ok(ScopeConstraint::IsIn(t, target)),
        }
    }

    fn action_scope(&self, el: ScopeElement) -> PResult<ActionConstraint> {
        if el.is_type.is_some() {
            return Err(Diagnostic::new(
                "`is` is not allowed on the action in the scope",
                el.span,
            ));
        }
        let Some((_, is_in, rhs)) = el.relation else {
            return Ok(ActionConstraint::Any);
        };
        let action_uid = |e: &Expr| -> PResult<EntityUid> {
            match &e.kind {
                ExprKind::Lit(Literal::Entity(uid)) if uid.is_action() => Ok(uid.clone()),
                ExprKind::Lit(Literal::Entity(uid)) => Err(Diagnostic::new(
                    format!("expected an entity uid with type `Action` but got `{uid}`"),
                    e.span,
                )
                .with_help("action entities have a type named `Action`, optionally namespaced")),
                ExprKind::Slot(_) => Err(Diagnostic::new(
                    "template slots are not allowed on the action",
                    e.span,
                )),
                _ => Err(Diagnostic::new(
                    "expected an action entity uid, like `Action::\"view\"`",
                    e.span,
                )),
            }
        };
        if !is_in {
            return Ok(ActionConstraint::Eq(action_uid(&rhs)?));
        }
        match &rhs.kind {
            ExprKind::Is { .. } => Err(Diagnostic::new(
                "`is` is not allowed on the action in the scope",
                rhs.span,
            )),
            ExprKind::Set(items) => Ok(ActionConstraint::In(
                items.iter().map(action_uid).collect::<PResult<_>>()?,
            )),
            _ => Ok(ActionConstraint::In(vec![action_uid(&rhs)?])),
        }
    }

    fn condition(&mut self) -> PResult<Condition> {
        let kw = self.bump();
        let kind = match self.text_of(kw) {
            "when" => ConditionKind::When,
            "unless" => ConditionKind::Unless,
            other => {
                return Err(Diagnostic::new(
                    format!("`{other}` is not a valid condition; expected `when` or `unless`"),
                    kw.span,
                ));
            }
        };
        self.expect(TokenKind::LBrace)?;
        if let Some(close) = self.eat(TokenKind::RBrace) {
            return Err(Diagnostic::new(
                format!("`{}` condition is empty", self.text_of(kw)),
                kw.span.to(close.span),
            ));
        }
        let body = self.expr()?;
        let close = self.expect(TokenKind::RBrace)?;
        if let Some(slot_span) = find_slot(&body) {
            return Err(Diagnostic::new(
                "template slots are only allowed in the policy scope, not in conditions",
                slot_span,
            ));
        }
        Ok(Condition {
            kind,
            body,
            span: kw.span.to(close.span),
        })
    }
}

fn find_slot(e: &Expr) -> Option<Span> {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        if matches!(e.kind, ExprKind::Slot(_)) {
            return Some(e.span);
        }
        stack.extend(e.children());
    }
    None
}
