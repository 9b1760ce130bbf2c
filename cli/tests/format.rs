//! `thuja format` against Cedar's own formatter (`cedar-policy-formatter`, a dev-dependency
//! only): byte-for-byte the same text on every policy file of Cedar's conformance data, at three
//! line widths and two indentations, and an error wherever Cedar's formatter gives one. Then
//! what the output must be on its own (idempotent, the same policies), comments in awkward
//! places, deep input, and the command line (`--check`, `--write`, standard input, errors).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use cedar_policy_formatter::{Config, policies_str_to_pretty};
use thuja_compiler::Source;
use thuja_compiler::format::{FormatOptions, format_policies};

/// The line widths and indentations every file is formatted at.
const WIDTHS: [usize; 3] = [80, 40, 120];
const INDENTS: [isize; 2] = [2, 4];

fn thuja_format(text: &str, line_width: usize, indent_width: isize) -> Result<String, String> {
    format_policies(
        &Source::new("p.cedar", text),
        FormatOptions {
            line_width,
            indent_width,
        },
    )
    .map_err(|e| e.render())
}

fn cedar_format(text: &str, line_width: usize, indent_width: isize) -> Result<String, String> {
    policies_str_to_pretty(
        text,
        &Config {
            line_width,
            indent_width,
        },
    )
    .map_err(|e| format!("{e:?}"))
}

/// Cedar's conformance data: `../shared/cedar-conformance` next to the checkout, or
/// `$THUJA_CONFORMANCE_DIR`; `None` (with a message) when absent.
fn conformance_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("THUJA_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/cedar-conformance"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: Cedar conformance data not found at {} (set THUJA_CONFORMANCE_DIR)",
            dir.display()
        );
        None
    }
}

/// Every `*.cedar` file under the conformance data, read in place: the files in its
/// directories, and those inside its corpus archive (named `archive/path`).
fn policy_files(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "cedar") {
                let text = std::fs::read_to_string(&path).expect("readable policy file");
                files.insert(path.display().to_string(), text);
            } else if path.to_string_lossy().ends_with(".tar.gz") {
                let file = std::fs::File::open(&path).expect("readable archive");
                let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
                for entry in tar.entries().expect("readable archive") {
                    let mut entry = entry.expect("readable entry");
                    let name = entry.path().map(|p| p.to_string_lossy().into_owned());
                    let Ok(name) = name else { continue };
                    if !name.ends_with(".cedar") {
                        continue;
                    }
                    let mut text = String::new();
                    entry.read_to_string(&mut text).expect("UTF-8 policy file");
                    files.insert(format!("{}/{}", path.display(), name), text);
                }
            }
        }
    }
    files
}

