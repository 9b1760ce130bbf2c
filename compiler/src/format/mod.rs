//! Formats policy files as `cedar format` does.
//!
//! # What it promises
//!
//! - **Cedar's layout, byte for byte.** For a file Cedar's formatter (`cedar-policy-formatter`
//!   4.14) accepts, [`format_policies`] gives the same text, at any line width and indentation:
//!   the same line breaks (both use the [`pretty`] crate's Wadler-style algorithm on the same
//!   document shapes), the same indentation, each comment where Cedar's formatter puts it.
//!   Policies are separated by one blank line and the text ends with a line break; blank lines
//!   inside a policy go (except inside string literals).
//! - **Comments are kept.** A comment on a token's line stays after the token; comments on lines
//!   of their own stay before the token that follows them; comments after the last policy stay
//!   at the end. The one exception is Cedar's: the comments of a trailing comma (`[1, 2, // c`)
//!   go with the comma.
//! - **Meaning is kept.** The output is parsed again and must give the same policies (spans
//!   aside) as the input; otherwise formatting fails rather than return a different policy.
//! - **Errors are located.** Text the policy parser ([`crate::parser`]) rejects gives its
//!   located error, as for any other command.
//! - **No panics, bounded stack.** The parser bounds nesting ([`crate::parser::MAX_NESTING`],
//!   [`crate::ast::MAX_EXPR_DEPTH`]), the tree and layout recursions grow the stack on demand, and
//!   the whole run happens on a stack of its own, so deep input fails or formats but does not
//!   overflow.
//!
//! # How
//!
//! The parser checks the text; the lexer's tokens get their comments (`trivia`); a small
//! reader builds the tree of the text as written (`tree`); the layout turns each policy into
//! a [`pretty`] document (`layout`), rendered at the line width; blank lines are removed.

mod layout;
mod tree;
mod trivia;

use std::sync::Arc;

use crate::diagnostic::{Diagnostic, SourceErrors};
use crate::lexer::tokenize;
use crate::parser::parse_policies;
use crate::source::{Source, Span};

/// How wide lines may be and how far each level is indented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormatOptions {
    /// The width lines are broken to fit in (a line may still be longer when nothing breaks it).
    pub line_width: usize,
    /// The indentation of each nested level, in spaces.
    pub indent_width: isize,
}

impl Default for FormatOptions {
    /// `cedar format`'s defaults: 80 columns, indentation of 2.
    fn default() -> Self {
        FormatOptions {
            line_width: 80,
            indent_width: 2,
        }
    }
}

/// The stack the formatter runs on: dropping the tree and document of the most deeply nested
/// policy the parser accepts, with room to spare. (Long chains make shallow documents.)
const STACK_SIZE: usize = 16 * 1024 * 1024;

/// Formats a policy file. Fails, located, where the parser fails, and where the text cannot be
/// laid out without changing its meaning.
pub fn format_policies(source: &Source, options: FormatOptions) -> Result<String, SourceErrors> {
    stacker::grow(STACK_SIZE, || format_on_stack(source, options))
}

fn format_on_stack(source: &Source, options: FormatOptions) -> Result<String, SourceErrors> {
    // What the policies mean, as printed: all the check below needs, and much smaller than
    // their trees.
    let original: Vec<String> = parse_policies(source.clone())?
        .iter()
        .map(ToString::to_string)
        .collect();
    let fail = |message: String, span: Span| {
        SourceErrors::single(
            source.clone(),
            Diagnostic::new(format!("cannot format: {message}"), span),
        )
    };
    let text: &str = &source.text;
    let raw_tokens = tokenize(text).map_err(|d| SourceErrors::single(source.clone(), d))?;
    let mut tokens = trivia::Tokens::new(text, raw_tokens);
    let span_of = |tokens: &trivia::Tokens<'_>, at: usize| {
        tokens
            .tokens
            .get(at)
            .map_or(Span::new(text.len(), text.len()), |t| t.span)
    };
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    // One policy at a time: its tree and document go before the next is read.
    let mut pos = 0;
    while pos < tokens.len() {
        let policy = tree::policy(&tokens, &mut pos)
            .map_err(|u| fail(format!("expected {}", u.what), span_of(&tokens, u.at)))?;
        let doc = layout::policy(&mut tokens, options.indent_width, &policy).map_err(|u| {
            fail(
                format!("could not lay out {}", u.what),
                span_of(&tokens, u.at),
            )
        })?;
        let mut rendered = Vec::new();
        doc.render(options.line_width, &mut rendered)
            .map_err(|e| fail(e.to_string(), span_of(&tokens, policy.range.first)))?;
        let rendered = String::from_utf8(rendered)
            .map_err(|e| fail(e.to_string(), span_of(&tokens, policy.range.first)))?;
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(&without_blank_lines(&rendered));
    }
    out.push('\n');
    for comment in &tokens.end_of_file {
        out.push_str(comment);
        out.push('\n');
    }
    check_meaning(source, &original, &out).map_err(|why| fail(why, Span::new(0, 0)))?;
    Ok(out)
}

