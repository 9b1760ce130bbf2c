//! Source text and byte spans into it.

use std::ops::Range;
use std::sync::Arc;

/// A byte range in one source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// The empty span where this one starts.
    pub fn start_point(self) -> Span {
        Span::new(self.start, self.start)
    }

    /// The empty span where this one ends.
    pub fn end_point(self) -> Span {
        Span::new(self.end, self.end)
    }

    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }
}

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
}
