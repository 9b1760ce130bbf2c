//! Entity identifiers: a type and an id string, written `Type::"id"`.

use std::fmt;
use std::sync::Arc;

use crate::name::EntityType;

/// A unique entity identifier, e.g. `User::"alice"`. Cheap to clone.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityUid {
    ty: EntityType,
    id: Arc<str>,
}

impl EntityUid {
    pub fn new(ty: EntityType, id: impl Into<Arc<str>>) -> Self {
        EntityUid { ty, id: id.into() }
    }

    pub fn entity_type(&self) -> &EntityType {
        &self.ty
    }

    pub fn id(&self) -> &str {
        &self.id
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
