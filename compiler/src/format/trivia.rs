//! The comments around each token, and which of them the layout has already placed.
//!
//! The text between two tokens is split at its first line break: what comes before it is the
//! earlier token's *trailing* comment (kept as one trimmed piece), the `//` comments after it
//! are the later token's *leading* comments (one per line, trimmed). The first token takes all
//! the text before it as leading; the comments after the last token's line end the file.
//!
//! The layout asks for a token's comments as it places the token, and a comment is handed out
//! once: asking again gives nothing. Where two parts of the layout could claim the same comment,
//! the one that asks first places it.

use crate::lexer::{Token, TokenKind};

/// The comments attached to one token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Trivia<'s> {
    /// `//` comments on the lines before the token (after the previous token's line).
    pub leading: Vec<&'s str>,
    /// The rest of the token's line after it, trimmed; empty when there is no comment.
    pub trailing: &'s str,
}

impl Trivia<'_> {
    fn new<'s>(leading_text: &'s str, trailing_text: &'s str) -> Trivia<'s> {
        Trivia {
            leading: line_comments(leading_text).collect(),
            trailing: trailing_text.trim(),
        }
    }
}

/// The `//` comments of a stretch of text between tokens, each up to its line end and trimmed.
pub(super) fn line_comments(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find("//")?;
        let comment = &rest[start..];
        let end = comment.find(['\n', '\r']).unwrap_or(comment.len());
        rest = &comment[end..];
        Some(comment[..end].trim())
    })
}

/// A file's tokens (without the end-of-input token) with their comments.
#[derive(Debug)]
pub(super) struct Tokens<'s> {
    pub text: &'s str,
    pub tokens: Vec<Token>,
    trivia: Vec<Trivia<'s>>,
    /// The comments after the last token's line.
    pub end_of_file: Vec<&'s str>,
}

impl<'s> Tokens<'s> {
    /// Attaches the comments of `text` to its `tokens` (as the lexer gave them, `Eof` last).
    pub fn new(text: &'s str, mut tokens: Vec<Token>) -> Self {
        if tokens.last().is_some_and(|t| t.kind == TokenKind::Eof) {
            tokens.pop();
        }
        let mut trivia = Vec::with_capacity(tokens.len());
        // The first token's leading text is all the text before it; then each token's is what
        // follows the line break after the token before it. After the last token, that is the
        // end of the file's (all of the text when there are no tokens).
        let mut leading_text = text
            .get(..tokens.first().map_or(text.len(), |t| t.span.start))
            .unwrap_or("");
        for (i, tok) in tokens.iter().enumerate() {
            let next_start = tokens.get(i + 1).map_or(text.len(), |t| t.span.start);
            let between = text.get(tok.span.end..next_start).unwrap_or("");
            let (trailing, next_leading) = between.split_once('\n').unwrap_or((between, ""));
            trivia.push(Trivia::new(leading_text, trailing));
            leading_text = next_leading;
        }
        let end_of_file = line_comments(leading_text).collect();
        Tokens {
            text,
            tokens,
            trivia,
            end_of_file,
        }
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// The source text of token `i`.
    pub fn text_of(&self, i: usize) -> &'s str {
        self.tokens
            .get(i)
            .and_then(|t| self.text.get(t.span.range()))
            .unwrap_or("")
    }

    pub fn kind(&self, i: usize) -> TokenKind {
        self.tokens.get(i).map_or(TokenKind::Eof, |t| t.kind)
    }

    /// Hands out all of token `i`'s comments (none if it has no comments left, or no token `i`).
    pub fn take(&mut self, i: usize) -> Option<Trivia<'s>> {
        self.trivia.get_mut(i).map(std::mem::take)
    }

    /// Hands out token `i`'s leading comments only, leaving its trailing comment.
    pub fn take_leading(&mut self, i: usize) -> Option<Vec<&'s str>> {
        self.trivia
            .get_mut(i)
            .map(|t| std::mem::take(&mut t.leading))
    }

    /// The comments of the token after token `last` (a node's end); the first token's when
    /// `last` ends the file.
    pub fn take_after(&mut self, last: usize) -> Option<Trivia<'s>> {
        let next = if last + 1 < self.len() { last + 1 } else { 0 };
        self.take(next)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::lexer::tokenize;

    #[test]
    fn comments_split_at_the_first_line_break() {
        let text =
            "// head\n  // two  \npermit // tail \n // lead\n ( ) ;  // end\n// eof1\n\n//eof2 ";
        let mut t = Tokens::new(text, tokenize(text).unwrap());
        assert_eq!(t.len(), 4);
        let first = t.take(0).unwrap();
        assert_eq!(first.leading, vec!["// head", "// two"]);
        assert_eq!(first.trailing, "// tail");
        assert_eq!(t.take(0).unwrap(), Trivia::default(), "handed out once");
        assert_eq!(t.take_leading(1).unwrap(), vec!["// lead"]);
        assert_eq!(t.take(3).unwrap().trailing, "// end");
        assert_eq!(t.end_of_file, vec!["// eof1", "//eof2"]);
        assert!(t.take(9).is_none());
        assert_eq!(
            t.take_after(3),
            Some(Trivia::default()),
            "wraps to the first token"
        );
    }

    #[test]
    fn text_without_tokens_is_all_end_of_file() {
        let t = Tokens::new(" // a\n//b", tokenize(" // a\n//b").unwrap());
        assert_eq!(t.end_of_file, vec!["// a", "//b"]);
    }
}
