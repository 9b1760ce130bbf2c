//! # thuja-benches
//!
//! Workloads for measuring Thuja against `cedar-policy`, generated in-process and deterministic
//! (seeded): each is a schema, a policy set, an entities file and requests, all as the text and
//! JSON a user would give either engine, so that both parse the same inputs. The criterion suite
//! (`benches/authorize.rs`, run with `cargo bench -p thuja-benches`) times them; differential
//! tests may use them too. This crate depends on no engine.
//!
//! - [`tinytodo`]: a to-do application — 10 policies, about 6,000 entities, team hierarchies.
//! - [`abac`]: 50 attribute-heavy policies — `like`, set operations, optional attributes under
//!   `has`, ip ranges, decimals, datetimes, folders 8 deep.
//! - [`rbac`]: a multi-tenant role store with any number of policies, where each request is
//!   decided by the few policies of its own tenant.
//! - [`saas`]: the stream-mode workload — a multi-tenant document service with thousands of
//!   tenants, users holding several roles, nested folders, owned resources, tenant-wide forbids
//!   with conditions, context booleans and entities of a dozen attributes, shaped by a
//!   different hand than the three above.
//! - [`sharing`]: direct shares of documents and projects to users and teams, plus a few
//!   organisation-wide policies: a second stream shape, to check that figures measured on
//!   [`saas`] are not particular to it.
//! - [`documents`]: resource queries ("which documents may this user read?") over a
//!   multi-tenant document store of any size, for the `query` example.
//!
//! [`by_name`] makes any of them from a short name (`saas-1000`, `rbac-10000`, ...), for the
//! examples (`stream`, `profile_vm`, `write_workload`).

mod abac;
mod documents;
mod rbac;
mod rng;
mod saas;
mod sharing;
mod tinytodo;

pub use abac::abac;
pub use documents::{DOCUMENTS_PER_TENANT, QueryWorkload, documents};
pub use rbac::rbac;
pub use saas::saas;
pub use sharing::sharing;
pub use tinytodo::tinytodo;

/// The workload called `name`, with `requests` requests from `seed`: `tinytodo` and `abac` at
/// the criterion suite's sizes, `rbac-N` (N policies), `saas-N` (N tenants) and `sharing-N`
/// (about N policies). `None` for another name.
pub fn by_name(name: &str, requests: usize, seed: u64) -> Option<Workload> {
    let sized = |prefix: &str| name.strip_prefix(prefix)?.parse::<usize>().ok();
    match name {
        "tinytodo" => Some(tinytodo(4_000, 2_000, 40, requests, seed)),
        "abac" => Some(abac(2_000, 3_000, requests, seed)),
        _ => {
            if let Some(n) = sized("rbac-") {
                Some(rbac(n, requests, seed))
            } else if let Some(n) = sized("saas-") {
                Some(saas(n.max(1), requests, seed))
            } else {
                sized("sharing-").map(|n| sharing(n, requests, seed))
            }
        }
    }
}

/// One request, with uids as `{"type", "id"}` objects and the context as a JSON object.
#[derive(Clone, Debug)]
pub struct RequestJson {
    pub principal: serde_json::Value,
    pub action: serde_json::Value,
    pub resource: serde_json::Value,
    pub context: serde_json::Value,
}

/// A complete workload, as files a user would give either engine.
#[derive(Clone, Debug)]
pub struct Workload {
    pub name: String,
    /// `.cedarschema` text.
    pub schema: String,
    /// Cedar policy text.
    pub policies: String,
    /// Entities JSON (the array format).
    pub entities: String,
    pub requests: Vec<RequestJson>,
}

/// `{"type": ty, "id": id}`.
pub(crate) fn uid(ty: &str, id: impl std::fmt::Display) -> serde_json::Value {
    serde_json::json!({"type": ty, "id": id.to_string()})
}

/// An entity object of the entities JSON format.
pub(crate) fn entity(
    ty: &str,
    id: impl std::fmt::Display,
    attrs: serde_json::Value,
    parents: Vec<serde_json::Value>,
) -> serde_json::Value {
    serde_json::json!({"uid": uid(ty, id), "attrs": attrs, "parents": parents})
}
