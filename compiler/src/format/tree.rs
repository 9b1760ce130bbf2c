//! The policies as written, token by token: the shape the layout follows.
//!
//! The AST ([`crate::ast`]) keeps what a policy means; the layout also needs how it was written:
//! parentheses, each operator of a chain, `-5` as a sign and a number, the literal text of
//! names and strings, and which tokens each construct spans (its comments hang off those
//! tokens). This tree records that, in the levels of Cedar's grammar. It is built only for text
//! the policy parser ([`crate::parser`]) has accepted, so it reports no errors of its own beyond
//! "not formattable".

use crate::lexer::TokenKind;

use super::trivia::Tokens;

/// Index of a token in the file.
pub(super) type Tok = usize;

/// The tokens a construct spans, first and last (inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Range {
    pub first: Tok,
    pub last: Tok,
}

impl Range {
    fn to(self, other: Range) -> Range {
        Range {
            first: self.first,
            last: other.last,
        }
    }

    fn tok(t: Tok) -> Range {
        Range { first: t, last: t }
    }
}

#[derive(Debug)]
pub(super) struct Policy {
    pub range: Range,
    pub annotations: Vec<Annotation>,
    pub effect: Tok,
    pub scope: Vec<ScopeVar>,
    pub conditions: Vec<Condition>,
}

/// `@key` or `@key("value")`.
#[derive(Debug)]
pub(super) struct Annotation {
    pub range: Range,
    pub key: Tok,
    pub value: Option<Tok>,
}

/// One of `principal`, `action`, `resource` in the scope, with its constraint.
#[derive(Debug)]
pub(super) struct ScopeVar {
    pub range: Range,
    pub var: Tok,
    /// The entity type after `is`.
    pub is: Option<Expr>,
    /// The operator (`==` or `in`) and what it compares with.
    pub constraint: Option<(Tok, Expr)>,
}

/// `when { ... }` or `unless { ... }`.
#[derive(Debug)]
pub(super) struct Condition {
    pub range: Range,
    pub keyword: Tok,
    pub body: Option<Expr>,
}

#[derive(Debug)]
pub(super) struct Expr {
    pub range: Range,
    pub kind: ExprKind,
}

/// The grammar's levels, from `if` down to primaries. A construct of a lower level standing
/// where a higher one may stand (a lone operand) is not wrapped: the layout knows each level's
/// defaults.
#[derive(Debug)]
pub(super) enum ExprKind {
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// Two or more operands joined by `||`.
    Or(Vec<Expr>),
    /// Two or more operands joined by `&&`.
    And(Vec<Expr>),
    /// `a == b`, `a < b`, `a in b`, ...: the operator token.
    Compare(Box<Expr>, Tok, Box<Expr>),
    Has(Box<Expr>, Box<Expr>),
    Like(Box<Expr>, Box<Expr>),
    /// `a is T` or `a is T in b`.
    Is(Box<Expr>, Box<Expr>, Option<Box<Expr>>),
    /// A chain of `+`/`-` or of `*`/`%` (one level): first operand, then operator and operand.
    Chain(Box<Expr>, Vec<(Tok, Expr)>),
    /// One to four `!` or `-` tokens before a member expression.
    Unary(Vec<Tok>, Box<Expr>),
    /// A primary with one or more accesses after it.
    Member(Box<Expr>, Vec<Access>),
    /// `true`, `false`, a number or a string.
    Literal(Tok),
    /// `Path::"id"`: the path's tokens (names) and the string.
    Uid(Vec<Tok>, Tok),
    /// A name: one identifier, or a `::`-separated path.
    Name(Vec<Tok>),
    Slot(Tok),
    Paren(Box<Expr>),
    List(Vec<Expr>),
    Record(Vec<RecordEntry>),
}

#[derive(Debug)]
pub(super) struct RecordEntry {
    pub range: Range,
    pub key: Expr,
    pub value: Expr,
}

#[derive(Debug)]
pub(super) enum Access {
    /// `.name`: the dot and the name.
    Field(Range, Tok),
    /// `(args)`.
    Call(Range, Vec<Expr>),
    /// `[index]`.
    Index(Range, Box<Expr>),
}

/// Why the text cannot be laid out: the token it stopped at.
#[derive(Debug)]
pub(super) struct Unformattable {
    pub at: Tok,
    pub what: &'static str,
}

