//! Command-line arguments and dispatch. Each subcommand lives in its own module; all of them
//! print errors with their location and snippet and return the process exit code.

/// `print!` to standard output that does not panic when standard output is closed (a reader
/// such as `head` that stopped reading): what is left to print is dropped, and the command
/// ends with the exit code it would have had.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `println!` as [`out!`] is `print!`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod authorize;
mod batch;
mod check_parse;
mod compile;
mod conformance;
mod evaluate;
mod format;
mod link;
mod partial;
mod query;
mod request_args;
mod serve;
mod translate_policy;
mod translate_schema;
mod validate;
mod visualize;

use clap::{Parser, Subcommand};

/// Exit codes, as the `cedar` CLI uses them.
pub mod exit {
    pub const SUCCESS: i32 = 0;
    /// Bad input (unreadable or malformed files, invalid request), or a failed check.
    pub const FAILURE: i32 = 1;
    /// `authorize` answered DENY.
    pub const DENY: i32 = 2;
}

#[derive(Parser, Debug)]
#[command(
    name = "thuja",
    version,
    about = "A fast, exact engine for the Cedar policy language"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How errors are reported: `human` (located snippets), `plain` (the same in sentences,
    /// for screen readers) or `json` (one JSON object per error and line), as `cedar`'s
    #[arg(
        global = true,
        short = 'f',
        long = "error-format",
        env = "CEDAR_ERROR_FORMAT",
        value_enum,
        default_value_t = ErrorFormat::Human
    )]
    error_format: ErrorFormat,
}

/// `--error-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ErrorFormat {
    /// Located snippets
    Human,
    /// Plain sentences, without drawing
    Plain,
    /// One JSON object per error
    Json,
}

/// The `--error-format` of this run, set once as it starts.
static ERROR_FORMAT: std::sync::OnceLock<thuja::ReportFormat> = std::sync::OnceLock::new();

/// How this run reports errors.
pub fn error_format() -> thuja::ReportFormat {
    ERROR_FORMAT.get().copied().unwrap_or_default()
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decide a request: prints ALLOW (exit 0) or DENY (exit 2); exit 1 on bad input.
    Authorize(authorize::AuthorizeArgs),
    /// Check that policies, a schema and/or entities parse.
    CheckParse(check_parse::CheckParseArgs),
    /// Compile policies to the VM's bytecode; --listing prints the program.
    Compile(compile::CompileArgs),
    /// Evaluate a Cedar expression in the context of a request.
    Evaluate(evaluate::EvaluateArgs),
    /// Format policies as `cedar format` does (--write: in place; --check: exit 1 and print a
    /// diff when not formatted).
    Format(format::FormatArgs),
    /// Link a template with entities for its slots; with -k, append the link to that file.
    Link(link::LinkArgs),
    /// Print the entity hierarchy as a Graphviz DOT graph (--svg FILE: also draw it with `dot`).
    Visualize(visualize::VisualizeArgs),
    /// List what may be reached: resources a principal may act on, principals that may act on a
    /// resource, actions a principal may perform on a resource (one uid per line).
    Query(query::QueryArgs),
    /// Decide a request whose principal, resource, context or entity data are unknown: ALLOW,
    /// DENY or UNKNOWN (exit 0, 2, 4), and the residual policies that must still hold.
    PartiallyAuthorize(partial::PartialArgs),
    /// Run Cedar integration-test files and compare every decision, reason and error.
    Conformance(conformance::ConformanceArgs),
    /// Translate policies between Cedar's text and its JSON policy format.
    TranslatePolicy(translate_policy::TranslatePolicyArgs),
    /// Serve authorization over HTTP: AuthZEN 1.0, Cedar-native JSON, forward auth for gateways.
    Serve(serve::ServeArgs),
    /// Translate a schema between the .cedarschema and JSON formats.
    TranslateSchema(translate_schema::TranslateSchemaArgs),
    /// Validate policies against a schema (strict mode): exit 0 valid, 3 invalid, 1 bad input.
    Validate(validate::ValidateArgs),
}

/// Parses the command line, runs the command, and returns the exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::FAILURE
            } else {
                exit::SUCCESS
            };
            let _ = e.print();
            return code;
        }
    };
    let _ = ERROR_FORMAT.set(match cli.error_format {
        ErrorFormat::Human => thuja::ReportFormat::Human,
        ErrorFormat::Plain => thuja::ReportFormat::Plain,
        ErrorFormat::Json => thuja::ReportFormat::Json,
    });
    match cli.command {
        Command::Authorize(args) => authorize::run(&args),
        Command::CheckParse(args) => check_parse::run(&args),
        Command::Compile(args) => compile::run(&args),
        Command::Evaluate(args) => evaluate::run(&args),
        Command::Format(args) => format::run(&args),
        Command::Conformance(args) => conformance::run(&args),
        Command::Link(args) => link::run(&args),
        Command::Visualize(args) => visualize::run(&args),
        Command::TranslatePolicy(args) => translate_policy::run(&args),
        Command::Query(args) => query::run(&args),
        Command::PartiallyAuthorize(args) => partial::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::TranslateSchema(args) => translate_schema::run(&args),
        Command::Validate(args) => validate::run(&args),
    }
}

/// The text of `path`, or of standard input when there is none, with the name errors give it.
pub fn read_input(
    path: Option<&std::path::Path>,
) -> Result<(String, String), thuja::input::InputError> {
    match path {
        Some(path) => Ok((path.display().to_string(), thuja::input::read_file(path)?)),
        None => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| thuja::input::InputError::io(std::path::Path::new("<stdin>"), e))?;
            Ok(("<stdin>".to_string(), text))
        }
    }
}

/// Prints an input error to stderr.
pub fn report(err: &thuja::input::InputError) {
    eprint!("{}", err.render_as(error_format()));
}

/// Prints why an engine could not be built to stderr.
pub fn report_build(err: &thuja::BuildError) {
    match err {
        thuja::BuildError::Input(e) => report(e),
        other => report(&thuja::input::InputError::Usage(other.to_string())),
    }
}
