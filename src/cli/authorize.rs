//! `thuja authorize`: decide one request.

use std::path::PathBuf;

use clap::Args;
use thuja::input::{self, InputError};
use thuja::{Authorizer, Decision, PolicyError, PolicySet, Response};

use super::exit;
use super::request_args::RequestArgs;

#[derive(Args, Debug)]
pub struct AuthorizeArgs {
    #[command(flatten)]
    pub request: RequestArgs,
    /// Cedar policy file
    #[arg(short, long, value_name = "FILE")]
    pub policies: PathBuf,
    /// Schema file (see --schema-format); used to parse entities and context, and to validate the request
    #[arg(short, long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// Format of the schema file: `cedar` (.cedarschema text) or `json` (Cedar's JSON schema)
    #[arg(long, value_name = "FORMAT", default_value_t = input::SchemaFormat::Cedar)]
    pub schema_format: input::SchemaFormat,
    /// Entities JSON file
    #[arg(long, value_name = "FILE")]
    pub entities: PathBuf,
    /// Template links JSON file: [{"template_id", "link_id", "args": {"?principal": "User::\"a\""}}]
    #[arg(short = 'k', long = "template-linked", value_name = "FILE")]
    pub template_linked: Option<PathBuf>,
    /// Also print the policies that determined the decision
    #[arg(short, long)]
    pub verbose: bool,
}

pub fn run(args: &AuthorizeArgs) -> i32 {
    match decide(args) {
        Ok((policies, response)) => {
            print_response(&policies, &response, args.verbose);
            match response.decision {
                Decision::Allow => exit::SUCCESS,
                Decision::Deny => exit::DENY,
            }
        }
        Err(e) => {
            super::report(&e);
            exit::FAILURE
        }
    }
}

fn decide(args: &AuthorizeArgs) -> Result<(PolicySet, Response), InputError> {
    let mut policies = input::policies_from_file(&args.policies)?;
    // As with `cedar`, links name templates by their `@id` when they have one.
    input::rename_from_id_annotations(&mut policies)?;
    if let Some(links) = &args.template_linked {
        input::links_from_file(links, &mut policies)?;
    }
    let schema = args
        .schema
        .as_deref()
        .map(|path| input::schema_from_file_with_format(path, args.schema_format))
        .transpose()?;
    let entities = input::entities_from_file(&args.entities, schema.as_ref())?;
    let request = args.request.request(schema.as_ref())?;
    let response = Authorizer::new().is_authorized(&request, &policies, &entities);
    Ok((policies, response))
}

fn print_response(policies: &PolicySet, response: &Response, verbose: bool) {
    println!(
        "{}",
        match response.decision {
            Decision::Allow => "ALLOW",
            Decision::Deny => "DENY",
        }
    );
    if !response.errors.is_empty() {
        println!();
        for err in &response.errors {
            println!("{err}");
            if let Some(location) = error_location(policies, err) {
                println!("  --> {location}");
            }
        }
    }
    if verbose {
        println!();
        if response.reasons.is_empty() {
            println!("note: no policies applied to this request");
        } else {
            println!("note: this decision was due to the following policies:");
            for id in &response.reasons {
                println!("  {id}");
            }
        }
    }
}

/// `file:line:col` of the expression whose evaluation failed.
fn error_location(policies: &PolicySet, err: &PolicyError) -> Option<String> {
    let span = err.span.as_ref()?;
    let active = policies
        .active()
        .find(|p| p.id.as_ref() == err.policy_id.as_ref())?;
    let source = &active.policy.source;
    let (line, col) = source.line_col(span.start);
    Some(format!("{}:{line}:{col}", source.name))
}
