//! The operators that read the entity store: `in` (and the `in` of `is T in E` and of policy
//! scopes), attribute access (`e.a`, `e["a"]`), `has`, `getTag` and `hasTag`.
//!
//! Shared by every evaluation tier. Each function takes the evaluated operands and the entity
//! store and returns the result or the error Cedar raises. A missing entity is not an error for
//! `in`, `has` or `hasTag` (it has no ancestors, attributes or tags) but is for attribute and tag
//! access.
//!
//! They read entities through an [`EntityLookup`]: the store itself, or a tier's view of it.

use std::sync::Arc;

use crate::entity::{Entity, EntityLookup};
use crate::error::EvalError;
use crate::uid::EntityUid;
use crate::value::{Record, Value, ValueType};

/// Entity-hierarchy membership: `uid` is `ancestor` or one of its (transitive) descendants.
pub fn entity_in(
    entities: &(impl EntityLookup + ?Sized),
    uid: &EntityUid,
    ancestor: &EntityUid,
) -> bool {
    uid == ancestor
        || entities
            .entity(uid)
            .is_some_and(|e| e.is_descendant_of(ancestor))
}

/// `uid in target`, for an entity or a set of entities `target`: `uid` is in the entity, or in
/// some entity of the set.
pub fn is_in(
    entities: &(impl EntityLookup + ?Sized),
    uid: &EntityUid,
    target: &Value,
) -> Result<bool, EvalError> {
    let entity = entities.entity(uid);
    let within =
        |other: &EntityUid| uid == other || entity.is_some_and(|e| e.is_descendant_of(other));
    match target {
        Value::Entity(other) => Ok(within(other)),
        Value::Set(set) => {
            // Every element must be an entity, even after a match.
            let mut found = false;
            for v in set.iter() {
                found |= within(v.as_entity()?);
            }
            Ok(found)
        }
        other => Err(EvalError::Type {
            expected: vec![ValueType::Set, ValueType::Entity],
            actual: other.value_type(),
            advice: None,
        }),
    }
}

/// The `in` operator: `lhs` must be an entity (the error advises `.contains()` or `has` when
/// the right side suggests the author meant them).
pub fn in_operator(
    entities: &(impl EntityLookup + ?Sized),
    lhs: &Value,
    rhs: &Value,
) -> Result<Value, EvalError> {
    let Value::Entity(uid) = lhs else {
        let advice = match rhs {
            Value::Set(_) => Some(
                "`in` is for checking the entity hierarchy; use `.contains()` to test set membership",
            ),
            Value::Record(_) => Some(
                "`in` is for checking the entity hierarchy; use `has` to test if a record has a key",
            ),
            _ => None,
        };
        return Err(EvalError::Type {
            expected: vec![ValueType::Entity],
            actual: lhs.value_type(),
            advice,
        });
    };
    Ok(Value::Bool(is_in(entities, uid, rhs)?))
}

/// `v.attr`: a record's attribute, or an entity's (the entity must exist).
pub fn get_attr(
    entities: &(impl EntityLookup + ?Sized),
    v: &Value,
    attr: &str,
) -> Result<Value, EvalError> {
    attr_of(entities, v, attr).cloned()
}

/// [`get_attr`] without the copy: the attribute where it is stored.
pub fn attr_of<'a>(
    entities: &'a (impl EntityLookup + ?Sized),
    v: &'a Value,
    attr: &str,
) -> Result<&'a Value, EvalError> {
    match v {
        Value::Record(r) => record_attr(r, attr),
        Value::Entity(uid) => entity_attr(entities.entity(uid), uid, attr),
        other => Err(record_or_entity_expected(other)),
    }
}

/// `r.attr` for a record `r`.
pub fn record_attr<'a>(r: &'a Record, attr: &str) -> Result<&'a Value, EvalError> {
    r.get(attr)
        .ok_or_else(|| EvalError::RecordAttrDoesNotExist {
            attr: attr.into(),
            available: r.keys().cloned().collect(),
        })
}

/// `e.attr` for the entity `uid`, which the store holds as `entity` (if it exists): for a
/// tier that has already found the entity.
pub fn entity_attr<'a>(
    entity: Option<&'a Entity>,
    uid: &EntityUid,
    attr: &str,
) -> Result<&'a Value, EvalError> {
    let entity = entity.ok_or_else(|| EvalError::EntityDoesNotExist(uid.clone()))?;
    entity
        .attr(attr)
        .ok_or_else(|| EvalError::EntityAttrDoesNotExist {
            entity: uid.clone(),
            attr: attr.into(),
        })
}

/// Attribute `attr` of a record or an entity if it has one (a missing entity has none): what
/// `has` asks and `.` reads, in one lookup. Anything else is a type error.
pub fn find_attr<'a>(
    entities: &'a (impl EntityLookup + ?Sized),
    v: &'a Value,
    attr: &str,
) -> Result<Option<&'a Value>, EvalError> {
    match v {
        Value::Record(r) => Ok(r.get(attr)),
        Value::Entity(uid) => Ok(entities.entity(uid).and_then(|ent| ent.attr(attr))),
        other => Err(record_or_entity_expected(other)),
    }
}

/// `v has a.b.c`: whether every prefix of the attribute path exists, starting from a record or
/// an entity (a missing entity has no attributes). Each step that exists must again be a record
/// or an entity, else it is a type error.
pub fn has_attrs(
    entities: &(impl EntityLookup + ?Sized),
    v: &Value,
    attrs: &[Arc<str>],
) -> Result<bool, EvalError> {
    let mut current = v;
    for (i, attr) in attrs.iter().enumerate() {
        match find_attr(entities, current, attr)? {
            None => return Ok(false),
            Some(v) if i + 1 < attrs.len() => current = v,
            Some(_) => {}
        }
    }
    Ok(true)
}

/// `e.getTag(t)`: the entity must exist and have the tag.
pub fn get_tag(
    entities: &(impl EntityLookup + ?Sized),
    e: &Value,
    tag: &Value,
) -> Result<Value, EvalError> {
    tag_of(entities, e, tag).cloned()
}

/// [`get_tag`] without the copy: the tag's value where it is stored.
pub fn tag_of<'a>(
    entities: &'a (impl EntityLookup + ?Sized),
    e: &Value,
    tag: &Value,
) -> Result<&'a Value, EvalError> {
    let uid = e.as_entity()?;
    let tag = tag.as_str()?;
    let entity = entities
        .entity(uid)
        .ok_or_else(|| EvalError::EntityDoesNotExist(uid.clone()))?;
    entity.tag(tag).ok_or_else(|| EvalError::TagDoesNotExist {
        entity: uid.clone(),
        tag: tag.into(),
    })
}

/// `e.hasTag(t)`: a missing entity has no tags.
pub fn has_tag(
    entities: &(impl EntityLookup + ?Sized),
    e: &Value,
    tag: &Value,
) -> Result<Value, EvalError> {
    let uid = e.as_entity()?;
    let tag = tag.as_str()?;
    Ok(Value::Bool(
        entities.entity(uid).is_some_and(|e| e.tag(tag).is_some()),
    ))
}

fn record_or_entity_expected(v: &Value) -> EvalError {
    EvalError::Type {
        expected: vec![ValueType::Record, ValueType::Entity],
        actual: v.value_type(),
        advice: None,
    }
}