type Res<T> = Result<T, Unformattable>;

/// How deep the tree may nest before giving up (the policy parser stops well before this).
const MAX_DEPTH: usize = 4 * crate::parser::MAX_NESTING;

/// Reads the policy that starts at token `*pos`, and moves `*pos` past it.
pub(super) fn policy(tokens: &Tokens<'_>, pos: &mut Tok) -> Res<Policy> {
    let mut r = Reader {
        tokens,
        pos: *pos,
        depth: 0,
    };
    let policy = r.policy();
    *pos = r.pos;
    policy
}

struct Reader<'a, 's> {
    tokens: &'a Tokens<'s>,
    pos: Tok,
    depth: usize,
}

impl Reader<'_, '_> {
    fn kind(&self) -> TokenKind {
        self.tokens.kind(self.pos)
    }

    fn kind_at(&self, n: usize) -> TokenKind {
        self.tokens.kind(self.pos + n)
    }

    fn at(&self, kind: TokenKind) -> bool {
        self.kind() == kind
    }

    fn at_word(&self, word: &str) -> bool {
        self.at(TokenKind::Ident) && self.tokens.text_of(self.pos) == word
    }

    fn fail<T>(&self, what: &'static str) -> Res<T> {
        Err(Unformattable { at: self.pos, what })
    }

    fn bump(&mut self) -> Tok {
        let t = self.pos;
        self.pos += 1;
        t
    }

    fn expect(&mut self, kind: TokenKind, what: &'static str) -> Res<Tok> {
        if self.at(kind) {
            Ok(self.bump())
        } else {
            self.fail(what)
        }
    }

