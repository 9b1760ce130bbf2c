//! `thuja authorize`: decide one request (or, with `--requests`, a batch: see [`super::batch`]).

use std::path::PathBuf;

use clap::Args;
use thuja::input::{self, InputError};
use thuja::{Authorizer, Decision, PolicyError, PolicySet, Response, Schema};

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
    /// Engine that answers: `vm` (compiled bytecode), `jit` (native code, the VM for what it does
    /// not compile) or `interp` (the reference interpreter)
    #[arg(long, value_name = "ENGINE", default_value_t = thuja::Engine::Vm)]
    pub engine: thuja::Engine,
    /// Also print the policies that determined the decision
    #[arg(short, long)]
    pub verbose: bool,
    /// Batch mode: a JSON Lines file of requests; prints one JSON decision per line, in order
    #[arg(long, value_name = "FILE", conflicts_with_all = ["principal", "action", "resource", "context", "request_json", "verbose"])]
    pub requests: Option<PathBuf>,
    /// Batch mode: write the decisions to FILE instead of standard output
    #[arg(long, value_name = "FILE", requires = "requests")]
    pub output: Option<PathBuf>,
    /// Batch mode: worker threads (default: the number of CPUs)
    #[arg(long, requires = "requests")]
    pub threads: Option<usize>,
    /// Batch mode: print load and evaluation timings as one JSON line on standard error
    #[arg(long, requires = "requests")]
    pub stats: bool,
}

pub fn run(args: &AuthorizeArgs) -> i32 {
    if let Some(requests) = &args.requests {
        return match super::batch::run(args, requests) {
            Ok(()) => exit::SUCCESS,
            Err(e) => {
                super::report(&e);
                exit::FAILURE
            }
        };
    }
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
    let policies = load_policies(args)?;
    let schema = load_schema(args)?;
    let entities = input::entities_from_file(&args.entities, schema.as_ref())?;
    let request = args.request.request(schema.as_ref())?;
    let response =
        Authorizer::with_engine(args.engine).is_authorized(&request, &policies, &entities);
    Ok((policies, response))
}

/// The policy file with its template links; as with `cedar`, a policy annotated `@id("...")`
/// takes that id, and links name templates by it.
pub(super) fn load_policies(args: &AuthorizeArgs) -> Result<PolicySet, InputError> {
    let mut policies = input::policies_from_file(&args.policies)?;
    input::rename_from_id_annotations(&mut policies)?;
    if let Some(links) = &args.template_linked {
        input::links_from_file(links, &mut policies)?;
    }
    Ok(policies)
}

pub(super) fn load_schema(args: &AuthorizeArgs) -> Result<Option<Schema>, InputError> {
    args.schema
        .as_deref()
        .map(|path| input::schema_from_file_with_format(path, args.schema_format))
        .transpose()
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
    let active = policies.active().find(|p| *p.id == err.policy_id)?;
    let source = &active.policy.source;
    let (line, col) = source.line_col(span.start);
    Some(format!("{}:{line}:{col}", source.name))
}
