//! Located errors for anything read from text: a message, the span it points at, and the source,
//! rendered with the offending snippet (by miette) and a `file:line:col` header.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, JSONReportHandler, LabeledSpan,
    NarratableReportHandler, SourceCode,
};

use crate::source::{Source, Span};

/// One problem found in a source text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub span: Span,
    /// What the underlined text is (shown beside it); defaults to the message.
    pub label: Option<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            message: message.into(),
            span,
            label: None,
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
}

/// The errors found in one source, with the source they point into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceErrors {
    pub source: Source,
    pub errors: Vec<Diagnostic>,
}

impl SourceErrors {
    pub fn new(source: Source, errors: Vec<Diagnostic>) -> Self {
        SourceErrors { source, errors }
    }

    pub fn single(source: Source, error: Diagnostic) -> Self {
        SourceErrors {
            source,
            errors: vec![error],
        }
    }

    /// `file:line:col` of the first error.
    pub fn location(&self) -> String {
        let offset = self.errors.first().map_or(0, |e| e.span.start);
        let (line, col) = self.source.line_col(offset);
        format!("{}:{line}:{col}", self.source.name)
    }

    /// Renders every error with its snippet, without colour (for logs, tests and pipes).
    pub fn render(&self) -> String {
        self.render_with(GraphicalTheme::unicode_nocolor())
    }

    /// Renders every error in `format` (see [`ReportFormat`]).
    pub fn render_as(&self, format: ReportFormat) -> String {
        match format {
            ReportFormat::Human => self.render(),
            ReportFormat::Plain => self.render_handled(&NarratableReportHandler::new()),
            ReportFormat::Json => {
                let handler = JSONReportHandler::new();
                let mut out = String::new();
                for error in &self.errors {
                    let len = self.source.text.len();
                    let start = error.span.start.min(len);
                    let report = Located {
                        code: &self.source,
                        span: Span::new(start, error.span.end.clamp(start, len)),
                        error,
                    };
                    if handler.render_report(&mut out, &report).is_err() {
                        out.push_str(&json_message(&error.message));
                    }
                    out.push('\n');
                }
                out
            }
        }
    }

    /// Renders every error with its snippet, in the given miette theme.
    pub fn render_with(&self, theme: GraphicalTheme) -> String {
        self.render_handled(&GraphicalReportHandler::new_themed(theme))
    }

    /// Renders every error with `handler`, each after its `file:line:col: `, from an excerpt
    /// of the source around it (reading the excerpt costs the same however long the file is).
    fn render_handled(&self, handler: &dyn RenderReport) -> String {
        let mut out = String::new();
        for error in &self.errors {
            let excerpt = Excerpt::around(&self.source, error.span);
            let report = match &excerpt {
                Some(excerpt) => Located {
                    code: excerpt,
                    span: excerpt.span,
                    error,
                },
                None => {
                    let len = self.source.text.len();
                    let start = error.span.start.min(len);
                    Located {
                        code: &self.source,
                        span: Span::new(start, error.span.end.clamp(start, len)),
                        error,
                    }
                }
            };
            let (line, col) = self.source.line_col(error.span.start);
            out.push_str(&format!("{}:{line}:{col}: ", self.source.name));
            if handler.render(&mut out, &report).is_err() {
                out.push_str(&error.message);
                out.push('\n');
            }
        }
        out
    }
}

/// How errors are reported: `cedar`'s `--error-format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReportFormat {
    /// The location, the message and the snippet, with the place marked (no colour).
    #[default]
    Human,
    /// The same in plain sentences, without drawing (for screen readers).
    Plain,
    /// One JSON object per error and line (miette's JSON report: `message`, `severity`,
    /// `filename`, `labels` with byte `offset` and `length`, `help`).
    Json,
}

/// A message alone as a JSON report (for an error that has no place in a text).
pub fn json_message(message: &str) -> String {
    serde_json::json!({
        "message": message,
        "severity": "error",
        "causes": [],
        "labels": [],
        "related": [],
    })
    .to_string()
}

