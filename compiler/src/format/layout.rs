//! The tree to a [`pretty`] document: where lines may break, how far each part is indented, and
//! where each comment goes.
//!
//! Comments are placed as their tokens are: a token's leading comments on lines of their own
//! before it, its trailing comment after it and then a line break. Some constructs ask for a
//! token's comments before laying out what comes earlier (an operator's comments before its left
//! operand, for instance); the order of those requests is part of the format, since a comment
//! goes to whichever construct asks first.

use pretty::RcDoc;

use super::tree::{
    Access, Annotation, Condition, Expr, ExprKind, Policy, Range, RecordEntry, ScopeVar, Tok,
    Unformattable,
};
use super::trivia::{Tokens, Trivia};
use crate::lexer::TokenKind;

type Doc<'s> = RcDoc<'s, ()>;
type Res<T> = Result<T, Unformattable>;

/// Lays out one policy.
pub(super) fn policy<'s>(tokens: &mut Tokens<'s>, indent: isize, p: &Policy) -> Res<Doc<'s>> {
    Layout { tokens, indent }.policy(p)
}

struct Layout<'t, 's> {
    tokens: &'t mut Tokens<'s>,
    indent: isize,
}

/// Comment lines on lines of their own: a line break, the comments one per line, a line break.
fn leading<'s>(lines: &[&'s str]) -> Doc<'s> {
    if lines.is_empty() {
        return RcDoc::nil();
    }
    let mut pieces = Vec::with_capacity(2 * lines.len() + 1);
    for line in lines {
        pieces.push(RcDoc::hardline());
        pieces.push(text(line));
    }
    pieces.push(RcDoc::hardline());
    concat(pieces)
}

/// A trailing comment after a space, then a line break; `otherwise` when there is none.
fn trailing<'s>(comment: &'s str, otherwise: Doc<'s>) -> Doc<'s> {
    if comment.is_empty() {
        otherwise
    } else {
        RcDoc::space()
            .append(RcDoc::text(comment))
            .append(RcDoc::hardline())
    }
}

/// `doc` with a token's comments around it; `otherwise` follows when there is no trailing one.
fn commented<'s>(doc: Doc<'s>, trivia: Trivia<'s>, otherwise: Doc<'s>) -> Doc<'s> {
    leading(&trivia.leading)
        .append(doc)
        .append(trailing(trivia.trailing, otherwise))
}

fn text(s: &str) -> Doc<'_> {
    RcDoc::text(s)
}

