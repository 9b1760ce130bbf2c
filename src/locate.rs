//! Where an evaluation error is: the file, line and column of the expression that raised it,
//! found from the policy's source text.
//!
//! Locating is linear in the number of errors: each file's line starts and a running character
//! count every [`CHAR_MARK_STEP`] bytes are computed once (the first time an error in the file
//! is located), after which one error costs a binary search and a count over at most that many
//! bytes, however long its line is. Files are found by their policy's id in a map, and a set
//! with one source per policy (Cedar's JSON policy format) builds that map in linear time.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use thuja_compiler::Source;
use thuja_compiler::ast::PolicySet;
use thuja_runtime::{Location, PolicyError, PolicyId};

/// The source of each policy of a set (a template's for its links), and each source's line
/// starts and character marks, found the first time an error in it is located.
pub(crate) struct Locator {
    /// Index into `files` of each active policy's source, by policy id.
    by_policy: HashMap<PolicyId, usize>,
    files: Vec<File>,
}

struct File {
    source: Arc<Source>,
    index: OnceLock<Index>,
}

/// Bytes between two character marks.
const CHAR_MARK_STEP: usize = 256;

/// What finding a line and column takes in one file, computed once.
struct Index {
    /// Byte offset of the start of each line.
    line_starts: Box<[usize]>,
    /// `char_marks[i]`: the number of characters in the text's first `i * CHAR_MARK_STEP`
    /// bytes.
    char_marks: Box<[usize]>,
}

impl Index {
    fn new(text: &str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        let mut chars = 0;
        let mut char_marks = Vec::with_capacity(text.len() / CHAR_MARK_STEP + 1);
        char_marks.push(0);
        for block in text.as_bytes().chunks(CHAR_MARK_STEP) {
            chars += char_starts(block);
            char_marks.push(chars);
        }
        Index {
            line_starts,
            char_marks: char_marks.into(),
        }
    }

    /// The number of characters before byte `offset` (a character boundary).
    fn chars_before(&self, text: &str, offset: usize) -> usize {
        let mark = offset / CHAR_MARK_STEP;
        let from = mark * CHAR_MARK_STEP;
        let counted = self.char_marks.get(mark).copied().unwrap_or(0);
        counted + text.as_bytes().get(from..offset).map_or(0, char_starts)
    }
}

/// The characters starting in `bytes` (of UTF-8): the bytes that do not continue a character.
fn char_starts(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

impl Locator {
    pub(crate) fn new(set: &PolicySet) -> Self {
        let mut files: Vec<File> = Vec::new();
        // Each source's index in `files`, by the address of the source (shared by the policies
        // of one file).
        let mut by_source: HashMap<*const Source, usize> = HashMap::new();
        let mut by_policy = HashMap::new();
        for active in set.active() {
            let source = &active.policy.source;
            let at = *by_source.entry(Arc::as_ptr(source)).or_insert_with(|| {
                files.push(File {
                    source: Arc::clone(source),
                    index: OnceLock::new(),
                });
                files.len() - 1
            });
            by_policy.insert(active.id.clone(), at);
        }
        Locator { by_policy, files }
    }

    /// Where byte `offset` of the source of policy `policy` is.
    pub(crate) fn location(&self, policy: &PolicyId, offset: usize) -> Option<Location> {
        let file = self
            .by_policy
            .get(policy)
            .and_then(|&at| self.files.get(at))?;
        Some(file.location(offset))
    }

    /// Sets the location of every error with a span.
    pub(crate) fn locate(&self, errors: &mut [PolicyError]) {
        for error in errors {
            let file = self
                .by_policy
                .get(&error.policy_id)
                .and_then(|&at| self.files.get(at));
            if let (Some(file), Some(span)) = (file, &error.span) {
                error.location = Some(file.location(span.start));
            }
        }
    }
}

impl File {
    fn location(&self, offset: usize) -> Location {
        let text = &self.source.text;
        let index = self.index.get_or_init(|| Index::new(text));
        let starts = &index.line_starts;
        let line = starts.partition_point(|&start| start <= offset).max(1);
        let start = starts.get(line - 1).copied().unwrap_or(0);
        let end = offset.min(text.len());
        // As `text[start..end].chars().count()`, without walking a long line for every error.
        let column = if text.is_char_boundary(end) && start <= end {
            index
                .chars_before(text, end)
                .saturating_sub(index.chars_before(text, start))
        } else {
            0
        };
        Location {
            file: Arc::clone(&self.source.name),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use thuja_runtime::{EvalError, EvalFailure, Span};

    #[test]
    fn errors_are_located_by_line_and_character() {
        let text = "permit(principal, action, resource);\n// é\npermit(principal, action, resource)\n  when { \"é\" < 1 };";
        let set = crate::input::policies_from_str("p.cedar", text).unwrap();
        let locator = Locator::new(&set);
        let at = text.rfind("1 }").unwrap();
        let failure = |start: usize| EvalFailure {
            error: EvalError::Internal("x"),
            span: Some(Span::new(start, start + 1)),
        };
        let mut errors = vec![
            PolicyError::new("policy1".into(), failure(at)),
            PolicyError::new("policy0".into(), failure(0)),
            PolicyError::new("nobody".into(), failure(0)),
        ];
        locator.locate(&mut errors);
        let shown: Vec<Option<String>> = errors
            .iter()
            .map(|e| e.location.as_ref().map(ToString::to_string))
            .collect();
        // Line 4: two spaces, `when { `, `"é"`, ` < `: 15 characters before the 1.
        assert_eq!(
            shown,
            [
                Some("p.cedar:4:16".to_string()),
                Some("p.cedar:1:1".to_string()),
                None
            ]
        );
    }

    #[test]
    fn columns_count_characters_on_long_lines() {
        // Lines longer than several character marks, with multi-byte characters across the
        // marks' boundaries: every boundary's column is the naive count.
        let line: String = (0..600).map(|i| ["a", "é", "€", "𝄞"][i % 7 % 4]).collect();
        let text = format!("{line}\n{line}{line}\nx");
        let index = Index::new(&text);
        let file = File {
            source: Arc::new(Source::new("t", text.as_str())),
            index: OnceLock::new(),
        };
        let mut line_start = 0;
        for (offset, c) in text.char_indices().chain([(text.len(), '\n')]) {
            let expected = text[line_start..offset].chars().count();
            let location = file.location(offset);
            assert_eq!(location.column as usize, expected + 1, "at {offset}");
            assert_eq!(
                index.chars_before(&text, offset),
                text[..offset].chars().count()
            );
            if c == '\n' {
                line_start = offset + 1;
            }
        }
        // Past the end and inside a character: the last line's end, and column 1.
        assert_eq!(file.location(text.len() + 10).column, 2);
        assert_eq!(file.location(2).column, 1);
    }
}
