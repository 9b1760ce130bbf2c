//! Expressions, by precedence from loosest to tightest: `if`, `||`, `&&`, relations (`==`, `<`,
//! `in`, `has`, `like`, `is`), `+ -`, `*`, unary `! -`, member access and calls, primaries.

use std::collections::HashSet;
use std::sync::Arc;

use thuja_runtime::ExtFn;

use super::{PResult, Parser, literal};
use crate::ast::{BinaryOp, Expr, ExprKind, Literal, MAX_EXPR_DEPTH, SlotId, UnaryOp, Var};
use crate::diagnostic::Diagnostic;
use crate::lexer::{Token, TokenKind};
use crate::source::Span;

/// More than this many `!` or `-` in a row is rejected, as Cedar does.
const MAX_UNARY_REPEAT: usize = 4;

/// The methods built into the language (not extension functions).
const BUILTIN_METHODS: [&str; 6] = [
    "contains",
    "containsAll",
    "containsAny",
    "isEmpty",
    "getTag",
    "hasTag",
];

/// A primary before member accesses are applied: names, variables and literals are kept apart
/// because what may follow them differs (`f(x)` needs a name, `.attr` a value).
enum Primary {
    Expr(Expr),
    Var(Var, Span),
    Name(Vec<Token>, Span),
    Str(Token),
    Bool(bool, Span),
}

enum Access {
    Field(Arc<str>, Span),
    Call(Vec<Expr>, Span),
    Index(Arc<str>, Span),
}

fn var_named(name: &str) -> Option<Var> {
    match name {
        "principal" => Some(Var::Principal),
        "action" => Some(Var::Action),
        "resource" => Some(Var::Resource),
        "context" => Some(Var::Context),
        _ => None,
    }
}

fn relation_op(kind: TokenKind) -> Option<BinaryOp> {
    match kind {
        TokenKind::EqEq => Some(BinaryOp::Eq),
        TokenKind::NotEq => Some(BinaryOp::NotEq),
        TokenKind::Lt => Some(BinaryOp::Less),
        TokenKind::Le => Some(BinaryOp::LessEq),
        TokenKind::Gt => Some(BinaryOp::Greater),
        TokenKind::Ge => Some(BinaryOp::GreaterEq),
        _ => None,
    }
}

fn bin(op: BinaryOp, a: Expr, b: Expr) -> Expr {
    let span = a.span.to(b.span);
    Expr::new(ExprKind::Binary(op, Box::new(a), Box::new(b)), span)
}

impl<'s> Parser<'s> {
    /// A full expression (the body of a condition, an argument, a parenthesised expression).
    pub(crate) fn expr(&mut self) -> PResult<Expr> {
        self.nested(|p| {
            if let Some(kw) = p.eat_word("if") {
                let cond = p.expr()?;
                p.expect_word("then")?;
                let then = p.expr()?;
                p.expect_word("else")?;
                let otherwise = p.expr()?;
                let span = kw.span.to(otherwise.span);
                Ok(Expr::new(
                    ExprKind::If {
                        cond: Box::new(cond),
                        then: Box::new(then),
                        otherwise: Box::new(otherwise),
                    },
                    span,
                ))
            } else {
                p.or_expr()
            }
            .and_then(|e| {
                p.check_height(&e, e.span.start_point())?;
                Ok(e)
            })
        })
    }

