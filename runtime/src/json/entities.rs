//! The entities file: a JSON array of entity objects.
//!
//! ```json
//! [{"uid": {"type": "User", "id": "alice"},
//!   "attrs": {"age": 30},
//!   "parents": [{"type": "Group", "id": "admins"}],
//!   "tags": {"level": 3}}]
//! ```
//!
//! As in Cedar 4.x, `uid`, `attrs` and `parents` are required and `tags` is optional; other keys
//! are ignored (and, as serde allows, an entity may be the array `[uid, attrs, parents, tags?]`). `uid` and each parent are entity references, written `{"type", "id"}` or
//! `{"__entity": {"type", "id"}}`. An action's parents must be actions.
//!
//! With a schema, every non-action entity must be of a declared type (and, for an enumerated
//! type, have one of its ids); its attributes and tags are read as their declared types and must
//! conform (required attributes present, no undeclared ones); its parents must be of types it is
//! declared `in`; entity references inside values must be valid too. An action in the data must
//! be declared and match its declaration (no attributes or tags, the same ancestors). The
//! schema's action entities are then added to the store.
//!
//! The document's size, its number of entities and the size of its closed hierarchy are
//! bounded ([`limits`](super::limits)).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use smol_str::SmolStr;

use crate::entity::{Entities, Entity};
use crate::schema::{EntityTypeDef, Schema};
use crate::uid::EntityUid;

use super::JsonError;
use super::limits::{MAX_ENTITIES, MAX_ENTITIES_BYTES, too_long};
use super::tree::{self, Duplicates, Json};
use super::value::{
    Loc, entity_ref, typecheck_value, typed, untyped, validate_uid, validate_uids_in_value,
};

/// Reads an entities file, checking it against `schema` if one is given.
pub fn entities_from_json_str(src: &str, schema: Option<&Schema>) -> Result<Entities, JsonError> {
    if src.len() > MAX_ENTITIES_BYTES {
        return Err(too_long(
            "entities document",
            src.len(),
            MAX_ENTITIES_BYTES,
            "MAX_ENTITIES_BYTES",
        ));
    }
    let json = tree::parse(src, Duplicates::Reject)?;
    entities_from_tree(&json, schema).map_err(|e| {
        if e.line.is_some() {
            return e;
        }
        match e.entity {
            Some(i) => match tree::top_level_element_positions(src).get(i) {
                Some(&position) => e.at(position),
                None => e,
            },
            None if !matches!(json, Json::Array(_)) => e.at(tree::top_level_position(src)),
            None => e,
        }
    })
}

/// Like [`entities_from_json_str`], for an already parsed `serde_json::Value`.
pub fn entities_from_json_value(
    json: &serde_json::Value,
    schema: Option<&Schema>,
) -> Result<Entities, JsonError> {
    entities_from_tree(&Json::from_value(json), schema)
}

/// Reads an entities file as a list of entities, each checked against `schema` if one is given
/// (as [`entities_from_json_str`] checks them), without making a store of them: for adding
/// them to one ([`Entities::update`]). Their ancestors are their parents until then.
pub fn entity_list_from_json_str(
    src: &str,
    schema: Option<&Schema>,
) -> Result<Vec<Entity>, JsonError> {
    if src.len() > MAX_ENTITIES_BYTES {
        return Err(too_long(
            "entities document",
            src.len(),
            MAX_ENTITIES_BYTES,
            "MAX_ENTITIES_BYTES",
        ));
    }
    let json = tree::parse(src, Duplicates::Reject)?;
    entity_list(&json, schema).map_err(|e| match e.entity {
        Some(i) if e.line.is_none() => match tree::top_level_element_positions(src).get(i) {
            Some(&position) => e.at(position),
            None => e,
        },
        _ => e,
    })
}

/// The entities of an entities file, each checked against the schema.
fn entity_list(json: &Json, schema: Option<&Schema>) -> Result<Vec<Entity>, JsonError> {
    let Json::Array(items) = json else {
        return Err(JsonError::new(format!(
            "entities must be a JSON array of entity objects, but found {}",
            json.kind()
        )));
    };
    if items.len() > MAX_ENTITIES {
        return Err(JsonError::new(format!(
            "the document holds {} entities, more than the {MAX_ENTITIES} allowed (MAX_ENTITIES)",
            items.len()
        )));
    }
    let mut names = Names::default();
    let entities = items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_entity(item, i, schema, &mut names).map_err(|e| e.in_entity(i)))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(schema) = schema {
        for (i, entity) in entities.iter().enumerate() {
            if !entity.uid().is_action() {
                check_entity(schema, entity).map_err(|e| e.in_entity(i))?;
            }
        }
    }
    Ok(entities)
}

