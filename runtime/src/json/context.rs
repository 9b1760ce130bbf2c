//! A request context in JSON: an object whose keys are the context's attributes.
//!
//! With a schema and the request's action, the context is read as the action's context record
//! type, so entity references and extension values may omit their escapes, required attributes
//! must be present and no undeclared attribute may be; an action the schema does not declare is
//! an error. Without a schema, values are read untyped.
//!
//! As in Cedar, reading does not fully type-check the context: a string where a `Long` is
//! declared, for instance, is read as a string. [`validate_request`](super::validate_request)
//! checks the context against the action's context type (Cedar does so when a request is built
//! with a schema).
//!
//! Cedar reads a context through `serde_json::Value`, so a repeated key is not an error: the last
//! one counts. This reader does the same.

use crate::schema::{Schema, SchemaType};
use crate::uid::EntityUid;
use crate::value::{Record, Value};

use super::JsonError;
use super::tree::{self, Duplicates, Json};
use super::value::{Loc, typed, untyped};

/// Reads a context. `schema` is the schema with the request's action, if the context should be
/// read and checked as that action's context type.
pub fn context_from_json_str(
    src: &str,
    schema: Option<(&Schema, &EntityUid)>,
) -> Result<Record, JsonError> {
    let json = tree::parse(src, Duplicates::LastWins)?;
    context_from_tree(&json, schema)
}

/// Like [`context_from_json_str`], for an already parsed `serde_json::Value`.
pub fn context_from_json_value(
    json: &serde_json::Value,
    schema: Option<(&Schema, &EntityUid)>,
) -> Result<Record, JsonError> {
    context_from_tree(&Json::from_value(json), schema)
}

fn context_from_tree(
    json: &Json,
    schema: Option<(&Schema, &EntityUid)>,
) -> Result<Record, JsonError> {
    let loc = Loc::Context;
    let value = match schema {
        None => untyped(json, &loc)?,
        Some((schema, action)) => {
            let def = schema.action(action).ok_or_else(|| {
                JsonError::new(format!(
                    "action `{action}` does not exist in the supplied schema"
                ))
            })?;
            let ty = SchemaType::Record(def.context.clone());
            typed(json, &ty, &loc)?
        }
    };
    match value {
        Value::Record(record) => Ok(record),
        other => Err(JsonError::new(format!(
            "the context must be a JSON object, but found {}",
            match json {
                Json::Object(_) => format!("`{other}`"),
                _ => json.kind().to_string(),
            }
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use std::sync::Arc;

    use super::*;
    use crate::name::EntityType;
    use crate::schema::{ActionDef, AttrType, RecordType};

    fn ety(s: &str) -> EntityType {
        EntityType::parse(s).unwrap()
    }

    fn schema() -> Schema {
        let action = ActionDef {
            uid: EntityUid::new(ety("Action"), "view"),
            member_of: Default::default(),
            principals: Default::default(),
            resources: Default::default(),
            context: RecordType {
                attrs: [
                    (
                        Arc::from("ip"),
                        AttrType {
                            ty: SchemaType::Ext("ipaddr"),
                            required: false,
                        },
                    ),
                    (
                        Arc::from("who"),
                        AttrType {
                            ty: SchemaType::Entity(ety("User")),
                            required: true,
                        },
                    ),
                    (
                        Arc::from("n"),
                        AttrType {
                            ty: SchemaType::Long,
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
            entity_types: Default::default(),
            actions: [(action.uid.clone(), action)].into_iter().collect(),
        }
    }

    #[test]
    fn reads_untyped_contexts() {
        let ctx = context_from_json_str(
            r#"{"a": 1, "b": {"__entity": {"type": "U", "id": "x"}}}"#,
            None,
        )
        .unwrap();
        assert_eq!(ctx.get("a"), Some(&Value::Long(1)));
        assert_eq!(
            ctx.get("b"),
            Some(&Value::Entity(EntityUid::new(ety("U"), "x")))
        );
        assert!(context_from_json_str("{}", None).unwrap().is_empty());
        for bad in [
            "[]",
            "1",
            "\"x\"",
            r#"{"__entity": {"type": "U", "id": "x"}}"#,
            "null",
        ] {
            assert!(context_from_json_str(bad, None).is_err(), "{bad}");
        }
        // As in Cedar, a repeated key keeps the last value.
        let ctx = context_from_json_str(r#"{"a": 1, "a": 2}"#, None).unwrap();
        assert_eq!(ctx.get("a"), Some(&Value::Long(2)));
    }

    #[test]
    fn reads_typed_contexts() {
        let s = schema();
        let view = EntityUid::new(ety("Action"), "view");
        let ctx = context_from_json_str(
            r#"{"who": {"type": "User", "id": "a"}, "n": 2}"#,
            Some((&s, &view)),
        )
        .unwrap();
        assert_eq!(
            ctx.get("who"),
            Some(&Value::Entity(EntityUid::new(ety("User"), "a")))
        );
        let cases = [
            (r#"{}"#, "`who`"),
            (r#"{"who": {"type": "User", "id": "a"}, "z": 1}"#, "`z`"),
            (r#"[]"#, "type mismatch"),
        ];
        for (src, expected) in cases {
            let err = context_from_json_str(src, Some((&s, &view))).unwrap_err();
            assert!(err.message.contains(expected), "{src}: {err}");
        }
        // Leaf types are checked by request validation, not here (as in Cedar).
        let ctx = context_from_json_str(
            r#"{"who": {"type": "Group", "id": "a"}, "n": "2"}"#,
            Some((&s, &view)),
        )
        .unwrap();
        assert_eq!(ctx.get("n"), Some(&Value::string("2")));
        let err = context_from_json_str("{}", Some((&s, &EntityUid::new(ety("Action"), "nope"))))
            .unwrap_err();
        assert!(err.message.contains("does not exist"), "{err}");
    }

    #[test]
    fn reads_implicit_extension_values_in_context() {
        // Depends on the `ipaddr` parser.
        let s = schema();
        let view = EntityUid::new(ety("Action"), "view");
        let ctx = context_from_json_str(
            r#"{"who": {"type": "User", "id": "a"}, "ip": "10.0.0.1"}"#,
            Some((&s, &view)),
        )
        .unwrap();
        assert!(matches!(ctx.get("ip"), Some(Value::Ext(e)) if e.type_name() == "ipaddr"));
    }
}