/// The two miette handlers [`SourceErrors`] renders with.
trait RenderReport {
    fn render(&self, out: &mut String, report: &Located<'_>) -> fmt::Result;
}

impl RenderReport for GraphicalReportHandler {
    fn render(&self, out: &mut String, report: &Located<'_>) -> fmt::Result {
        self.render_report(out, report)
    }
}

impl RenderReport for NarratableReportHandler {
    fn render(&self, out: &mut String, report: &Located<'_>) -> fmt::Result {
        self.render_report(out, report)
    }
}

impl fmt::Display for SourceErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            let (line, col) = self.source.line_col(error.span.start);
            write!(f, "{}:{line}:{col}: {}", self.source.name, error.message)?;
            if let Some(snippet) = self.source.snippet(error.span).filter(|s| !s.is_empty()) {
                let snippet: String = snippet.chars().take(60).collect();
                write!(f, " (at `{snippet}`)")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for SourceErrors {}

/// One error paired with the text shown for it, in the shape miette renders.
struct Located<'a> {
    code: &'a dyn SourceCode,
    /// The error's span within `code`.
    span: Span,
    error: &'a Diagnostic,
}

/// Lines longer than this are shown cropped around the error.
const MAX_SHOWN_LINE: usize = 160;
/// Bytes of context kept on each side of the error in a cropped line.
const CROP_CONTEXT: usize = 60;

/// A window of one overlong line around an error (with `…` where it was cut), which reports the
/// line and column of the original text so the header still points at the right place.
struct Excerpt {
    name: String,
    text: String,
    span: Span,
    /// 0-based line and column of the error in the original text.
    line: usize,
    column: usize,
}

impl Excerpt {
    fn around(source: &Source, span: Span) -> Option<Excerpt> {
        let text: &str = &source.text;
        let start = span.start.min(text.len());
        let line_start = text[..floor_boundary(text, start)]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        if line_end - line_start <= MAX_SHOWN_LINE {
            return None;
        }
        let from = floor_boundary(text, start.saturating_sub(CROP_CONTEXT).max(line_start));
        let end = span.end.clamp(start, line_end).min(start + CROP_CONTEXT);
        let to = floor_boundary(text, (end + CROP_CONTEXT).min(line_end));
        let prefix = if from > line_start { "…" } else { "" };
        let suffix = if to < line_end { "…" } else { "" };
        let (line, column) = source.line_col(start);
        Some(Excerpt {
            name: source.name.to_string(),
            text: format!("{prefix}{}{suffix}", &text[from..to]),
            span: Span::new(
                start - from + prefix.len(),
                end.min(to) - from + prefix.len(),
            ),
            line: line - 1,
            column: column - 1,
        })
    }
}

fn floor_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        named_span(
            &self.name,
            &self.text,
            span,
            (context_lines_before, context_lines_after),
            Some((self.line, self.column)),
        )
    }
}

impl fmt::Debug for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error.message)
    }
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.error.message)
    }
}

impl std::error::Error for Located<'_> {}

impl miette::Diagnostic for Located<'_> {
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.code)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let start = self.span.start;
        let end = self.span.end.max(start);
        let label = self.error.label.clone().unwrap_or_else(|| "here".into());
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some(label),
            start,
            end - start,
        ))))
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.error
            .help
            .as_ref()
            .map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }
}

impl SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        named_span(
            &self.name,
            &self.text,
            span,
            (context_lines_before, context_lines_after),
            None,
        )
    }
}

/// The contents of `span` in `text` as miette reads them, named `name`; `position` overrides
/// the reported 0-based line and column (for an excerpt that stands for a place elsewhere).
fn named_span<'a>(
    name: &str,
    text: &'a str,
    span: &miette::SourceSpan,
    (before, after): (usize, usize),
    position: Option<(usize, usize)>,
) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
    let contents = text.read_span(span, before, after)?;
    let (line, column) = position.unwrap_or((contents.line(), contents.column()));
    Ok(Box::new(miette::MietteSpanContents::new_named(
        name.to_string(),
        contents.data(),
        *contents.span(),
        line,
        column,
        contents.line_count(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_overlong_lines_but_keeps_the_location() {
        let text = format!(
            "permit(principal, action, resource) when {{ {}true{} }};",
            "(".repeat(5000),
            ")".repeat(5000)
        );
        let src = Source::new("deep.cedar", text.as_str());
        let errs = SourceErrors::single(src, Diagnostic::new("too deep", Span::new(1044, 1045)));
        let rendered = errs.render();
        assert!(rendered.starts_with("deep.cedar:1:1045: "), "{rendered}");
        assert!(rendered.contains("[deep.cedar:1:1045]"), "{rendered}");
        assert!(rendered.contains('…'), "{rendered}");
        assert!(rendered.len() < 1000, "{rendered}");
    }

    #[test]
    fn renders_location_and_snippet() {
        let src = Source::new(
            "p.cedar",
            "permit(principal, action, resource)\nwhen { 1 + };",
        );
        let errs = SourceErrors::single(
            src,
            Diagnostic::new("unexpected token `}`", Span::new(47, 48)),
        );
        let text = errs.render();
        assert!(text.starts_with("p.cedar:2:12: "), "{text}");
        assert!(text.contains("when { 1 + };"), "{text}");
        assert!(text.contains("unexpected token `}`"), "{text}");
        assert_eq!(errs.location(), "p.cedar:2:12");
        assert_eq!(
            errs.to_string(),
            "p.cedar:2:12: unexpected token `}` (at `}`)"
        );
    }
}
