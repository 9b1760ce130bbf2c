//! `thuja partially-authorize`: decide a request of which the principal, the resource, the
//! context or some entities' data are unknown (see `thuja::partial`). Prints the decision
//! (`ALLOW`, `DENY` or `UNKNOWN`) and the residual policies — what must still hold — as Cedar
//! text, or everything as JSON with `--output json`; a stats line on standard error. Exits 0
//! for ALLOW, 2 for DENY, 4 for UNKNOWN, 1 for bad input.

use clap::{Args, ValueEnum};
use thuja::input::{self, InputError};
use thuja::partial::{Outcome, PartialRequest, PartialUid};
use thuja::{BuildError, Decision, PartialAnswer};

use super::exit;
use super::query::{FileArgs, context, entity_type, load_engine};

/// The exit code when the unknowns decide.
pub const UNKNOWN: i32 = 4;

#[derive(Args, Debug)]
pub struct PartialArgs {
    #[command(flatten)]
    pub files: FileArgs,
    /// The principal, e.g. User::"alice"
    #[arg(
        short = 'l',
        long,
        required_unless_present = "principal_type",
        conflicts_with = "principal_type"
    )]
    pub principal: Option<String>,
    /// An unknown principal of this type, e.g. User
    #[arg(long, value_name = "TYPE")]
    pub principal_type: Option<String>,
    /// The action, e.g. Action::"view"
    #[arg(short, long)]
    pub action: String,
    /// The resource, e.g. Photo::"vacation.jpg"
    #[arg(
        short,
        long,
        required_unless_present = "resource_type",
        conflicts_with = "resource_type"
    )]
    pub resource: Option<String>,
    /// An unknown resource of this type, e.g. Photo
    #[arg(long, value_name = "TYPE")]
    pub resource_type: Option<String>,
    /// The context is unknown (instead of --context FILE, or the empty record)
    #[arg(long, conflicts_with = "context")]
    pub unknown_context: bool,
    /// An entity whose attributes, tags and ancestors are unknown (repeatable)
    #[arg(long = "unknown-entity", value_name = "UID")]
    pub unknown_entities: Vec<String>,
    /// `text`: the decision, then the residual policies as Cedar text; `json`: one object with
    /// the decision, each policy's outcome and the residual policies in Cedar's JSON format
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

pub fn run(args: &PartialArgs) -> i32 {
    let answer = match answer(args) {
        Ok(answer) => answer,
        Err(e) => {
            super::report_build(&e);
            return exit::FAILURE;
        }
    };
    let decision = match answer.decision() {
        Some(Decision::Allow) => "ALLOW",
        Some(Decision::Deny) => "DENY",
        None => "UNKNOWN",
    };
    match args.output {
        Output::Text => outln!("{decision}\n\n{}", answer.residuals_to_cedar().trim_end()),
        Output::Json => outln!("{}", to_json(&answer, decision)),
    }
    let count =
        |f: fn(&Outcome) -> bool| answer.policies().iter().filter(|p| f(p.outcome())).count();
    eprintln!(
        "{} residual, {} satisfied, {} not satisfied, {} erring",
        count(|o| matches!(o, Outcome::Residual(_))),
        count(|o| matches!(o, Outcome::Satisfied)),
        count(|o| matches!(o, Outcome::NotSatisfied)),
        count(|o| matches!(o, Outcome::Error(_))),
    );
    for (id, failure) in answer.errors() {
        eprintln!("error in policy {id}: {}", failure.error);
    }
    match answer.decision() {
        Some(Decision::Allow) => exit::SUCCESS,
        Some(Decision::Deny) => exit::DENY,
        None => UNKNOWN,
    }
}

fn answer(args: &PartialArgs) -> Result<PartialAnswer, BuildError> {
    let engine = load_engine(&args.files)?;
    let uid = |what: &str, known: &Option<String>, ty_flag: &str, ty: &Option<String>| {
        Ok::<_, InputError>(match (known, ty) {
            (Some(text), _) => PartialUid::Known(input::entity_uid_from_str(what, text)?),
            (None, Some(text)) => PartialUid::Unknown(entity_type(ty_flag, text)?),
            (None, None) => {
                return Err(InputError::Usage(format!("give {what} or {ty_flag}")));
            }
        })
    };
    let principal = uid(
        "--principal",
        &args.principal,
        "--principal-type",
        &args.principal_type,
    )?;
    let resource = uid(
        "--resource",
        &args.resource,
        "--resource-type",
        &args.resource_type,
    )?;
    let action = input::entity_uid_from_str("--action", &args.action)?;
    let context = if args.unknown_context {
        None
    } else {
        Some(context(&args.files, engine.schema(), Some(&action))?)
    };
    let mut request = PartialRequest::new(principal, action, resource, context);
    for text in &args.unknown_entities {
        request =
            request.with_unknown_entity(input::entity_uid_from_str("--unknown-entity", text)?);
    }
    engine
        .partially_authorize(&request)
        .map_err(|e| InputError::Usage(e.to_string()).into())
}

/// `{"decision": "ALLOW"|"DENY"|"UNKNOWN", "reasons": [...], "policies": [{"id", "outcome",
/// "residual"?, "error"?}], "residuals": <Cedar's JSON policy set>}`.
fn to_json(answer: &PartialAnswer, decision: &str) -> String {
    let policies: Vec<serde_json::Value> = answer
        .policies()
        .iter()
        .map(|p| {
            let mut entry = serde_json::json!({ "id": p.id().as_str() });
            let outcome = match p.outcome() {
                Outcome::Satisfied => "satisfied",
                Outcome::NotSatisfied => "not satisfied",
                Outcome::Error(failure) => {
                    entry["error"] = failure.error.to_string().into();
                    "error"
                }
                Outcome::Residual(e) => {
                    entry["residual"] = e.to_string().into();
                    "residual"
                }
            };
            entry["outcome"] = outcome.into();
            entry
        })
        .collect();
    let residuals: serde_json::Value =
        serde_json::from_str(&answer.residuals_to_json()).unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "decision": decision,
        "reasons": answer.reasons().iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "policies": policies,
        "residuals": residuals,
    })
    .to_string()
}
