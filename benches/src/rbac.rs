//! A multi-tenant role-based store: every tenant has five roles and ten policies (two per
//! role), its own users (each holding a role) and documents. A request is a user of one tenant
//! acting on a document of the same tenant, so the policies that can apply are that tenant's ten
//! however many tenants there are — the shape where per-request time should not grow with the
//! policy count.

use std::fmt::Write;

use serde_json::json;

use crate::rng::Rng;
use crate::{RequestJson, Workload, entity, uid};

const SCHEMA: &str = r#"entity Tenant;
entity Role;
entity User in [Role] { tenant: Tenant };
entity Document in [Tenant] { owner: User, locked: Bool };
action read, write, delete, share appliesTo { principal: [User], resource: [Document] };
"#;

const ACTIONS: [&str; 4] = ["read", "write", "delete", "share"];

/// A store of `policies` policies (rounded down to a multiple of ten, at least ten), with two
/// users and two documents per tenant, and `requests` requests, from `seed`.
pub fn rbac(policies: usize, requests: usize, seed: u64) -> Workload {
    let tenants = (policies / 10).max(1);
    let mut rng = Rng::new(seed);
    let mut text = String::new();
    let mut entities = Vec::new();
    for t in 0..tenants {
        let tenant = format!("t{t}");
        let role = |r: usize| format!("{tenant}-r{r}");
        // Roles 0..5: viewer, editor, manager, owner, auditor — each with a permit and a
        // narrower permit or forbid.
        let _ = writeln!(
            text,
            r#"permit (principal in Role::"{v}", action == Action::"read", resource in Tenant::"{tenant}");
forbid (principal in Role::"{v}", action == Action::"read", resource in Tenant::"{tenant}") when {{ resource.locked }};
permit (principal in Role::"{e}", action in [Action::"read", Action::"write"], resource in Tenant::"{tenant}");
forbid (principal in Role::"{e}", action == Action::"write", resource in Tenant::"{tenant}") unless {{ principal.tenant == Tenant::"{tenant}" }};
permit (principal in Role::"{m}", action in [Action::"read", Action::"write", Action::"share"], resource in Tenant::"{tenant}");
permit (principal in Role::"{m}", action == Action::"delete", resource in Tenant::"{tenant}") when {{ resource.owner == principal }};
permit (principal in Role::"{o}", action, resource in Tenant::"{tenant}");
forbid (principal in Role::"{o}", action == Action::"delete", resource in Tenant::"{tenant}") when {{ resource.locked }};
permit (principal in Role::"{a}", action == Action::"read", resource in Tenant::"{tenant}");
forbid (principal in Role::"{a}", action in [Action::"write", Action::"delete"], resource in Tenant::"{tenant}");"#,
            v = role(0),
            e = role(1),
            m = role(2),
            o = role(3),
            a = role(4),
        );
        entities.push(entity("Tenant", &tenant, json!({}), vec![]));
        for r in 0..5 {
            entities.push(entity("Role", role(r), json!({}), vec![]));
        }
        for u in 0..2 {
            let parents = vec![uid("Role", role(rng.below(5)))];
            let attrs = json!({"tenant": uid("Tenant", &tenant)});
            entities.push(entity("User", format!("{tenant}-u{u}"), attrs, parents));
        }
        for d in 0..2 {
            let attrs = json!({
                "owner": uid("User", format!("{tenant}-u{}", rng.below(2))),
                "locked": rng.chance(20),
            });
            entities.push(entity(
                "Document",
                format!("{tenant}-d{d}"),
                attrs,
                vec![uid("Tenant", &tenant)],
            ));
        }
    }
    let requests = (0..requests)
        .map(|_| {
            let tenant = rng.below(tenants);
            RequestJson {
                principal: uid("User", format!("t{tenant}-u{}", rng.below(2))),
                action: uid("Action", rng.pick(&ACTIONS)),
                resource: uid("Document", format!("t{tenant}-d{}", rng.below(2))),
                context: json!({}),
            }
        })
        .collect();
    Workload {
        name: format!("rbac_{}", tenants * 10),
        schema: SCHEMA.into(),
        policies: text,
        entities: serde_json::Value::Array(entities).to_string(),
        requests,
    }
}
