//! Checking a request against a schema, as Cedar does when a request is built with one.
//!
//! In order: the principal's and the resource's types must be declared (and, for enumerated
//! types, their ids listed); the action must be declared; the principal's and resource's types
//! must be among those the action applies to; entity references in the context must be valid
//! (enumerated ids, declared actions); and the context must have the action's context type.

use crate::name::EntityType;
use crate::request::Request;
use crate::schema::{RecordType, Schema};
use crate::uid::EntityUid;
use crate::value::{Record, Value};

use super::value::{enum_error, typecheck_value, validate_uids_in_value};

/// Why a request does not fit a schema. Messages follow Cedar's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestValidationError {
    #[error("request's action `{0}` is not declared in the schema")]
    UndeclaredAction(EntityUid),
    #[error("principal type `{0}` is not declared in the schema")]
    UndeclaredPrincipalType(EntityType),
    #[error("resource type `{0}` is not declared in the schema")]
    UndeclaredResourceType(EntityType),
    #[error("principal type `{principal_ty}` is not valid for `{action}`")]
    InvalidPrincipalType {
        principal_ty: EntityType,
        action: EntityUid,
    },
    #[error("resource type `{resource_ty}` is not valid for `{action}`")]
    InvalidResourceType {
        resource_ty: EntityType,
        action: EntityUid,
    },
    /// An entity of an enumerated type whose id is not one of the type's.
    #[error("{}", enum_error(.0))]
    InvalidEnumEntity(EntityUid),
    /// The context does not have the action's context type.
    #[error("context `{}` is not valid for `{action}`: {reason}", Value::Record(.context.clone()))]
    InvalidContext {
        context: Record,
        action: EntityUid,
        reason: String,
    },
}

/// Checks `request` against `schema`.
pub fn validate_request(schema: &Schema, request: &Request) -> Result<(), RequestValidationError> {
    check_scope_entity(
        schema,
        request.principal(),
        RequestValidationError::UndeclaredPrincipalType,
    )?;
    check_scope_entity(
        schema,
        request.resource(),
        RequestValidationError::UndeclaredResourceType,
    )?;
    let action = schema
        .action(request.action())
        .ok_or_else(|| RequestValidationError::UndeclaredAction(request.action().clone()))?;
    if !action
        .principals
        .contains(request.principal().entity_type())
    {
        return Err(RequestValidationError::InvalidPrincipalType {
            principal_ty: request.principal().entity_type().clone(),
            action: request.action().clone(),
        });
    }
    if !action.resources.contains(request.resource().entity_type()) {
        return Err(RequestValidationError::InvalidResourceType {
            resource_ty: request.resource().entity_type().clone(),
            action: request.action().clone(),
        });
    }
    let context = Value::Record(request.context().clone());
    check_context_uids(schema, &context)?;
    context_mismatch(request.context(), &action.context).map_or(Ok(()), |reason| {
        Err(RequestValidationError::InvalidContext {
            context: request.context().clone(),
            action: request.action().clone(),
            reason,
        })
    })
}

/// Why a context does not have the record type `rt`, naming the attribute at fault.
fn context_mismatch(context: &Record, rt: &RecordType) -> Option<String> {
    for (name, attr) in &rt.attrs {
        match context.get(name) {
            None if attr.required => {
                return Some(format!("the required attribute `{name}` is missing"));
            }
            None => {}
            Some(v) => {
                if let Err(e) = typecheck_value(v, &attr.ty) {
                    return Some(format!("in attribute `{name}`: {e}"));
                }
            }
        }
    }
    context
        .keys()
        .find(|k| !rt.attrs.contains_key(*k))
        .map(|k| format!("the attribute `{k}` is not declared in the action's context type"))
}

/// A principal or resource: its type must be declared, and an enumerated type's id listed.
fn check_scope_entity(
    schema: &Schema,
    uid: &EntityUid,
    undeclared: fn(EntityType) -> RequestValidationError,
) -> Result<(), RequestValidationError> {
    let Some(def) = schema.entity_type(uid.entity_type()) else {
        return Err(undeclared(uid.entity_type().clone()));
    };
    if let Some(ids) = &def.enum_ids
        && !ids.iter().any(|id| id.as_ref() == uid.id())
    {
        return Err(RequestValidationError::InvalidEnumEntity(uid.clone()));
    }
    Ok(())
}

