//! `thuja evaluate`: evaluate one expression against a request and entities.

use std::path::PathBuf;

use clap::Args;
use thuja::input::{self, InputError};
use thuja::{Entities, Value};
use thuja_compiler::ast::{Expr, ExprKind};
use thuja_compiler::{Diagnostic, Source, SourceErrors};
use thuja_runtime::{EntityType, EntityUid, Request};

use super::exit;
use super::request_args::RequestArgs;

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub request: RequestArgs,
    /// Schema file (see --schema-format); used to parse entities and context
    #[arg(short, long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// Format of the schema file: `cedar` (.cedarschema text) or `json` (Cedar's JSON schema)
    #[arg(long, value_name = "FORMAT", default_value_t = input::SchemaFormat::Cedar)]
    pub schema_format: input::SchemaFormat,
    /// Entities JSON file (default: no entities)
    #[arg(long, value_name = "FILE")]
    pub entities: Option<PathBuf>,
    /// The Cedar expression to evaluate
    #[arg(value_name = "EXPRESSION")]
    pub expression: String,
}

pub fn run(args: &EvaluateArgs) -> i32 {
    match evaluate(args) {
        Ok(value) => {
            outln!("{value}");
            exit::SUCCESS
        }
        Err(e) => {
            super::report(&e);
            exit::FAILURE
        }
    }
}

fn evaluate(args: &EvaluateArgs) -> Result<Value, InputError> {
    let schema = args
        .schema
        .as_deref()
        .map(|path| input::schema_from_file_with_format(path, args.schema_format))
        .transpose()?;
    let entities = match &args.entities {
        Some(path) => input::entities_from_file(path, schema.as_ref())?,
        None => Entities::default(),
    };
    let source = Source::new("<expression>", args.expression.as_str());
    let expr = thuja_compiler::parser::parse_expr(source.clone())?;
    let request = if args.request.is_given() {
        args.request.request(schema.as_ref())?
    } else {
        // Without a request, only expressions that never read one can be evaluated.
        if let Some(var) = first_request_variable(&expr) {
            return Err(InputError::Source(SourceErrors::single(
                source,
                Diagnostic::new(
                    "the expression reads the request, but none was given",
                    var.span,
                )
                .with_help("give the request with --principal, --action and --resource (or --request-json)"),
            )));
        }
        unused_request()
    };
    thuja_interp::Evaluator::new(&request, &entities, None)
        .eval(&expr)
        .map_err(|failure| InputError::Evaluation {
            source,
            failure: Box::new(failure),
        })
}

/// The first `principal`, `action`, `resource` or `context` in `expr`, if any.
fn first_request_variable(expr: &Expr) -> Option<&Expr> {
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        if matches!(e.kind, ExprKind::Var(_)) {
            return Some(e);
        }
        stack.extend(e.children().into_iter().rev());
    }
    None
}

/// A request for expressions that do not read it (checked by [`first_request_variable`]).
fn unused_request() -> Request {
    let uid = EntityUid::new(EntityType::new_unchecked("Unspecified"), "");
    Request::new(uid.clone(), uid.clone(), uid, Default::default())
}
