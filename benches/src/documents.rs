//! The resource-query workload (issue #21): "which documents may this user read?" over a
//! multi-tenant document store, sized by the number of documents.
//!
//! Per tenant: 4 roles, 3 groups (`g1`, `g2` in `g0`), 12 users (each with 0–2 roles and 0–2
//! groups, and a clearance), 8 folders (two trees, up to 4 levels deep), and
//! `per_tenant` documents (by default [`DOCUMENTS_PER_TENANT`]), each in a folder and owned by
//! one of the tenant's users. So there are `documents / 50` tenants by default (2,000 for
//! 100,000 documents), and one user reaches only their own tenant's documents.
//!
//! Per tenant, 5–6 policies: viewers read the tenant, editors read and edit what is not
//! archived, admins do anything in it, owners anything on what they own (`resource.owner ==
//! principal`), one or two groups read a folder (`principal.tenant == resource.tenant`), and a
//! tenant-wide forbid of documents classified above the user's clearance. One global forbid
//! refuses crossing tenants. Every permit constrains its principal (a role, group or tenant of
//! the tenant) and its resource (`in` the tenant or a folder), as a multi-tenant application
//! writes them.

use std::fmt::Write;

use serde_json::json;

use crate::rng::Rng;
use crate::{entity, uid};

/// Documents in each tenant, by default.
pub const DOCUMENTS_PER_TENANT: usize = 50;

const SCHEMA: &str = r#"namespace Q {
  entity Tenant { name: String };
  entity Role in [Tenant] { name: String };
  entity Group in [Group, Tenant] { name: String };
  entity User in [Role, Group, Tenant] {
    tenant: Tenant, email: String, clearance: Long, active: Bool,
  };
  entity Folder in [Folder, Tenant] { tenant: Tenant, owner: User, name: String };
  entity Document in [Folder] {
    tenant: Tenant, owner: User, name: String, classification: Long, archived: Bool,
  };
  action read, edit, delete appliesTo {
    principal: [User], resource: [Document, Folder],
  };
}
"#;

const ROLES: [&str; 4] = ["viewer", "editor", "admin", "auditor"];
const GROUPS: usize = 3;
const USERS: usize = 12;
/// Folder `f`'s parent folder (`None`: the tenant): two trees, the first four levels deep.
const FOLDER_PARENT: [Option<usize>; 8] = [
    None,
    Some(0),
    Some(0),
    Some(1),
    Some(3),
    Some(2),
    None,
    Some(6),
];

/// The global policy: no user acts across tenants.
const GLOBAL: &str =
    "forbid (principal, action, resource) unless { principal.tenant == resource.tenant };\n";

/// A resource-query workload: the inputs both engines read, and the queries to ask.
#[derive(Clone, Debug)]
pub struct QueryWorkload {
    /// `.cedarschema` text.
    pub schema: String,
    /// Cedar policy text.
    pub policies: String,
    /// Entities JSON (the array format).
    pub entities: String,
    /// The principals to query for (distinct users, of all tenants), as `{"type", "id"}`.
    pub principals: Vec<serde_json::Value>,
    /// The action queried, as `{"type", "id"}`.
    pub action: serde_json::Value,
    /// The resource type queried.
    pub resource_type: String,
    /// How many entities of `resource_type` there are.
    pub resources: usize,
    pub tenants: usize,
    /// How many policies the text holds.
    pub policy_count: usize,
    /// How many entities the JSON holds (action entities not included).
    pub entity_count: usize,
}

/// About `documents` documents, `per_tenant` in each tenant (rounded up to whole tenants), and
/// `principals` distinct users to query for (at most all of them), from `seed`.
pub fn documents(
    documents: usize,
    per_tenant: usize,
    principals: usize,
    seed: u64,
) -> QueryWorkload {
    let mut rng = Rng::new(seed);
    let per_tenant = per_tenant.max(1);
    let tenants = documents.div_ceil(per_tenant).max(1);
    let mut text = String::from(GLOBAL);
    let mut entities = Vec::with_capacity(tenants * (per_tenant + 28));
    let mut users: Vec<Vec<String>> = Vec::with_capacity(tenants);
    for t in 0..tenants {
        users.push(tenant(&mut rng, t, per_tenant, &mut entities, &mut text));
    }
    let wanted = principals.min(tenants * USERS);
    let mut chosen = std::collections::BTreeSet::new();
    let mut list = Vec::with_capacity(wanted);
    while list.len() < wanted {
        let t = rng.below(tenants);
        let u = rng.below(USERS);
        if chosen.insert((t, u)) {
            list.push(uid("Q::User", &users[t][u]));
        }
    }
    QueryWorkload {
        schema: SCHEMA.into(),
        policy_count: text.matches(";\n").count(),
        policies: text,
        entity_count: entities.len(),
        entities: serde_json::Value::Array(entities).to_string(),
        principals: list,
        action: uid("Q::Action", "read"),
        resource_type: "Q::Document".into(),
        resources: tenants * per_tenant,
        tenants,
    }
}