#[test]
fn every_conformance_policy_file_formats_as_cedar_does() {
    let Some(dir) = conformance_dir() else {
        return;
    };
    let files = policy_files(&dir);
    assert!(files.len() > 20, "found only {} policy files", files.len());
    let mut mismatches = Vec::new();
    for &width in &WIDTHS {
        for &indent in &INDENTS {
            let (mut same, mut both_fail) = (0, 0);
            for (name, text) in &files {
                let cedar = cedar_format(text, width, indent);
                let thuja = thuja_format(text, width, indent);
                match (&cedar, &thuja) {
                    (Ok(c), Ok(t)) if c == t => same += 1,
                    (Err(_), Err(_)) => both_fail += 1,
                    _ => mismatches.push(format!(
                        "{name} (width {width}, indent {indent}):\n--- cedar\n{}\n--- thuja\n{}",
                        cedar.unwrap_or_else(|e| format!("error: {e}")),
                        thuja.unwrap_or_else(|e| format!("error: {e}")),
                    )),
                }
            }
            eprintln!(
                "width {width}, indent {indent}: {} files, {same} formatted identically, {both_fail} rejected by both",
                files.len()
            );
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches; the first ones:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

/// `text` with `insert(i)` put before its token `i` (and at the end, for `i` = the number of
/// tokens).
fn interleave(text: &str, insert: impl Fn(usize) -> String) -> String {
    let tokens = thuja_compiler::lexer::tokenize(text).expect("lexes");
    let mut out = String::new();
    let mut at = 0;
    for (i, t) in tokens.iter().enumerate() {
        out.push_str(&text[at..t.span.start]);
        out.push_str(&insert(i));
        out.push_str(&text[t.span.start..t.span.end]);
        at = t.span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The conformance files with comments and line breaks between their tokens: a comment after
/// every token, one on its own line before every token, and a pseudo-random mix. Each comment
/// is placed as Cedar's formatter places it, since every comment of such a file competes with
/// others for the tokens it can hang off. Formatting the output again agrees with Cedar too
/// (with a comment before every token, neither formatter's output is always a fixed point).
#[test]
fn comments_between_any_tokens_go_where_cedar_puts_them() {
    let Some(dir) = conformance_dir() else {
        return;
    };
    let files = policy_files(&dir);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut compared, mut formatted, mut not_fixed, mut mismatches) = (0, 0, 0, Vec::new());
    for (name, text) in &files {
        let picks: Vec<u64> = (0..=text.len()).map(|_| random()).collect();
        let variants = [
            interleave(text, |i| format!(" // t{i}\n")),
            interleave(text, |i| format!("\n  // l{i}\n")),
            interleave(text, |i| match picks.get(i).map_or(0, |p| p % 7) {
                0 => format!(" // a{i}\n"),
                1 => format!("\n// b{i}\n\n// c{i}  \n"),
                2 => "\n".to_string(),
                _ => String::new(),
            }),
        ];
        for (v, variant) in variants.iter().enumerate() {
            for &(width, indent) in &[(80, 2), (40, 4), (120, 2)] {
                compared += 1;
                let cedar = cedar_format(variant, width, indent);
                let thuja = thuja_format(variant, width, indent);
                match (&cedar, &thuja) {
                    (Ok(c), Ok(t)) if c == t => {
                        formatted += 1;
                        // Formatting such text again may move comments again (Cedar's formatter
                        // is not idempotent on it either); the second pass agrees too.
                        let again = thuja_format(t, width, indent);
                        if again.as_ref() != Ok(t) {
                            not_fixed += 1;
                            assert_eq!(again, cedar_format(t, width, indent), "{name}: {t}");
                        }
                    }
                    (Err(_), Err(_)) => {}
                    _ => mismatches.push(format!(
                        "{name} variant {v} (width {width}, indent {indent}):\n{variant}\n--- cedar\n{}\n--- thuja\n{}",
                        cedar.unwrap_or_else(|e| format!("error: {e}")),
                        thuja.unwrap_or_else(|e| format!("error: {e}")),
                    )),
                }
            }
        }
    }
    eprintln!(
        "{compared} commented variants compared, {formatted} formatted identically \
         ({not_fixed} change again when formatted again, as with Cedar), {} differ",
        mismatches.len()
    );
    assert!(formatted * 10 > compared * 9, "most variants format");
    assert!(
        mismatches.is_empty(),
        "{} mismatches; the first ones:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

/// The conformance files with one token dropped or doubled (mostly malformed): Cedar's
/// formatter and `thuja format` fail on the same ones and agree on the rest.
#[test]
fn damaged_files_fail_where_cedar_fails() {
    let Some(dir) = conformance_dir() else {
        return;
    };
    let files = policy_files(&dir);
    let (mut rejected, mut formatted, mut mismatches) = (0, 0, Vec::new());
    for (n, (name, text)) in files.iter().enumerate() {
        let tokens = thuja_compiler::lexer::tokenize(text).expect("lexes");
        if tokens.len() < 2 {
            continue;
        }
        // A token picked by the file's place in the list, spread over the file.
        let t = tokens[(n * 7919) % (tokens.len() - 1)].span;
        for damaged in [
            format!("{}{}", &text[..t.start], &text[t.end..]),
            format!("{}{}", &text[..t.end], &text[t.start..]),
        ] {
            match (cedar_format(&damaged, 80, 2), thuja_format(&damaged, 80, 2)) {
                (Err(_), Err(_)) => rejected += 1,
                (Ok(c), Ok(t)) if c == t => formatted += 1,
                (c, t) => mismatches.push(format!(
                    "{name}:\n{damaged}\n--- cedar\n{c:?}\n--- thuja\n{t:?}"
                )),
            }
        }
    }
    eprintln!(
        "damaged files: {rejected} rejected by both, {formatted} formatted identically, {} differ",
        mismatches.len()
    );
    assert!(rejected > 1000, "most damaged files are malformed");
    assert!(
        mismatches.is_empty(),
        "{} mismatches; the first ones:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

#[test]
fn formatting_is_idempotent_and_keeps_the_policies() {
    let Some(dir) = conformance_dir() else {
        return;
    };
    let files = policy_files(&dir);
    for (name, text) in &files {
        for &width in &WIDTHS {
            let Ok(once) = thuja_format(text, width, 2) else {
                continue;
            };
            let twice = thuja_format(&once, width, 2);
            assert_eq!(twice.as_ref(), Ok(&once), "{name} at width {width}");
            assert_same_policies(name, text, &once);
        }
    }
}

/// The policies of `before` and `after` are the same (spans aside): they print the same.
fn assert_same_policies(name: &str, before: &str, after: &str) {
    let parse = |text: &str| {
        thuja_compiler::parser::parse_policies(Source::new(name, text))
            .expect("parses")
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(parse(before), parse(after), "{name}");
}

/// Both formatters on `text` at every width and indentation: the same text, which keeps every
/// comment of the input. Returns the output at width 80, indent 2.
fn agree(text: &str) -> String {
    for &width in &WIDTHS {
        for &indent in &INDENTS {
            let cedar = cedar_format(text, width, indent).expect("cedar formats it");
            let thuja = thuja_format(text, width, indent).expect("thuja formats it");
            assert_eq!(
                thuja, cedar,
                "width {width}, indent {indent}, input:\n{text}"
            );
            assert_eq!(thuja_format(&thuja, width, indent).as_ref(), Ok(&thuja));
            assert_same_policies("p.cedar", text, &thuja);
        }
    }
    thuja_format(text, 80, 2).expect("formats")
}

fn assert_comments_kept(text: &str, out: &str) {
    for line in text.lines() {
        if let Some(at) = line.find("//") {
            let comment = line[at..].trim();
            assert!(out.contains(comment), "lost `{comment}`:\n{out}");
        }
    }
}

#[test]
fn comments_in_awkward_places_go_where_cedar_puts_them() {
    let cases = [
        // Before and after annotations, between policies, at the end of the file.
        "// file head\n@id(\"a\") // after the annotation\n// before the second\n@other // bare\npermit(principal, action, resource);\n\n// between policies\n\nforbid(principal, action, resource) // after the scope\n;\n// trailing one\n   // trailing two   \n",
        // Inside the scope.
        "permit(\n  principal // who\n  == User::\"alice\", // comma\n  // before action\n  action in [Action::\"a\", // first\n    Action::\"b\"],\n  resource is Photo // type\n  in Album::\"x\"\n);",
        // Inside conditions: operators, operands, braces.
        "permit(principal, action, resource)\nwhen // the keyword\n{ // open\n  // first line\n  context.a && // and\n  context.b || // or\n  !context.c // not\n} // close\nunless { context.d.e.f // dots\n  .containsAny([1, // arg\n  2]) };",
        // Records, sets, if-then-else, has and like, arithmetic.
        "permit(principal, action, resource) when {\n  { a: 1, // one\n    \"b\": [2, 3], // set\n    c: { d: true } } has a && // has\n  (if context.x // cond\n   then 1 + // plus\n     2 * 3 // times\n   else -4) == 1 && principal.name like \"*a*\" // like\n};",
        // Entity uids and names with comments around `::`.
        "permit(principal == Ns:: // ns\n  User::\"a\", action, resource)\nwhen { Ns::Other::\"x\" in // in\n  resource && ip(\"1.2.3.4\").isIpv4() };",
        // Templates, comments on their own lines in a condition, long lines.
        "permit(principal == ?principal, action, resource in ?resource) when { true } unless { // open\n // alone\n false\n // before the brace\n};",
        "permit(principal, action, resource) when { context.aaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbb.contains(\"cccccccccccccccccccccccccccccccc\") && [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20].containsAll([1]) };",
        // A file of comments only, and an empty file.
        "// nothing but\n// comments\n",
        "",
    ];
    for text in cases {
        let out = agree(text);
        assert_comments_kept(text, &out);
    }
    // Where they land, spelled out for two of them.
    assert_eq!(
        agree(cases[0]),
        "// file head\n@id(\"a\") // after the annotation\n// before the second\n@other // bare\npermit (principal, action, resource);\n\n// between policies\nforbid (principal, action, resource) // after the scope\n;\n// trailing one\n// trailing two\n"
    );
    assert_eq!(
        agree("permit(principal,action,resource) when { 1 // one\n + 2 };"),
        "permit (principal, action, resource)\nwhen\n{\n  1 // one\n   +\n  2\n};\n"
    );
}

#[test]
fn where_cedar_formatter_fails_thuja_fails_too() {
    for text in [
        "permit(principal, action);",
        "permit(principal, action, resource) when { 1 < 2 < 3 };",
        "permit(principal, action, resource) when { !!!!!true };",
        "permit(principal, action, resource) when { User::{id: \"a\"} };",
        "permit(principal, action, resource) when { \"unterminated };",
        "permit(principal, action, resource) when {} unless { // empty\n};",
        "permit(principal, action, resource) when { context has if };",
        "permit(principal, action, resource) when { {if: 1}.if == 1 };",
        "permit(principal, action, resource) when { 1 % 2 == 1 };",
    ] {
        assert!(cedar_format(text, 80, 2).is_err(), "{text}");
        let err = thuja_format(text, 80, 2).expect_err(text);
        assert!(err.contains("p.cedar:1:"), "{err}");
    }
}

#[test]
fn deep_and_long_input_formats_in_a_small_stack() {
    let small = std::thread::Builder::new().stack_size(256 * 1024);
    small
        .spawn(|| {
            let deep = format!(
                "permit(principal, action, resource) when {{ {}true{} }};",
                "(".repeat(900),
                ")".repeat(900)
            );
            let out = thuja_format(&deep, 80, 2).expect("deep parentheses format");
            assert_eq!(out.matches('(').count(), 901);
            let long = format!(
                "permit(principal, action, resource) when {{ {} }};",
                vec!["context.a"; 9000].join(" && ")
            );
            let out = thuja_format(&long, 80, 2).expect("a long chain formats");
            let folded = format!(
                "permit(principal, action, resource) when {{ {} }};",
                vec!["true"; 200_000].join(" || ")
            );
            let folded = thuja_format(&folded, 80, 2).expect("a chain of literals formats");
            assert_eq!(folded.lines().count(), 200_000 + 4);
            // `permit (...)`, `when`, `{`, one line per operand, `};`.
            assert_eq!(out.lines().count(), 9000 + 4);
            let too_deep = format!(
                "permit(principal, action, resource) when {{ {}true{} }};",
                "[".repeat(5000),
                "]".repeat(5000)
            );
            assert!(thuja_format(&too_deep, 80, 2).is_err());
        })
        .expect("thread")
        .join()
        .expect("no overflow");
}

// --- The command line ---

fn thuja(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_thuja"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the thuja binary runs");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .expect("write stdin");
    drop(input);
    child.wait_with_output().expect("thuja finishes")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("thuja-format-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

const MESSY: &str = "permit(principal,action,resource)when{context.a&&context.b}; // done\n";
const TIDY: &str =
    "permit (principal, action, resource)\nwhen { context.a && context.b }; // done\n";

#[test]
fn cli_formats_a_file_or_standard_input() {
    let dir = scratch("print");
    let path = dir.join("p.cedar");
    std::fs::write(&path, MESSY).expect("write");
    let p = path.display().to_string();
    let o = thuja(&["format", "-p", &p], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), TIDY);
    let o = thuja(&["format"], Some(MESSY));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), TIDY);
    let o = thuja(&["format", "--line-width", "20", "-i", "4"], Some(MESSY));
    assert_eq!(
        stdout(&o),
        cedar_format(MESSY, 20, 4).expect("cedar formats it")
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        MESSY,
        "untouched"
    );
}

#[test]
fn cli_check_exits_1_with_a_diff_and_0_when_formatted() {
    let dir = scratch("check");
    let messy = dir.join("messy.cedar");
    let tidy = dir.join("tidy.cedar");
    std::fs::write(&messy, MESSY).expect("write");
    std::fs::write(&tidy, TIDY).expect("write");
    let o = thuja(
        &["format", "--check", "-p", &messy.display().to_string()],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let diff = stdout(&o);
    assert!(diff.contains("@@ -1,1 +1,2 @@"), "{diff}");
    assert!(diff.contains(&format!("-{MESSY}")), "{diff}");
    assert!(
        diff.contains("+permit (principal, action, resource)\n+when"),
        "{diff}"
    );
    assert_eq!(
        std::fs::read_to_string(&messy).expect("read"),
        MESSY,
        "untouched"
    );
    let o = thuja(&["format", "-c", "-p", &tidy.display().to_string()], None);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o), "");
    let o = thuja(&["format", "-c"], Some(TIDY));
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn cli_write_rewrites_the_file_in_place() {
    let dir = scratch("write");
    let path = dir.join("p.cedar");
    std::fs::write(&path, MESSY).expect("write");
    let p = path.display().to_string();
    let o = thuja(&["format", "--write", "-p", &p], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), TIDY);
    let o = thuja(&["format", "-c", "-p", &p], None);
    assert_eq!(o.status.code(), Some(0));
    // --write needs a file, and excludes --check.
    assert_eq!(thuja(&["format", "-w"], Some(MESSY)).status.code(), Some(1));
    assert_eq!(
        thuja(&["format", "-w", "-c", "-p", &p], None).status.code(),
        Some(1)
    );
}

#[test]
fn cli_malformed_policies_give_a_located_error() {
    let dir = scratch("bad");
    let path = dir.join("bad.cedar");
    let bad = "permit(principal, action, resource)\nwhen { context.a && };\n";
    std::fs::write(&path, bad).expect("write");
    let p = path.display().to_string();
    for args in [vec!["format", "-p", &p], vec!["format", "-w", "-p", &p]] {
        let o = thuja(&args, None);
        assert_eq!(o.status.code(), Some(1));
        let err = stderr(&o);
        assert!(err.contains(&format!("{p}:2:")), "{err}");
        assert!(err.contains("context.a &&"), "snippet: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(stdout(&o), "");
    }
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        bad,
        "untouched"
    );
    let o = thuja(&["format"], Some("forbid(principal action resource);"));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("<stdin>:1:"), "{}", stderr(&o));
    let o = thuja(&["format", "-p", "/nonexistent/p.cedar"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));
}

#[test]
fn unusual_but_valid_text_formats_as_cedar_does() {
    for text in [
        // CRLF line ends.
        "permit(principal,action,resource)\r\nwhen { context.a // c\r\n && true };\r\n// end\r\n",
        // Lone carriage returns end comments but not lines.
        "permit(principal,action,resource) // c\rwhen { true // d\r && false }; // e\r// f\r",
        // Wide characters count by their display width.
        "permit(principal,action,resource) when { context.a == \"é日本語日本語日本語日本語日本語日本語日本語日本語日本語日本語日本語日本語\" };",
        // Trailing commas.
        "permit(principal,action,resource,) when { [1,2,].contains(1) && {a: 1,}.a == 1 };",
        // A trailing comma's comments go with it (Cedar's formatter drops them).
        "permit(principal,action,resource) when { [1, // c\n 2 // kept\n, // dropped\n].contains(1) };",
        // Repeated signs and negations, leading zeros, the extreme integers.
        "permit(principal,action,resource) when { - - 1 == --1 && !!! ! context.a && 1 - -2 * -3 == 00012 };",
        "forbid(principal,action,resource) when { 9223372036854775807 > -9223372036854775808 };",
        // Extended `has`, `is ... in` in the scope and in conditions, bare annotations.
        "permit(principal,action,resource) when { context has a.b.c && context.a.b has c.d };",
        "@a @b(\"x\") @c(\"y\")\npermit(principal is User in Group::\"g\", action in [Action::\"1\", Action::\"2\"], resource is Photo) when { principal is User && resource is Photo in Album::\"a\" };",
        // Nested conditionals, parentheses.
        "permit(principal,action,resource) when { if context.a then if context.b then 1 else 2 else 3 } unless { (((context.a))) };",
        // `//` and quotes inside strings and comments; blank lines inside a string stay.
        "permit(principal,action,resource) when { \"a\\\"b//c\" like \"*//*\" // x \" y\n && \"\n\n  multi\n\n\" == \"x\" };",
    ] {
        agree(text);
    }
}
