//! `thuja translate-policy`: translate policies between Cedar's text and its JSON policy format,
//! as `cedar translate-policy` does, printing the translation to stdout.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use thuja::input::{self, InputError, PolicyDirection};

use super::exit;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Direction {
    /// Cedar policy text to JSON
    CedarToJson,
    /// JSON to Cedar policy text
    JsonToCedar,
}

#[derive(Args, Debug)]
pub struct TranslatePolicyArgs {
    /// Which way to translate
    #[arg(long, value_enum)]
    pub direction: Direction,
    /// The policies file to translate (standard input if not given)
    #[arg(short, long = "policies", value_name = "FILE")]
    pub policies: Option<PathBuf>,
}

pub fn run(args: &TranslatePolicyArgs) -> i32 {
    match translate(args) {
        Ok(text) => {
            outln!("{text}");
            exit::SUCCESS
        }
        Err(e) => {
            super::report(&e);
            exit::FAILURE
        }
    }
}

fn translate(args: &TranslatePolicyArgs) -> Result<String, InputError> {
    let (name, text) = super::read_input(args.policies.as_deref())?;
    let direction = match args.direction {
        Direction::CedarToJson => PolicyDirection::CedarToJson,
        Direction::JsonToCedar => PolicyDirection::JsonToCedar,
    };
    input::translate_policy(&name, &text, direction)
}
