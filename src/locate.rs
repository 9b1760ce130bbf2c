//! Where an evaluation error is: the file, line and column of the expression that raised it,
//! found from the policy's source text.
//!
//! Locating is linear in the number of errors: each file's [`LineIndex`] (line starts and a
//! running character count) is made once, the first time an error in the file is located,
//! after which one error costs a binary search and a short count, however long its line is. Files are found by their policy's id in a map, and a set
//! with one source per policy (Cedar's JSON policy format) builds that map in linear time.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use thuja_compiler::Source;
use thuja_compiler::ast::PolicySet;
use thuja_compiler::source::LineIndex;
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
    index: OnceLock<LineIndex>,
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
        let index = self.index.get_or_init(|| LineIndex::new(text));
        let (line, column) = index.line_col(text, offset);
        let column = if text.is_char_boundary(offset.min(text.len())) {
            column
        } else {
            1
        };
        Location {
            file: Arc::clone(&self.source.name),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
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
        let source = Source::new("t", text.as_str());
        let file = File {
            source: Arc::new(Source::new("t", text.as_str())),
            index: OnceLock::new(),
        };
        let mut line_start = 0;
        for (offset, c) in text.char_indices().chain([(text.len(), '\n')]) {
            let expected = text[line_start..offset].chars().count();
            let location = file.location(offset);
            assert_eq!(location.column as usize, expected + 1, "at {offset}");
            let (line, column) = source.line_col(offset);
            assert_eq!(
                (location.line as usize, location.column as usize),
                (line, column)
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
