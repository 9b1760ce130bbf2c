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
pub struct Pattern(Vec<PatternElem>);

impl Pattern {
    pub fn new(elems: Vec<PatternElem>) -> Self {
        // Adjacent wildcards match the same strings as one; merging them keeps matching linear.
        let mut merged: Vec<PatternElem> = Vec::with_capacity(elems.len());
        for e in elems {
            if e == PatternElem::Wildcard && merged.last() == Some(&PatternElem::Wildcard) {
                continue;
            }
            merged.push(e);
        }
        Pattern(merged)
    }

    pub fn elems(&self) -> &[PatternElem] {
        &self.0
    }

    /// Whether the whole of `text` matches the pattern.
    ///
    /// Greedy matching with backtracking to the most recent wildcard: O(len(text) × len(pattern))
    /// in the worst case, never exponential.
    pub fn matches(&self, text: &str) -> bool {
        // Positions in `text` are byte offsets of characters, so nothing is copied.
        let char_at = |t: usize| text.get(t..).and_then(|rest| rest.chars().next());
        let pat = &self.0;
        let (mut t, mut p) = (0usize, 0usize);
        let mut backtrack: Option<(usize, usize)> = None; // (pattern index after '*', text offset)
        while let Some(c) = char_at(t) {
            match pat.get(p) {
                Some(PatternElem::Wildcard) => {
                    backtrack = Some((p + 1, t));
                    p += 1;
                }
                Some(PatternElem::Char(pc)) if *pc == c => {
                    p += 1;
                    t += c.len_utf8();
                }
                _ => match backtrack {
                    // The star takes one more character (the one at `bt`, which is before `t`).
                    Some((bp, bt)) => {
                        let Some(taken) = char_at(bt) else {
                            return false;
                        };
                        p = bp;
                        t = bt + taken.len_utf8();
                        backtrack = Some((bp, t));
                    }
                    None => return false,
                },
            }
        }
        pat[p..].iter().all(|e| *e == PatternElem::Wildcard)
    }
}

/// Prints the pattern as the body of a Cedar string literal (`*` for wildcards, `\*` for stars).
impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.0 {
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
    fn escaped_star_is_literal() {
        let p = Pattern::new(vec![PatternElem::Char('*'), PatternElem::Wildcard]);
        assert!(p.matches("*abc"));
        assert!(!p.matches("abc"));
        assert_eq!(p.to_string(), "\\**");
    }
}
