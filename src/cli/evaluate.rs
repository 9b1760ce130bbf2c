//! `thuja evaluate`: evaluate one expression against a request and entities.

use std::path::PathBuf;

use clap::Args;
use thuja::input::{self, InputError};
use thuja::{Entities, Value};
use thuja_compiler::Source;

use super::exit;
use super::request_args::RequestArgs;

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub request: RequestArgs,
    /// Schema file (.cedarschema); used to parse entities and context
    #[arg(short, long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
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
            println!("{value}");
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
        .map(input::schema_from_file)
        .transpose()?;
    let entities = match &args.entities {
        Some(path) => input::entities_from_file(path, schema.as_ref())?,
        None => Entities::default(),
    };
    let request = args.request.request(schema.as_ref())?;
    let source = Source::new("<expression>", args.expression.as_str());
    let expr = thuja_compiler::parser::parse_expr(source.clone())?;
    thuja_interp::Evaluator::new(&request, &entities, None)
        .eval(&expr)
        .map_err(|failure| InputError::Evaluation { source, failure })
}
