//! Entity type names and identifiers.
//!
//! An entity type is a path of identifiers joined by `::` (`TinyTodo::List`). It is stored as its
//! full text, so equality and hashing are one string comparison; evaluation tiers that need speed
//! intern these further.

use smol_str::SmolStr;
use std::fmt;

/// Words that may not be used as identifiers in names (Cedar's reserved identifiers).
const RESERVED: &[&str] = &[
    "true", "false", "if", "then", "else", "in", "is", "has", "like",
];

/// The namespace Cedar reserves for its own built-in names.
pub const RESERVED_NAMESPACE: &str = "__cedar";

/// Whether `s` matches `[_a-zA-Z][_a-zA-Z0-9]*`.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// The parts of a `::`-separated name, as `s.split("::")` gives them, found by a byte scan
/// (building `split`'s string searcher cost more than the scan on every name of an entities
/// file).
fn name_parts(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.as_bytes().windows(2).position(|w| w == b"::") {
            Some(i) => {
                rest = r.get(i + 2..);
                r.get(..i)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// Whether `s` is one of Cedar's reserved identifiers (`true`, `if`, `in`, ...).
pub fn is_reserved_identifier(s: &str) -> bool {
    RESERVED.contains(&s)
}

/// A fully qualified entity type name, e.g. `TinyTodo::List`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityType(SmolStr);

/// Why a string is not a valid entity type name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("`{0}` is not a valid name: each part must be an identifier ([_a-zA-Z][_a-zA-Z0-9]*)")]
    Invalid(String),
    #[error("`{name}` is not a valid name: `{part}` is a reserved identifier")]
    Reserved { name: String, part: String },
    #[error("`{0}` is not a valid name: the `__cedar` namespace is reserved")]
    ReservedNamespace(String),
}

impl EntityType {
    /// Builds a type name from already-validated text (the parsers check each part).
    pub fn new_unchecked(full: impl Into<SmolStr>) -> Self {
        EntityType(full.into())
    }

    /// Parses a `::`-separated name in its normalized form (no whitespace or comments), as it
    /// appears in the JSON formats.
    pub fn parse(s: &str) -> Result<Self, NameError> {
        for part in name_parts(s) {
            if !is_identifier(part) {
                return Err(NameError::Invalid(s.to_string()));
            }
            if is_reserved_identifier(part) {
                return Err(NameError::Reserved {
                    name: s.to_string(),
                    part: part.to_string(),
                });
            }
        }
        if name_parts(s).next() == Some(RESERVED_NAMESPACE) {
            return Err(NameError::ReservedNamespace(s.to_string()));
        }
        Ok(EntityType(s.into()))
    }

    /// Joins a namespace (possibly empty) and a base name.
    pub fn qualify(namespace: &str, basename: &str) -> Self {
        if namespace.is_empty() {
            EntityType(basename.into())
        } else {
            EntityType(SmolStr::from(format!("{namespace}::{basename}")))
        }
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The last path component (`List` for `TinyTodo::List`).
    pub fn basename(&self) -> &str {
        self.0.rsplit("::").next().unwrap_or(&self.0)
    }

    /// The namespace, empty when the name is unqualified (`TinyTodo` for `TinyTodo::List`).
    pub fn namespace(&self) -> &str {
        match self.0.rfind("::") {
            Some(i) => &self.0[..i],
            None => "",
        }
    }

    /// Action entity types are those whose base name is `Action`.
    pub fn is_action(&self) -> bool {
        // The basename without splitting: `rsplit("::")` builds a string searcher on every call,
        // and this is asked of every uid a policy or a request names.
        let s = self.0.as_str();
        s == "Action" || s.ends_with("::Action")
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_splits_qualified_names() {
        let t = EntityType::parse("TinyTodo::List").unwrap();
        assert_eq!(t.basename(), "List");
        assert_eq!(t.namespace(), "TinyTodo");
        assert!(!t.is_action());
        assert!(EntityType::parse("A::Action").unwrap().is_action());
        assert!(EntityType::parse("Action").unwrap().is_action());
        for other in ["MyAction", "A::MyAction", "Action::A", "Actions"] {
            assert!(!EntityType::parse(other).unwrap().is_action(), "{other}");
        }
        assert_eq!(EntityType::parse("User").unwrap().namespace(), "");
    }

    #[test]
    fn rejects_malformed_and_reserved_names() {
        for bad in [
            "",
            "1A",
            "A::",
            "::A",
            "A B",
            "A::if",
            "true",
            "__cedar::X",
            "A:B",
        ] {
            assert!(EntityType::parse(bad).is_err(), "{bad} should be rejected");
        }
        assert!(EntityType::parse("_a1::B_2").is_ok());
    }

    #[test]
    fn name_parts_split_as_split_does() {
        for s in [
            "", "A", "A::B", "A::", "::A", "::", ":::", "A:::B", "A::::B", "A:B", "é::ü::", ":",
        ] {
            let ours: Vec<&str> = name_parts(s).collect();
            let std: Vec<&str> = s.split("::").collect();
            assert_eq!(ours, std, "{s:?}");
        }
    }
}