fn entities_from_tree(json: &Json, schema: Option<&Schema>) -> Result<Entities, JsonError> {
    // Non-action entities are checked against the schema before the hierarchy is closed, so
    // their ancestors are their parents.
    let entities = entity_list(json, schema)?;
    let json_actions: Vec<EntityUid> = entities
        .iter()
        .filter(|e| e.uid().is_action())
        .map(|e| e.uid().clone())
        .collect();
    let mut store = Entities::from_entities(entities).map_err(|e| JsonError::new(e.to_string()))?;
    if let Some(schema) = schema {
        let declared = schema
            .action_entities()
            .map_err(|e| JsonError::new(e.to_string()))?;
        let by_uid: HashMap<&EntityUid, &Entity> = if json_actions.is_empty() {
            HashMap::new()
        } else {
            declared.iter().map(|d| (d.uid(), d)).collect()
        };
        for uid in &json_actions {
            let Some(entity) = store.get(uid) else {
                continue;
            };
            let Some(decl) = by_uid.get(uid) else {
                return Err(JsonError::new(format!(
                    "found action entity `{uid}`, but it was not declared as an action in the schema"
                )));
            };
            let ours: HashSet<&EntityUid> = entity.ancestors().collect();
            let theirs: HashSet<&EntityUid> = decl.ancestors().collect();
            if !entity.attrs().is_empty() || !entity.tags().is_empty() || ours != theirs {
                return Err(JsonError::new(format!(
                    "definition of action `{uid}` does not match its schema declaration"
                )));
            }
        }
        store.extend_closed(declared);
    }
    Ok(store)
}

/// The attribute and tag names of one entities file, each held once: every entity's copy of a
/// name shares one allocation, so a large store does not hold a string per attribute (and the
/// names an attribute read compares against are few, likely in cache).
#[derive(Default)]
struct Names(HashSet<Arc<str>>);

impl Names {
    fn intern(&mut self, name: &str) -> Arc<str> {
        if let Some(held) = self.0.get(name) {
            return held.clone();
        }
        let name: Arc<str> = Arc::from(name);
        self.0.insert(name.clone());
        name
    }
}

