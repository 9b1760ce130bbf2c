//! The policy parser accepts and rejects exactly what `cedar-policy` does on near-valid text:
//! every corpus-dev policy file, mutated many ways (one or two edits: a few characters deleted,
//! duplicated or replaced by a token that matters to Cedar's grammar). Skipped with a message when the corpus is absent.

use std::io::Read;
use std::path::PathBuf;

use thuja_compiler::Source;
use thuja_compiler::parser::parse_policies;

fn corpus_policies() -> Option<Vec<String>> {
    let dir = match std::env::var_os("THUJA_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/cedar-conformance"),
    };
    let archive = dir.join("corpus-dev.tar.gz");
    let Ok(file) = std::fs::File::open(&archive) else {
        eprintln!("SKIPPED: no corpus at {}", archive.display());
        return None;
    };
    let mut policies = Vec::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in tar.entries().expect("readable archive") {
        let mut entry = entry.expect("readable entry");
        let is_policy = entry
            .path()
            .is_ok_and(|p| p.extension().is_some_and(|e| e == "cedar"));
        let mut text = String::new();
        if is_policy && entry.read_to_string(&mut text).is_ok() {
            policies.push(text);
        }
    }
    Some(policies)
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

const REPLACEMENTS: &[&str] = &[
    "",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    ".",
    "::",
    ":",
    "\"",
    "\\",
    "*",
    "-",
    "!",
    "&&",
    "||",
    "==",
    "<",
    ">=",
    "in",
    "has",
    "like",
    "is",
    "if",
    "then",
    "else",
    "when",
    "unless",
    "principal",
    "action",
    "resource",
    "context",
    "?principal",
    "?resource",
    "@id(\"x\")",
    "0",
    "9223372036854775808",
    "__cedar",
    "true",
    "ip",
    "decimal",
    "contains",
    "getTag",
    " ",
    "\n",
];

fn mutate(text: &str, rng: &mut Rng) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = rng.below(chars.len());
    let len = 1 + rng.below(3);
    let mut out: String = chars[..at].iter().collect();
    match rng.below(3) {
        0 => out.extend(chars[at..(at + len).min(chars.len())].iter()),
        1 => out.push_str(REPLACEMENTS[rng.below(REPLACEMENTS.len())]),
        _ => {}
    }
    out.extend(chars[(at + len).min(chars.len())..].iter());
    out
}

#[test]
fn mutated_corpus_policies_are_judged_like_cedar() {
    let Some(policies) = corpus_policies() else {
        return;
    };
    assert!(
        policies.len() > 1000,
        "the corpus holds thousands of policies"
    );
    let mut rng = Rng(0x5eed_cafe_f00d_beef);
    let (mut tried, mut accepted) = (0usize, 0usize);
    let mut disagreements = Vec::new();
    for text in &policies {
        for round in 0..40 {
            let mut mutated = mutate(text, &mut rng);
            if round % 2 == 1 {
                mutated = mutate(&mutated, &mut rng);
            }
            let ours = parse_policies(Source::new("mutated.cedar", mutated.as_str())).is_ok();
            let theirs = mutated.parse::<cedar_policy::PolicySet>().is_ok();
            tried += 1;
            accepted += usize::from(theirs);
            if ours != theirs {
                disagreements.push(format!("thuja {ours}, cedar {theirs}:\n{mutated}"));
            }
        }
    }
    eprintln!("{tried} mutated policy files, {accepted} accepted by cedar");
    assert!(accepted * 10 >= tried, "mutations should often stay valid");
    assert!(
        disagreements.is_empty(),
        "{} disagreements, e.g.:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n---\n")
    );
}
