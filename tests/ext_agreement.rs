//! The extension types parse and compute exactly as `cedar-policy` does: for hand-picked edge
//! cases and for systematic one-character mutations of valid strings, each probe expression
//! (`decimal(s).lessThan(...)`, `ip(s).isInRange(...)`, `datetime(s).toTime()...`, ...) must give
//! the same value, or fail, in both.

use std::collections::BTreeMap;

use thuja_compiler::Source;
use thuja_compiler::parser::parse_expr;
use thuja_interp::Evaluator;
use thuja_runtime::{Entities, EntityType, EntityUid, Request, Value};

/// The outcome of a probe, in a form both engines can be reduced to.
fn thuja_eval(text: &str) -> Result<String, ()> {
    let uid = |t: &str| EntityUid::new(EntityType::new_unchecked(t), "x");
    let request = Request::new(uid("P"), uid("Action"), uid("R"), Default::default());
    let entities = Entities::default();
    let expr = parse_expr(Source::new("probe", text)).map_err(|_| ())?;
    match Evaluator::new(&request, &entities, None).eval(&expr) {
        Ok(Value::Bool(b)) => Ok(b.to_string()),
        Ok(Value::Long(n)) => Ok(n.to_string()),
        Ok(other) => Ok(format!("unexpected {other}")),
        Err(_) => Err(()),
    }
}

fn cedar_eval(text: &str) -> Result<String, ()> {
    use cedar_policy::{Context, Entities, EntityUid, EvalResult, Expression, Request};
    let uid = |s: &str| s.parse::<EntityUid>().map_err(|_| ());
    let request = Request::new(
        uid(r#"P::"x""#)?,
        uid(r#"Action::"x""#)?,
        uid(r#"R::"x""#)?,
        Context::empty(),
        None,
    )
    .map_err(|_| ())?;
    let expr: Expression = text.parse().map_err(|_| ())?;
    match cedar_policy::eval_expression(&request, &Entities::empty(), &expr) {
        Ok(EvalResult::Bool(b)) => Ok(b.to_string()),
        Ok(EvalResult::Long(n)) => Ok(n.to_string()),
        Ok(other) => Ok(format!("unexpected {other}")),
        Err(_) => Err(()),
    }
}

/// Each valid string with every single character deleted, duplicated, or replaced by one of
/// the characters that matter to the formats.
fn mutations(valid: &[&str]) -> Vec<String> {
    const ALPHABET: &[char] = &[
        '0', '1', '5', '9', '-', '+', '.', ':', '/', 'T', 'Z', 'd', 'h', 'm', 's', ' ', 'f', 'x',
    ];
    let mut out: Vec<String> = valid.iter().map(|s| s.to_string()).collect();
    for s in valid {
        let chars: Vec<char> = s.chars().collect();
        for i in 0..chars.len() {
            let mut deleted = chars.clone();
            deleted.remove(i);
            out.push(deleted.into_iter().collect());
            let mut doubled = chars.clone();
            doubled.insert(i, chars[i]);
            out.push(doubled.into_iter().collect());
            for &c in ALPHABET {
                let mut replaced = chars.clone();
                replaced[i] = c;
                out.push(replaced.into_iter().collect());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn check(constructor: &str, inputs: &[String], probes: &[&str]) {
    let mut disagreements = BTreeMap::new();
    let mut evaluated = 0;
    for input in inputs {
        let escaped = input.replace('\\', "\\\\").replace('"', "\\\"");
        let value = format!("{constructor}(\"{escaped}\")");
        for probe in probes {
            let text = probe.replace("$", &value);
            let (ours, theirs) = (thuja_eval(&text), cedar_eval(&text));
            evaluated += usize::from(theirs.is_ok());
            if ours != theirs {
                disagreements.insert(text, format!("thuja {ours:?}, cedar {theirs:?}"));
            }
        }
    }
    // The probes must exercise values, not only errors.
    assert!(
        evaluated * 20 >= inputs.len() * probes.len(),
        "only {evaluated} probes produced a value"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements, e.g.:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(20)
            .map(|(k, v)| format!("  {k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn decimal_agrees() {
    let inputs = mutations(&[
        "1.0",
        "-12.3456",
        "922337203685477.5807",
        "-922337203685477.5808",
        "0.0001",
        "00.50",
    ]);
    check(
        "decimal",
        &inputs,
        &[
            "$.lessThan(decimal(\"0.0\"))",
            "$.lessThanOrEqual(decimal(\"1.0\"))",
            "$.greaterThan(decimal(\"-12.3456\"))",
            "$.greaterThanOrEqual(decimal(\"922337203685477.5807\"))",
            "$ == decimal(\"1.0\")",
        ],
    );
}

#[test]
fn ipaddr_agrees() {
    let inputs = mutations(&[
        "10.0.0.1",
        "192.168.1.0/24",
        "127.0.0.1/8",
        "224.1.1.1/4",
        "::1",
        "ffee::/64",
        "ff02::1/8",
        "1:2:3:4:5:6:7:8",
        "::ffff:ff00:1",
    ]);
    check(
        "ip",
        &inputs,
        &[
            "$.isIpv4()",
            "$.isIpv6()",
            "$.isLoopback()",
            "$.isMulticast()",
            "$.isInRange(ip(\"10.0.0.0/8\"))",
            "$.isInRange(ip(\"192.168.0.0/16\"))",
            "$.isInRange(ip(\"::/0\"))",
            "$.isInRange(ip(\"ffee::/16\"))",
            "ip(\"10.0.0.1/32\").isInRange($)",
            "$ == ip(\"10.0.0.1\")",
        ],
    );
}

#[test]
fn datetime_agrees() {
    let inputs = mutations(&[
        "2024-10-15",
        "2024-02-29T23:59:59Z",
        "1969-12-31T23:59:59.999Z",
        "0000-01-01T00:00:00+2359",
        "9999-12-31T23:59:59.999-2359",
        "1970-01-01T00:00:00.001+0130",
    ]);
    check(
        "datetime",
        &inputs,
        &[
            "$.durationSince(datetime(\"1970-01-01\")).toMilliseconds()",
            "$.toTime().toMilliseconds()",
            "$.toDate().durationSince(datetime(\"1970-01-01\")).toMilliseconds()",
            "$.offset(duration(\"-1d\")) < $",
            "$.offset(duration(\"9223372036854775807ms\")) > $",
        ],
    );
}

#[test]
fn duration_agrees() {
    let inputs = mutations(&[
        "1d2h3m4s5ms",
        "-1d",
        "36h",
        "9223372036854775807ms",
        "-9223372036854775808ms",
        "106751991167d",
        "2m5ms",
    ]);
    check(
        "duration",
        &inputs,
        &[
            "$.toMilliseconds()",
            "$.toSeconds()",
            "$.toMinutes()",
            "$.toHours()",
            "$.toDays()",
            "$ < duration(\"1h\")",
            "datetime(\"1970-01-01\").offset($).toTime().toMilliseconds()",
        ],
    );
}
