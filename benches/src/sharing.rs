//! Direct grants at scale, shaped unlike [`saas`](crate::saas) and [`rbac`](crate::rbac): one
//! organisation whose policies are mostly individual shares — a user or a team granted some
//! actions on one document or on a whole project — beside a few organisation-wide policies
//! with conditions that apply to every request. Teams nest up to four levels under
//! departments; documents sit in projects (some in two); ids are short and numeric-looking.
//! Half of the requests ask about a share that exists (so that some are allowed), the other
//! half pick a user and a document at random.

use std::fmt::Write;

use serde_json::json;

use crate::rng::Rng;
use crate::{RequestJson, Workload, entity, uid};

const SCHEMA: &str = r#"entity Department { budget: Long };
entity Team in [Team, Department] { size: Long };
entity Employee in [Team] {
  clearance: Long, department: Department, remote: Bool, badge: String, quota: Long,
};
entity Project in [Department] { confidential: Bool, phase: String };
entity Doc in [Project] {
  author: Employee, level: Long, public: Bool, pages: Long, language: String,
};
action read, comment, write, approve appliesTo {
  principal: [Employee], resource: [Doc, Project],
  context: { authenticated: Bool, device: String, mfa: Bool },
};
"#;

const ACTIONS: [&str; 4] = ["read", "comment", "write", "approve"];

/// Organisation-wide policies, applying to every request.
const GLOBAL: &str = r#"forbid (principal, action, resource) unless { context.authenticated };
forbid (principal, action, resource is Doc) when { resource.level > principal.clearance };
permit (principal, action == Action::"read", resource is Doc) when { resource.public };
permit (principal, action, resource is Doc) when { resource.author == principal };
forbid (principal, action == Action::"approve", resource) unless { context.mfa && context.device == "managed" };
"#;

/// About `policies` policies (five of them organisation-wide, the rest shares), with an
/// employee for every two shares, a document for every share and a project for every 50, and
/// `requests` requests, from `seed`.
pub fn sharing(policies: usize, requests: usize, seed: u64) -> Workload {
    let mut rng = Rng::new(seed);
    let shares = policies.saturating_sub(5).max(5);
    let employees = (shares / 2).max(4);
    let documents = shares.max(8);
    let projects = (shares / 50).max(2);
    let departments = (projects / 10).max(1);
    let teams = (employees / 8).max(2);
    let mut entities = Vec::new();
    for d in 0..departments {
        entities.push(entity(
            "Department",
            format!("{d}"),
            json!({"budget": rng.below(1_000_000)}),
            vec![],
        ));
    }
    for t in 0..teams {
        // The first teams of each department are its top level; later ones nest under an
        // earlier team, up to four levels.
        let parent = if t < departments * 2 {
            uid("Department", t % departments)
        } else {
            uid("Team", rng.below(t.min(departments * 2 + t / 4)))
        };
        entities.push(entity(
            "Team",
            format!("{t}"),
            json!({"size": 3 + rng.below(20)}),
            vec![parent],
        ));
    }
    for e in 0..employees {
        let mut parents = vec![uid("Team", rng.below(teams))];
        if rng.chance(20) {
            parents.push(uid("Team", rng.below(teams)));
        }
        entities.push(entity(
            "Employee",
            format!("{e}"),
            json!({
                "clearance": rng.below(5),
                "department": uid("Department", rng.below(departments)),
                "remote": rng.chance(40),
                "badge": format!("B{:06}", rng.below(1_000_000)),
                "quota": rng.below(100),
            }),
            parents,
        ));
    }
    for p in 0..projects {
        entities.push(entity(
            "Project",
            format!("{p}"),
            json!({"confidential": rng.chance(20), "phase": *rng.pick(&["plan", "build", "run"])}),
            vec![uid("Department", rng.below(departments))],
        ));
    }
    for d in 0..documents {
        let mut parents = vec![uid("Project", rng.below(projects))];
        if rng.chance(10) {
            parents.push(uid("Project", rng.below(projects)));
        }
        entities.push(entity(
            "Doc",
            format!("{d}"),
            json!({
                "author": uid("Employee", rng.below(employees)),
                "level": rng.below(5),
                "public": rng.chance(10),
                "pages": 1 + rng.below(300),
                "language": *rng.pick(&["en", "de", "fr", "ja"]),
            }),
            parents,
        ));
    }
    let actions = |rng: &mut Rng| {
        let list: Vec<String> = ACTIONS
            .iter()
            .filter(|_| rng.chance(50))
            .map(|a| format!(r#"Action::"{a}""#))
            .collect();
        if list.is_empty() {
            r#"action == Action::"read""#.to_string()
        } else {
            format!("action in [{}]", list.join(", "))
        }
    };
    let mut text = String::from(GLOBAL);
    // (employee, document) pairs that some share names directly, for the requests.
    let mut granted = Vec::new();
    for _ in 0..shares {
        let kind = rng.below(100);
        let action = actions(&mut rng);
        if kind < 45 {
            let (e, d) = (rng.below(employees), rng.below(documents));
            granted.push((e, d));
            let _ = writeln!(
                text,
                r#"permit (principal == Employee::"{e}", {action}, resource == Doc::"{d}");"#
            );
        } else if kind < 70 {
            let _ = writeln!(
                text,
                r#"permit (principal == Employee::"{}", {action}, resource in Project::"{}");"#,
                rng.below(employees),
                rng.below(projects)
            );
        } else if kind < 95 {
            let _ = writeln!(
                text,
                r#"permit (principal in Team::"{}", action == Action::"read", resource in Project::"{}");"#,
                rng.below(teams),
                rng.below(projects)
            );
        } else {
            let _ = writeln!(
                text,
                r#"permit (principal in Team::"{}", {action}, resource == Doc::"{}") when {{ context.device == "managed" && !principal.remote }};"#,
                rng.below(teams),
                rng.below(documents)
            );
        }
    }
    let requests = (0..requests)
        .map(|_| {
            let (e, d) = if rng.chance(50) && !granted.is_empty() {
                *rng.pick(&granted)
            } else {
                (rng.below(employees), rng.below(documents))
            };
            let resource = if rng.chance(10) {
                uid("Project", rng.below(projects))
            } else {
                uid("Doc", d)
            };
            RequestJson {
                principal: uid("Employee", e),
                action: uid("Action", rng.pick(&ACTIONS)),
                resource,
                context: json!({
                    "authenticated": !rng.chance(3),
                    "device": *rng.pick(&["managed", "byod", "kiosk"]),
                    "mfa": rng.chance(60),
                }),
            }
        })
        .collect();
    Workload {
        name: format!("sharing_{}", shares + 5),
        schema: SCHEMA.into(),
        policies: text,
        entities: serde_json::Value::Array(entities).to_string(),
        requests,
    }
}
