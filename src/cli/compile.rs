//! `thuja compile`: compile policies (and template links) to the VM's bytecode program; with
//! `--listing`, print it: the scope index, then each policy's instructions with their constants
//! and source positions. With `--schema`, policies that validate against it are compiled
//! specialised on their expression types (marked `typed` in the listing).

use std::path::PathBuf;

use clap::Args;
use thuja::input::{self, InputError};
use thuja::{Authorizer, CompiledPolicies, Engine};

use super::exit;

#[derive(Args, Debug)]
pub struct CompileArgs {
    /// Cedar policy file
    #[arg(short, long, value_name = "FILE")]
    pub policies: PathBuf,
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
}

pub fn run(args: &CompileArgs) -> i32 {
    match compile(args) {
        Ok(compiled) => {
            let program = compiled.program();
            if args.listing {
                print!("{program}");
            } else {
                println!(
                    "compiled {} policies to {} instructions",
                    program.policies.len(),
                    program.code.len()
                );
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
    let mut policies = input::policies_from_file(&args.policies)?;
    input::rename_from_id_annotations(&mut policies)?;
    if let Some(links) = &args.template_linked {
        input::links_from_file(links, &mut policies)?;
    }
    let authorizer = Authorizer::with_engine(Engine::Vm);
    Ok(match &args.schema {
        Some(path) => {
            let schema = input::schema_from_file_with_format(path, args.schema_format)?;
            authorizer.compile_for_schema(&policies, &schema)
        }
        None => authorizer.compile(&policies),
    })
}
