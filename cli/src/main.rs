//! The `thuja` command-line tool: Cedar's `cedar` CLI, where they overlap, on Thuja's engines.

mod cli;

fn main() {
    std::process::exit(cli::run());
}
