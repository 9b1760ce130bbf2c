//! An attribute-heavy policy set: 50 policies (ten shapes, five variants each) that use string
//! patterns, set operations, optional attributes guarded by `has`, ip ranges, decimals,
//! datetimes and durations, over folder and group hierarchies eight levels deep.

use std::fmt::Write;

use serde_json::json;

use crate::rng::Rng;
use crate::{RequestJson, Workload, entity, uid};

const SCHEMA: &str = r#"entity Org;
entity Folder in [Folder, Org];
entity Group in [Group];
entity User in [Group] {
  department: String, level: Long, email: String, skills: Set<String>,
  clearance: decimal, hired: datetime, homeNet?: ipaddr, manager?: User, contractor?: Bool,
};
entity Document in [Folder] {
  owner: User, classification: Long, labels: Set<String>, name: String,
  created: datetime, public?: Bool, minClearance?: decimal,
};
action read, comment, edit, delete, share, archive appliesTo {
  principal: [User], resource: [Document],
  context: { ip: ipaddr, now: datetime, mfa: Bool, risk: decimal, sessionAge: duration, purpose?: String },
};
"#;

const DEPARTMENTS: [&str; 5] = ["eng", "sales", "legal", "ops", "research"];
const LABELS: [&str; 8] = [
    "alpha", "beta", "gamma", "delta", "secret", "public", "draft", "final",
];
const SKILLS: [&str; 6] = ["rust", "cedar", "go", "sql", "law", "design"];
const DOMAINS: [&str; 5] = [
    "example.com",
    "corp.example",
    "eng.example.com",
    "partner.io",
    "x.org",
];
const ACTIONS: [&str; 6] = ["read", "comment", "edit", "delete", "share", "archive"];

/// Folder chains: `CHAINS` roots under the org, each `DEPTH` folders deep.
const CHAINS: usize = 10;
const DEPTH: usize = 8;

fn policies() -> String {
    let mut text = String::new();
    for k in 0..5 {
        let (dept, label, domain) = (DEPARTMENTS[k], LABELS[k], DOMAINS[k]);
        let _ = writeln!(
            text,
            r#"permit (principal, action == Action::"read", resource in Folder::"f{k}-0")
  when {{ principal.department == "{dept}" && principal.level >= resource.classification }};
permit (principal, action in [Action::"read", Action::"comment"], resource)
  when {{ resource.labels.containsAny(principal.skills) && resource.labels.contains("{label}") }};
permit (principal, action == Action::"edit", resource in Folder::"f{k}-3")
  when {{ principal.email like "*@{domain}" && context.mfa }};
permit (principal in Group::"g{k}-2", action == Action::"share", resource)
  when {{ principal has manager && resource.owner == principal.manager && principal.level > {k} }};
forbid (principal, action, resource in Folder::"f{k}-5")
  when {{ context.risk.greaterThan(decimal("0.{risk}")) }};
permit (principal, action == Action::"read", resource)
  when {{ resource has public && resource.public && context.ip.isInRange(ip("10.{k}.0.0/16")) }};
forbid (principal in Group::"g{k}-0", action in [Action::"edit", Action::"delete"], resource)
  when {{ principal has contractor && principal.contractor && !context.ip.isInRange(ip("10.0.0.0/8")) }};
permit (principal, action == Action::"archive", resource in Folder::"f{k}-1")
  when {{ context.now > resource.created.offset(duration("{days}d")) && principal.clearance.greaterThanOrEqual(decimal("{k}.5")) }};
permit (principal, action == Action::"delete", resource)
  when {{ resource.owner == principal && context.sessionAge < duration("{hours}h") && principal.skills.containsAll(["{skill}", "cedar"]) }};
forbid (principal, action, resource)
  when {{ resource has minClearance && principal.clearance.lessThan(resource.minClearance) && resource.labels.containsAll(["{label}", "secret"]) }};"#,
            risk = 9 - k,
            days = 30 * (k + 1),
            hours = k + 1,
            skill = SKILLS[k],
        );
    }
    text
}

