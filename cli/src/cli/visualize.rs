//! `thuja visualize`: the entity hierarchy as a Graphviz DOT graph (as `cedar visualize` prints
//! it), and with `--svg FILE` also drawn as SVG by Graphviz's `dot`, when it is installed.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use clap::Args;
use thuja::input::{self, InputError};

use super::exit;

#[derive(Args, Debug)]
pub struct VisualizeArgs {
    /// Entities JSON file
    #[arg(long = "entities", value_name = "FILE")]
    pub entities: PathBuf,
    /// Also draw the graph as SVG into FILE with Graphviz's `dot`
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

pub fn run(args: &VisualizeArgs) -> i32 {
    match visualize(args) {
        Ok(dot) => {
            outln!("{dot}");
            exit::SUCCESS
        }
        Err(e) => {
            super::report(&e);
            exit::FAILURE
        }
    }
}

fn visualize(args: &VisualizeArgs) -> Result<String, InputError> {
    let entities = input::entities_from_file(&args.entities, None)?;
    let dot = thuja_runtime::entity::dot::entities_to_dot(&entities);
    if let Some(svg) = &args.svg {
        draw_svg(&dot, svg)?;
    }
    Ok(dot)
}

/// Runs `dot -Tsvg -o FILE` on the graph.
fn draw_svg(dot: &str, svg: &std::path::Path) -> Result<(), InputError> {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .arg("-o")
        .arg(svg)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            InputError::Usage(format!(
                "--svg needs Graphviz's `dot` on the PATH (install graphviz): {e}"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        std::io::Write::write_all(&mut stdin, dot.as_bytes())
            .map_err(|e| InputError::Usage(format!("cannot send the graph to `dot`: {e}")))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| InputError::Usage(format!("`dot` failed: {e}")))?;
    if !output.status.success() {
        return Err(InputError::Usage(format!(
            "`dot` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}