/// The pieces one after the other, appended as a balanced tree: a chain of 100,000 operands or a
/// set of 50,000 elements makes a document as shallow as its logarithm, which drops without
/// deep recursion. (How appends nest does not change the layout.)
fn concat(mut pieces: Vec<Doc<'_>>) -> Doc<'_> {
    while pieces.len() > 1 {
        let mut pairs = Vec::with_capacity(pieces.len().div_ceil(2));
        let mut rest = pieces.into_iter();
        while let Some(a) = rest.next() {
            pairs.push(match rest.next() {
                Some(b) => a.append(b),
                None => a,
            });
        }
        pieces = pairs;
    }
    pieces.pop().unwrap_or_else(RcDoc::nil)
}

fn missing(at: Tok) -> Unformattable {
    Unformattable {
        at,
        what: "a token the layout expects",
    }
}

impl<'s> Layout<'_, 's> {
    fn nest(&self, doc: Doc<'s>) -> Doc<'s> {
        doc.nest(self.indent)
    }

    fn word(&self, t: Tok) -> &'s str {
        self.tokens.text_of(t)
    }

    /// The comments of the token at `t`.
    fn at(&mut self, t: Tok) -> Res<Trivia<'s>> {
        self.tokens.take(t).ok_or_else(|| missing(t))
    }

    /// The comments of the token after the construct spanning `r`.
    fn after(&mut self, r: Range) -> Res<Trivia<'s>> {
        self.tokens
            .take_after(r.last)
            .ok_or_else(|| missing(r.last))
    }

    /// A single-token construct (a name, a string) with its comments.
    fn token(&mut self, t: Tok) -> Res<Doc<'s>> {
        let trivia = self.at(t)?;
        Ok(commented(text(self.word(t)), trivia, RcDoc::nil()))
    }

    fn policy(&mut self, p: &Policy) -> Res<Doc<'s>> {
        let mut annotations = Vec::with_capacity(p.annotations.len());
        for a in &p.annotations {
            annotations.push(self.annotation(a)?);
        }
        let annotations = concat(annotations);
        let effect_leading = self
            .tokens
            .take_leading(p.effect)
            .ok_or_else(|| missing(p.effect))?;
        let effect = self.token(p.effect)?;
        let [principal, action, resource] = p.scope.as_slice() else {
            return Err(Unformattable {
                at: p.effect,
                what: "a scope of three variables",
            });
        };
        let principal_doc = self.scope_var(principal)?;
        let action_doc = self.scope_var(action)?;
        let resource_doc = self.scope_var(resource)?;
        let plain = p
            .scope
            .iter()
            .all(|v| v.is.is_none() && v.constraint.is_none());
        let separator = if plain { RcDoc::space } else { RcDoc::hardline };
        let first_comma = self.after(principal.range)?;
        let second_comma = self.after(action.range)?;
        let vars = principal_doc
            .append(commented(text(","), first_comma, separator()))
            .append(action_doc)
            .append(commented(text(","), second_comma, separator()))
            .append(resource_doc);
        let scope = if plain {
            self.nest(vars).group()
        } else {
            self.nest(RcDoc::hardline().append(vars))
                .append(RcDoc::hardline())
        };
        let mut conditions = Vec::with_capacity(2 * p.conditions.len());
        for (i, c) in p.conditions.iter().enumerate() {
            if i > 0 {
                conditions.push(RcDoc::hardline());
            }
            conditions.push(self.condition(c)?);
        }
        let conditions = concat(conditions);
        let open = self.at(p.effect + 1)?;
        let close = self.after(resource.range)?;
        let semi = self.at(p.range.last)?;
        let after_close = if p.conditions.is_empty() {
            RcDoc::nil()
        } else {
            RcDoc::hardline()
        };
        Ok(annotations
            .append(
                leading(&effect_leading).append(
                    effect
                        .append(RcDoc::line())
                        .append(commented(text("("), open, RcDoc::nil()))
                        .group(),
                ),
            )
            .append(scope)
            .append(commented(text(")"), close, after_close))
            .append(conditions)
            .append(commented(text(";"), semi, RcDoc::nil())))
    }

    fn annotation(&mut self, a: &Annotation) -> Res<Doc<'s>> {
        let key = self.token(a.key)?;
        let at = self.at(a.range.first)?;
        let at = commented(text("@"), at, RcDoc::nil());
        let value = match a.value {
            Some(value) => {
                let open = self.at(a.key + 1)?;
                let value_doc = self.token(value)?;
                let close = self.at(a.range.last)?;
                commented(text("("), open, RcDoc::nil())
                    .append(value_doc)
                    .append(commented(text(")"), close, RcDoc::hardline()))
            }
            None => RcDoc::hardline(),
        };
        Ok(at.append(key).append(value))
    }

    fn scope_var(&mut self, v: &ScopeVar) -> Res<Doc<'s>> {
        let start = self.at(v.range.first)?;
        let var = text(self.word(v.var));
        let is = match &v.is {
            Some(ty) => {
                let keyword = self.at(v.var + 1)?;
                let ty_doc = self.expr(ty)?;
                let ty_comments = self.at(ty.range.first)?;
                self.nest(
                    RcDoc::line()
                        .append(commented(text("is"), keyword, RcDoc::nil()))
                        .group()
                        .append(RcDoc::line().append(commented(ty_doc, ty_comments, RcDoc::nil()))),
                )
                .group()
            }
            None => RcDoc::nil(),
        };
        let Some((op, rhs)) = &v.constraint else {
            return Ok(commented(var, start, RcDoc::nil()).append(is));
        };
        let op_comments = match &v.is {
            Some(ty) => self.after(ty.range)?,
            None => self.after(Range {
                first: v.var,
                last: v.var,
            })?,
        };
        let rhs = self.expr(rhs)?;
        let head = var
            .append(trailing(start.trailing, RcDoc::nil()))
            .append(is)
            .append(RcDoc::line())
            .append(commented(text(self.word(*op)), op_comments, RcDoc::nil()))
            .group();
        Ok(leading(&start.leading)
            .append(head.append(self.nest(RcDoc::line().append(rhs))).group()))
    }

    fn condition(&mut self, c: &Condition) -> Res<Doc<'s>> {
        let brace = self.after(Range {
            first: c.keyword,
            last: c.keyword,
        })?;
        let close = self.at(c.range.last)?;
        let keyword_comments = self.at(c.keyword)?;
        let close = commented(text("}"), close, RcDoc::nil());
        let keyword = self.token(c.keyword)?;
        let head = keyword.append(trailing(keyword_comments.trailing, RcDoc::line()));
        let braces = match &c.body {
            Some(body) => {
                let body_leading = self
                    .tokens
                    .take_leading(body.range.first)
                    .ok_or_else(|| missing(body.range.first))?;
                let body = self.expr(body)?;
                let inside = self
                    .nest(
                        trailing(brace.trailing, RcDoc::line())
                            .append(leading(&body_leading).append(body.group())),
                    )
                    .append(RcDoc::line())
                    .append(close)
                    .group();
                leading(&brace.leading).append(text("{").append(inside))
            }
            None => leading(&brace.leading).append(
                text("{")
                    .append(trailing(brace.trailing, RcDoc::line()))
                    .append(close)
                    .group(),
            ),
        };
        Ok(leading(&keyword_comments.leading).append(head.append(braces).group()))
    }

    /// An expression where the grammar allows any level: constructs of the additive level and
    /// below come grouped (their levels' own layout does that).
    fn expr(&mut self, e: &Expr) -> Res<Doc<'s>> {
        let doc = self.raw(e)?;
        Ok(match e.kind {
            ExprKind::If(..)
            | ExprKind::Or(_)
            | ExprKind::And(_)
            | ExprKind::Compare(..)
            | ExprKind::Has(..)
            | ExprKind::Like(..)
            | ExprKind::Is(..) => doc,
            _ => doc.group(),
        })
    }

    /// An expression's own layout, without the grouping of the levels above it.
    fn raw(&mut self, e: &Expr) -> Res<Doc<'s>> {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.raw_inner(e))
    }

    fn raw_inner(&mut self, e: &Expr) -> Res<Doc<'s>> {
        match &e.kind {
            ExprKind::If(c, t, f) => {
                let if_comments = self.at(e.range.first)?;
                let then_comments = self.after(c.range)?;
                let else_comments = self.after(t.range)?;
                let c = self.branch("if", if_comments, c)?;
                let t = self.branch("then", then_comments, t)?;
                let f = self.branch("else", else_comments, f)?;
                Ok(c.append(RcDoc::line())
                    .append(t)
                    .append(RcDoc::line())
                    .append(f)
                    .group())
            }
            ExprKind::Or(operands) => self.logical(operands, "||"),
            ExprKind::And(operands) => self.logical(operands, "&&"),
            ExprKind::Compare(l, op, r) => {
                let left = self.expr(l)?;
                let comments = self.after(l.range)?;
                let right = self.expr(r)?;
                Ok(left
                    .append(RcDoc::space())
                    .append(commented(text(self.word(*op)), comments, RcDoc::nil()))
                    .append(RcDoc::space())
                    .append(right))
            }
            ExprKind::Has(target, field) => self.keyword_relation(target, "has", field),
            ExprKind::Like(target, pattern) => self.keyword_relation(target, "like", pattern),
            ExprKind::Is(target, ty, within) => {
                let target_doc = self.expr(target)?;
                let is = self.after(target.range)?;
                let ty_doc = self.expr(ty)?;
                let mut doc = target_doc
                    .append(RcDoc::space())
                    .append(commented(text("is"), is, RcDoc::nil()))
                    .append(RcDoc::space())
                    .append(self.nest(ty_doc));
                if let Some(within) = within {
                    let in_comments = self.after(ty.range)?;
                    let within = self.expr(within)?;
                    doc = doc
                        .append(RcDoc::line())
                        .append(commented(text("in"), in_comments, RcDoc::nil()))
                        .append(RcDoc::space())
                        .append(self.nest(within));
                }
                Ok(doc.group())
            }
            ExprKind::Chain(first, rest) => {
                let multiplicative = rest.first().is_some_and(|(op, _)| {
                    !matches!(self.tokens.kind(*op), TokenKind::Plus | TokenKind::Minus)
                });
                let operand = |l: &mut Self, x: &Expr| {
                    // The operands of `*` are unary expressions, laid out ungrouped.
                    if multiplicative && matches!(x.kind, ExprKind::Unary(..)) {
                        l.raw(x)
                    } else {
                        l.expr(x)
                    }
                };
                let mut pieces = Vec::with_capacity(4 * rest.len() + 1);
                pieces.push(operand(self, first)?);
                let mut prev = first.range;
                for (op, x) in rest {
                    let comments = self.after(prev)?;
                    pieces.push(RcDoc::space());
                    pieces.push(commented(text(self.word(*op)), comments, RcDoc::nil()));
                    pieces.push(RcDoc::line());
                    pieces.push(operand(self, x)?);
                    prev = x.range;
                }
                Ok(concat(pieces).group())
            }
            ExprKind::Unary(ops, operand) => {
                let mut pieces = Vec::with_capacity(ops.len() + 1);
                for op in ops {
                    let comments = self.at(*op)?;
                    pieces.push(commented(text(self.word(*op)), comments, RcDoc::nil()));
                }
                pieces.push(self.expr(operand)?);
                Ok(concat(pieces))
            }
            ExprKind::Member(item, accesses) => {
                let item = self.raw(item)?;
                let mut rest = Vec::with_capacity(2 * accesses.len());
                let mut prev_is_field = false;
                for (i, access) in accesses.iter().enumerate() {
                    let is_call = matches!(access, Access::Call(..));
                    // A method's name and its arguments stay on one line.
                    if i > 0 && !(prev_is_field && is_call) {
                        rest.push(RcDoc::line_());
                    }
                    rest.push(self.access(access)?);
                    prev_is_field = matches!(access, Access::Field(..));
                }
                Ok(item.append(self.nest(concat(rest))).group())
            }
            ExprKind::Literal(t) => {
                let trivia = self.at(*t)?;
                let word = self.word(*t);
                let literal = if self.tokens.kind(*t) == TokenKind::Int {
                    // The number's value: leading zeros go.
                    match word.parse::<u64>() {
                        Ok(n) => RcDoc::as_string(n),
                        Err(_) => {
                            return Err(Unformattable {
                                at: *t,
                                what: "an integer that fits in 64 bits",
                            });
                        }
                    }
                } else {
                    text(word)
                };
                Ok(commented(literal, trivia, RcDoc::nil()))
            }
            ExprKind::Slot(t) => self.token(*t),
            ExprKind::Name(path) => self.name(path),
            ExprKind::Uid(path, id) => {
                let path_doc = self.name(path)?;
                let last = *path.last().ok_or_else(|| missing(e.range.first))?;
                let sep = self.after(Range { first: last, last })?;
                let id = self.token(*id)?;
                Ok(path_doc
                    .append(commented(text("::"), sep, RcDoc::nil()))
                    .append(id))
            }
            ExprKind::Paren(inner) => {
                let open = self.at(e.range.first)?;
                let inner = self.expr(inner)?;
                let close = self.at(e.range.last)?;
                Ok(commented(text("("), open, RcDoc::nil())
                    .append(inner.nest(1))
                    .append(commented(text(")"), close, RcDoc::nil()))
                    .group())
            }
            ExprKind::List(items) => {
                let items = self.separated(items, |l, x| l.expr(x), |x| x.range)?;
                let open = self.at(e.range.first)?;
                let close = self.at(e.range.last)?;
                Ok(commented(text("["), open, RcDoc::nil())
                    .append(items.nest(1))
                    .append(commented(text("]"), close, RcDoc::nil())))
            }
            ExprKind::Record(entries) => {
                let inits = if entries.is_empty() {
                    RcDoc::nil()
                } else {
                    let inits = self.separated(entries, Self::entry, |x| x.range)?;
                    RcDoc::line().append(inits).append(RcDoc::line()).group()
                };
                let open = self.at(e.range.first)?;
                let close = self.at(e.range.last)?;
                Ok(commented(text("{"), open, RcDoc::nil())
                    .append(self.nest(inits))
                    .append(commented(text("}"), close, RcDoc::nil())))
            }
        }
    }

    /// `if`, `then` or `else` and the expression after it.
    fn branch(&mut self, keyword: &'static str, comments: Trivia<'s>, e: &Expr) -> Res<Doc<'s>> {
        let doc = self.expr(e)?;
        Ok(commented(text(keyword), comments, RcDoc::nil())
            .append(self.nest(RcDoc::line().append(doc))))
    }

    /// Operands joined by `&&` or `||`, each operator ending its line when they break.
    fn logical(&mut self, operands: &[Expr], op: &'static str) -> Res<Doc<'s>> {
        let Some((last, init)) = operands.split_last() else {
            return Ok(RcDoc::nil());
        };
        let mut pieces = Vec::with_capacity(3 * operands.len());
        for x in init {
            let comments = self.after(x.range)?;
            pieces.push(self.expr(x)?);
            pieces.push(RcDoc::space());
            pieces.push(commented(text(op), comments, RcDoc::line()));
        }
        pieces.push(self.expr(last)?);
        Ok(concat(pieces))
    }

    /// `target has field`, `target like pattern`.
    fn keyword_relation(
        &mut self,
        target: &Expr,
        keyword: &'static str,
        operand: &Expr,
    ) -> Res<Doc<'s>> {
        let target_doc = self.expr(target)?;
        let comments = self.after(target.range)?;
        let operand = self.expr(operand)?;
        Ok(target_doc
            .append(RcDoc::line())
            .append(commented(text(keyword), comments, RcDoc::nil()))
            .append(RcDoc::line())
            .append(self.nest(operand))
            .group())
    }

    /// Items separated by commas, a line after each comma.
    fn separated<T>(
        &mut self,
        items: &[T],
        item: impl Fn(&mut Self, &T) -> Res<Doc<'s>>,
        range: impl Fn(&T) -> Range,
    ) -> Res<Doc<'s>> {
        let Some((first, rest)) = items.split_first() else {
            return Ok(RcDoc::nil());
        };
        let mut pieces = Vec::with_capacity(3 * items.len());
        pieces.push(item(self, first)?);
        let mut prev = range(first);
        for x in rest {
            let comma = self.after(prev)?;
            pieces.push(commented(text(","), comma, RcDoc::nil()));
            pieces.push(RcDoc::line());
            pieces.push(item(self, x)?);
            prev = range(x);
        }
        Ok(concat(pieces))
    }

    fn entry(&mut self, entry: &RecordEntry) -> Res<Doc<'s>> {
        let key = self.expr(&entry.key)?;
        let value = self.expr(&entry.value)?;
        let colon = self.after(entry.key.range)?;
        Ok(key
            .append(commented(text(":"), colon, RcDoc::nil()))
            .append(RcDoc::space())
            .append(value))
    }

    fn access(&mut self, access: &Access) -> Res<Doc<'s>> {
        match access {
            Access::Field(range, name) => {
                let dot = self.at(range.first)?;
                let name = self.token(*name)?;
                Ok(commented(text("."), dot, RcDoc::nil()).append(name))
            }
            Access::Call(range, args) => {
                let open = self.at(range.first)?;
                let open = commented(text("("), open, RcDoc::nil());
                let args = if args.is_empty() {
                    RcDoc::nil()
                } else {
                    let args = self.separated(args, |l, x| l.expr(x), |x| x.range)?;
                    self.nest(RcDoc::line_().append(args))
                        .append(RcDoc::line_())
                };
                let close = self.at(range.last)?;
                Ok(open
                    .append(args)
                    .append(commented(text(")"), close, RcDoc::nil())))
            }
            Access::Index(range, index) => {
                let open = self.at(range.first)?;
                let open = commented(text("["), open, RcDoc::nil());
                let index = self.expr(index)?;
                let close = self.at(range.last)?;
                Ok(open
                    .append(index)
                    .append(commented(text("]"), close, RcDoc::nil())))
            }
        }
    }

    /// A name: identifiers joined by `::`, each separator taking the comments of its token.
    fn name(&mut self, path: &[Tok]) -> Res<Doc<'s>> {
        let Some((first, rest)) = path.split_first() else {
            return Ok(RcDoc::nil());
        };
        let mut pieces = Vec::with_capacity(2 * path.len());
        pieces.push(self.token(*first)?);
        let mut prev = *first;
        for part in rest {
            let sep = self.after(Range {
                first: prev,
                last: prev,
            })?;
            pieces.push(commented(text("::"), sep, RcDoc::nil()));
            pieces.push(self.token(*part)?);
            prev = *part;
        }
        Ok(concat(pieces))
    }
}