/// `users` users and `documents` documents, and `requests` requests, from `seed`.
pub fn abac(users: usize, documents: usize, requests: usize, seed: u64) -> Workload {
    let mut rng = Rng::new(seed);
    let mut entities = vec![entity("Org", "org", json!({}), vec![])];
    for c in 0..CHAINS {
        for d in 0..DEPTH {
            let parent = if d == 0 {
                uid("Org", "org")
            } else {
                uid("Folder", format!("f{c}-{}", d - 1))
            };
            entities.push(entity(
                "Folder",
                format!("f{c}-{d}"),
                json!({}),
                vec![parent],
            ));
            let parents = if d == 0 {
                vec![]
            } else {
                vec![uid("Group", format!("g{c}-{}", d - 1))]
            };
            entities.push(entity("Group", format!("g{c}-{d}"), json!({}), parents));
        }
    }
    let labels = |rng: &mut Rng| -> Vec<&str> {
        (0..1 + rng.below(3)).map(|_| *rng.pick(&LABELS)).collect()
    };
    let date = |rng: &mut Rng| {
        format!(
            "202{}-0{}-1{}",
            rng.below(5),
            1 + rng.below(9),
            rng.below(10)
        )
    };
    for u in 0..users {
        let mut attrs = json!({
            "department": rng.pick(&DEPARTMENTS),
            "level": rng.below(8),
            "email": format!("user{u}@{}", rng.pick(&DOMAINS)),
            "skills": (0..1 + rng.below(3)).map(|_| *rng.pick(&SKILLS)).collect::<Vec<_>>(),
            "clearance": format!("{}.{}", rng.below(6), rng.below(10)),
            "hired": date(&mut rng),
        });
        if rng.chance(30) {
            attrs["homeNet"] = json!(format!("10.{}.0.0/16", rng.below(8)));
        }
        if u > 0 && rng.chance(70) {
            attrs["manager"] = uid("User", format!("user{}", rng.below(u)));
        }
        if rng.chance(20) {
            attrs["contractor"] = json!(rng.chance(50));
        }
        let group = uid(
            "Group",
            format!("g{}-{}", rng.below(CHAINS), rng.below(DEPTH)),
        );
        entities.push(entity("User", format!("user{u}"), attrs, vec![group]));
    }
    for d in 0..documents {
        let mut attrs = json!({
            "owner": uid("User", format!("user{}", rng.below(users))),
            "classification": rng.below(8),
            "labels": labels(&mut rng),
            "name": format!("doc {d}"),
            "created": date(&mut rng),
        });
        if rng.chance(30) {
            attrs["public"] = json!(rng.chance(50));
        }
        if rng.chance(20) {
            attrs["minClearance"] = json!(format!("{}.0", rng.below(6)));
        }
        let folder = uid(
            "Folder",
            format!("f{}-{}", rng.below(CHAINS), rng.below(DEPTH)),
        );
        entities.push(entity("Document", format!("doc{d}"), attrs, vec![folder]));
    }
    let requests = (0..requests)
        .map(|_| {
            let mut context = json!({
                "ip": format!("10.{}.{}.1", rng.below(8), rng.below(256)),
                "now": format!("2025-0{}-01T12:00:00Z", 1 + rng.below(9)),
                "mfa": rng.chance(60),
                "risk": format!("0.{}", rng.below(10)),
                "sessionAge": format!("{}m", rng.below(400)),
            });
            if rng.chance(30) {
                context["purpose"] = json!("audit");
            }
            RequestJson {
                principal: uid("User", format!("user{}", rng.below(users))),
                action: uid("Action", rng.pick(&ACTIONS)),
                resource: uid("Document", format!("doc{}", rng.below(documents))),
                context,
            }
        })
        .collect();
    Workload {
        name: "abac".into(),
        schema: SCHEMA.into(),
        policies: policies(),
        entities: serde_json::Value::Array(entities).to_string(),
        requests,
    }
}
