//! The Cedar policy parser: text to [`crate::ast`], following Cedar's grammar and its rules for
//! what the grammar accepts but the language rejects (chained comparisons, `/`, unknown
//! functions, reserved identifiers, slots outside the scope, ...).
//!
//! It is a recursive-descent parser over [`crate::lexer`] tokens. Nesting is bounded
//! ([`MAX_NESTING`]) and the stack grows on demand, so no input overflows the stack. The first
//! error found is reported, located, with the offending snippet.

mod expr;
pub mod literal;
mod policy;

use std::sync::Arc;

use thuja_runtime::name::{RESERVED_NAMESPACE, is_reserved_identifier};
use thuja_runtime::{EntityType, EntityUid, PolicyId};

use crate::ast::{Expr, Policy, PolicySet};
use crate::diagnostic::{Diagnostic, SourceErrors};
use crate::lexer::{Token, TokenKind, tokenize};
use crate::source::{Source, Span};

/// How deeply expressions may nest (parentheses, operators, sets, records, calls).
pub const MAX_NESTING: usize = 1000;

type PResult<T> = Result<T, Diagnostic>;

/// Parses a policy file: each policy or template gets the id `policy0`, `policy1`, ... in file
/// order.
pub fn parse_policy_set(source: Source) -> Result<PolicySet, SourceErrors> {
    let policies = parse_policies(source)?;
    let mut set = PolicySet::new();
    for p in policies {
        // Ids are generated, so they are unique.
        let _ = set.add(p);
    }
    Ok(set)
}

/// Parses a policy file into its policies and templates, in order, with generated ids.
pub fn parse_policies(source: Source) -> Result<Vec<Policy>, SourceErrors> {
    let source = Arc::new(source);
    with_parser(&source, |p| {
        let mut policies = Vec::new();
        while !p.at(TokenKind::Eof) {
            let id = PolicyId::from(format!("policy{}", policies.len()));
            policies.push(p.policy(id, &source)?);
        }
        Ok(policies)
    })
}

/// Parses a single policy or template and gives it `id`.
pub fn parse_policy(source: Source, id: &str) -> Result<Policy, SourceErrors> {
    let source = Arc::new(source);
    with_parser(&source, |p| {
        let policy = p.policy(id.into(), &source)?;
        p.expect(TokenKind::Eof)?;
        Ok(policy)
    })
}

/// Parses a standalone expression (as `thuja evaluate` takes).
pub fn parse_expr(source: Source) -> Result<Expr, SourceErrors> {
    let source = Arc::new(source);
    with_parser(&source, |p| {
        let e = p.expr()?;
        p.expect(TokenKind::Eof)?;
        Ok(e)
    })
}

/// Parses an entity uid written as in policies: `Type::"id"` or `NS::Type::"id"`.
pub fn parse_entity_uid(source: Source) -> Result<EntityUid, SourceErrors> {
    let source = Arc::new(source);
    with_parser(&source, |p| {
        let start = p.peek().span;
        let (path, _) = p.path()?;
        p.expect(TokenKind::ColonColon)?;
        let uid = p.entity_uid_after_path(path, start)?;
        p.expect(TokenKind::Eof)?;
        Ok(uid)
    })
}

/// Parses an entity type name: `Type` or `NS::Type`.
pub fn parse_entity_type(source: Source) -> Result<EntityType, SourceErrors> {
    let source = Arc::new(source);
    with_parser(&source, |p| {
        let (path, span) = p.path()?;
        let ty = p.entity_type(&path, span)?;
        p.expect(TokenKind::Eof)?;
        Ok(ty)
    })
}

