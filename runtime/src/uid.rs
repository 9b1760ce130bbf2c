//! Entity identifiers: a type and an id string, written `Type::"id"`.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::LazyLock;

use smol_str::SmolStr;

use crate::name::EntityType;

/// A unique entity identifier, e.g. `User::"alice"`. Cheap to clone.
///
/// It carries its hash, computed once when it is made (with a seed chosen per process, so
/// collisions cannot be planned): hashing a uid, which every entity lookup does, writes one
/// number, and unequal uids are told apart by it before their strings are compared.
#[derive(Clone)]
pub struct EntityUid {
    ty: EntityType,
    /// Inline when short (up to 23 bytes), shared on the heap otherwise.
    id: SmolStr,
    hash: u64,
}

/// The per-process hasher of uids.
static UID_HASHER: LazyLock<foldhash::fast::RandomState> =
    LazyLock::new(foldhash::fast::RandomState::default);

impl EntityUid {
    pub fn new(ty: EntityType, id: impl Into<SmolStr>) -> Self {
        let id: SmolStr = id.into();
        let hash = UID_HASHER.hash_one((ty.as_str(), &*id));
        EntityUid { ty, id, hash }
    }

    pub fn entity_type(&self) -> &EntityType {
        &self.ty
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The hash computed when the uid was made (seeded per process): equal uids have equal
    /// hashes. Tables of uids use it instead of hashing again.
    pub fn precomputed_hash(&self) -> u64 {
        self.hash
    }

    pub fn is_action(&self) -> bool {
        self.ty.is_action()
    }
}

/// Writes `s` as a Cedar string literal body, escaping what the policy syntax requires.
pub fn write_escaped(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\0' => f.write_str("\\0")?,
            c if c.is_control() => write!(f, "\\u{{{:x}}}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    Ok(())
}

impl PartialEq for EntityUid {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.ty == other.ty && self.id == other.id
    }
}

impl Eq for EntityUid {}

impl Hash for EntityUid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// By type, then id (the hash plays no part).
impl Ord for EntityUid {
    fn cmp(&self, other: &Self) -> Ordering {
        (&self.ty, &self.id).cmp(&(&other.ty, &other.id))
    }
}

impl PartialOrd for EntityUid {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for EntityUid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::\"", self.ty)?;
        write_escaped(f, &self.id)?;
        f.write_str("\"")
    }
}

impl fmt::Debug for EntityUid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_with_escapes() {
        let uid = EntityUid::new(EntityType::parse("A::B").unwrap(), "x\"y\n");
        assert_eq!(uid.to_string(), r#"A::B::"x\"y\n""#);
        assert_eq!(uid.entity_type().as_str(), "A::B");
        assert_eq!(uid.id(), "x\"y\n");
    }
}
