//! Where an evaluation error is: the file, line and column of the expression that raised it,
//! found from the policy's source text.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use thuja_compiler::Source;
use thuja_compiler::ast::PolicySet;
use thuja_runtime::{Location, PolicyError, PolicyId};

/// The source of each policy of a set (a template's for its links), and each source's line
/// starts, found the first time an error in it is located.
pub(crate) struct Locator {
    /// Index into `files` of each active policy's source, by policy id.
    by_policy: HashMap<PolicyId, usize>,
    files: Vec<File>,
}

struct File {
    source: Arc<Source>,
    /// Byte offset of the start of each line.
    line_starts: OnceLock<Box<[usize]>>,
}

impl Locator {
    pub(crate) fn new(set: &PolicySet) -> Self {
        let mut files: Vec<File> = Vec::new();
        let mut by_policy = HashMap::new();
        for active in set.active() {
            let source = &active.policy.source;
            let at = match files.iter().position(|f| Arc::ptr_eq(&f.source, source)) {
                Some(at) => at,
                None => {
                    files.push(File {
                        source: Arc::clone(source),
                        line_starts: OnceLock::new(),
                    });
                    files.len() - 1
                }
            };
            by_policy.insert(active.id.clone(), at);
        }
        Locator { by_policy, files }
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
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(at, _)| at + 1))
                .collect()
        });
        let line = starts.partition_point(|&start| start <= offset).max(1);
        let start = starts[line - 1];
        let column = text
            .get(start..offset.min(text.len()))
            .map_or(0, |before| before.chars().count());
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
}
