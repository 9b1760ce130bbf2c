//! A multi-tenant document service, shaped like the traffic of a gateway rather than like a
//! benchmark: many tenants, each with its own roles, groups, users, nested folders and
//! documents; users holding several roles; resources owned by users; tenant-wide forbids with
//! conditions on entity attributes and on context booleans; entities with about a dozen
//! attributes; long ids (e-mail addresses for users, UUID-like ids for documents). Each tenant's
//! policies are drawn from a dozen shapes, so tenants differ in how many they have and which.
//!
//! Per tenant: 5 roles, 4 groups (nested two levels), 20 users (each with 1–3 roles and 0–2
//! groups), 10 folders (a tree 4 levels deep), 85 documents (in folders), so about 125 entities
//! and 12 policies; plus 3 policies for every tenant. Requests are spread uniformly over the
//! tenants, their users and their resources (documents and folders), with random actions and
//! context, and 2% of them cross tenants (denied by a global forbid).

use std::fmt::Write;

use serde_json::json;

use crate::rng::Rng;
use crate::{RequestJson, Workload, entity, uid};

const SCHEMA: &str = r#"namespace Docs {
  entity Tenant { name: String, plan: String, region: String, seats: Long, ssoRequired: Bool };
  entity Role in [Tenant] { name: String };
  entity Group in [Group, Tenant] { name: String };
  entity User in [Role, Group, Tenant] {
    tenant: Tenant, email: String, name: String, department: String, title: String,
    level: Long, active: Bool, mfaEnrolled: Bool, contractor: Bool, region: String,
    tags: Set<String>, manager?: User,
  };
  entity Folder in [Folder, Tenant] {
    tenant: Tenant, owner: User, name: String, classification: Long, archived: Bool,
    locked: Bool, shared: Bool, depth: Long,
  };
  entity Document in [Folder] {
    tenant: Tenant, owner: User, name: String, kind: String, classification: Long,
    archived: Bool, locked: Bool, public: Bool, size: Long, labels: Set<String>,
    editors: Set<User>, region: String,
  };
  action view, comment, download, edit, share, delete, move appliesTo {
    principal: [User], resource: [Document, Folder],
    context: { mfa: Bool, internal: Bool, readOnly: Bool, hour: Long },
  };
}
"#;

const ROLES: [&str; 5] = ["viewer", "editor", "admin", "auditor", "billing"];
const ACTIONS: [&str; 7] = [
    "view", "comment", "download", "edit", "share", "delete", "move",
];
const DEPARTMENTS: [&str; 6] = ["eng", "sales", "legal", "ops", "support", "finance"];
const REGIONS: [&str; 4] = ["eu", "us", "apac", "latam"];
const LABELS: [&str; 6] = ["draft", "final", "internal", "customer", "hr", "board"];
const KINDS: [&str; 4] = ["doc", "sheet", "slides", "pdf"];

const GROUPS: usize = 4;
const USERS: usize = 20;
const FOLDERS: usize = 10;
const DOCUMENTS: usize = 85;
/// Folder `f`'s parent folder (`None`: the tenant): a tree four levels deep.
const FOLDER_PARENT: [Option<usize>; FOLDERS] = [
    None,
    Some(0),
    Some(0),
    Some(1),
    Some(1),
    Some(2),
    Some(3),
    Some(3),
    Some(6),
    None,
];

/// Policies every tenant shares.
const GLOBAL: &str = r#"forbid (principal, action, resource) unless { principal.tenant == resource.tenant };
forbid (principal, action in [Docs::Action::"edit", Docs::Action::"delete", Docs::Action::"move"], resource)
  when { context.readOnly };
permit (principal in Docs::Role::"support", action == Docs::Action::"view", resource)
  when { context.internal && context.mfa && resource.classification < 2 };
"#;