/// Tenant `t`'s entities, pushed onto `entities`, and its policies, appended to `text`; returns
/// its users' ids.
fn tenant(
    rng: &mut Rng,
    t: usize,
    per_tenant: usize,
    entities: &mut Vec<serde_json::Value>,
    text: &mut String,
) -> Vec<String> {
    let name = format!("t{t:05}");
    let tenant_uid = || uid("Q::Tenant", &name);
    entities.push(entity(
        "Q::Tenant",
        &name,
        json!({"name": format!("Tenant {t}")}),
        vec![],
    ));
    for role in ROLES {
        entities.push(entity(
            "Q::Role",
            format!("{name}/{role}"),
            json!({"name": role}),
            vec![tenant_uid()],
        ));
    }
    for g in 0..GROUPS {
        let parent = match g {
            0 => tenant_uid(),
            _ => uid("Q::Group", format!("{name}/g0")),
        };
        entities.push(entity(
            "Q::Group",
            format!("{name}/g{g}"),
            json!({"name": format!("group {g}")}),
            vec![parent],
        ));
    }
    let users: Vec<String> = (0..USERS)
        .map(|u| format!("u{u}@{name}.example.com"))
        .collect();
    for id in &users {
        let mut parents = vec![tenant_uid()];
        for _ in 0..rng.below(3) {
            let role = uid("Q::Role", format!("{name}/{}", rng.pick(&ROLES)));
            if !parents.contains(&role) {
                parents.push(role);
            }
        }
        for _ in 0..rng.below(3) {
            let group = uid("Q::Group", format!("{name}/g{}", rng.below(GROUPS)));
            if !parents.contains(&group) {
                parents.push(group);
            }
        }
        entities.push(entity(
            "Q::User",
            id,
            json!({
                "tenant": tenant_uid(),
                "email": id,
                "clearance": rng.below(4),
                "active": !rng.chance(5),
            }),
            parents,
        ));
    }
    let folders: Vec<String> = (0..FOLDER_PARENT.len())
        .map(|f| format!("{name}/f{f}"))
        .collect();
    for (id, parent) in folders.iter().zip(FOLDER_PARENT) {
        let parent = match parent {
            None => tenant_uid(),
            Some(p) => uid("Q::Folder", &folders[p]),
        };
        entities.push(entity(
            "Q::Folder",
            id,
            json!({
                "tenant": tenant_uid(),
                "owner": uid("Q::User", rng.pick(&users)),
                "name": id,
            }),
            vec![parent],
        ));
    }
    for d in 0..per_tenant {
        entities.push(entity(
            "Q::Document",
            format!("{name}/d{d:04}-{:08x}", rng.next() >> 32),
            json!({
                "tenant": tenant_uid(),
                "owner": uid("Q::User", rng.pick(&users)),
                "name": format!("Document {d} of tenant {t}"),
                "classification": rng.below(4),
                "archived": rng.chance(10),
            }),
            vec![uid("Q::Folder", rng.pick(&folders))],
        ));
    }
    let role = |r: &str| format!(r#"Q::Role::"{name}/{r}""#);
    let tenant = format!(r#"Q::Tenant::"{name}""#);
    let _ = write!(
        text,
        r#"permit (principal in {viewer}, action == Q::Action::"read", resource in {tenant});
permit (principal in {editor}, action in [Q::Action::"read", Q::Action::"edit"], resource in {tenant})
  when {{ !resource.archived }};
permit (principal in {admin}, action, resource in {tenant});
permit (principal in {tenant}, action, resource in {tenant}) when {{ resource.owner == principal }};
forbid (principal in {tenant}, action, resource in {tenant})
  when {{ resource is Q::Document && resource.classification > principal.clearance }};
"#,
        viewer = role("viewer"),
        editor = role("editor"),
        admin = role("admin"),
    );
    for _ in 0..1 + rng.below(2) {
        let _ = writeln!(
            text,
            r#"permit (principal in Q::Group::"{name}/g{}", action == Q::Action::"read", resource in Q::Folder::"{}") when {{ principal.tenant == resource.tenant && principal.active }};"#,
            rng.below(GROUPS),
            rng.pick(&folders),
        );
    }
    users
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_sized() {
        let a = documents(1_000, DOCUMENTS_PER_TENANT, 30, 7);
        let b = documents(1_000, DOCUMENTS_PER_TENANT, 30, 7);
        assert_eq!(a.policies, b.policies);
        assert_eq!(a.entities, b.entities);
        assert_eq!(a.principals, b.principals);
        assert_eq!(a.tenants, 20);
        assert_eq!(a.resources, 1_000);
        assert_eq!(a.principals.len(), 30);
        let count = a.entities.matches(r#""type":"Q::Document""#).count();
        assert_eq!(count, 1_000);
        let c = documents(1_000, DOCUMENTS_PER_TENANT, 30, 8);
        assert_ne!(a.entities, c.entities);
    }
}
