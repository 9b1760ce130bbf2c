//! # thuja-runtime
//!
//! The data model every Thuja tier shares: entity type names and uids, values, extension types
//! (`decimal`, `ipaddr`, `datetime`, `duration`) with their functions, the operators' semantics,
//! the entity store, requests and responses, the resolved schema model, the JSON data formats and
//! evaluation errors.
//!
//! It knows nothing of policies: the compiler turns text into policies, and the interpreter, VM
//! and JIT evaluate them over these types. An operator's meaning lives here once (e.g. `like`
//! matching, overflow-checked arithmetic, extension functions) so that every tier agrees on it.

pub mod access;
mod ancestors;
pub mod attrs;
pub mod entity;
pub mod error;
pub mod ext;
mod forest;
pub mod hierarchy;
pub mod json;
pub mod name;
pub mod ops;
pub mod pattern;
pub mod request;
pub mod response;
pub mod schema;
pub mod span;
pub mod uid;
pub mod value;

pub use attrs::Attrs;
pub use entity::{Entities, EntitiesError, Entity, EntityLookup};
pub use error::{EvalError, EvalFailure, Overflow};
pub use ext::{ExtFn, ExtValue};
pub use json::{JsonError, RequestValidationError};
pub use name::EntityType;
pub use pattern::{Pattern, PatternElem};
pub use request::Request;
pub use response::{Decision, Location, PolicyError, PolicyId, PolicyIds, Response};
pub use schema::Schema;
pub use span::Span;
pub use uid::EntityUid;
pub use value::{Record, Set, Value, ValueType};
