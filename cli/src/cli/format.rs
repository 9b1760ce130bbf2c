//! `thuja format`: lay out a policy file as `cedar format` does, with the same flags: print the
//! formatted text, or rewrite the file in place (`--write`), or check that it is formatted
//! already (`--check`: exit 0 if so, else print a diff of what formatting changes and exit 1).
//! Malformed policies give the parser's located error and exit 1.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use thuja::input::InputError;
use thuja_compiler::Source;
use thuja_compiler::format::{FormatOptions, format_policies};

use super::exit;

#[derive(Args, Debug)]
pub struct FormatArgs {
    /// The policies file to format (standard input if not given)
    #[arg(short, long = "policies", value_name = "FILE")]
    pub policies: Option<PathBuf>,
    /// The width lines are broken to fit in
    #[arg(short, long, value_name = "UINT", default_value_t = 80)]
    pub line_width: usize,
    /// The indentation of each nested level, in spaces
    #[arg(
        short,
        long,
        value_name = "INT",
        default_value_t = 2,
        allow_negative_numbers = true
    )]
    pub indent_width: isize,
    /// Write the formatted policies back to the --policies file
    #[arg(short, long, group = "action", requires = "policies")]
    pub write: bool,
    /// Check that the policies are formatted: exit 0 if they are, else print a diff of the
    /// changes formatting makes and exit 1
    #[arg(short, long, group = "action")]
    pub check: bool,
}

pub fn run(args: &FormatArgs) -> i32 {
    match format(args) {
        Ok(code) => code,
        Err(e) => {
            super::report(&e);
            exit::FAILURE
        }
    }
}

fn format(args: &FormatArgs) -> Result<i32, InputError> {
    let (name, text) = super::read_input(args.policies.as_deref())?;
    let options = FormatOptions {
        line_width: args.line_width,
        indent_width: args.indent_width,
    };
    let formatted = format_policies(&Source::new(name.as_str(), text.as_str()), options)?;
    if args.check {
        if formatted == text {
            return Ok(exit::SUCCESS);
        }
        print_out(&unified_diff(&name, &text, &formatted));
        return Ok(exit::FAILURE);
    }
    match (&args.policies, args.write) {
        (Some(path), true) => {
            if formatted != text {
                std::fs::write(path, &formatted).map_err(|e| InputError::io(path, e))?;
            }
        }
        _ => print_out(&formatted),
    }
    Ok(exit::SUCCESS)
}

/// Writes to standard output; a reader that went away (`thuja format | head`) is no error.
fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Lines of context around each change in a diff.
const CONTEXT: usize = 3;

/// Past this many line pairs (after the common head and tail), the changed middle shows as one
/// replacement instead of a line-by-line comparison.
const MAX_COMPARED: usize = 4_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Edit {
    Keep,
    Remove,
    Add,
}

/// A unified diff from `before` to `after` (`---`/`+++` headers naming `name`, then `@@` hunks).
fn unified_diff(name: &str, before: &str, after: &str) -> String {
    let old: Vec<&str> = before.split_inclusive('\n').collect();
    let new: Vec<&str> = after.split_inclusive('\n').collect();
    let script = edit_script(&old, &new);
    let mut out = format!("--- {name}\n+++ {name} (formatted)\n");
    // Walk the script, cutting it into hunks of changes with their context.
    let changes: Vec<usize> = script
        .iter()
        .enumerate()
        .filter(|(_, e)| **e != Edit::Keep)
        .map(|(i, _)| i)
        .collect();
    let mut i = 0;
    while i < changes.len() {
        let start = changes[i].saturating_sub(CONTEXT);
        let mut end = changes[i] + 1;
        while i < changes.len() && changes[i] <= end + 2 * CONTEXT {
            end = changes[i] + 1;
            i += 1;
        }
        let end = (end + CONTEXT).min(script.len());
        // Line numbers where the hunk starts in each text.
        let (mut o, mut n) = (0, 0);
        for e in &script[..start] {
            match e {
                Edit::Keep => (o, n) = (o + 1, n + 1),
                Edit::Remove => o += 1,
                Edit::Add => n += 1,
            }
        }
        let hunk = &script[start..end];
        let old_len = hunk.iter().filter(|e| **e != Edit::Add).count();
        let new_len = hunk.iter().filter(|e| **e != Edit::Remove).count();
        out.push_str(&format!(
            "@@ -{},{old_len} +{},{new_len} @@\n",
            o + usize::from(old_len > 0),
            n + usize::from(new_len > 0)
        ));
        for e in hunk {
            let (mark, line) = match e {
                Edit::Keep => {
                    let line = old.get(o).copied().unwrap_or_default();
                    (o, n) = (o + 1, n + 1);
                    (' ', line)
                }
                Edit::Remove => {
                    let line = old.get(o).copied().unwrap_or_default();
                    o += 1;
                    ('-', line)
                }
                Edit::Add => {
                    let line = new.get(n).copied().unwrap_or_default();
                    n += 1;
                    ('+', line)
                }
            };
            out.push(mark);
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
    }
    out
}

/// The edits turning `old` into `new`: the common head and tail kept, the middle compared line
/// by line (longest common subsequence) when it is small enough.
fn edit_script(old: &[&str], new: &[&str]) -> Vec<Edit> {
    let head = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let tail = old[head..]
        .iter()
        .rev()
        .zip(new[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (a, b) = (&old[head..old.len() - tail], &new[head..new.len() - tail]);
    let mut script = vec![Edit::Keep; head];
    if a.len().saturating_mul(b.len()) > MAX_COMPARED {
        script.extend(std::iter::repeat_n(Edit::Remove, a.len()));
        script.extend(std::iter::repeat_n(Edit::Add, b.len()));
    } else {
        // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
        let width = b.len() + 1;
        let mut lcs = vec![0u32; (a.len() + 1) * width];
        for i in (0..a.len()).rev() {
            for j in (0..b.len()).rev() {
                lcs[i * width + j] = if a[i] == b[j] {
                    lcs[(i + 1) * width + j + 1] + 1
                } else {
                    lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            if i < a.len() && j < b.len() && a[i] == b[j] {
                script.push(Edit::Keep);
                (i, j) = (i + 1, j + 1);
            } else if i < a.len()
                && (j == b.len() || lcs[(i + 1) * width + j] >= lcs[i * width + j + 1])
            {
                script.push(Edit::Remove);
                i += 1;
            } else {
                script.push(Edit::Add);
                j += 1;
            }
        }
    }
    script.extend(std::iter::repeat_n(Edit::Keep, tail));
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_changed_lines_with_context() {
        let before = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let after = "a\nb\nc\nD\ne\nf\ng\nh\ni\n";
        assert_eq!(
            unified_diff("p", before, after),
            "--- p\n+++ p (formatted)\n@@ -1,8 +1,9 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n h\n+i\n"
        );
        let far = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
        let changed = "x\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\ny\n";
        let diff = unified_diff("p", far, changed);
        assert!(
            diff.contains("@@ -1,4 +1,4 @@\n-1\n+x\n 2\n 3\n 4\n"),
            "{diff}"
        );
        assert!(
            diff.contains("@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+y\n"),
            "{diff}"
        );
        assert!(unified_diff("p", "a", "a\n").contains("-a\n\\ No newline at end of file\n+a\n"));
    }
}
