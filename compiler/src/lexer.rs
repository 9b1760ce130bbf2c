//! The tokenizer shared by the policy and schema parsers.
//!
//! Cedar's lexical grammar: identifiers `[_a-zA-Z][_a-zA-Z0-9]*` (keywords are identifiers the
//! parsers recognise by text), unsigned integers, double-quoted strings with backslash escapes
//! (kept raw here; the parsers unescape them), slots `?name`, punctuation, Unicode whitespace and
//! `//` line comments.

use crate::diagnostic::Diagnostic;
use crate::source::Span;

/// What a token is; its text is the source under its span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Ident,
    Int,
    /// A string literal, quotes included, escapes not yet processed.
    Str,
    /// `?principal`, `?resource` or another `?name`.
    Slot,
    At,
    Dot,
    Comma,
    Semi,
    Colon,
    ColonColon,
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    OrOr,
    AndAnd,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Bang,
    Eq,
    Question,
    Eof,
}

impl TokenKind {
    /// How the token is named in "expected ..." messages.
    pub fn describe(self) -> &'static str {
        match self {
            TokenKind::Ident => "identifier",
            TokenKind::Int => "integer",
            TokenKind::Str => "string literal",
            TokenKind::Slot => "template slot",
            TokenKind::At => "`@`",
            TokenKind::Dot => "`.`",
            TokenKind::Comma => "`,`",
            TokenKind::Semi => "`;`",
            TokenKind::Colon => "`:`",
            TokenKind::ColonColon => "`::`",
            TokenKind::LParen => "`(`",
            TokenKind::RParen => "`)`",
            TokenKind::LBrace => "`{`",
            TokenKind::RBrace => "`}`",
            TokenKind::LBracket => "`[`",
            TokenKind::RBracket => "`]`",
            TokenKind::EqEq => "`==`",
            TokenKind::NotEq => "`!=`",
            TokenKind::Lt => "`<`",
            TokenKind::Le => "`<=`",
            TokenKind::Gt => "`>`",
            TokenKind::Ge => "`>=`",
            TokenKind::OrOr => "`||`",
            TokenKind::AndAnd => "`&&`",
            TokenKind::Plus => "`+`",
            TokenKind::Minus => "`-`",
            TokenKind::Star => "`*`",
            TokenKind::Slash => "`/`",
            TokenKind::Percent => "`%`",
            TokenKind::Bang => "`!`",
            TokenKind::Eq => "`=`",
            TokenKind::Question => "`?`",
            TokenKind::Eof => "end of input",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// Splits `text` into tokens, ending with one `Eof` token.
pub fn tokenize(text: &str) -> Result<Vec<Token>, Diagnostic> {
    let mut lexer = Lexer::new(text);
    let mut tokens = Vec::new();
    loop {
        let t = lexer.next_token()?;
        tokens.push(t);
        if t.kind == TokenKind::Eof {
            return Ok(tokens);
        }
    }
}

/// The tokens of a text, one at a time: the parsers read them as they go, so the memory they
/// need does not grow with the length of the text.
#[derive(Clone, Debug)]
pub struct Lexer<'t> {
    text: &'t str,
    /// The offset of the next unread byte.
    pos: usize,
}

impl<'t> Lexer<'t> {
    pub fn new(text: &'t str) -> Self {
        Lexer { text, pos: 0 }
    }

