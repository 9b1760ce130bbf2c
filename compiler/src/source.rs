//! Source text and byte spans into it.

use std::sync::Arc;

pub use thuja_runtime::Span;

/// A named source text (a file, or `<arg>` for text given on the command line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub name: Arc<str>,
    pub text: Arc<str>,
}

impl Source {
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        (line, col)
    }

    /// The text a span covers, if the span lies on character boundaries of this source.
    pub fn snippet(&self, span: Span) -> Option<&str> {
        self.text.get(span.range())
    }
}

/// The line and column of many offsets of one text, each found from the one before it: offsets
/// in increasing order (the order of a policy's errors, or of its instructions) cost one pass
/// over the text in all, where [`Source::line_col`] for each would cost the text's length times
/// their number (minutes, for a million errors on one 4 MB line).
#[derive(Debug)]
pub struct Positions<'t> {
    text: &'t str,
    /// The last offset asked for, and its 1-based line and column.
    at: usize,
    line: usize,
    column: usize,
    /// Where each line starts and a running character count, made on the first step
    /// backwards.
    index: Option<LineIndex>,
}

/// Bytes between two character marks of a [`LineIndex`].
const CHAR_MARK_STEP: usize = 256;

/// Where each line of a text starts, and how many characters come before every
/// 256th byte (`CHAR_MARK_STEP`): a line and column from these cost a binary search and a count
/// over at most that many bytes, however long the line.
#[derive(Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
    char_marks: Vec<usize>,
}

impl LineIndex {
    /// The index of `text` (linear in it).
    pub fn new(text: &str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut chars = 0;
        let mut char_marks = Vec::with_capacity(text.len() / CHAR_MARK_STEP + 1);
        char_marks.push(0);
        for block in text.as_bytes().chunks(CHAR_MARK_STEP) {
            chars += char_starts(block);
            char_marks.push(chars);
        }
        LineIndex {
            line_starts,
            char_marks,
        }
    }

    /// 1-based line and column (in characters) of byte `offset` of `text` (the text this
    /// index was made from), as [`Source::line_col`] gives it for an offset on a character
    /// boundary.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .chars_before(text, offset)
            .saturating_sub(self.chars_before(text, start))
            + 1;
        (line, column)
    }

    /// The characters of `text` before byte `offset`.
    fn chars_before(&self, text: &str, offset: usize) -> usize {
        let block = offset / CHAR_MARK_STEP;
        let from = block * CHAR_MARK_STEP;
        self.char_marks.get(block).copied().unwrap_or(0)
            + text.as_bytes().get(from..offset).map_or(0, char_starts)
    }
}

/// How many characters start in `bytes` (bytes that are not UTF-8 continuation bytes).
fn char_starts(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

impl<'t> Positions<'t> {
    pub fn new(text: &'t str) -> Self {
        Positions {
            text,
            at: 0,
            line: 1,
            column: 1,
            index: None,
        }
    }

    /// 1-based line and column (in characters) of a byte offset, as [`Source::line_col`] gives
    /// it. An offset after the previous one is found from it; one before it from an index of
    /// the text made the first time (so any order of offsets costs linear time in all, even
    /// on one long line).
    pub fn of(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        if !self.text.is_char_boundary(offset) {
            return (1, 1);
        }
        if offset < self.at {
            let text = self.text;
            let index = self.index.get_or_insert_with(|| LineIndex::new(text));
            (self.line, self.column) = index.line_col(text, offset);
            self.at = offset;
            return (self.line, self.column);
        }
        let passed = &self.text[self.at..offset];
        match passed.rfind('\n') {
            Some(last) => {
                self.line += passed.matches('\n').count();
                self.column = passed[last + 1..].chars().count() + 1;
            }
            None => self.column += passed.chars().count(),
        }
        self.at = offset;
        (self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let src = Source::new("f", "ab\ncdé\nx");
        assert_eq!(src.line_col(0), (1, 1));
        assert_eq!(src.line_col(3), (2, 1));
        assert_eq!(src.line_col(7), (2, 4));
        assert_eq!(src.line_col(8), (3, 1));
        assert_eq!(src.line_col(100), (3, 2));
    }

    #[test]
    fn positions_agree_with_line_col_in_any_order() {
        let src = Source::new("f", "ab\ncdé\n\nxyz\nwé€t");
        let offsets: Vec<usize> = (0..=src.text.len() + 2)
            .filter(|&o| o > src.text.len() || src.text.is_char_boundary(o))
            .collect();
        let mut forward = Positions::new(&src.text);
        for &o in &offsets {
            assert_eq!(forward.of(o), src.line_col(o), "offset {o}");
        }
        let mut backward = Positions::new(&src.text);
        for &o in offsets
            .iter()
            .rev()
            .chain(&offsets)
            .chain(offsets.iter().step_by(3).rev())
        {
            assert_eq!(backward.of(o), src.line_col(o), "offset {o}");
        }
    }
}
