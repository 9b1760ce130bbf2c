//! Limits on the JSON documents read from callers that may be hostile: requests, contexts and
//! entities (a server takes them off the network). Each is checked while the document is read,
//! and going past one is an error that names the limit, never a crash or an unbounded cost.
//!
//! The limits are far above what an application's data needs: the readers accept and reject
//! what `cedar-policy` does up to them. Inside them, reading costs time and memory linear in the
//! document (objects with many keys included), and so does closing an entity hierarchy
//! ([`max_ancestor_links`]).

/// How deeply arrays and objects may nest in a document (requests, contexts, entities,
/// values): `serde_json`'s recursion limit, kept on, so that reading never recurses deeper.
pub const MAX_JSON_DEPTH: usize = 128;

/// The longest request, context or value document, in bytes.
pub const MAX_CONTEXT_BYTES: usize = 16 << 20;

/// The longest entities document, in bytes.
pub const MAX_ENTITIES_BYTES: usize = 1 << 30;

/// The most entities one entities document may hold.
pub const MAX_ENTITIES: usize = 10_000_000;

/// How many (entity, ancestor) pairs an entity hierarchy may have once closed, on average per
/// entity of the document, beyond [`MIN_ANCESTOR_LINKS`]: the store keeps every entity's
/// transitive ancestors, so a chain of `n` entities, each the parent of the next, has `n²/2`
/// of them (a chain of 100,000 entities, 5 * 10^9). Bounded so, closing a hierarchy takes
/// memory proportional to the document. The hierarchy is measured before it is closed
/// ([`check_closure`](crate::hierarchy::check_closure)).
pub const ANCESTOR_LINKS_PER_ENTITY: usize = 100;

/// How many (entity, ancestor) pairs any entity hierarchy may have once closed (about 60 MB
/// of ancestors), however few its entities.
pub const MIN_ANCESTOR_LINKS: usize = 1_000_000;

/// The most (entity, ancestor) pairs the hierarchy of a document of `entities` entities may
/// have once closed.
pub fn max_ancestor_links(entities: usize) -> usize {
    MIN_ANCESTOR_LINKS.saturating_add(ANCESTOR_LINKS_PER_ENTITY.saturating_mul(entities))
}

/// An error for a document of `len` bytes when `max` are allowed.
pub(crate) fn too_long(what: &str, len: usize, max: usize, name: &str) -> super::JsonError {
    super::JsonError::new(format!(
        "the {what} is {len} bytes long, more than the {max} allowed ({name})"
    ))
}