    fn or_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.and_expr()?;
        while let Some(op) = self.eat(TokenKind::OrOr) {
            let rhs = self.and_expr()?;
            let span = lhs.span.to(rhs.span);
            lhs = match (&lhs.kind, &rhs.kind) {
                (ExprKind::Lit(Literal::Bool(a)), ExprKind::Lit(Literal::Bool(b)))
                    if self.fold_bools =>
                {
                    Expr::new(ExprKind::Lit(Literal::Bool(*a || *b)), span)
                }
                _ => Expr::new(ExprKind::Or(Box::new(lhs), Box::new(rhs)), span),
            };
            self.check_height(&lhs, op.span)?;
        }
        Ok(lhs)
    }

    /// `a && b && ...`. Like Cedar, two boolean literals joined by `&&` (or `||`) are one
    /// literal: `true && true && ...` is `true`, however long.
    fn and_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.relation()?;
        while let Some(op) = self.eat(TokenKind::AndAnd) {
            let rhs = self.relation()?;
            let span = lhs.span.to(rhs.span);
            lhs = match (&lhs.kind, &rhs.kind) {
                (ExprKind::Lit(Literal::Bool(a)), ExprKind::Lit(Literal::Bool(b)))
                    if self.fold_bools =>
                {
                    Expr::new(ExprKind::Lit(Literal::Bool(*a && *b)), span)
                }
                _ => Expr::new(ExprKind::And(Box::new(lhs), Box::new(rhs)), span),
            };
            self.check_height(&lhs, op.span)?;
        }
        Ok(lhs)
    }

    fn at_relation_op(&self) -> bool {
        relation_op(self.peek().kind).is_some() || self.at(TokenKind::Eq) || self.at_word("in")
    }

    fn relation(&mut self) -> PResult<Expr> {
        let lhs = self.add()?;
        let t = self.peek();
        let op = if let Some(op) = relation_op(t.kind) {
            op
        } else if t.kind == TokenKind::Eq {
            return Err(Diagnostic::new("`=` is not a valid operator", t.span)
                .with_help("did you mean `==`?"));
        } else if self.at_word("in") {
            BinaryOp::In
        } else if self.at_word("has") {
            self.bump();
            return self.has_rhs(lhs);
        } else if self.at_word("like") {
            self.bump();
            return self.like_rhs(lhs);
        } else if self.at_word("is") {
            self.bump();
            return self.is_rhs(lhs);
        } else {
            return Ok(lhs);
        };
        self.bump();
        let rhs = self.add()?;
        if self.at_relation_op() {
            return Err(Diagnostic::new(
                "multiple relational operators (>, ==, in, etc.) must be used with parentheses to make ordering explicit",
                lhs.span.to(self.peek().span),
            ));
        }
        Ok(bin(op, lhs, rhs))
    }

    /// After `has`: an attribute name (identifier or string literal) or a path `a.b.c`.
    fn has_rhs(&mut self, lhs: Expr) -> PResult<Expr> {
        let t = self.peek();
        let (attrs, end) = match t.kind {
            TokenKind::Str => {
                self.bump();
                (vec![Arc::from(self.string_value(t)?)], t.span)
            }
            TokenKind::Ident => {
                self.bump();
                if self.at(TokenKind::ColonColon) {
                    return Err(Diagnostic::new(
                        "a name with a namespace cannot be used as an attribute",
                        t.span.to(self.peek().span),
                    ));
                }
                let mut attrs = vec![Arc::from(self.valid_ident(t)?)];
                let mut end = t.span;
                while self.eat(TokenKind::Dot).is_some() {
                    let part = self.expect(TokenKind::Ident)?;
                    attrs.push(Arc::from(self.valid_ident(part)?));
                    end = part.span;
                }
                (attrs, end)
            }
            _ => {
                return Err(self
                    .unexpected("an attribute name")
                    .with_help("the right side of `has` is an identifier, a path like `a.b.c`, or a string literal"));
            }
        };
        let span = lhs.span.to(end);
        Ok(Expr::new(
            ExprKind::HasAttr {
                expr: Box::new(lhs),
                attrs,
            },
            span,
        ))
    }

    /// After `like`: a pattern string literal.
    fn like_rhs(&mut self, lhs: Expr) -> PResult<Expr> {
        let t = self.peek();
        if t.kind != TokenKind::Str {
            return Err(self.unexpected("a pattern string literal after `like`"));
        }
        self.bump();
        let body_start = t.span.start + 1;
        let body = self.text_of(t);
        let body = body.get(1..body.len().saturating_sub(1)).unwrap_or("");
        let pattern = literal::unescape_pattern(body).map_err(|p| {
            Diagnostic::new(
                format!("invalid pattern: {}", p.message),
                Span::new(body_start + p.range.start, body_start + p.range.end),
            )
        })?;
        let span = lhs.span.to(t.span);
        Ok(Expr::new(
            ExprKind::Like {
                expr: Box::new(lhs),
                pattern,
            },
            span,
        ))
    }

    /// After `is`: an entity type, optionally followed by `in` and an expression.
    fn is_rhs(&mut self, lhs: Expr) -> PResult<Expr> {
        if !self.at(TokenKind::Ident) {
            return Err(self.unexpected("an entity type after `is`"));
        }
        let (path, path_span) = self.path()?;
        if self.at(TokenKind::ColonColon)
            || self.at(TokenKind::Dot)
            || self.at(TokenKind::LParen)
            || self.at(TokenKind::LBracket)
        {
            return Err(Diagnostic::new(
                "the right side of `is` must be an entity type name",
                path_span.to(self.peek().span),
            ));
        }
        let entity_type = self.entity_type(&path, path_span)?;
        let (in_expr, end) = if self.eat_word("in").is_some() {
            let e = self.add()?;
            let end = e.span;
            (Some(Box::new(e)), end)
        } else {
            (None, path_span)
        };
        let span = lhs.span.to(end);
        Ok(Expr::new(
            ExprKind::Is {
                expr: Box::new(lhs),
                entity_type,
                in_expr,
            },
            span,
        ))
    }

    fn add(&mut self) -> PResult<Expr> {
        let mut lhs = self.mult()?;
        loop {
            let op = match self.peek().kind {
                TokenKind::Plus => BinaryOp::Add,
                TokenKind::Minus => BinaryOp::Sub,
                _ => return Ok(lhs),
            };
            let op_token = self.bump();
            let rhs = self.mult()?;
            lhs = bin(op, lhs, rhs);
            self.check_height(&lhs, op_token.span)?;
        }
    }

    fn mult(&mut self) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        loop {
            let t = self.peek();
            match t.kind {
                TokenKind::Star => {
                    self.bump();
                    let rhs = self.unary()?;
                    lhs = bin(BinaryOp::Mul, lhs, rhs);
                    self.check_height(&lhs, t.span)?;
                }
                TokenKind::Slash => {
                    return Err(Diagnostic::new("division is not supported", t.span));
                }
                TokenKind::Percent => {
                    return Err(Diagnostic::new("remainder is not supported", t.span));
                }
                _ => return Ok(lhs),
            }
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        let first = self.peek();
        let op = match first.kind {
            TokenKind::Bang => UnaryOp::Not,
            TokenKind::Minus => UnaryOp::Neg,
            _ => return self.member(),
        };
        let mut count = 0;
        while self.at(first.kind) {
            self.bump();
            count += 1;
        }
        if count > MAX_UNARY_REPEAT {
            return Err(Diagnostic::new(
                format!(
                    "too many occurrences of `{}`: at most {MAX_UNARY_REPEAT} are allowed in a row",
                    self.text_of(first)
                ),
                first.span.to(self.peek().span),
            ));
        }
        let mut remaining = count;
        let mut operand = if op == UnaryOp::Neg && self.at_bare_number() {
            // `-N` is a negative literal, so that the most negative Long can be written.
            remaining -= 1;
            let t = self.bump();
            let magnitude = self.number_value(t)?;
            let value = if magnitude == 1u64 << 63 {
                i64::MIN
            } else {
                i64::try_from(magnitude)
                    .map(|v| -v)
                    .map_err(|_| too_large(self.text_of(t), first.span.to(t.span)))?
            };
            Expr::new(ExprKind::Lit(Literal::Long(value)), first.span.to(t.span))
        } else {
            self.member()?
        };
        for _ in 0..remaining {
            let span = first.span.to(operand.span);
            operand = Expr::new(ExprKind::Unary(op, Box::new(operand)), span);
        }
        Ok(operand)
    }

    /// Whether the next token is an integer with no member access after it.
    fn at_bare_number(&self) -> bool {
        self.at(TokenKind::Int)
            && !matches!(
                self.peek_at(1).kind,
                TokenKind::Dot | TokenKind::LParen | TokenKind::LBracket
            )
    }

    fn number_value(&self, t: Token) -> PResult<u64> {
        let text = self.text_of(t);
        text.parse::<u64>().map_err(|_| too_large(text, t.span))
    }

    fn member(&mut self) -> PResult<Expr> {
        let head = self.primary()?;
        let mut accesses = Vec::new();
        loop {
            let t = self.peek();
            match t.kind {
                TokenKind::Dot => {
                    self.bump();
                    let name = self.expect(TokenKind::Ident)?;
                    let id = self.valid_ident(name)?;
                    accesses.push(Access::Field(id.into(), name.span));
                }
                TokenKind::LParen => {
                    self.bump();
                    let args = self.comma_list(TokenKind::RParen, |p| p.expr())?;
                    let close = self.expect(TokenKind::RParen)?;
                    accesses.push(Access::Call(args, t.span.to(close.span)));
                }
                TokenKind::LBracket => {
                    self.bump();
                    let s = self.peek();
                    if s.kind != TokenKind::Str || self.peek_at(1).kind != TokenKind::RBracket {
                        return Err(self.unexpected("a string literal inside `[...]`").with_help(
                            "attributes are accessed with `e[\"name\"]`, where the name is a string literal",
                        ));
                    }
                    self.bump();
                    let close = self.bump();
                    accesses.push(Access::Index(
                        self.string_value(s)?.into(),
                        t.span.to(close.span),
                    ));
                }
                _ => break,
            }
            // Each node of the chain takes one or two accesses (`.name(args)` is one node), so
            // this many accesses would make a tree too tall: stop reading them.
            if accesses.len() > 2 * MAX_EXPR_DEPTH {
                return Err(Diagnostic::new(
                    format!("expression is nested too deeply (more than {MAX_EXPR_DEPTH} levels)"),
                    t.span,
                ));
            }
        }
        self.apply_accesses(head, accesses)
    }

    /// Applies `.field`, `(args)` and `["index"]` to a primary, with Cedar's rules on what may
    /// follow a name, a variable or a value.
    fn apply_accesses(&mut self, head: Primary, accesses: Vec<Access>) -> PResult<Expr> {
        let mut rest = accesses.into_iter().peekable();
        let mut expr = match head {
            Primary::Name(path, span) => match rest.next() {
                Some(Access::Call(args, call_span)) => {
                    self.function_call(&path, span, args, call_span)?
                }
                Some(Access::Field(field, fspan)) => {
                    return Err(Diagnostic::new(
                        format!(
                            "`{}` is not a variable or value, so it has no attribute or method `{field}`",
                            self.path_text(&path)
                        ),
                        span.to(fspan),
                    ));
                }
                Some(Access::Index(_, ispan)) => {
                    return Err(Diagnostic::new(
                        format!(
                            "`{}` is not a variable or value, so it cannot be indexed",
                            self.path_text(&path)
                        ),
                        span.to(ispan),
                    ));
                }
                None => return Err(self.bare_name_error(&path, span)),
            },
            Primary::Var(var, span) => {
                if let Some(Access::Call(_, call_span)) = rest.peek() {
                    return Err(Diagnostic::new(
                        format!("`{}` is a variable, not a function", var.name()),
                        span.to(*call_span),
                    ));
                }
                Expr::new(ExprKind::Var(var), span)
            }
            Primary::Expr(e) => e,
            Primary::Str(t) => Expr::new(
                ExprKind::Lit(Literal::String(self.string_value(t)?.into())),
                t.span,
            ),
            Primary::Bool(b, span) => Expr::new(ExprKind::Lit(Literal::Bool(b)), span),
        };
        while let Some(access) = rest.next() {
            expr = match access {
                Access::Call(_, span) => {
                    return Err(Diagnostic::new(
                        "this expression cannot be called as a function",
                        expr.span.to(span),
                    ));
                }
                Access::Field(name, fspan) => {
                    if let Some(Access::Call(args, call_span)) =
                        rest.next_if(|a| matches!(a, Access::Call(..)))
                    {
                        self.method_call(expr, &name, fspan, args, call_span)?
                    } else {
                        let span = expr.span.to(fspan);
                        Expr::new(
                            ExprKind::GetAttr {
                                expr: Box::new(expr),
                                attr: name,
                            },
                            span,
                        )
                    }
                }
                Access::Index(name, ispan) => {
                    let span = expr.span.to(ispan);
                    Expr::new(
                        ExprKind::GetAttr {
                            expr: Box::new(expr),
                            attr: name,
                        },
                        span,
                    )
                }
            };
            self.check_height(&expr, expr.span.end_point())?;
        }
        Ok(expr)
    }

    fn path_text(&self, path: &[Token]) -> String {
        path.iter()
            .map(|t| self.text_of(*t))
            .collect::<Vec<_>>()
            .join("::")
    }

    fn bare_name_error(&self, path: &[Token], span: Span) -> Diagnostic {
        let name = self.path_text(path);
        Diagnostic::new(
            format!("unknown variable `{name}`; the variables are principal, action, resource and context"),
            span,
        )
        .with_help(format!("an entity is written with its id, like `{name}::\"id\"`"))
    }

    fn function_call(
        &mut self,
        path: &[Token],
        span: Span,
        args: Vec<Expr>,
        call_span: Span,
    ) -> PResult<Expr> {
        let name = self.path_text(path);
        let full_span = span.to(call_span);
        if path.len() == 1 {
            for t in path {
                self.valid_ident(*t)?;
            }
            let func = ExtFn::lookup(&name);
            if BUILTIN_METHODS.contains(&name.as_str()) || func.is_some_and(|f| f.is_method()) {
                return Err(Diagnostic::new(
                    format!("`{name}` is a method, not a function"),
                    full_span,
                )
                .with_help(format!("call it as a method: `e.{name}(...)`")));
            }
            if let Some(func) = func {
                return Ok(Expr::new(ExprKind::ExtCall { func, args }, full_span));
            }
        }
        let constructors: Vec<&str> = ExtFn::all()
            .filter(|f| !f.is_method())
            .map(|f| f.name())
            .collect();
        Err(Diagnostic::new(format!("`{name}` is not a function"), span)
            .with_help(format!("the functions are {}", constructors.join(", "))))
    }

    fn method_call(
        &mut self,
        receiver: Expr,
        name: &str,
        name_span: Span,
        args: Vec<Expr>,
        call_span: Span,
    ) -> PResult<Expr> {
        let span = receiver.span.to(call_span);
        let builtin = match name {
            "contains" => Some(BinaryOp::Contains),
            "containsAll" => Some(BinaryOp::ContainsAll),
            "containsAny" => Some(BinaryOp::ContainsAny),
            "getTag" => Some(BinaryOp::GetTag),
            "hasTag" => Some(BinaryOp::HasTag),
            _ => None,
        };
        if let Some(op) = builtin {
            let [arg]: [Expr; 1] = args
                .try_into()
                .map_err(|args: Vec<Expr>| arity_error(name, 1, args.len(), span))?;
            return Ok(Expr::new(
                ExprKind::Binary(op, Box::new(receiver), Box::new(arg)),
                span,
            ));
        }
        if name == "isEmpty" {
            if !args.is_empty() {
                return Err(arity_error(name, 0, args.len(), span));
            }
            return Ok(Expr::new(
                ExprKind::Unary(UnaryOp::IsEmpty, Box::new(receiver)),
                span,
            ));
        }
        match ExtFn::lookup(name) {
            Some(func) if func.is_method() => {
                let mut all = Vec::with_capacity(args.len() + 1);
                all.push(receiver);
                all.extend(args);
                Ok(Expr::new(ExprKind::ExtCall { func, args: all }, span))
            }
            Some(_) => Err(Diagnostic::new(
                format!("`{name}` is a function, not a method"),
                name_span,
            )
            .with_help(format!("call it as a function: `{name}(...)`"))),
            None => Err(Diagnostic::new(
                format!("`{name}` is not a method"),
                name_span,
            )),
        }
    }

    fn primary(&mut self) -> PResult<Primary> {
        let t = self.peek();
        match t.kind {
            TokenKind::Int => {
                self.bump();
                let n = self.number_value(t)?;
                let v = i64::try_from(n).map_err(|_| too_large(self.text_of(t), t.span))?;
                Ok(Primary::Expr(Expr::new(
                    ExprKind::Lit(Literal::Long(v)),
                    t.span,
                )))
            }
            TokenKind::Str => {
                self.bump();
                Ok(Primary::Str(t))
            }
            TokenKind::Slot => {
                self.bump();
                let slot = match self.text_of(t) {
                    "?principal" => SlotId::Principal,
                    "?resource" => SlotId::Resource,
                    other => {
                        return Err(Diagnostic::new(
                            format!(
                                "`{other}` is not a valid template slot; the slots are ?principal and ?resource"
                            ),
                            t.span,
                        ));
                    }
                };
                Ok(Primary::Expr(Expr::new(ExprKind::Slot(slot), t.span)))
            }
            TokenKind::LParen => {
                self.bump();
                let e = self.expr()?;
                self.expect(TokenKind::RParen)?;
                Ok(Primary::Expr(e))
            }
            TokenKind::LBracket => {
                self.bump();
                let items = self.nested(|p| p.comma_list(TokenKind::RBracket, |p| p.expr()))?;
                let close = self.expect(TokenKind::RBracket)?;
                Ok(Primary::Expr(Expr::new(
                    ExprKind::Set(items),
                    t.span.to(close.span),
                )))
            }
            TokenKind::LBrace => {
                self.bump();
                let attrs = self.nested(|p| p.record_body())?;
                let close = self.expect(TokenKind::RBrace)?;
                Ok(Primary::Expr(Expr::new(
                    ExprKind::Record(attrs),
                    t.span.to(close.span),
                )))
            }
            TokenKind::Ident => {
                let text = self.text_of(t);
                if (text == "true" || text == "false")
                    && self.peek_at(1).kind != TokenKind::ColonColon
                {
                    self.bump();
                    return Ok(Primary::Bool(text == "true", t.span));
                }
                if text == "if" && self.peek_at(1).kind != TokenKind::ColonColon {
                    return Err(Diagnostic::new(
                        "an `if` expression must be in parentheses here",
                        t.span,
                    ));
                }
                let (path, span) = self.path()?;
                if self.at(TokenKind::ColonColon) {
                    self.bump();
                    let uid = self.entity_uid_after_path(path, span)?;
                    let end = self.prev().span;
                    return Ok(Primary::Expr(Expr::new(
                        ExprKind::Lit(Literal::Entity(uid)),
                        span.to(end),
                    )));
                }
                if let [single] = path.as_slice()
                    && let Some(var) = var_named(self.text_of(*single))
                {
                    return Ok(Primary::Var(var, span));
                }
                Ok(Primary::Name(path, span))
            }
            _ => Err(self.unexpected("an expression")),
        }
    }

    /// The attributes of a record literal, up to (not including) `}`.
    fn record_body(&mut self) -> PResult<Vec<(Arc<str>, Expr)>> {
        let mut seen = HashSet::new();
        let entries = self.comma_list(TokenKind::RBrace, |p| {
            let key_tok = p.peek();
            let key: Arc<str> = match key_tok.kind {
                TokenKind::Str if p.peek_at(1).kind == TokenKind::Colon => {
                    p.string_value(key_tok)?.into()
                }
                TokenKind::Ident if p.peek_at(1).kind == TokenKind::Colon => {
                    p.valid_ident(key_tok)?.into()
                }
                _ => {
                    return Err(p.unexpected(
                        "a record key (an identifier or string literal) followed by `:`",
                    ));
                }
            };
            p.bump();
            p.bump();
            let value = p.expr()?;
            Ok((key, key_tok.span, value))
        })?;
        let mut attrs = Vec::with_capacity(entries.len());
        for (key, span, value) in entries {
            if !seen.insert(key.clone()) {
                return Err(Diagnostic::new(
                    format!("duplicate key `{key}` in record literal"),
                    span,
                ));
            }
            attrs.push((key, value));
        }
        Ok(attrs)
    }

    /// Items separated by commas (a trailing comma allowed), up to the `close` token.
    pub(crate) fn comma_list<T>(
        &mut self,
        close: TokenKind,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        let mut items = Vec::new();
        while !self.at(close) {
            items.push(item(self)?);
            if self.eat(TokenKind::Comma).is_none() {
                break;
            }
        }
        Ok(items)
    }
}

fn too_large(text: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        format!(
            "integer literal `{text}` is too large: Long values range from -9223372036854775808 to 9223372036854775807"
        ),
        span,
    )
}

fn arity_error(name: &str, expected: usize, got: usize, span: Span) -> Diagnostic {
    Diagnostic::new(
        format!(
            "call to `{name}` takes {expected} argument{}, but {got} were given",
            if expected == 1 { "" } else { "s" }
        ),
        span,
    )
}
