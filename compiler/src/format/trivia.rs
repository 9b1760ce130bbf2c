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

/// A file's tokens (without the end-of-input token) with their comments, found from the text
/// between tokens when asked for (a few bits a token to remember what was handed out).
#[derive(Debug)]
pub(super) struct Tokens<'s> {
    pub text: &'s str,
    pub tokens: Vec<Token>,
    /// Per token: [`LEADING`] and [`TRAILING`] once those comments were handed out.
    taken: Vec<u8>,
    /// The comments after the last token's line.
    pub end_of_file: Vec<&'s str>,
}

const LEADING: u8 = 1;
const TRAILING: u8 = 2;

impl<'s> Tokens<'s> {
    /// Attaches the comments of `text` to its `tokens` (as the lexer gave them, `Eof` last).
    pub fn new(text: &'s str, mut tokens: Vec<Token>) -> Self {
        if tokens.last().is_some_and(|t| t.kind == TokenKind::Eof) {
            tokens.pop();
        }
        let end_of_file = match tokens.last() {
            Some(last) => {
                let after = text.get(last.span.end..).unwrap_or("");
                line_comments(after.split_once('\n').map_or("", |(_, rest)| rest)).collect()
            }
            None => line_comments(text).collect(),
        };
        Tokens {
            text,
            taken: vec![0; tokens.len()],
            tokens,
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

    /// The text between token `i - 1` (or the file's start) and token `i`.
    fn before(&self, i: usize) -> &'s str {
        let start = if i == 0 {
            0
        } else {
            self.tokens.get(i - 1).map_or(0, |t| t.span.end)
        };
        let end = self.tokens.get(i).map_or(start, |t| t.span.start);
        self.text.get(start..end).unwrap_or("")
    }

    /// Token `i`'s leading comments: those before it, after the previous token's line.
    fn leading(&self, i: usize) -> Vec<&'s str> {
        let before = self.before(i);
        let own_lines = if i == 0 {
            before
        } else {
            before.split_once('\n').map_or("", |(_, rest)| rest)
        };
        line_comments(own_lines).collect()
    }

    /// Token `i`'s trailing comment: the rest of its line, trimmed.
    fn trailing(&self, i: usize) -> &'s str {
        let after = if i + 1 < self.len() {
            self.before(i + 1)
        } else {
            self.tokens
                .get(i)
                .and_then(|t| self.text.get(t.span.end..))
                .unwrap_or("")
        };
        after
            .split_once('\n')
            .map_or(after, |(line, _)| line)
            .trim()
    }

    /// Hands out the comments of token `i` in `parts` that were not handed out yet; `None` if
    /// there is no token `i`.
    fn hand_out(&mut self, i: usize, parts: u8) -> Option<Trivia<'s>> {
        let taken = *self.taken.get(i)?;
        let mut trivia = Trivia::default();
        if parts & LEADING != 0 && taken & LEADING == 0 {
            trivia.leading = self.leading(i);
        }
        if parts & TRAILING != 0 && taken & TRAILING == 0 {
            trivia.trailing = self.trailing(i);
        }
        if let Some(t) = self.taken.get_mut(i) {
            *t |= parts;
        }
        Some(trivia)
    }

    /// Hands out all of token `i`'s comments (none if it has no comments left, or no token `i`).
    pub fn take(&mut self, i: usize) -> Option<Trivia<'s>> {
        self.hand_out(i, LEADING | TRAILING)
    }

    /// Hands out token `i`'s leading comments only, leaving its trailing comment.
    pub fn take_leading(&mut self, i: usize) -> Option<Vec<&'s str>> {
        self.hand_out(i, LEADING).map(|t| t.leading)
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
