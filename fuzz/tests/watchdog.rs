//! `drt --case-timeout`: a case running past the limit ends the run with its seed and stage on
//! stderr, the case written under `--out`, the usual final line (the hang counted as a case and a
//! mismatch) and a failure status. A limit of a microsecond makes any case a hang, so this is
//! quick.

#![allow(clippy::panic)]

use std::process::Command;

#[test]
fn a_case_past_the_limit_ends_the_run_and_is_written() {
    let dir = std::env::temp_dir().join(format!("thuja-drt-watchdog-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let output = Command::new(env!("CARGO_BIN_EXE_drt"))
        .args(["--cases", "200", "--seed", "42", "--jobs", "1"])
        .args(["--case-timeout", "0.000001", "--out"])
        .arg(&dir)
        .output()
        .expect("drt runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("drt: hang: seed "), "{stderr}");
    assert!(stderr.contains(", in stage "), "{stderr}");

    // The final line, in its exact format, counts the hang.
    let last = stdout.lines().last().unwrap_or_default();
    let numbers: Vec<&str> = last
        .strip_prefix("drt: ")
        .and_then(|rest| rest.strip_suffix(" cases/s"))
        .map(|rest| rest.split([' ', ',']).filter(|w| !w.is_empty()).collect())
        .unwrap_or_default();
    match numbers.as_slice() {
        [cases, "cases", mismatches, "mismatches", rate] => {
            let cases: u64 = cases.parse().expect("case count");
            let mismatches: u64 = mismatches.parse().expect("mismatch count");
            assert!(
                cases >= 1 && mismatches >= 1 && mismatches <= cases,
                "{last}"
            );
            assert!(rate.parse::<f64>().is_ok(), "{last}");
        }
        _ => panic!("not the final line: {last:?}\n{stdout}"),
    }

    // The hung case, written unshrunk as a conformance test (or as the raw case) — unless it
    // hung while being generated, when there is no case yet (the seed is on stderr). Which
    // stage the watchdog catches depends on timing.
    if stderr.contains("in stage generate") {
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let written: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        written
            .iter()
            .any(|n| n.ends_with("-hang.json") || n.ends_with("-hang.case.json")),
        "{written:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_limit_must_be_positive() {
    for bad in ["0", "-1", "soon"] {
        let output = Command::new(env!("CARGO_BIN_EXE_drt"))
            .args(["--cases", "1", "--case-timeout", bad])
            .output()
            .expect("drt runs");
        assert_eq!(output.status.code(), Some(2), "--case-timeout {bad}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("--case-timeout"));
    }
}