/// A document id shaped like a UUID, from `rng`.
fn uuid(rng: &mut Rng) -> String {
    let a = rng.next();
    let b = rng.next();
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// One tenant's entity ids, for making its policies and requests.
struct Tenant {
    name: String,
    users: Vec<String>,
    folders: Vec<String>,
    documents: Vec<String>,
}

/// `tenants` tenants (about 125 entities and 12 policies each, plus 3 policies shared by all)
/// and `requests` requests, from `seed`.
pub fn saas(tenants: usize, requests: usize, seed: u64) -> Workload {
    let mut rng = Rng::new(seed);
    let mut text = String::from(GLOBAL);
    let mut entities = vec![entity(
        "Docs::Role",
        "support",
        json!({"name": "support"}),
        vec![],
    )];
    let mut all = Vec::with_capacity(tenants);
    for t in 0..tenants {
        let tenant = tenant(&mut rng, t, &mut entities);
        policies(&mut rng, &tenant, &mut text);
        all.push(tenant);
    }
    let requests = (0..requests)
        .map(|_| {
            let t = &all[rng.below(all.len())];
            let principal = uid("Docs::User", rng.pick(&t.users));
            // 2% of requests reach into another tenant.
            let r = if rng.chance(2) {
                &all[rng.below(all.len())]
            } else {
                t
            };
            let resource = if rng.chance(20) {
                uid("Docs::Folder", rng.pick(&r.folders))
            } else {
                uid("Docs::Document", rng.pick(&r.documents))
            };
            RequestJson {
                principal,
                action: uid("Docs::Action", rng.pick(&ACTIONS)),
                resource,
                context: json!({
                    "mfa": rng.chance(70),
                    "internal": rng.chance(50),
                    "readOnly": rng.chance(5),
                    "hour": rng.below(24),
                }),
            }
        })
        .collect();
    let policies = text.matches(";\n").count();
    Workload {
        name: format!("saas_{policies}"),
        schema: SCHEMA.into(),
        policies: text,
        entities: serde_json::Value::Array(entities).to_string(),
        requests,
    }
}

/// Tenant `t`'s entities, pushed onto `entities`.
fn tenant(rng: &mut Rng, t: usize, entities: &mut Vec<serde_json::Value>) -> Tenant {
    let name = format!("tenant-{t:05}");
    let tenant_uid = || uid("Docs::Tenant", &name);
    entities.push(entity(
        "Docs::Tenant",
        &name,
        json!({
            "name": format!("Tenant {t}"),
            "plan": *rng.pick(&["free", "team", "enterprise"]),
            "region": *rng.pick(&REGIONS),
            "seats": 5 + rng.below(500),
            "ssoRequired": rng.chance(40),
        }),
        vec![],
    ));
    for role in ROLES {
        entities.push(entity(
            "Docs::Role",
            format!("{name}/{role}"),
            json!({"name": role}),
            vec![tenant_uid()],
        ));
    }
    for g in 0..GROUPS {
        // g0 is everyone; g1, g2 in g0; g3 in g1.
        let parents = match g {
            0 => vec![tenant_uid()],
            3 => vec![uid("Docs::Group", format!("{name}/g1"))],
            _ => vec![uid("Docs::Group", format!("{name}/g0"))],
        };
        entities.push(entity(
            "Docs::Group",
            format!("{name}/g{g}"),
            json!({"name": format!("group {g}")}),
            parents,
        ));
    }
    let users: Vec<String> = (0..USERS)
        .map(|u| format!("user{u}.{}@{name}.example.com", rng.below(1000)))
        .collect();
    for (u, id) in users.iter().enumerate() {
        let mut parents = vec![tenant_uid()];
        // Several roles per user: 1 to 3, distinct.
        let mut roles = vec![rng.below(ROLES.len())];
        for _ in 0..rng.below(3) {
            let r = rng.below(ROLES.len());
            if !roles.contains(&r) {
                roles.push(r);
            }
        }
        parents.extend(
            roles
                .iter()
                .map(|&r| uid("Docs::Role", format!("{name}/{}", ROLES[r]))),
        );
        if rng.chance(3) {
            parents.push(uid("Docs::Role", "support"));
        }
        for _ in 0..rng.below(3) {
            parents.push(uid(
                "Docs::Group",
                format!("{name}/g{}", 1 + rng.below(GROUPS - 1)),
            ));
        }
        let mut attrs = json!({
            "tenant": tenant_uid(),
            "email": id,
            "name": format!("User {u} of tenant {t}"),
            "department": *rng.pick(&DEPARTMENTS),
            "title": *rng.pick(&["engineer", "manager", "director", "analyst", "intern"]),
            "level": rng.below(8),
            "active": !rng.chance(5),
            "mfaEnrolled": rng.chance(80),
            "contractor": rng.chance(15),
            "region": *rng.pick(&REGIONS),
            "tags": (0..rng.below(4)).map(|i| format!("tag{}", (i + rng.below(10)) % 10)).collect::<Vec<_>>(),
        });
        if u > 0 && rng.chance(70) {
            attrs["manager"] = uid("Docs::User", &users[rng.below(u)]);
        }
        entities.push(entity("Docs::User", id, attrs, parents));
    }
    let folders: Vec<String> = (0..FOLDERS).map(|f| format!("{name}/folder{f}")).collect();
    for (f, id) in folders.iter().enumerate() {
        let (parent, depth) = match FOLDER_PARENT[f] {
            None => (tenant_uid(), 0),
            Some(p) => (uid("Docs::Folder", &folders[p]), 1 + f / 3),
        };
        entities.push(entity(
            "Docs::Folder",
            id,
            json!({
                "tenant": tenant_uid(),
                "owner": uid("Docs::User", rng.pick(&users)),
                "name": format!("Folder {f}"),
                "classification": rng.below(5),
                "archived": rng.chance(10),
                "locked": rng.chance(5),
                "shared": rng.chance(30),
                "depth": depth,
            }),
            vec![parent],
        ));
    }
    let documents: Vec<String> = (0..DOCUMENTS).map(|_| uuid(rng)).collect();
    for id in &documents {
        let editors: Vec<_> = (0..rng.below(4))
            .map(|_| uid("Docs::User", rng.pick(&users)))
            .collect();
        let labels: Vec<_> = (0..rng.below(3)).map(|_| *rng.pick(&LABELS)).collect();
        entities.push(entity(
            "Docs::Document",
            id,
            json!({
                "tenant": tenant_uid(),
                "owner": uid("Docs::User", rng.pick(&users)),
                "name": format!("Document {id}"),
                "kind": *rng.pick(&KINDS),
                "classification": rng.below(5),
                "archived": rng.chance(10),
                "locked": rng.chance(8),
                "public": rng.chance(10),
                "size": rng.below(1 << 20),
                "labels": labels,
                "editors": editors,
                "region": *rng.pick(&REGIONS),
            }),
            vec![uid("Docs::Folder", rng.pick(&folders))],
        ));
    }
    Tenant {
        name,
        users,
        folders,
        documents,
    }
}

/// Tenant `t`'s policies, appended to `text`: a fixed core and a varying rest.
fn policies(rng: &mut Rng, t: &Tenant, text: &mut String) {
    let tenant = format!(r#"Docs::Tenant::"{}""#, t.name);
    let role = |r: &str| format!(r#"Docs::Role::"{}/{r}""#, t.name);
    let a = |names: &[&str]| {
        let list: Vec<String> = names
            .iter()
            .map(|n| format!(r#"Docs::Action::"{n}""#))
            .collect();
        format!("[{}]", list.join(", "))
    };
    let _ = write!(
        text,
        r#"permit (principal in {viewer}, action in {view}, resource in {tenant});
permit (principal in {editor}, action in {edit}, resource in {tenant}) when {{ !resource.archived }};
permit (principal in {admin}, action, resource in {tenant});
permit (principal, action, resource in {tenant}) when {{ resource.owner == principal }};
permit (principal, action in {edit_doc}, resource is Docs::Document in {tenant})
  when {{ resource.editors.contains(principal) && principal.active }};
forbid (principal, action in {change}, resource in {tenant})
  when {{ resource.locked && !(principal in {admin}) }};
forbid (principal, action, resource in {tenant}) unless {{ principal.active }};
forbid (principal, action in {export}, resource in {tenant})
  when {{ resource.classification >= 3 && !(context.internal && context.mfa) }};
"#,
        viewer = role("viewer"),
        editor = role("editor"),
        admin = role("admin"),
        view = a(&["view", "download"]),
        edit = a(&["view", "comment", "download", "edit", "move"]),
        edit_doc = a(&["view", "comment", "edit"]),
        change = a(&["edit", "delete", "move", "share"]),
        export = a(&["download", "share"]),
    );
    if rng.chance(60) {
        let _ = writeln!(
            text,
            r#"permit (principal in {}, action == Docs::Action::"view", resource in {tenant}) when {{ context.internal }};"#,
            role("auditor"),
        );
    }
    // Grants of folders to groups: one to three.
    for _ in 0..1 + rng.below(3) {
        let _ = writeln!(
            text,
            r#"permit (principal in Docs::Group::"{}/g{}", action in {}, resource in Docs::Folder::"{}");"#,
            t.name,
            rng.below(GROUPS),
            a(&["view", "comment"]),
            rng.pick(&t.folders),
        );
    }
    if rng.chance(50) {
        let _ = writeln!(
            text,
            r#"forbid (principal, action in {}, resource in {tenant}) when {{ principal.contractor && resource.classification >= 2 }};"#,
            a(&["share", "download"]),
        );
    }
    if rng.chance(40) {
        let _ = writeln!(
            text,
            r#"forbid (principal, action == Docs::Action::"delete", resource in {tenant}) unless {{ context.mfa && principal.level >= 3 }};"#,
        );
    }
    if rng.chance(30) {
        let _ = writeln!(
            text,
            r#"permit (principal in {}, action == Docs::Action::"share", resource in Docs::Folder::"{}") when {{ principal.mfaEnrolled && context.mfa }};"#,
            role("editor"),
            rng.pick(&t.folders),
        );
    }
}