/// Whether `formatted` holds the same policies as the `original` text (spans aside): the same
/// number, each printing the same.
fn check_meaning(source: &Source, original: &[String], formatted: &str) -> Result<(), String> {
    let again = parse_policies(Source::new(Arc::clone(&source.name), formatted))
        .map_err(|e| format!("the formatted text does not parse: {e}"))?;
    if again.len() != original.len() {
        return Err(format!(
            "the formatted text has {} policies, not {}",
            again.len(),
            original.len()
        ));
    }
    for (before, after) in original.iter().zip(&again) {
        if *before != after.to_string() {
            return Err(format!(
                "the formatted text changes this policy:\n{before}\ninto\n{after}"
            ));
        }
    }
    Ok(())
}

/// The rendered policy without lines that hold only whitespace (string literals and comments
/// left as they are), trimmed.
fn without_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut plain_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let end = match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let len = text[i..].find(['\n', '\r']).unwrap_or(text.len() - i);
                Some(i + len)
            }
            b'"' => string_end(bytes, i),
            _ => None,
        };
        match end {
            Some(end) => {
                out.push_str(&drop_blank_lines(&text[plain_start..i]));
                out.push_str(&text[i..end]);
                plain_start = end;
                i = end;
            }
            None => i += 1,
        }
    }
    out.push_str(&drop_blank_lines(&text[plain_start..]));
    out.trim().to_string()
}

/// The end of the string literal that starts at `start` (after its closing quote), if it is
/// closed. A backslash escapes the next character unless that is a line feed.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Some(i + 1),
            b'\\' => {
                if bytes.get(i + 1).is_none_or(|&b| b == b'\n') {
                    return None;
                }
                i += 2;
            }
            _ => i += 1,
        }
    }
    None
}

/// `text` without its whitespace-only lines that end in a line break; a line break it starts
/// with stays.
fn drop_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    if text.starts_with('\n') {
        out.push('\n');
    }
    for line in text.split_inclusive('\n') {
        if !line.trim().is_empty() || !line.ends_with('\n') {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn fmt(text: &str) -> String {
        format_policies(&Source::new("p.cedar", text), FormatOptions::default()).unwrap()
    }

    #[test]
    fn blank_lines_go_except_in_strings() {
        assert_eq!(drop_blank_lines("\n  \n a\n\n b"), "\n a\n b");
        assert_eq!(
            without_blank_lines("a\n\n\"x\n\ny\" // c \"\n\n\nb\n"),
            "a\n\"x\n\ny\" // c \"\nb"
        );
    }

    #[test]
    fn formats_a_small_file() {
        assert_eq!(fmt(""), "\n");
        assert_eq!(fmt("// only\n"), "\n// only\n");
        assert_eq!(
            fmt("permit(principal,action,resource);"),
            "permit (principal, action, resource);\n"
        );
        assert_eq!(
            fmt("permit(principal,action,resource)when{1==007};\n// end  \n\n"),
            "permit (principal, action, resource)\nwhen { 1 == 7 };\n// end\n"
        );
    }

    #[test]
    fn malformed_input_is_a_located_error() {
        let err = format_policies(
            &Source::new("p.cedar", "permit(principal, action);"),
            FormatOptions::default(),
        )
        .unwrap_err();
        assert!(
            err.location().starts_with("p.cedar:1:"),
            "{}",
            err.location()
        );
    }
}