    /// The last token read.
    fn prev(&self) -> Tok {
        self.pos.saturating_sub(1)
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Res<T>) -> Res<T> {
        if self.depth >= MAX_DEPTH {
            return self.fail("expression nested too deeply");
        }
        self.depth += 1;
        let result = stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || f(self));
        self.depth -= 1;
        result
    }

    fn policy(&mut self) -> Res<Policy> {
        let start = self.pos;
        let mut annotations = Vec::new();
        while self.at(TokenKind::At) {
            let at = self.bump();
            let key = self.expect(TokenKind::Ident, "annotation name")?;
            let value = if self.at(TokenKind::LParen) {
                self.bump();
                let value = self.expect(TokenKind::Str, "annotation value")?;
                self.expect(TokenKind::RParen, "`)`")?;
                Some(value)
            } else {
                None
            };
            annotations.push(Annotation {
                range: Range {
                    first: at,
                    last: self.prev(),
                },
                key,
                value,
            });
        }
        let effect = self.expect(TokenKind::Ident, "`permit` or `forbid`")?;
        self.expect(TokenKind::LParen, "`(`")?;
        let mut scope = Vec::new();
        while !self.at(TokenKind::RParen) {
            scope.push(self.scope_var()?);
            if !self.at(TokenKind::RParen) {
                self.expect(TokenKind::Comma, "`,`")?;
            }
        }
        self.bump();
        let mut conditions = Vec::new();
        while self.at(TokenKind::Ident) {
            let keyword = self.bump();
            self.expect(TokenKind::LBrace, "`{`")?;
            let body = if self.at(TokenKind::RBrace) {
                None
            } else {
                Some(self.expr()?)
            };
            let close = self.expect(TokenKind::RBrace, "`}`")?;
            conditions.push(Condition {
                range: Range {
                    first: keyword,
                    last: close,
                },
                keyword,
                body,
            });
        }
        let semi = self.expect(TokenKind::Semi, "`;`")?;
        Ok(Policy {
            range: Range {
                first: start,
                last: semi,
            },
            annotations,
            effect,
            scope,
            conditions,
        })
    }

    fn scope_var(&mut self) -> Res<ScopeVar> {
        let var = self.expect(TokenKind::Ident, "a scope variable")?;
        if self.at(TokenKind::Colon) {
            return self.fail("a type annotation in the scope");
        }
        let is = if self.at_word("is") {
            self.bump();
            Some(self.add()?)
        } else {
            None
        };
        let constraint = if self.at_rel_op() {
            let op = self.bump();
            Some((op, self.expr()?))
        } else {
            None
        };
        Ok(ScopeVar {
            range: Range {
                first: var,
                last: self.prev(),
            },
            var,
            is,
            constraint,
        })
    }

    fn at_rel_op(&self) -> bool {
        matches!(
            self.kind(),
            TokenKind::Lt
                | TokenKind::Le
                | TokenKind::Gt
                | TokenKind::Ge
                | TokenKind::EqEq
                | TokenKind::NotEq
        ) || self.at_word("in")
    }

    fn finish(&self, start: Tok, kind: ExprKind) -> Expr {
        Expr {
            range: Range {
                first: start,
                last: self.prev(),
            },
            kind,
        }
    }

    fn expr(&mut self) -> Res<Expr> {
        self.nested(|r| {
            let start = r.pos;
            if r.at_word("if") {
                r.bump();
                let c = r.expr()?;
                if !r.at_word("then") {
                    return r.fail("`then`");
                }
                r.bump();
                let t = r.expr()?;
                if !r.at_word("else") {
                    return r.fail("`else`");
                }
                r.bump();
                let e = r.expr()?;
                return Ok(r.finish(start, ExprKind::If(Box::new(c), Box::new(t), Box::new(e))));
            }
            r.or()
        })
    }

    fn or(&mut self) -> Res<Expr> {
        let start = self.pos;
        let first = self.and()?;
        if !self.at(TokenKind::OrOr) {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.at(TokenKind::OrOr) {
            self.bump();
            operands.push(self.and()?);
        }
        Ok(self.finish(start, ExprKind::Or(operands)))
    }

    fn and(&mut self) -> Res<Expr> {
        let start = self.pos;
        let first = self.relation()?;
        if !self.at(TokenKind::AndAnd) {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.at(TokenKind::AndAnd) {
            self.bump();
            operands.push(self.relation()?);
        }
        Ok(self.finish(start, ExprKind::And(operands)))
    }

    fn relation(&mut self) -> Res<Expr> {
        let start = self.pos;
        let left = Box::new(self.add()?);
        if self.at_rel_op() {
            let op = self.bump();
            let right = Box::new(self.add()?);
            if self.at_rel_op() {
                return self.fail("a chain of comparisons");
            }
            return Ok(self.finish(start, ExprKind::Compare(left, op, right)));
        }
        if self.at_word("has") {
            self.bump();
            // `has if...`: the grammar's one place a bare `if` is a name.
            let field = if self.at_word("if") {
                let name_start = self.pos;
                let name = self.bump();
                let item = self.finish(name_start, ExprKind::Name(vec![name]));
                self.accesses(name_start, item)?
            } else {
                self.add()?
            };
            return Ok(self.finish(start, ExprKind::Has(left, Box::new(field))));
        }
        if self.at_word("like") {
            self.bump();
            let pattern = Box::new(self.add()?);
            return Ok(self.finish(start, ExprKind::Like(left, pattern)));
        }
        if self.at_word("is") {
            self.bump();
            let ty = Box::new(self.add()?);
            let within = if self.at_word("in") {
                self.bump();
                Some(Box::new(self.add()?))
            } else {
                None
            };
            return Ok(self.finish(start, ExprKind::Is(left, ty, within)));
        }
        Ok(*left)
    }

    fn add(&mut self) -> Res<Expr> {
        self.chain(&[TokenKind::Plus, TokenKind::Minus], Self::mult)
    }

    fn mult(&mut self) -> Res<Expr> {
        self.chain(
            &[TokenKind::Star, TokenKind::Slash, TokenKind::Percent],
            Self::unary,
        )
    }

    fn chain(&mut self, ops: &[TokenKind], operand: fn(&mut Self) -> Res<Expr>) -> Res<Expr> {
        let start = self.pos;
        let first = operand(self)?;
        if !ops.contains(&self.kind()) {
            return Ok(first);
        }
        let mut rest = Vec::new();
        while ops.contains(&self.kind()) {
            let op = self.bump();
            rest.push((op, operand(self)?));
        }
        Ok(self.finish(start, ExprKind::Chain(Box::new(first), rest)))
    }

    fn unary(&mut self) -> Res<Expr> {
        let start = self.pos;
        let kind = self.kind();
        if !matches!(kind, TokenKind::Bang | TokenKind::Minus) {
            return self.member();
        }
        let mut ops = Vec::new();
        while self.at(kind) {
            ops.push(self.bump());
        }
        if ops.len() > 4 {
            return Err(Unformattable {
                at: start,
                what: "more than four `!` or `-` in a row",
            });
        }
        let operand = self.member()?;
        Ok(self.finish(start, ExprKind::Unary(ops, Box::new(operand))))
    }

    fn member(&mut self) -> Res<Expr> {
        let start = self.pos;
        let item = self.primary()?;
        self.accesses(start, item)
    }

    fn accesses(&mut self, start: Tok, item: Expr) -> Res<Expr> {
        let mut accesses = Vec::new();
        loop {
            let first = self.pos;
            match self.kind() {
                TokenKind::Dot => {
                    self.bump();
                    let name = self.expect(TokenKind::Ident, "a field name")?;
                    accesses.push(Access::Field(Range { first, last: name }, name));
                }
                TokenKind::LParen => {
                    self.bump();
                    let args = self.comma_list(TokenKind::RParen, Self::expr)?;
                    let close = self.bump();
                    accesses.push(Access::Call(Range { first, last: close }, args));
                }
                TokenKind::LBracket => {
                    self.bump();
                    let index = self.expr()?;
                    let close = self.expect(TokenKind::RBracket, "`]`")?;
                    accesses.push(Access::Index(Range { first, last: close }, Box::new(index)));
                }
                _ => break,
            }
        }
        if accesses.is_empty() {
            return Ok(item);
        }
        Ok(self.finish(start, ExprKind::Member(Box::new(item), accesses)))
    }

    /// Items separated by commas up to `close` (left unread), a trailing comma allowed.
    fn comma_list<T>(&mut self, close: TokenKind, item: fn(&mut Self) -> Res<T>) -> Res<Vec<T>> {
        let mut items = Vec::new();
        while !self.at(close) {
            items.push(item(self)?);
            if !self.at(close) {
                self.expect(TokenKind::Comma, "`,`")?;
            }
        }
        Ok(items)
    }

    fn primary(&mut self) -> Res<Expr> {
        let start = self.pos;
        match self.kind() {
            TokenKind::Int | TokenKind::Str => {
                self.bump();
                Ok(self.finish(start, ExprKind::Literal(start)))
            }
            TokenKind::Slot => {
                self.bump();
                Ok(self.finish(start, ExprKind::Slot(start)))
            }
            TokenKind::LParen => {
                self.bump();
                let inner = self.expr()?;
                self.expect(TokenKind::RParen, "`)`")?;
                Ok(self.finish(start, ExprKind::Paren(Box::new(inner))))
            }
            TokenKind::LBracket => {
                self.bump();
                let items = self.comma_list(TokenKind::RBracket, Self::expr)?;
                self.bump();
                Ok(self.finish(start, ExprKind::List(items)))
            }
            TokenKind::LBrace => {
                self.bump();
                let entries = self.comma_list(TokenKind::RBrace, Self::record_entry)?;
                self.bump();
                Ok(self.finish(start, ExprKind::Record(entries)))
            }
            TokenKind::Ident if self.at_word("true") || self.at_word("false") => {
                self.bump();
                Ok(self.finish(start, ExprKind::Literal(start)))
            }
            TokenKind::Ident => {
                let mut path = vec![self.bump()];
                while self.at(TokenKind::ColonColon) {
                    match self.kind_at(1) {
                        TokenKind::Ident => {
                            self.bump();
                            path.push(self.bump());
                        }
                        TokenKind::Str => {
                            self.bump();
                            let id = self.bump();
                            return Ok(self.finish(start, ExprKind::Uid(path, id)));
                        }
                        _ => return self.fail("an entity written as a record"),
                    }
                }
                Ok(self.finish(start, ExprKind::Name(path)))
            }
            _ => self.fail("an expression"),
        }
    }

    fn record_entry(&mut self) -> Res<RecordEntry> {
        let start = self.pos;
        // `if` as a key: the grammar makes the key span the whole entry.
        let if_key = self.at_word("if") && self.kind_at(1) == TokenKind::Colon;
        let mut key = if if_key {
            let name = self.bump();
            self.finish(start, ExprKind::Name(vec![name]))
        } else {
            self.expr()?
        };
        self.expect(TokenKind::Colon, "`:`")?;
        let value = self.expr()?;
        let range = Range::tok(start).to(value.range);
        if if_key {
            key.range = range;
        }
        Ok(RecordEntry { range, key, value })
    }
}
