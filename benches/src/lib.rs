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

mod abac;
mod rbac;
mod rng;
mod tinytodo;

pub use abac::abac;
pub use rbac::rbac;
pub use tinytodo::tinytodo;

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
