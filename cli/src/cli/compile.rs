//! `thuja compile`: compile policies (and template links) to the VM's bytecode program; with
//! `--listing`, print it: the scope index, then each policy's instructions with their constants
//! and source positions. With `--schema`, policies that validate against it are compiled
//! specialised on their expression types (marked `typed` in the listing). With `--engine jit`,
//! the policies are also compiled to native code, and the listing ends with how each policy runs:
//! natively, with nothing to run, or on the VM and why.

use std::path::PathBuf;

use clap::Args;
use thuja::input::{self, InputError};
use thuja::{Authorizer, CompiledPolicies, Evaluator, Tier};

use super::exit;

#[derive(Args, Debug)]
pub struct CompileArgs {
    /// Cedar policy file
    #[arg(short, long, value_name = "FILE")]
    pub policies: PathBuf,
    /// Format of the policies file: `cedar` (policy text) or `json` (Cedar's JSON policy format)
    #[arg(long, value_name = "FORMAT", default_value_t = input::PolicyFormat::Cedar)]
    pub policy_format: input::PolicyFormat,
    /// Template links JSON file: [{"template_id", "link_id", "args": {"?principal": "User::\"a\""}}]
    #[arg(short = 'k', long = "template-linked", value_name = "FILE")]
    pub template_linked: Option<PathBuf>,
    /// Schema file (see --schema-format): specialise the policies that validate on their types
    #[arg(short, long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// Format of the schema file: `cedar` (.cedarschema text) or `json` (Cedar's JSON schema)
    #[arg(long, value_name = "FORMAT", default_value_t = input::SchemaFormat::Cedar)]
    pub schema_format: input::SchemaFormat,
    /// Print the compiled program
    #[arg(long)]
    pub listing: bool,
    /// `vm` (bytecode only) or `jit` (also native code; the listing says which policies are native)
    #[arg(long, value_name = "ENGINE", default_value_t = Evaluator::Vm)]
    pub engine: Evaluator,
}

pub fn run(args: &CompileArgs) -> i32 {
    match compile(args) {
        Ok(compiled) => {
            let program = compiled.program();
            if args.listing {
                out!("{program}");
            } else {
                outln!(
                    "compiled {} policies to {} instructions",
                    program.policies.len(),
                    program.code.len()
                );
            }
            if args.engine == Evaluator::Jit {
                print_tiers(&compiled, args.listing);
            }
            exit::SUCCESS
        }
        Err(e) => {
            super::report(&e);
            exit::FAILURE
        }
    }
}

fn compile(args: &CompileArgs) -> Result<CompiledPolicies, InputError> {
    let policies = input::policy_set_from_file(
        &args.policies,
        args.policy_format,
        args.template_linked.as_deref(),
    )?;
    let engine = match args.engine {
        Evaluator::Jit => Evaluator::Jit,
        _ => Evaluator::Vm,
    };
    let authorizer = Authorizer::with_engine(engine);
    Ok(match &args.schema {
        Some(path) => {
            let schema = input::schema_from_file_with_format(path, args.schema_format)?;
            authorizer.compile_for_schema(&policies, &schema)
        }
        None => authorizer.compile(&policies),
    })
}

/// How each policy runs with the JIT (with `listing`, one line per policy; else a summary).
fn print_tiers(compiled: &CompiledPolicies, listing: bool) {
    let program = compiled.program();
    let code = match compiled.native() {
        Ok(code) => code,
        Err(why) => {
            outln!("native code: none ({why}); every policy runs on the VM");
            return;
        }
    };
    outln!(
        "native code: {} of {} policies in {:.3} ms",
        code.native_count(),
        program.policies.len(),
        code.compile_time().as_secs_f64() * 1e3
    );
    if !listing {
        return;
    }
    for (n, policy) in program.policies.iter().enumerate() {
        let how = match code.tier(n) {
            Some(Tier::Native(_)) => "native".to_owned(),
            Some(Tier::Empty) => "native (no conditions to run)".to_owned(),
            Some(Tier::Vm(why)) => format!("vm: {why}"),
            Some(_) | None => "vm: no native code".to_owned(),
        };
        outln!("  {} {how}", policy.id);
    }
}