/// Reads the entity object at `index`.
fn parse_entity(
    json: &Json,
    index: usize,
    schema: Option<&Schema>,
    names: &mut Names,
) -> Result<Entity, JsonError> {
    // Like any serde struct, an entity may also be written as the array of its fields in order
    // (`[uid, attrs, parents]` or `[uid, attrs, parents, tags]`); Cedar accepts that.
    let positional;
    let json = match json {
        Json::Object(_) => json,
        Json::Array(items) if items.len() == 3 || items.len() == 4 => {
            positional = Json::Object(
                ["uid", "attrs", "parents", "tags"]
                    .iter()
                    .zip(items)
                    .map(|(k, v)| (SmolStr::new_static(k), v.clone()))
                    .collect(),
            );
            &positional
        }
        _ => {
            return Err(JsonError::new(format!(
                "entity #{index} must be a JSON object with `uid`, `attrs` and `parents`, but found {}",
                json.kind()
            )));
        }
    };
    let field = |name: &str| {
        json.get(name)
            .ok_or_else(|| JsonError::new(format!("entity #{index} is missing the field `{name}`")))
    };
    let uid = entity_ref(field("uid")?, &Loc::EntityUid)?;
    let attrs_json = field("attrs")?;
    let parents_json = field("parents")?;
    let tags_json = json.get("tags");

    let def: Option<&EntityTypeDef> = match schema {
        Some(schema) if !uid.is_action() => {
            Some(schema.entity_type(uid.entity_type()).ok_or_else(|| {
                JsonError::new(format!(
                    "entity `{uid}` has type `{}` which is not declared in the schema",
                    uid.entity_type()
                ))
            })?)
        }
        _ => None,
    };

    let Json::Object(attr_entries) = attrs_json else {
        return Err(JsonError::new(format!(
            "the `attrs` of `{uid}` must be a JSON object, but found {}",
            attrs_json.kind()
        )));
    };
    let mut attrs = BTreeMap::new();
    for (name, v) in attr_entries {
        let name = names.intern(name);
        let loc = Loc::Attr(uid.clone(), name.clone());
        let value = match def {
            None => untyped(v, &loc)?,
            Some(def) => match def.attrs.attrs.get(&name) {
                Some(attr) => typed(v, &attr.ty, &loc)?,
                None => {
                    return Err(JsonError::new(format!(
                        "attribute `{name}` on `{uid}` should not exist according to the schema"
                    )));
                }
            },
        };
        attrs.insert(name, value);
    }

    let mut tags = BTreeMap::new();
    match tags_json {
        None => {}
        Some(Json::Object(tag_entries)) => {
            for (name, v) in tag_entries {
                let name = names.intern(name);
                let loc = Loc::Tag(uid.clone(), name.clone());
                let value = match def {
                    None => untyped(v, &loc)?,
                    Some(def) => match &def.tags {
                        Some(ty) => typed(v, ty, &loc)?,
                        None => {
                            return Err(JsonError::new(format!(
                                "found a tag `{name}` on `{uid}`, but no tags should exist on `{uid}` according to the schema"
                            )));
                        }
                    },
                };
                tags.insert(name, value);
            }
        }
        Some(other) => {
            return Err(JsonError::new(format!(
                "the `tags` of `{uid}` must be a JSON object, but found {}",
                other.kind()
            )));
        }
    }

    let Json::Array(parent_items) = parents_json else {
        return Err(JsonError::new(format!(
            "the `parents` of `{uid}` must be a JSON array, but found {}",
            parents_json.kind()
        )));
    };
    let loc = Loc::Parents(uid.clone());
    let mut parents = BTreeSet::new();
    for p in parent_items {
        let parent = entity_ref(p, &loc)?;
        if uid.is_action() && !parent.is_action() {
            return Err(JsonError::new(format!(
                "action `{uid}` has a non-action parent `{parent}`"
            )));
        }
        parents.insert(parent);
    }

    Ok(Entity::new(uid, attrs, parents, tags))
}

