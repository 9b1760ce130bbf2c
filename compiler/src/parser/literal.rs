//! String literals: Cedar's escapes (those of Rust string literals) and `like` patterns, where
//! `\*` is a literal star and `*` a wildcard.

use rustc_literal_escaper::{EscapeError, unescape_str};
use thuja_runtime::{Pattern, PatternElem};

/// Why a string literal's escapes are invalid, with the byte range (within the literal's body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscapeProblem {
    pub message: String,
    pub range: std::ops::Range<usize>,
}

fn describe(err: &EscapeError) -> String {
    match err {
        EscapeError::LoneSlash => "a lone `\\` is not a valid escape".into(),
        EscapeError::InvalidEscape => "unknown character escape".into(),
        EscapeError::BareCarriageReturn => "bare carriage return in string literal".into(),
        EscapeError::TooShortHexEscape => "numeric character escape is too short".into(),
        EscapeError::InvalidCharInHexEscape => "invalid character in numeric escape".into(),
        EscapeError::OutOfRangeHexEscape => "`\\x` escapes must be at most `\\x7F`".into(),
        EscapeError::NoBraceInUnicodeEscape => "`\\u` must be followed by `{`".into(),
        EscapeError::InvalidCharInUnicodeEscape => "invalid character in unicode escape".into(),
        EscapeError::EmptyUnicodeEscape => "empty unicode escape".into(),
        EscapeError::UnclosedUnicodeEscape => "unterminated unicode escape".into(),
        EscapeError::LeadingUnderscoreUnicodeEscape => {
            "invalid start of unicode escape: `_`".into()
        }
        EscapeError::OverlongUnicodeEscape => "overlong unicode escape".into(),
        EscapeError::LoneSurrogateUnicodeEscape => "unicode escape must not be a surrogate".into(),
        EscapeError::OutOfRangeUnicodeEscape => "unicode escape must be at most 10FFFF".into(),
        other => format!("invalid escape ({other:?})"),
    }
}

/// Unescapes the body of a string literal (the text between the quotes).
pub fn unescape(body: &str) -> Result<String, EscapeProblem> {
    let mut out = String::with_capacity(body.len());
    let mut problem = None;
    unescape_str(
        body,
        &mut |range, res: Result<char, EscapeError>| match res {
            Ok(c) => out.push(c),
            Err(e) if e.is_fatal() => {
                problem.get_or_insert(EscapeProblem {
                    message: describe(&e),
                    range,
                });
            }
            Err(_) => {}
        },
    );
    match problem {
        Some(p) => Err(p),
        None => Ok(out),
    }
}

/// Unescapes the body of a `like` pattern literal.
pub fn unescape_pattern(body: &str) -> Result<Pattern, EscapeProblem> {
    let mut elems = Vec::with_capacity(body.len());
    let mut problem = None;
    unescape_str(
        body,
        &mut |range: std::ops::Range<usize>, res: Result<char, EscapeError>| match res {
            Ok('*') => elems.push(PatternElem::Wildcard),
            Ok(c) => elems.push(PatternElem::Char(c)),
            Err(EscapeError::InvalidEscape) if body.get(range.clone()) == Some("\\*") => {
                elems.push(PatternElem::Char('*'))
            }
            Err(e) if e.is_fatal() => {
                problem.get_or_insert(EscapeProblem {
                    message: describe(&e),
                    range,
                });
            }
            Err(_) => {}
        },
    );
    match problem {
        Some(p) => Err(p),
        None => Ok(Pattern::new(elems)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_cedar_escapes() {
        assert_eq!(
            unescape(r#"a\"b\\c\n\t\0\u{1F600}\x41"#).unwrap(),
            "a\"b\\c\n\t\0😀A"
        );
        assert!(unescape(r"\q").is_err());
        assert!(unescape(r"\u{D800}").is_err());
        assert!(unescape(r"\x80").is_err());
        assert!(unescape("a\rb").is_err());
        assert_eq!(unescape(r"ab\q").unwrap_err().range, 2..4);
    }

    #[test]
    fn patterns_distinguish_escaped_stars() {
        let p = unescape_pattern(r"a*\*b").unwrap();
        assert_eq!(
            p.elems(),
            &[
                PatternElem::Char('a'),
                PatternElem::Wildcard,
                PatternElem::Char('*'),
                PatternElem::Char('b')
            ]
        );
        assert!(unescape(r"\*").is_err(), "`\\*` is only valid in patterns");
        assert!(unescape_pattern(r"\q").is_err());
    }
}
