//! Request-scoped entities: AuthZEN `properties` and the Cedar endpoint's `entities`, laid
//! over the engine's store for one request only.
//!
//! A request with such entities is decided on an engine derived from the serving one by
//! [`Engine::upsert_entities`]: it shares the compiled policies and every other entity, costs
//! what the changed entities cost, and is dropped with the answer. The serving engine, and
//! every other request, never see them.
//!
//! - `properties` of a subject or resource are attributes: they replace attributes of the same
//!   name of the stored entity and add the others; its parents and tags stay. An entity the
//!   store does not have is made of the properties alone, with no parents.
//! - Cedar `entities` replace stored entities of the same uid, whole (as `upsert` does).
//!
//! With a schema the result is typed and checked by it like any entity (an attribute of the
//! wrong type, or a required attribute missing from a new entity, is a 400). Actions come from
//! the schema: a request cannot change them.

use serde_json::{Map, Value, json};
use thuja::input;
use thuja::{Engine, Entity, EntityUid};

use crate::http::ApiError;

/// Entities to lay over the store, collected for one request.
#[derive(Default)]
pub(crate) struct Overlay {
    entities: Vec<Entity>,
}

impl Overlay {
    /// Lays `properties` over the attributes of `uid` (as the store holds it, or as this
    /// overlay already changed it); `what` names the properties in errors (`subject`).
    pub fn properties(
        &mut self,
        engine: &Engine,
        uid: &EntityUid,
        properties: &Map<String, Value>,
        what: &str,
    ) -> Result<(), ApiError> {
        let bad =
            |message: String| ApiError::bad_request(format!("`{what}.properties`: {message}"));
        let earlier = self.entities.iter().position(|e| e.uid() == uid);
        let stored = match earlier {
            Some(i) => Some(&self.entities[i]),
            None => engine.entities().get(uid),
        };
        let mut entity = match stored {
            Some(entity) => thuja::output::entity_json(entity).map_err(bad)?,
            None => json!({
                "uid": {"type": uid.entity_type().to_string(), "id": uid.id()},
                "attrs": {},
                "parents": [],
            }),
        };
        let Some(attrs) = entity.get_mut("attrs").and_then(Value::as_object_mut) else {
            return Err(bad("the stored entity has no attributes object".into()));
        };
        for (name, value) in properties {
            attrs.insert(name.clone(), value.clone());
        }
        let text = Value::Array(vec![entity]).to_string();
        let mut read = input::entity_list_from_str(what, &text, engine.schema())
            .map_err(|e| bad(e.message()))?;
        let Some(entity) = read.pop() else {
            return Err(bad("no entity was read".into()));
        };
        match earlier {
            Some(i) => self.entities[i] = entity,
            None => self.entities.push(entity),
        }
        Ok(())
    }

    /// Adds Cedar's entities JSON (an array), typed by the schema, replacing earlier entities
    /// of the same uid.
    pub fn entities(&mut self, engine: &Engine, entities: &Value) -> Result<(), ApiError> {
        if !entities.is_array() {
            return Err(ApiError::bad_request(
                "`entities` must be an array of entities (Cedar's entities JSON)",
            ));
        }
        let read = input::entity_list_from_str("entities", &entities.to_string(), engine.schema())
            .map_err(|e| ApiError::bad_request(format!("`entities`: {}", e.message())))?;
        for entity in read {
            self.entities.retain(|e| e.uid() != entity.uid());
            self.entities.push(entity);
        }
        Ok(())
    }

    /// The engine to decide on: `engine` itself when there is nothing to lay over it.
    pub fn apply(self, engine: &Engine) -> Result<Option<Engine>, ApiError> {
        if self.entities.is_empty() {
            return Ok(None);
        }
        engine
            .upsert_entities(self.entities)
            .map(Some)
            .map_err(|e| ApiError::bad_request(format!("request-scoped entities: {e}")))
    }
}