    /// The next token; `Eof` at the end of the text (and again after that).
    pub fn next_token(&mut self) -> Result<Token, Diagnostic> {
        let mut i = self.pos;
        let result = next_token(self.text, &mut i);
        self.pos = i;
        result
    }
}

/// The token at or after byte `*i` of `text` (whitespace and comments skipped); `*i` moves past
/// it.
fn next_token(text: &str, i: &mut usize) -> Result<Token, Diagnostic> {
    let bytes = text.as_bytes();
    while *i < bytes.len() {
        let c = bytes[*i];
        // Whitespace (any Unicode whitespace) and comments.
        if c.is_ascii_whitespace() {
            *i += 1;
            continue;
        }
        if c >= 0x80 {
            let ch = text
                .get(*i..)
                .and_then(|s| s.chars().next())
                .unwrap_or('\u{fffd}');
            if ch.is_whitespace() {
                *i += ch.len_utf8();
                continue;
            }
            return Err(Diagnostic::new(
                format!("unexpected character `{ch}`"),
                Span::new(*i, *i + ch.len_utf8()),
            ));
        }
        if c == b'/' && bytes.get(*i + 1) == Some(&b'/') {
            while *i < bytes.len() && bytes[*i] != b'\n' && bytes[*i] != b'\r' {
                *i += 1;
            }
            continue;
        }
        let start = *i;
        let ident_char = |b: u8| b == b'_' || b.is_ascii_alphanumeric();
        let kind = if c == b'_' || c.is_ascii_alphabetic() {
            while *i < bytes.len() && ident_char(bytes[*i]) {
                *i += 1;
            }
            TokenKind::Ident
        } else if c.is_ascii_digit() {
            while *i < bytes.len() && bytes[*i].is_ascii_digit() {
                *i += 1;
            }
            TokenKind::Int
        } else if c == b'"' {
            *i += 1;
            loop {
                match bytes.get(*i) {
                    None => {
                        return Err(Diagnostic::new(
                            "unterminated string literal",
                            Span::new(start, text.len()),
                        )
                        .with_label("this string is never closed"));
                    }
                    Some(b'\\') if bytes.get(*i + 1) == Some(&b'\n') => {
                        // Cedar's string token never contains a backslash-newline.
                        return Err(Diagnostic::new(
                            "invalid escape: `\\` at the end of a line",
                            Span::new(*i, *i + 1),
                        ));
                    }
                    Some(b'\\') => *i += 2,
                    Some(b'"') => {
                        *i += 1;
                        break;
                    }
                    Some(_) => *i += 1,
                }
            }
            TokenKind::Str
        } else if c == b'?'
            && bytes
                .get(*i + 1)
                .is_some_and(|&b| b == b'_' || b.is_ascii_alphabetic())
        {
            *i += 1;
            while *i < bytes.len() && ident_char(bytes[*i]) {
                *i += 1;
            }
            TokenKind::Slot
        } else {
            let two = bytes.get(*i + 1).copied();
            let (kind, len) = match (c, two) {
                (b':', Some(b':')) => (TokenKind::ColonColon, 2),
                (b'=', Some(b'=')) => (TokenKind::EqEq, 2),
                (b'!', Some(b'=')) => (TokenKind::NotEq, 2),
                (b'<', Some(b'=')) => (TokenKind::Le, 2),
                (b'>', Some(b'=')) => (TokenKind::Ge, 2),
                (b'|', Some(b'|')) => (TokenKind::OrOr, 2),
                (b'&', Some(b'&')) => (TokenKind::AndAnd, 2),
                (b'@', _) => (TokenKind::At, 1),
                (b'.', _) => (TokenKind::Dot, 1),
                (b',', _) => (TokenKind::Comma, 1),
                (b';', _) => (TokenKind::Semi, 1),
                (b':', _) => (TokenKind::Colon, 1),
                (b'(', _) => (TokenKind::LParen, 1),
                (b')', _) => (TokenKind::RParen, 1),
                (b'{', _) => (TokenKind::LBrace, 1),
                (b'}', _) => (TokenKind::RBrace, 1),
                (b'[', _) => (TokenKind::LBracket, 1),
                (b']', _) => (TokenKind::RBracket, 1),
                (b'<', _) => (TokenKind::Lt, 1),
                (b'>', _) => (TokenKind::Gt, 1),
                (b'+', _) => (TokenKind::Plus, 1),
                (b'-', _) => (TokenKind::Minus, 1),
                (b'*', _) => (TokenKind::Star, 1),
                (b'/', _) => (TokenKind::Slash, 1),
                (b'%', _) => (TokenKind::Percent, 1),
                (b'!', _) => (TokenKind::Bang, 1),
                (b'=', _) => (TokenKind::Eq, 1),
                (b'?', _) => (TokenKind::Question, 1),
                _ => {
                    return Err(Diagnostic::new(
                        format!("unexpected character `{}`", c as char),
                        Span::new(*i, *i + 1),
                    ));
                }
            };
            *i += len;
            kind
        };
        return Ok(Token {
            kind,
            span: Span::new(start, (*i).min(text.len())),
        });
    }
    Ok(Token {
        kind: TokenKind::Eof,
        span: Span::new(text.len(), text.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn splits_policy_text() {
        use TokenKind::*;
        assert_eq!(
            kinds("permit(principal == ?principal, action in [A::\"x\"]) // c\n when { 1 <= -2 };"),
            vec![
                Ident, LParen, Ident, EqEq, Slot, Comma, Ident, Ident, LBracket, Ident, ColonColon,
                Str, RBracket, RParen, Ident, LBrace, Int, Le, Minus, Int, RBrace, Semi, Eof
            ]
        );
        assert_eq!(
            kinds("Set<Set<Long>>"),
            vec![Ident, Lt, Ident, Lt, Ident, Gt, Gt, Eof]
        );
        assert_eq!(kinds("a?: b"), vec![Ident, Question, Colon, Ident, Eof]);
    }

    #[test]
    fn strings_keep_escapes_raw() {
        let text = r#""a\"b\\" x"#;
        let toks = tokenize(text).unwrap();
        assert_eq!(&text[toks[0].span.range()], r#""a\"b\\""#);
    }

    #[test]
    fn reports_bad_input_with_location() {
        let err = tokenize("when { \"abc").unwrap_err();
        assert_eq!(err.span, Span::new(7, 11));
        let err = tokenize("a # b").unwrap_err();
        assert_eq!(err.span, Span::new(2, 3));
        assert!(
            tokenize("a\u{00a0}b").is_ok(),
            "non-breaking space is whitespace"
        );
        assert!(tokenize("\"\\").is_err());
    }
}
