//! `like` patterns: literal characters and `*` wildcards that match any sequence of characters.

use std::fmt;

/// One element of a pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PatternElem {
    Char(char),
    Wildcard,
}

/// A `like` pattern, as parsed from its string literal (`\*` is a literal star).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Pattern {
    elems: Vec<PatternElem>,
    /// The literal text around and between the wildcards: one more than there are wildcards.
    segments: Vec<Box<str>>,
}

impl Pattern {
    /// A pattern of these elements, kept as written (Cedar's JSON policy format lists them);
    /// adjacent wildcards match as one.
    pub fn new(elems: Vec<PatternElem>) -> Self {
        let mut merged: Vec<PatternElem> = Vec::with_capacity(elems.len());
        for &e in &elems {
            if e == PatternElem::Wildcard && merged.last() == Some(&PatternElem::Wildcard) {
                continue;
            }
            merged.push(e);
        }
        let mut segments = Vec::new();
        let mut current = String::new();
        for e in &merged {
            match e {
                PatternElem::Char(c) => current.push(*c),
                PatternElem::Wildcard => segments.push(std::mem::take(&mut current).into()),
            }
        }
        segments.push(current.into());
        Pattern { elems, segments }
    }

    pub fn elems(&self) -> &[PatternElem] {
        &self.elems
    }

    /// Whether the whole of `text` matches the pattern.
    ///
    /// The text must start with the literal before the first wildcard and end with the one after
    /// the last; each literal between wildcards is found at its leftmost place after the one
    /// before (the leftmost place leaves the most text for the rest, so it is the right one).
    /// With a linear substring search, matching takes time linear in the text and the pattern,
    /// however they are made.
    pub fn matches(&self, text: &str) -> bool {
        match self.segments.as_slice() {
            [] => text.is_empty(),
            [only] => text == &**only,
            [first, middle @ .., last] => {
                let Some(mut rest) = text.strip_prefix(&**first) else {
                    return false;
                };
                for segment in middle {
                    match rest.find(&**segment) {
                        Some(at) => rest = &rest[at + segment.len()..],
                        None => return false,
                    }
                }
                rest.ends_with(&**last)
            }
        }
    }
}

/// Prints the pattern as the body of a Cedar string literal (`*` for wildcards, `\*` for stars).
impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.elems {
            match e {
                PatternElem::Wildcard => f.write_str("*")?,
                PatternElem::Char('*') => f.write_str("\\*")?,
                PatternElem::Char(c) => {
                    let mut buf = [0u8; 4];
                    crate::uid::write_escaped(f, c.encode_utf8(&mut buf))?
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(s: &str) -> Pattern {
        Pattern::new(
            s.chars()
                .map(|c| {
                    if c == '*' {
                        PatternElem::Wildcard
                    } else {
                        PatternElem::Char(c)
                    }
                })
                .collect(),
        )
    }

    #[test]
    fn wildcards_match_any_sequence() {
        assert!(pat("*").matches(""));
        assert!(pat("a*c").matches("abbbc"));
        assert!(pat("a*c").matches("ac"));
        assert!(!pat("a*c").matches("acb"));
        assert!(pat("*b*").matches("abc"));
        assert!(!pat("").matches("a"));
        assert!(pat("").matches(""));
        assert!(pat("**a**b").matches("xaab"));
        assert!(!pat("a*a*a*a*b").matches(&"a".repeat(200)));
        assert!(!pat("*ab*b").matches("ab"));
        assert!(pat("*ab*b").matches("abb"));
        assert!(pat("a*").matches("a"));
        assert!(!pat("ab*ba").matches("aba"));
        assert!(pat("ab*ba").matches("abba"));
        assert!(Pattern::default().matches(""));
        assert!(!Pattern::default().matches("a"));
        assert!(pat("é*").matches("éte"));
    }

    #[test]
    fn wildcards_backtrack_over_multibyte_characters() {
        assert!(pat("é*ß").matches("éxßyß"));
        assert!(pat("*ü").matches("aüü"));
        assert!(pat("*😀*😀").matches("a😀bü😀"));
        assert!(!pat("a*é").matches("aéb"));
        assert!(!pat("*ß").matches("ßs"));
        assert!(pat("ü*").matches("ü"));
        assert!(!pat("ü").matches("u"));
    }

    #[test]
    fn long_texts_and_patterns_match_in_linear_time() {
        let text = "a".repeat(1 << 20);
        let mut long = "*".to_string();
        long.push_str(&"a".repeat(1 << 19));
        long.push('b');
        assert!(!pat(&long).matches(&text));
        long.pop();
        assert!(pat(&long).matches(&text));
        assert!(!pat(&"*a".repeat(1000).replace("*a*a", "*a*b")).matches(&text));
    }

    #[test]
    fn escaped_star_is_literal() {
        let p = Pattern::new(vec![PatternElem::Char('*'), PatternElem::Wildcard]);
        assert!(p.matches("*abc"));
        assert!(!p.matches("abc"));
        assert_eq!(p.to_string(), "\\**");
    }
}
