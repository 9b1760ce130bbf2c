//! `thuja validate`: check policies against a schema with Cedar's strict-mode validator.
//!
//! Exit 0 when the policies are valid, 3 when they are not (or, with `--deny-warnings`, when
//! there are warnings), 1 on bad input. Every error and warning is printed with its policy id,
//! its kind and the policy text it points at.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use thuja::PolicySet;
use thuja::input::{self, InputError};
use thuja_compiler::source::Positions;
use thuja_compiler::validator::{self, ValidationOptions, ValidationResult};
use thuja_compiler::{Diagnostic, ReportFormat, SourceErrors, Span};

use super::exit;

/// The exit code for policies that do not validate (as the `cedar` CLI uses it).
const INVALID: i32 = 3;

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Cedar policy file
    #[arg(short, long, value_name = "FILE")]
    pub policies: PathBuf,
    /// Format of the policies file: `cedar` (policy text) or `json` (Cedar's JSON policy format)
    #[arg(long, value_name = "FORMAT", default_value_t = input::PolicyFormat::Cedar)]
    pub policy_format: input::PolicyFormat,
    /// Schema file (see --schema-format)
    #[arg(short, long, value_name = "FILE")]
    pub schema: PathBuf,
    /// Format of the schema file: `cedar` (.cedarschema text) or `json` (Cedar's JSON schema)
    #[arg(long, value_name = "FORMAT", default_value_t = input::SchemaFormat::Cedar)]
    pub schema_format: input::SchemaFormat,
    /// Template links JSON file (their slot values are checked too)
    #[arg(short = 'k', long = "template-linked", value_name = "FILE")]
    pub template_linked: Option<PathBuf>,
    /// Also limit entity dereferences to this many levels (level validation)
    #[arg(long, value_name = "N")]
    pub level: Option<u32>,
    /// Treat warnings as failures (exit 3)
    #[arg(long)]
    pub deny_warnings: bool,
    /// Validation mode: `strict` (Cedar's default, the only one Thuja has); `permissive` and
    /// `partial` (experimental in Cedar, off unless its CLI is built with them) are refused
    #[arg(long, value_enum, default_value_t = ValidationMode::Strict)]
    pub validation_mode: ValidationMode,
}

/// `cedar validate --validation-mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ValidationMode {
    /// Strict validation
    Strict,
    /// Permissive validation (not supported)
    Permissive,
    /// Partial validation (not supported)
    Partial,
}

pub fn run(args: &ValidateArgs) -> i32 {
    if args.validation_mode != ValidationMode::Strict {
        let mode = match args.validation_mode {
            ValidationMode::Permissive => "permissive",
            _ => "partial",
        };
        super::report(&InputError::Usage(format!(
            "`--validation-mode {mode}` is not supported: Thuja validates in strict mode (as the `cedar` CLI does unless built with its experimental `{mode}-validate` feature)"
        )));
        return exit::FAILURE;
    }
    let (policies, result) = match check(args) {
        Ok(r) => r,
        Err(e) => {
            super::report(&e);
            return exit::FAILURE;
        }
    };
    let mut printer = Printer::default();
    for e in &result.errors {
        let message = format!(
            "error [{}] for policy `{}`: {}",
            e.kind, e.policy_id, e.message
        );
        eprint!(
            "{}",
            printer.render(&policies, &e.policy_id, e.span, message)
        );
    }
    for w in &result.warnings {
        let message = format!(
            "warning [{}] for policy `{}`: {}",
            w.kind, w.policy_id, w.message
        );
        eprint!(
            "{}",
            printer.render(&policies, &w.policy_id, w.span, message)
        );
    }
    if !result.is_valid() {
        outln!(
            "validation failed: {} error(s), {} warning(s)",
            result.errors.len(),
            result.warnings.len()
        );
        INVALID
    } else if !result.warnings.is_empty() {
        outln!(
            "validation passed with {} warning(s)",
            result.warnings.len()
        );
        if args.deny_warnings {
            INVALID
        } else {
            exit::SUCCESS
        }
    } else {
        outln!("validation passed");
        exit::SUCCESS
    }
}

fn check(args: &ValidateArgs) -> Result<(PolicySet, ValidationResult), InputError> {
    let policies = input::policy_set_from_file(
        &args.policies,
        args.policy_format,
        args.template_linked.as_deref(),
    )?;
    let schema = input::schema_from_file_with_format(&args.schema, args.schema_format)?;
    let options = ValidationOptions { level: args.level };
    let result = validator::validate(&schema, &policies, options);
    Ok((policies, result))
}

/// Reports after this many are one line each (`file:line:col: message`), without the snippet:
/// rendering a snippet costs time proportional to the file, and a policy store can have
/// thousands of errors.
const FULL_REPORTS: usize = 50;

/// Renders messages located in the policy (or, for a link, its template) they concern.
#[derive(Default)]
struct Printer<'p> {
    shown: usize,
    /// Where the last message of each source was, by source name: the next one is found from
    /// there (a source's errors come in about the order of its text).
    positions: HashMap<Arc<str>, Positions<'p>>,
}

impl<'p> Printer<'p> {
    fn render(&mut self, policies: &'p PolicySet, id: &str, span: Span, message: String) -> String {
        let policy = policies.get(id).or_else(|| {
            policies
                .links()
                .iter()
                .find(|l| l.id == id)
                .and_then(|l| policies.get(&l.template_id))
        });
        let Some(policy) = policy else {
            return match super::error_format() {
                ReportFormat::Json => {
                    format!("{}\n", thuja_compiler::diagnostic::json_message(&message))
                }
                ReportFormat::Human | ReportFormat::Plain => format!("{message}\n"),
            };
        };
        let source = policy.source.as_ref();
        self.shown += 1;
        let format = super::error_format();
        if self.shown <= FULL_REPORTS || format == ReportFormat::Json {
            return SourceErrors::single(source.clone(), Diagnostic::new(message, span))
                .render_as(format);
        }
        let (line, col) = self
            .positions
            .entry(source.name.clone())
            .or_insert_with(|| Positions::new(&source.text))
            .of(span.start);
        format!("{}:{line}:{col}: {message}\n", source.name)
    }
}