fn check_context_uids(schema: &Schema, context: &Value) -> Result<(), RequestValidationError> {
    // Find the offending uid to report it with its own error kind.
    fn first_bad(schema: &Schema, v: &Value) -> Option<EntityUid> {
        match v {
            Value::Entity(uid) => validate_uids_in_value(schema, v).err().map(|_| uid.clone()),
            Value::Set(set) => set.iter().find_map(|e| first_bad(schema, e)),
            Value::Record(rec) => rec.iter().find_map(|(_, e)| first_bad(schema, e)),
            _ => None,
        }
    }
    match first_bad(schema, context) {
        None => Ok(()),
        Some(uid) if uid.is_action() && schema.action(&uid).is_none() => {
            Err(RequestValidationError::UndeclaredAction(uid))
        }
        Some(uid) => Err(RequestValidationError::InvalidEnumEntity(uid)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use std::sync::Arc;

    use super::*;
    use crate::schema::{ActionDef, AttrType, EntityTypeDef, SchemaType};

    fn ety(s: &str) -> EntityType {
        EntityType::parse(s).unwrap()
    }

    fn uid(t: &str, id: &str) -> EntityUid {
        EntityUid::new(ety(t), id)
    }

    fn schema() -> Schema {
        let plain = |name: &str| EntityTypeDef {
            name: ety(name),
            member_of: Default::default(),
            attrs: RecordType::default(),
            tags: None,
            enum_ids: None,
        };
        let mut color = plain("Color");
        color.enum_ids = Some(vec![Arc::from("red")]);
        let view = ActionDef {
            uid: uid("Action", "view"),
            member_of: Default::default(),
            principals: [ety("User")].into_iter().collect(),
            resources: [ety("Doc"), ety("Color")].into_iter().collect(),
            context: RecordType {
                attrs: [
                    (
                        Arc::from("n"),
                        AttrType {
                            ty: SchemaType::Long,
                            required: true,
                        },
                    ),
                    (
                        Arc::from("c"),
                        AttrType {
                            ty: SchemaType::Entity(ety("Color")),
                            required: false,
                        },
                    ),
                ]
                .into_iter()
                .collect(),
            },
        };
        Schema {
            stamp: Default::default(),
            entity_types: [plain("User"), plain("Doc"), color]
                .into_iter()
                .map(|d| (d.name.clone(), d))
                .collect(),
            actions: [(view.uid.clone(), view)].into_iter().collect(),
        }
    }

    fn request(p: EntityUid, a: EntityUid, r: EntityUid, ctx: &[(&str, Value)]) -> Request {
        Request::new(
            p,
            a,
            r,
            ctx.iter()
                .map(|(k, v)| (Arc::from(*k), v.clone()))
                .collect::<Record>(),
        )
    }

    #[test]
    fn accepts_a_conforming_request() {
        let s = schema();
        let r = request(
            uid("User", "a"),
            uid("Action", "view"),
            uid("Color", "red"),
            &[
                ("n", Value::Long(1)),
                ("c", Value::Entity(uid("Color", "red"))),
            ],
        );
        assert_eq!(validate_request(&s, &r), Ok(()));
    }

    #[test]
    fn rejects_nonconforming_requests() {
        let s = schema();
        let view = || uid("Action", "view");
        let n = [("n", Value::Long(1))];
        let cases = [
            (
                request(uid("Nope", "a"), view(), uid("Doc", "d"), &n),
                "principal type `Nope` is not declared",
            ),
            (
                request(uid("User", "a"), view(), uid("Nope", "d"), &n),
                "resource type `Nope` is not declared",
            ),
            (
                request(uid("User", "a"), uid("Action", "edit"), uid("Doc", "d"), &n),
                "not declared in the schema",
            ),
            (
                request(uid("Doc", "a"), view(), uid("Doc", "d"), &n),
                "principal type `Doc` is not valid",
            ),
            (
                request(uid("User", "a"), view(), uid("User", "d"), &n),
                "resource type `User` is not valid",
            ),
            (
                request(uid("User", "a"), view(), uid("Color", "blue"), &n),
                "enumerated",
            ),
            (
                request(uid("User", "a"), view(), uid("Doc", "d"), &[]),
                "is not valid for",
            ),
            (
                request(
                    uid("User", "a"),
                    view(),
                    uid("Doc", "d"),
                    &[("n", Value::string("1"))],
                ),
                "is not valid for",
            ),
            (
                request(
                    uid("User", "a"),
                    view(),
                    uid("Doc", "d"),
                    &[("n", Value::Long(1)), ("x", Value::Long(1))],
                ),
                "is not valid for",
            ),
            (
                request(
                    uid("User", "a"),
                    view(),
                    uid("Doc", "d"),
                    &[
                        ("n", Value::Long(1)),
                        ("c", Value::Entity(uid("Color", "blue"))),
                    ],
                ),
                "enumerated",
            ),
        ];
        for (r, expected) in cases {
            let err = validate_request(&s, &r).unwrap_err().to_string();
            assert!(err.contains(expected), "{r:?}: {err}");
        }
    }
}