/// Checks a non-action entity against its declared type (Cedar's `validate_entity`).
/// Checks a non-action entity against `schema`: its type declared (and, for an enumerated
/// type, its id listed), its attributes and tags of their declared types (required ones
/// present, no undeclared ones), its parents of types it may be in, and entity references in
/// its values valid. The error names the entity and attribute at fault.
pub fn check_entity(schema: &Schema, entity: &Entity) -> Result<(), JsonError> {
    let uid = entity.uid();
    let def = schema.entity_type(uid.entity_type()).ok_or_else(|| {
        JsonError::new(format!(
            "entity `{uid}` has type `{}` which is not declared in the schema",
            uid.entity_type()
        ))
    })?;
    validate_uid(schema, uid).map_err(JsonError::new)?;

    // Attributes.
    for (name, attr) in &def.attrs.attrs {
        if attr.required && !entity.attrs().contains_key(name) {
            return Err(JsonError::new(format!(
                "expected entity `{uid}` to have attribute `{name}`, but it does not"
            )));
        }
    }
    for (name, value) in entity.attrs() {
        let loc = Loc::Attr(uid.clone(), name.clone());
        let Some(attr) = def.attrs.attrs.get(name) else {
            return Err(JsonError::new(format!(
                "attribute `{name}` on `{uid}` should not exist according to the schema"
            )));
        };
        typecheck_value(value, &attr.ty).map_err(|e| loc.error(e))?;
        validate_uids_in_value(schema, value).map_err(JsonError::new)?;
    }

    // Parents (the smallest offending one is reported, as Cedar does).
    let mut bad: Option<(&EntityUid, Option<String>)> = None;
    for parent in entity.parents() {
        let problem = match validate_uid(schema, parent) {
            Err(e) => Some(Some(e)),
            // As in Cedar, a parent may be of any type the entity's type can be within,
            // directly or through other types (stores often list every ancestor as a parent).
            Ok(())
                if !def.member_of.contains(parent.entity_type())
                    && !schema.may_have_ancestor_type(uid.entity_type(), parent.entity_type()) =>
            {
                Some(None)
            }
            Ok(()) => None,
        };
        if let Some(problem) = problem {
            bad = Some((parent, problem));
            break;
        }
    }
    match bad {
        Some((_, Some(e))) => return Err(JsonError::new(e)),
        Some((parent, None)) => {
            return Err(JsonError::new(format!(
                "`{uid}` is not allowed to have an ancestor of type `{}` according to the schema",
                parent.entity_type()
            )));
        }
        None => {}
    }

    // Tags.
    match &def.tags {
        None => {
            if let Some(name) = entity.tags().keys().next() {
                return Err(JsonError::new(format!(
                    "found a tag `{name}` on `{uid}`, but no tags should exist on `{uid}` according to the schema"
                )));
            }
        }
        Some(ty) => {
            for (name, value) in entity.tags() {
                let loc = Loc::Tag(uid.clone(), name.clone());
                typecheck_value(value, ty).map_err(|e| loc.error(e))?;
            }
        }
    }
    for value in entity.tags().values() {
        validate_uids_in_value(schema, value).map_err(JsonError::new)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use crate::name::EntityType;
    use crate::schema::{ActionDef, AttrType, RecordType, SchemaType};
    use crate::value::Value;

    fn ety(s: &str) -> EntityType {
        EntityType::parse(s).unwrap()
    }

    fn uid(t: &str, id: &str) -> EntityUid {
        EntityUid::new(ety(t), id)
    }

    fn def(name: &str, member_of: &[&str], attrs: &[(&str, SchemaType, bool)]) -> EntityTypeDef {
        EntityTypeDef {
            name: ety(name),
            member_of: member_of.iter().map(|m| ety(m)).collect(),
            attrs: RecordType {
                attrs: attrs
                    .iter()
                    .map(|(n, ty, required)| {
                        (
                            Arc::from(*n),
                            AttrType {
                                ty: ty.clone(),
                                required: *required,
                            },
                        )
                    })
                    .collect(),
            }
            .into(),
            tags: None,
            enum_ids: None,
        }
    }

    #[test]
    fn entities_of_one_file_share_each_attribute_and_tag_name() {
        let src = r#"[
            {"uid": {"type": "U", "id": "a"}, "attrs": {"age": 1, "name": "a"}, "parents": [], "tags": {"t": 1}},
            {"uid": {"type": "U", "id": "b"}, "attrs": {"age": 2}, "parents": [], "tags": {"t": 2}}
        ]"#;
        let store = entities_from_json_str(src, None).unwrap();
        let key = |id: &str, tags: bool| {
            let e = store.get(&uid("U", id)).unwrap();
            let map = if tags { e.tags() } else { e.attrs() };
            map.keys().next().unwrap().clone()
        };
        assert_eq!(&*key("a", false), "age");
        assert!(Arc::ptr_eq(&key("a", false), &key("b", false)));
        assert!(Arc::ptr_eq(&key("a", true), &key("b", true)));
        assert_eq!(
            store.get(&uid("U", "b")).unwrap().attr("age"),
            Some(&Value::Long(2))
        );
    }

    fn schema() -> Schema {
        let mut user = def(
            "User",
            &["Group"],
            &[
                ("age", SchemaType::Long, true),
                ("manager", SchemaType::Entity(ety("User")), false),
                ("color", SchemaType::Entity(ety("Color")), false),
            ],
        );
        user.tags = Some(SchemaType::String);
        let group = def("Group", &["Group"], &[]);
        let mut color = def("Color", &[], &[]);
        color.enum_ids = Some(vec![Arc::from("red"), Arc::from("blue")]);
        let action = |id: &str, member_of: &[&str]| ActionDef {
            uid: uid("Action", id),
            member_of: member_of.iter().map(|m| uid("Action", m)).collect(),
            principals: [ety("User")].into_iter().collect(),
            resources: [ety("Group")].into_iter().collect(),
            context: Default::default(),
        };
        Schema {
            stamp: Default::default(),
            entity_types: [user, group, color]
                .into_iter()
                .map(|d| (d.name.clone(), d))
                .collect(),
            actions: [action("read", &[]), action("view", &["read"])]
                .into_iter()
                .map(|a| (a.uid.clone(), a))
                .collect(),
        }
    }

    #[test]
    fn uids_may_be_written_as_type_id_arrays() {
        let store = entities_from_json_str(
            r#"[{"uid": ["User", "a"], "attrs": {}, "parents": [["Group", "g"]]},
                {"uid": {"__entity": ["Group", "g"]}, "attrs": {}, "parents": []}]"#,
            None,
        )
        .unwrap();
        let a = EntityUid::new(EntityType::new_unchecked("User"), "a");
        let g = EntityUid::new(EntityType::new_unchecked("Group"), "g");
        assert!(store.get(&a).is_some_and(|e| e.is_descendant_of(&g)));
        assert!(
            entities_from_json_str(r#"[{"uid": ["User"], "attrs": {}, "parents": []}]"#, None)
                .is_err()
        );
        assert!(
            entities_from_json_str(
                r#"[{"uid": ["User", "a", "b"], "attrs": {}, "parents": []}]"#,
                None
            )
            .is_err()
        );
    }

    #[test]
    fn reads_entities_and_closes_the_hierarchy() {
        let store = entities_from_json_str(
            r#"[
              {"uid": {"type": "User", "id": "alice"}, "attrs": {"age": 3, "x": {"__entity": {"type": "User", "id": "bob"}}},
               "parents": [{"type": "Group", "id": "a"}], "tags": {"t": "v"}},
              {"uid": {"__entity": {"type": "Group", "id": "a"}}, "attrs": {}, "parents": [{"__entity": {"type": "Group", "id": "b"}}]},
              {"uid": {"type": "Group", "id": "b"}, "attrs": {}, "parents": [], "ignored": 1}
            ]"#,
            None,
        )
        .unwrap();
        assert_eq!(store.len(), 3);
        let positional =
            entities_from_json_str(r#"[[{"type": "A", "id": "a"}, {}, []]]"#, None).unwrap();
        assert_eq!(positional.len(), 1);
        let alice = store.get(&uid("User", "alice")).unwrap();
        assert!(alice.is_descendant_of(&uid("Group", "a")));
        assert!(alice.is_descendant_of(&uid("Group", "b")));
        assert_eq!(alice.attr("age"), Some(&Value::Long(3)));
        assert_eq!(alice.attr("x"), Some(&Value::Entity(uid("User", "bob"))));
        assert_eq!(alice.tag("t"), Some(&Value::string("v")));
    }

    #[test]
    fn rejects_wrong_shapes() {
        let cases = [
            (r#"{"uid": {"type": "A", "id": "a"}}"#, "array"),
            (r#"[1]"#, "object"),
            (r#"[[{"type": "A", "id": "a"}, {}]]"#, "object"),
            (r#"[{"attrs": {}, "parents": []}]"#, "`uid`"),
            (
                r#"[{"uid": {"type": "A", "id": "a"}, "parents": []}]"#,
                "`attrs`",
            ),
            (
                r#"[{"uid": {"type": "A", "id": "a"}, "attrs": {}}]"#,
                "`parents`",
            ),
            (
                r#"[{"uid": {"type": "A", "id": "a"}, "attrs": {}, "parents": {}}]"#,
                "array",
            ),
            (
                r#"[{"uid": {"type": "A", "id": "a"}, "attrs": [], "parents": []}]"#,
                "object",
            ),
            (
                r#"[{"uid": "A::\"a\"", "attrs": {}, "parents": []}]"#,
                "entity reference",
            ),
            (
                r#"[{"uid": {"type": "A", "id": "a"}, "attrs": {}, "parents": [], "tags": 1}]"#,
                "tags",
            ),
            (
                r#"[{"uid": {"type": "A", "id": "a"}, "attrs": {"k": 1, "k": 2}, "parents": []}]"#,
                "more than once",
            ),
            (
                r#"[{"uid": {"type": "Action", "id": "a"}, "attrs": {}, "parents": [{"type": "A", "id": "b"}]}]"#,
                "non-action parent",
            ),
            (
                r#"[{"uid": {"type": "A", "id": "a"}, "attrs": {}, "parents": [{"type": "A", "id": "a"}]}]"#,
                "cycle",
            ),
            (
                r#"[{"uid": {"type": "A", "id": "a"}, "attrs": {}, "parents": []}, {"uid": {"type": "A", "id": "a"}, "attrs": {"x": 1}, "parents": []}]"#,
                "duplicate",
            ),
        ];
        for (src, expected) in cases {
            let err = entities_from_json_str(src, None).unwrap_err();
            assert!(err.message.contains(expected), "{src}: {err}");
        }
        let err = entities_from_json_str("[\n{\"uid\": }]", None).unwrap_err();
        assert_eq!(err.line, Some(2));
    }

    #[test]
    fn conforms_to_a_schema() {
        let s = schema();
        let store = entities_from_json_str(
            r#"[{"uid": {"type": "User", "id": "alice"},
                 "attrs": {"age": 3, "manager": {"type": "User", "id": "bob"}, "color": {"type": "Color", "id": "red"}},
                 "parents": [{"type": "Group", "id": "g"}], "tags": {"t": "x"}}]"#,
            Some(&s),
        )
        .unwrap();
        // alice, plus the two schema actions.
        assert_eq!(store.len(), 3);
        let view = store.get(&uid("Action", "view")).unwrap();
        assert!(view.is_descendant_of(&uid("Action", "read")));
        let alice = store.get(&uid("User", "alice")).unwrap();
        assert_eq!(
            alice.attr("manager"),
            Some(&Value::Entity(uid("User", "bob")))
        );
    }

    #[test]
    fn reports_schema_violations() {
        let s = schema();
        let alice = |attrs: &str, parents: &str, tags: &str| {
            format!(
                r#"[{{"uid": {{"type": "User", "id": "alice"}}, "attrs": {attrs}, "parents": {parents}, "tags": {tags}}}]"#
            )
        };
        let cases = [
            (
                r#"[{"uid": {"type": "Nope", "id": "x"}, "attrs": {}, "parents": []}]"#.to_string(),
                "has type `Nope` which is not declared in the schema",
            ),
            (alice("{}", "[]", "{}"), "to have attribute `age`"),
            (alice(r#"{"age": 1, "extra": 2}"#, "[]", "{}"), "`extra`"),
            (alice(r#"{"age": "x"}"#, "[]", "{}"), "in attribute `age` on `User::\"alice\"`: type mismatch"),
            (alice(r#"{"age": 1, "manager": {"type": "Group", "id": "g"}}"#, "[]", "{}"), "type mismatch"),
            (alice(r#"{"age": 1}"#, r#"[{"type": "User", "id": "bob"}]"#, "{}"), "ancestor of type `User`"),
            (alice(r#"{"age": 1, "color": {"type": "Color", "id": "green"}}"#, "[]", "{}"), "enumerated"),
            (alice(r#"{"age": 1}"#, "[]", r#"{"t": 1}"#), "in tag `t`"),
            (
                r#"[{"uid": {"type": "Group", "id": "g"}, "attrs": {}, "parents": [], "tags": {"t": "x"}}]"#.to_string(),
                "no tags should exist",
            ),
            (
                r#"[{"uid": {"type": "Color", "id": "green"}, "attrs": {}, "parents": []}]"#.to_string(),
                "enumerated",
            ),
            (
                r#"[{"uid": {"type": "Action", "id": "write"}, "attrs": {}, "parents": []}]"#.to_string(),
                "not declared as an action",
            ),
            (
                r#"[{"uid": {"type": "Action", "id": "view"}, "attrs": {}, "parents": []}]"#.to_string(),
                "does not match its schema declaration",
            ),
        ];
        for (src, expected) in cases {
            let err = entities_from_json_str(&src, Some(&s)).unwrap_err();
            assert!(err.message.contains(expected), "{src}: {err}");
        }
        // An action that matches its declaration is accepted.
        let ok = r#"[{"uid": {"type": "Action", "id": "view"}, "attrs": {}, "parents": [{"type": "Action", "id": "read"}]}]"#;
        assert!(entities_from_json_str(ok, Some(&s)).is_ok());
    }

    #[test]
    fn reads_serde_json_values() {
        let v: serde_json::Value = serde_json::from_str(
            r#"[{"uid": {"type": "A", "id": "a"}, "attrs": {}, "parents": []}]"#,
        )
        .unwrap();
        assert_eq!(entities_from_json_value(&v, None).unwrap().len(), 1);
    }
}
