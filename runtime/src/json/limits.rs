//! Limits on the JSON documents read from callers that may be hostile: requests, contexts and
//! entities (a server takes them off the network). Each is checked while the document is read,
//! and going past one is an error that names the limit, never a crash or an unbounded cost.
//!
//! The limits are far above what an application's data needs: the readers accept and reject
//! what `cedar-policy` does up to them. Inside them, reading costs time and memory linear in the
//! document (objects with many keys included), and closing an entity hierarchy holds links
//! near-linear in it ([`max_ancestor_links`]).

/// How deeply arrays and objects may nest in a document (requests, contexts, entities,
/// values): `serde_json`'s recursion limit, kept on, so that reading never recurses deeper.
pub const MAX_JSON_DEPTH: usize = 128;

/// The longest request, context or value document, in bytes.
pub const MAX_CONTEXT_BYTES: usize = 16 << 20;

/// The longest entities document, in bytes.
pub const MAX_ENTITIES_BYTES: usize = 1 << 30;

/// The most entities one entities document may hold.
pub const MAX_ENTITIES: usize = 10_000_000;

/// How many (entity, ancestor) links an entity hierarchy may hold once closed, on average per
/// entity, beyond [`MIN_ANCESTOR_LINKS`]. A store lists the ancestors of an entity with a few
/// and labels those of an entity with many in a forest, where it holds a few *heads* (one for
/// an entity of a tree or a chain; see [`hierarchy`](crate::hierarchy)); links are the listed
/// ancestors and the heads. A chain or a tree of any depth holds about one per entity; only a
/// hierarchy whose entities each share ancestors through many paths holds more.
pub const ANCESTOR_LINKS_PER_ENTITY: usize = 100;

/// How many links any entity hierarchy may hold once closed, however few its entities.
pub const MIN_ANCESTOR_LINKS: usize = 1_000_000;

/// The most links the hierarchy of a store of `entities` entities may hold once closed.
pub fn max_ancestor_links(entities: usize) -> usize {
    MIN_ANCESTOR_LINKS.saturating_add(ANCESTOR_LINKS_PER_ENTITY.saturating_mul(entities))
}

/// An error for a document of `len` bytes when `max` are allowed.
pub(crate) fn too_long(what: &str, len: usize, max: usize, name: &str) -> super::JsonError {
    super::JsonError::new(format!(
        "the {what} is {len} bytes long, more than the {max} allowed ({name})"
    ))
}
