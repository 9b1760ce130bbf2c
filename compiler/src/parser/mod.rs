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

use crate::ast::{Expr, MAX_EXPR_DEPTH, Policy, PolicySet};
use crate::diagnostic::{Diagnostic, SourceErrors};
use crate::lexer::{Lexer, Token, TokenKind};
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

/// Parses a policy file as written: like [`parse_policies`], except that boolean literals joined
/// by `&&` or `||` stay operations (`true && false` is not folded to `false`). This is the tree
/// Cedar's JSON policy format describes ([`crate::est`]); evaluation gives the same answers on
/// either.
pub fn parse_policies_as_written(source: Source) -> Result<Vec<Policy>, SourceErrors> {
    let source = Arc::new(source);
    with_parser(&source, |p| {
        p.fold_bools = false;
        let mut policies = Vec::new();
        while !p.at(TokenKind::Eof) {
            let id = PolicyId::from(format!("policy{}", policies.len()));
            policies.push(p.policy(id, &source)?);
        }
        Ok(policies)
    })
}

/// Parses a single policy or template as written (see [`parse_policies_as_written`]) and gives
/// it `id`.
pub fn parse_policy_as_written(source: Source, id: &str) -> Result<Policy, SourceErrors> {
    let source = Arc::new(source);
    with_parser(&source, |p| {
        p.fold_bools = false;
        let policy = p.policy(id.into(), &source)?;
        p.expect(TokenKind::Eof)?;
        Ok(policy)
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
    let mut parser = Parser::new(&source.text);
    let result = f(&mut parser);
    parser
        .finish(result)
        .map_err(|d| SourceErrors::single(source.as_ref().clone(), d))
}

/// The token cursor and the grammar's shared pieces (names, paths, entity uids).
///
/// Tokens are read from the text as the parser consumes them, holding only the current token
/// and the one after it: a text of any length parses in memory that does not grow with it
/// (beyond the tree built).
pub(crate) struct Parser<'s> {
    text: &'s str,
    lexer: Lexer<'s>,
    /// The next two tokens (the parsers look at most one token past the current one).
    ahead: [Token; 2],
    /// The last token consumed.
    prev: Token,
    /// The first lexical error met; the tokens from there on read as `Eof`.
    lex_error: Option<Diagnostic>,
    depth: usize,
    /// Whether two boolean literals joined by `&&` or `||` become one literal (as Cedar's AST
    /// does). Off when reading policies as written, for Cedar's JSON format, which keeps them.
    pub(crate) fold_bools: bool,
}

impl<'s> Parser<'s> {
    pub(crate) fn new(text: &'s str) -> Self {
        let start = Token {
            kind: TokenKind::Eof,
            span: Span::new(0, 0),
        };
        let mut parser = Parser {
            text,
            lexer: Lexer::new(text),
            ahead: [start; 2],
            prev: start,
            lex_error: None,
            depth: 0,
            fold_bools: true,
        };
        parser.ahead[0] = parser.lex();
        parser.ahead[1] = parser.lex();
        parser
    }

    /// The next token from the text (`Eof` at its end, or from a lexical error on).
    fn lex(&mut self) -> Token {
        let eof = |at: usize| Token {
            kind: TokenKind::Eof,
            span: Span::new(at, at),
        };
        if let Some(e) = &self.lex_error {
            return eof(e.span.start);
        }
        match self.lexer.next_token() {
            Ok(t) => t,
            Err(e) => {
                let at = e.span.start;
                self.lex_error = Some(e);
                eof(at)
            }
        }
    }

    /// The parse's outcome, with a lexical error anywhere in the text taking precedence (as
    /// when the whole text was split into tokens first): the first such error is reported
    /// rather than a syntax error it may have caused, or one before it.
    pub(crate) fn finish<T>(&mut self, result: PResult<T>) -> PResult<T> {
        if let Some(e) = self.lex_error.take() {
            return Err(e);
        }
        let Err(syntax) = result else {
            return result;
        };
        loop {
            match self.lexer.next_token() {
                Ok(t) if t.kind == TokenKind::Eof => return Err(syntax),
                Ok(_) => {}
                Err(lexical) => return Err(lexical),
            }
        }
    }

    pub(crate) fn peek(&self) -> Token {
        self.ahead[0]
    }

    /// The token `n` places ahead (0: the next one); only `n` of 0 or 1 is kept, anything
    /// further reads as the one after the next.
    pub(crate) fn peek_at(&self, n: usize) -> Token {
        self.ahead[n.min(1)]
    }

    /// The last token consumed.
    pub(crate) fn prev(&self) -> Token {
        self.prev
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
        let t = self.ahead[0];
        if t.kind != TokenKind::Eof {
            self.prev = t;
            self.ahead[0] = self.ahead[1];
            self.ahead[1] = self.lex();
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

    /// Fails, at `at`, when `e`'s tree is taller than [`MAX_EXPR_DEPTH`]. The loops that build
    /// operator chains check every link, so no taller tree is ever built.
    pub(crate) fn check_height(&self, e: &Expr, at: Span) -> PResult<()> {
        if e.height() <= MAX_EXPR_DEPTH {
            return Ok(());
        }
        Err(Diagnostic::new(
            format!("expression is nested too deeply (more than {MAX_EXPR_DEPTH} levels)"),
            at,
        )
        .with_help(
            "each operator of a chain like `a && b && c` or `a.f().g()` is one level; split the chain into separate conditions or parenthesised groups",
        ))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use crate::ast::{ExprKind, Literal, UnaryOp};

    fn expr(text: &str) -> Result<Expr, SourceErrors> {
        parse_expr(Source::new("e", text))
    }

    #[test]
    fn chains_deeper_than_the_limit_are_located_errors() {
        // `context.a` is two levels, and each operator adds one.
        for op in ["&&", "||", "+", "*"] {
            let fits = vec!["context.a"; MAX_EXPR_DEPTH - 1].join(&format!(" {op} "));
            assert!(expr(&fits).is_ok(), "{op}");
            for n in [MAX_EXPR_DEPTH, 100_000] {
                let text = vec!["context.a"; n].join(&format!(" {op} "));
                let Err(err) = expr(&text) else {
                    panic!("a chain of {n} `{op}` parsed");
                };
                let d = &err.errors[0];
                assert!(d.message.contains("nested too deeply"), "{}", d.message);
                assert_eq!(&text[d.span.range()], op, "points at the operator");
                assert!(err.location().starts_with("e:1:"), "{}", err.location());
            }
        }
        let methods = format!("[1]{}", ".contains(1)".repeat(MAX_EXPR_DEPTH + 1));
        let Err(err) = expr(&methods) else {
            panic!("a chain of methods parsed");
        };
        assert!(err.errors[0].message.contains("nested too deeply"));
        let attrs = format!("context{}", ".a".repeat(MAX_EXPR_DEPTH + 1));
        assert!(expr(&attrs).is_err());
    }

    #[test]
    fn boolean_literals_joined_by_and_or_are_one_literal_as_in_cedar() {
        let folded = expr(&vec!["true"; 200_000].join(" && ")).unwrap();
        assert_eq!(folded.kind, ExprKind::Lit(Literal::Bool(true)));
        assert_eq!(
            expr("true && false || true").unwrap().kind,
            ExprKind::Lit(Literal::Bool(true))
        );
        assert!(matches!(
            expr("true && context.a").unwrap().kind,
            ExprKind::And(..)
        ));
        assert!(matches!(
            expr("!true && true").unwrap().kind,
            ExprKind::And(..)
        ));
    }

    #[test]
    fn a_lexical_error_is_reported_before_syntax_errors() {
        let err = parse_policies(Source::new("p", "permit(principal action); # x")).unwrap_err();
        assert_eq!(err.errors[0].message, "unexpected character `#`");
        let err = parse_policies(Source::new(
            "p",
            "permit(principal, action, resource) when { # };",
        ))
        .unwrap_err();
        assert_eq!(err.errors[0].message, "unexpected character `#`");
        let err = parse_policies(Source::new("p", "permit(principal action);")).unwrap_err();
        assert!(err.errors[0].message.contains("unexpected token"));
    }

    /// A chain `depth` deep built directly (no parser limit on the way).
    fn tall(depth: usize) -> Expr {
        let mut e = Expr::new(ExprKind::Lit(Literal::Bool(true)), Span::default());
        for _ in 1..depth {
            e = Expr::new(ExprKind::Unary(UnaryOp::Not, Box::new(e)), Span::default());
        }
        e
    }

    #[test]
    fn tall_trees_clone_compare_print_and_drop_in_a_small_stack() {
        let small_stack = std::thread::Builder::new().stack_size(128 * 1024);
        small_stack
            .spawn(|| {
                let e = tall(MAX_EXPR_DEPTH);
                assert_eq!(e.height(), MAX_EXPR_DEPTH);
                let copy = e.clone();
                assert_eq!(copy, e);
                assert!(format!("{e:?}").len() > MAX_EXPR_DEPTH);
                assert!(e.to_string().len() >= MAX_EXPR_DEPTH);
                drop(copy);
                // Dropping never recurses, however tall.
                drop(tall(2_000_000));
                let wide = Expr::new(
                    ExprKind::Set((0..1000).map(|_| tall(1000)).collect()),
                    Span::default(),
                );
                assert_eq!(wide.height(), 1001);
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
