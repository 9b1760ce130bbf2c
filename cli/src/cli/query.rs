//! `thuja query resources|principals|actions`: list what a request may reach — every resource of
//! a type a principal may act on, every principal of a type that may act on a resource, every
//! action a principal may perform on a resource (see `thuja::query`). Prints one uid per line,
//! sorted, and a stats line on standard error.

use std::path::PathBuf;

use clap::{ArgAction, Args, Subcommand};
use thuja::input::{self, InputError};
use thuja::{BuildError, Engine, EntityType, EntityUid, QueryAnswer, Record, Schema};

use super::exit;

#[derive(Args, Debug)]
pub struct QueryArgs {
    #[command(subcommand)]
    pub kind: QueryKind,
}

/// What to list.
#[derive(Subcommand, Debug)]
pub enum QueryKind {
    /// Every resource of --resource-type that --principal may perform --action on
    Resources {
        #[command(flatten)]
        files: FileArgs,
        /// The principal, e.g. User::"alice"
        #[arg(short = 'l', long)]
        principal: String,
        /// The action, e.g. Action::"view"
        #[arg(short, long)]
        action: String,
        /// The type of the resources listed, e.g. Photo
        #[arg(long, value_name = "TYPE")]
        resource_type: String,
    },
    /// Every principal of --principal-type that may perform --action on --resource
    Principals {
        #[command(flatten)]
        files: FileArgs,
        /// The action, e.g. Action::"view"
        #[arg(short, long)]
        action: String,
        /// The resource, e.g. Photo::"vacation.jpg"
        #[arg(short, long)]
        resource: String,
        /// The type of the principals listed, e.g. User
        #[arg(long, value_name = "TYPE")]
        principal_type: String,
    },
    /// Every action --principal may perform on --resource (the schema's actions for their
    /// types; without a schema, the action entities in the store)
    Actions {
        #[command(flatten)]
        files: FileArgs,
        /// The principal, e.g. User::"alice"
        #[arg(short = 'l', long)]
        principal: String,
        /// The resource, e.g. Photo::"vacation.jpg"
        #[arg(short, long)]
        resource: String,
    },
}

/// The inputs, as for `authorize`.
#[derive(Args, Debug)]
pub struct FileArgs {
    /// Cedar policy file
    #[arg(short, long, value_name = "FILE")]
    pub policies: PathBuf,
    /// Schema file (see --schema-format); used to parse entities and context, and to validate requests
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
    /// JSON file holding the requests' context (an object). For `actions`, it is not typed by
    /// the schema (write extension values as {"__extn": ...})
    #[arg(short, long = "context", value_name = "FILE")]
    pub context: Option<PathBuf>,
    /// Engine that decides: `vm`, `jit` or `interp`
    #[arg(long, value_name = "ENGINE", default_value_t = thuja::Evaluator::Vm)]
    pub engine: thuja::Evaluator,
    /// Validate the requests against the schema (no effect without a schema); a candidate whose
    /// request is invalid is skipped
    #[arg(long = "request-validation", action = ArgAction::Set, default_value_t = true)]
    pub request_validation: bool,
}

pub fn run(args: &QueryArgs) -> i32 {
    match answer(&args.kind) {
        Ok(answer) => {
            let mut out = String::new();
            for uid in &answer.uids {
                out.push_str(&uid.to_string());
                out.push('\n');
            }
            out!("{out}");
            eprintln!(
                "{} allowed, {} evaluated, {} skipped (invalid for the schema)",
                answer.uids.len(),
                answer.evaluated,
                answer.skipped
            );
            exit::SUCCESS
        }
        Err(e) => {
            super::report_build(&e);
            exit::FAILURE
        }
    }
}

fn answer(kind: &QueryKind) -> Result<QueryAnswer, BuildError> {
    let refused = |e: thuja::QueryError| -> BuildError { InputError::Usage(e.to_string()).into() };
    match kind {
        QueryKind::Resources {
            files,
            principal,
            action,
            resource_type,
        } => {
            let engine = load_engine(files)?;
            let principal = input::entity_uid_from_str("--principal", principal)?;
            let action = input::entity_uid_from_str("--action", action)?;
            let ty = entity_type("--resource-type", resource_type)?;
            let context = context(files, engine.schema(), Some(&action))?;
            engine
                .query_resources(&principal, &action, &ty, context)
                .map_err(refused)
        }
        QueryKind::Principals {
            files,
            action,
            resource,
            principal_type,
        } => {
            let engine = load_engine(files)?;
            let action = input::entity_uid_from_str("--action", action)?;
            let resource = input::entity_uid_from_str("--resource", resource)?;
            let ty = entity_type("--principal-type", principal_type)?;
            let context = context(files, engine.schema(), Some(&action))?;
            engine
                .query_principals(&action, &resource, &ty, context)
                .map_err(refused)
        }
        QueryKind::Actions {
            files,
            principal,
            resource,
        } => {
            let engine = load_engine(files)?;
            let principal = input::entity_uid_from_str("--principal", principal)?;
            let resource = input::entity_uid_from_str("--resource", resource)?;
            let context = context(files, engine.schema(), None)?;
            engine
                .query_actions(&principal, &resource, context)
                .map_err(refused)
        }
    }
}

pub(super) fn entity_type(what: &str, text: &str) -> Result<EntityType, InputError> {
    EntityType::parse(text.trim())
        .map_err(|e| InputError::Usage(format!("{what}: `{text}` is not an entity type: {e}")))
}

/// The context file, typed by the schema as `action`'s context when both are known.
pub(super) fn context(
    files: &FileArgs,
    schema: Option<&Schema>,
    action: Option<&EntityUid>,
) -> Result<Record, InputError> {
    let Some(path) = &files.context else {
        return Ok(Record::default());
    };
    let text = input::read_file(path)?;
    let name = path.display().to_string();
    match (schema, action) {
        (Some(schema), Some(action)) if schema.action(action).is_some() => {
            input::context_from_str(&name, &text, Some(schema), action)
        }
        _ => {
            // Untyped: any uid serves as the action, as no schema is given.
            let any = EntityUid::new(EntityType::parse("Action").map_err(usage)?, "");
            input::context_from_str(&name, &text, None, action.unwrap_or(&any))
        }
    }
}

fn usage(e: impl std::fmt::Display) -> InputError {
    InputError::Usage(e.to_string())
}

pub(super) fn load_engine(files: &FileArgs) -> Result<Engine, BuildError> {
    let mut policies = input::policies_from_file(&files.policies)?;
    input::rename_from_id_annotations(&mut policies)?;
    if let Some(links) = &files.template_linked {
        input::links_from_file(links, &mut policies)?;
    }
    let schema = files
        .schema
        .as_deref()
        .map(|path| input::schema_from_file_with_format(path, files.schema_format))
        .transpose()?;
    let entities_text = input::read_file(&files.entities)?;
    let mut builder = Engine::builder()
        .policies(policies)
        .entities_json(files.entities.display().to_string(), entities_text)
        .evaluator(files.engine)
        .request_validation(files.request_validation);
    if let Some(schema) = schema {
        builder = builder.schema(schema);
    }
    builder.build()
}
