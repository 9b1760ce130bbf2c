//! `thuja authorize`: decide one request (or, with `--requests`, a batch: see [`super::batch`]).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use thuja::input::{self, InputError};
use thuja::{
    BuildError, Decision, Engine, Explanation, PolicySet, RequestValidationError, Response, Schema,
};

use super::exit;
use super::request_args::RequestArgs;

#[derive(Args, Debug)]
pub struct AuthorizeArgs {
    #[command(flatten)]
    pub request: RequestArgs,
    /// Cedar policy file
    #[arg(short, long, value_name = "FILE")]
    pub policies: PathBuf,
    /// Format of the policies file: `cedar` (policy text) or `json` (Cedar's JSON policy format)
    #[arg(long, value_name = "FORMAT", default_value_t = input::PolicyFormat::Cedar)]
    pub policy_format: input::PolicyFormat,
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
    #[arg(long, value_name = "ENGINE", default_value_t = thuja::Evaluator::Vm)]
    pub engine: thuja::Evaluator,
    /// Also print the policies that determined the decision
    #[arg(short, long)]
    pub verbose: bool,
    /// Also print why each policy did or did not apply: the scope constraint that did not
    /// hold, or the condition that did not (the subexpression that decided it and its
    /// operands' values), or its error; and, for a deny no permit applied to, the permits
    /// that came closest
    #[arg(long)]
    pub explain: bool,
    /// Also print how long the decision took, as `cedar authorize --timing` does (before the
    /// decision: `Authorization Time (micro seconds) : N`)
    #[arg(short, long)]
    pub timing: bool,
    /// Batch mode: a JSON Lines file of requests, or `-` for standard input; prints one JSON
    /// decision per line, in order, streaming (decided and written in chunks, as lines arrive)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["principal", "action", "resource", "context", "request_json", "verbose", "explain", "timing"])]
    pub requests: Option<PathBuf>,
    /// Batch mode: write the decisions to FILE instead of standard output
    #[arg(long, value_name = "FILE", requires = "requests")]
    pub output: Option<PathBuf>,
    /// Batch mode: worker threads (default: the number of CPUs; at most 256)
    #[arg(long, requires = "requests")]
    pub threads: Option<usize>,
    /// Batch mode: at the end, print the counts (requests, allow, deny, error, policy_errors) and
    /// load and evaluation timings (p50/p99/max per decision) as one JSON line on standard error
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
        Ok((response, explanation)) => {
            print_response(&response, args.verbose, explanation.as_ref());
            match response.decision {
                Decision::Allow => exit::SUCCESS,
                Decision::Deny => exit::DENY,
            }
        }
        Err(e) => {
            super::report_build(&e);
            exit::FAILURE
        }
    }
}

/// The response, and its explanation if asked for.
fn decide(args: &AuthorizeArgs) -> Result<(Response, Option<Explanation>), BuildError> {
    let policies = load_policies(args)?;
    let schema = load_schema(args)?;
    let engine = load_engine(args, policies, schema)?;
    let request = args.request.request(engine.schema())?;
    let invalid = |e: RequestValidationError| {
        InputError::Usage(format!("request is not valid for the schema: {e}"))
    };
    // The request was validated as it was read (unless validation is off).
    let started = std::time::Instant::now();
    let response = engine.decide(&request).map_err(invalid)?;
    if args.timing {
        outln!(
            "Authorization Time (micro seconds) : {}",
            started.elapsed().as_micros()
        );
    }
    let explanation = match args.explain {
        true => Some(engine.explain(&request).map_err(invalid)?),
        false => None,
    };
    Ok((response, explanation))
}

/// The engine the arguments describe: policies, schema, entities and evaluator.
pub(super) fn load_engine(
    args: &AuthorizeArgs,
    policies: PolicySet,
    schema: Option<Schema>,
) -> Result<Engine, BuildError> {
    let entities_text = input::read_file(&args.entities)?;
    let mut builder = Engine::builder()
        .policies(policies)
        .entities_json(args.entities.display().to_string(), entities_text)
        .evaluator(args.engine)
        .request_validation(args.request.request_validation);
    if let Some(schema) = schema {
        builder = builder.schema(schema);
    }
    builder.build()
}

/// The policy file with its template links; as with `cedar`, a policy annotated `@id("...")`
/// takes that id, and links name templates by it.
pub(super) fn load_policies(args: &AuthorizeArgs) -> Result<PolicySet, InputError> {
    input::policy_set_from_file(
        &args.policies,
        args.policy_format,
        args.template_linked.as_deref(),
    )
}

pub(super) fn load_schema(args: &AuthorizeArgs) -> Result<Option<Schema>, InputError> {
    args.schema
        .as_deref()
        .map(|path| input::schema_from_file_with_format(path, args.schema_format))
        .transpose()
}

/// Prints the decision, then every error with its location, then (verbose) the reasons. One
/// buffered write for all of it: a response with 100,000 errors is 200,000 lines.
fn print_response(response: &Response, verbose: bool, explanation: Option<&Explanation>) {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    // Standard output closed or full: nothing more can be said there (the exit code still is).
    let _ = write_response(&mut out, response, verbose)
        .and_then(|()| match explanation {
            Some(explanation) => write!(out, "\nexplanation:\n{explanation}"),
            None => Ok(()),
        })
        .and_then(|()| out.flush());
}

fn write_response(out: &mut impl Write, response: &Response, verbose: bool) -> std::io::Result<()> {
    writeln!(
        out,
        "{}",
        match response.decision {
            Decision::Allow => "ALLOW",
            Decision::Deny => "DENY",
        }
    )?;
    if !response.errors.is_empty() {
        writeln!(out)?;
        for err in &response.errors {
            writeln!(out, "{err}")?;
            if let Some(location) = &err.location {
                writeln!(out, "  --> {location}")?;
            }
        }
    }
    if verbose {
        writeln!(out)?;
        if response.reasons.is_empty() {
            writeln!(out, "note: no policies applied to this request")?;
        } else {
            writeln!(
                out,
                "note: this decision was due to the following policies:"
            )?;
            for id in &response.reasons {
                writeln!(out, "  {id}")?;
            }
        }
    }
    Ok(())
}
