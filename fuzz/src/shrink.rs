//! Shrinking a failing case, and writing it as a Cedar integration test.
//!
//! [`shrink`] greedily drops policies, requests, entities, parents, attributes, tags and context
//! fields while the case still fails with a mismatch of the same kind, so that what remains is
//! small enough to read. [`write_conformance`] writes a case in the conformance format
//! (`NAME.json` with `NAME.cedar`, `NAME.cedarschema` and `NAME.entities.json` beside it, paths
//! relative to the output folder) with `cedar-policy`'s answers as the expected ones, so that
//! `thuja conformance --root DIR DIR` replays it.

use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};

use crate::generator::{Case, Mode};
use crate::oracle::{Outcome, check};

/// At most this many candidate cases are checked while shrinking one failure.
const BUDGET: usize = 3000;

/// The smallest variant of `case` found that still fails with a mismatch of kind `kind`.
pub fn shrink(case: &Case, kind: &str) -> Case {
    shrink_by(case, |c| check(c).mismatches.iter().any(|m| m.kind == kind))
}

/// The smallest variant of `case` found for which `fails` still holds (`case` itself when no
/// smaller one does). Each step takes the first smaller candidate that fails, until none does or
/// the budget of checks is spent.
pub fn shrink_by(case: &Case, fails: impl Fn(&Case) -> bool) -> Case {
    let mut best = case.clone();
    let mut budget = BUDGET;
    loop {
        let mut improved = false;
        for candidate in candidates(&best) {
            if budget == 0 {
                return best;
            }
            budget -= 1;
            if fails(&candidate) {
                best = candidate;
                improved = true;
                break;
            }
        }
        if !improved {
            return best;
        }
    }
}

/// Every case one step smaller than `case`, biggest steps first.
fn candidates(case: &Case) -> Vec<Case> {
    let mut out = Vec::new();
    for i in 0..case.policies.len() {
        let mut c = case.clone();
        c.policies.remove(i);
        out.push(c);
    }
    for i in 0..case.requests.len() {
        if case.requests.len() > 1 {
            let mut c = case.clone();
            c.requests.remove(i);
            out.push(c);
        }
    }
    for i in 0..case.entities.len() {
        let mut c = case.clone();
        c.entities.remove(i);
        out.push(c);
    }
    for i in 0..case.entities.len() {
        for field in ["parents", "attrs", "tags"] {
            let len = match &case.entities[i][field] {
                Json::Array(a) => a.len(),
                Json::Object(o) => o.len(),
                _ => 0,
            };
            for k in 0..len {
                let mut c = case.clone();
                match &mut c.entities[i][field] {
                    Json::Array(a) => {
                        a.remove(k);
                    }
                    Json::Object(o) => {
                        if let Some(key) = o.keys().nth(k).cloned() {
                            o.remove(&key);
                        }
                    }
                    _ => {}
                }
                out.push(c);
            }
        }
    }
    for i in 0..case.requests.len() {
        if let Json::Object(o) = &case.requests[i].context {
            for key in o.keys() {
                let mut c = case.clone();
                if let Json::Object(o) = &mut c.requests[i].context {
                    o.remove(key);
                }
                out.push(c);
            }
        }
    }
    // Conditions: drop one `when`/`unless` clause of a policy.
    for i in 0..case.policies.len() {
        let p = &case.policies[i];
        for (start, _) in p
            .match_indices("\nwhen {")
            .chain(p.match_indices("\nunless {"))
        {
            if let Some(end) = p[start..].find(" }").map(|e| start + e + 2) {
                let mut c = case.clone();
                c.policies[i] = format!("{}{}", &p[..start], &p[end..]);
                out.push(c);
            }
        }
    }
    out
}

/// Writes `case` as conformance test `NAME` in `dir`, with `cedar-policy`'s answers expected.
/// Requests that `cedar-policy` rejects are left out (the format has no way to expect that);
/// a schema-less case is written with its schema, requests not validated.
pub fn write_conformance(case: &Case, dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let checked = check(case);
    let cedar = checked
        .cedar
        .unwrap_or_else(|| crate::oracle::cedar_run(case));
    let mut requests = Vec::new();
    for (i, (r, o)) in case.requests.iter().zip(&cedar.requests).enumerate() {
        let Outcome::Decided {
            allow,
            reasons,
            errors,
        } = o
        else {
            continue;
        };
        requests.push(json!({
            "description": format!("drt seed {} request {i}", case.seed),
            "principal": r.principal,
            "action": r.action,
            "resource": r.resource,
            "context": r.context,
            "validateRequest": case.mode == Mode::Schema,
            "decision": if *allow { "allow" } else { "deny" },
            "reason": reasons,
            "errors": errors,
        }));
    }
    let test = json!({
        "policies": format!("{name}.cedar"),
        "entities": format!("{name}.entities.json"),
        "schema": format!("{name}.cedarschema"),
        "shouldValidate": cedar.valid.unwrap_or(false),
        "requests": requests,
    });
    std::fs::write(dir.join(format!("{name}.cedar")), case.policy_text() + "\n")?;
    std::fs::write(dir.join(format!("{name}.cedarschema")), &case.schema)?;
    let entities = serde_json::to_string_pretty(&case.entities_json()).unwrap_or_default();
    std::fs::write(dir.join(format!("{name}.entities.json")), entities + "\n")?;
    let path = dir.join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(&test).unwrap_or_default();
    std::fs::write(&path, text + "\n")?;
    Ok(path)
}