fn with_parser<T>(
    source: &Arc<Source>,
    f: impl FnOnce(&mut Parser<'_>) -> PResult<T>,
) -> Result<T, SourceErrors> {
    let tokens =
        tokenize(&source.text).map_err(|d| SourceErrors::single(source.as_ref().clone(), d))?;
    let mut parser = Parser {
        text: &source.text,
        tokens,
        pos: 0,
        depth: 0,
    };
    f(&mut parser).map_err(|d| SourceErrors::single(source.as_ref().clone(), d))
}

/// The token cursor and the grammar's shared pieces (names, paths, entity uids).
pub(crate) struct Parser<'s> {
    text: &'s str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl<'s> Parser<'s> {
    pub(crate) fn new(text: &'s str) -> Result<Self, Diagnostic> {
        Ok(Parser {
            text,
            tokens: tokenize(text)?,
            pos: 0,
            depth: 0,
        })
    }

    pub(crate) fn peek(&self) -> Token {
        self.peek_at(0)
    }

    pub(crate) fn peek_at(&self, n: usize) -> Token {
        let last = self.tokens.len().saturating_sub(1);
        self.tokens
            .get((self.pos + n).min(last))
            .copied()
            .unwrap_or(Token {
                kind: TokenKind::Eof,
                span: Span::new(self.text.len(), self.text.len()),
            })
    }

    pub(crate) fn text_of(&self, tok: Token) -> &'s str {
        self.text.get(tok.span.range()).unwrap_or("")
    }

    pub(crate) fn at(&self, kind: TokenKind) -> bool {
        self.peek().kind == kind
    }

    /// Whether the next token is the identifier `word`.
    pub(crate) fn at_word(&self, word: &str) -> bool {
        let t = self.peek();
        t.kind == TokenKind::Ident && self.text_of(t) == word
    }

    pub(crate) fn bump(&mut self) -> Token {
        let t = self.peek();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    pub(crate) fn eat(&mut self, kind: TokenKind) -> Option<Token> {
        if self.at(kind) {
            Some(self.bump())
        } else {
            None
        }
    }

    pub(crate) fn eat_word(&mut self, word: &str) -> Option<Token> {
        if self.at_word(word) {
            Some(self.bump())
        } else {
            None
        }
    }

    pub(crate) fn expect(&mut self, kind: TokenKind) -> PResult<Token> {
        if self.at(kind) {
            Ok(self.bump())
        } else {
            Err(self.unexpected(kind.describe()))
        }
    }

    pub(crate) fn expect_word(&mut self, word: &str) -> PResult<Token> {
        self.eat_word(word)
            .ok_or_else(|| self.unexpected(&format!("`{word}`")))
    }

    /// An "unexpected token" error at the next token.
    pub(crate) fn unexpected(&self, expected: &str) -> Diagnostic {
        let t = self.peek();
        let found = if t.kind == TokenKind::Eof {
            "unexpected end of input".to_string()
        } else {
            format!("unexpected token `{}`", self.text_of(t))
        };
        Diagnostic::new(format!("{found}; expected {expected}"), t.span)
    }

    /// Runs `f` one nesting level deeper, failing past [`MAX_NESTING`] and growing the stack as
    /// needed.
    pub(crate) fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_NESTING {
            return Err(Diagnostic::new(
                format!("expression is nested too deeply (more than {MAX_NESTING} levels)"),
                self.peek().span,
            ));
        }
        self.depth += 1;
        let result = stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || f(self));
        self.depth -= 1;
        result
    }

    /// A `::`-separated path of identifiers, stopping before a `::` that is not followed by an
    /// identifier. Parts are not checked here.
    pub(crate) fn path(&mut self) -> PResult<(Vec<Token>, Span)> {
        let first = self.expect(TokenKind::Ident)?;
        let mut parts = vec![first];
        while self.at(TokenKind::ColonColon) && self.peek_at(1).kind == TokenKind::Ident {
            self.bump();
            parts.push(self.bump());
        }
        let span = first.span.to(parts[parts.len() - 1].span);
        Ok((parts, span))
    }

    /// Checks one identifier used in a name or as an attribute.
    pub(crate) fn valid_ident(&self, tok: Token) -> PResult<&'s str> {
        let text = self.text_of(tok);
        if is_reserved_identifier(text) {
            Err(Diagnostic::new(
                format!("this identifier is reserved and cannot be used: {text}"),
                tok.span,
            ))
        } else if text == RESERVED_NAMESPACE {
            Err(Diagnostic::new(
                format!("the name `{RESERVED_NAMESPACE}` is reserved"),
                tok.span,
            ))
        } else {
            Ok(text)
        }
    }

    /// The entity type a checked path names.
    pub(crate) fn entity_type(&self, path: &[Token], _span: Span) -> PResult<EntityType> {
        let mut parts = Vec::with_capacity(path.len());
        for t in path {
            parts.push(self.valid_ident(*t)?);
        }
        Ok(EntityType::new_unchecked(parts.join("::")))
    }

    /// After `Path ::`, the quoted id of an entity uid.
    pub(crate) fn entity_uid_after_path(
        &mut self,
        path: Vec<Token>,
        start: Span,
    ) -> PResult<EntityUid> {
        let ty = self.entity_type(&path, start)?;
        if self.at(TokenKind::LBrace) {
            return Err(Diagnostic::new(
                "entity literals written as records (`Type::{...}`) are not supported; write `Type::\"id\"`",
                self.peek().span,
            ));
        }
        let tok = self.expect(TokenKind::Str)?;
        let id = self.string_value(tok)?;
        Ok(EntityUid::new(ty, id))
    }

    /// The unescaped value of a string literal token.
    pub(crate) fn string_value(&self, tok: Token) -> PResult<String> {
        let body_start = tok.span.start + 1;
        let body = self
            .text
            .get(body_start..tok.span.end.saturating_sub(1))
            .unwrap_or("");
        literal::unescape(body).map_err(|p| {
            Diagnostic::new(
                format!("invalid string literal: {}", p.message),
                Span::new(body_start + p.range.start, body_start + p.range.end),
            )
        })
    }
}
