//! Authorization requests: who (principal) wants to do what (action) to which resource, in what
//! context.

use crate::json::{RequestValidationError, validate_request};
use crate::schema::Schema;
use crate::uid::EntityUid;
use crate::value::Record;

/// A request to authorize. The context is a record of values the policies can read.
///
/// A request remembers the schema it was last [validated](Request::validate) against (by the
/// schema's [stamp](Schema::stamp)), so that code compiled for that schema can trust it without
/// checking it again; building or changing a request forgets it.
#[derive(Clone, Debug)]
pub struct Request {
    principal: EntityUid,
    action: EntityUid,
    resource: EntityUid,
    context: Record,
    /// The stamp of the schema it was validated against; 0 when not validated.
    validated_for: u64,
}

impl Request {
    /// A request, not yet validated against any schema.
    pub fn new(
        principal: EntityUid,
        action: EntityUid,
        resource: EntityUid,
        context: Record,
    ) -> Self {
        Request {
            principal,
            action,
            resource,
            context,
            validated_for: 0,
        }
    }

    pub fn principal(&self) -> &EntityUid {
        &self.principal
    }

    pub fn action(&self) -> &EntityUid {
        &self.action
    }

    pub fn resource(&self) -> &EntityUid {
        &self.resource
    }

    pub fn context(&self) -> &Record {
        &self.context
    }

    /// Takes the request apart: principal, action, resource and context.
    pub fn into_parts(self) -> (EntityUid, EntityUid, EntityUid, Record) {
        (self.principal, self.action, self.resource, self.context)
    }

    /// Checks the request against `schema` as Cedar does when a request is built with one (see
    /// [`validate_request`]), and remembers that it passed.
    pub fn validate(&mut self, schema: &Schema) -> Result<(), RequestValidationError> {
        if self.is_valid_for(schema) {
            return Ok(());
        }
        validate_request(schema, self)?;
        self.validated_for = schema.stamp();
        Ok(())
    }

    /// [`validate`](Self::validate), taking and giving back the request.
    pub fn validated(mut self, schema: &Schema) -> Result<Self, RequestValidationError> {
        self.validate(schema)?;
        Ok(self)
    }

    /// Whether the request passed [`validate`](Self::validate) with `schema` (or a clone of it).
    pub fn is_valid_for(&self, schema: &Schema) -> bool {
        self.validated_for != 0 && self.validated_for == schema.stamp()
    }
}

/// Two requests are equal when they ask the same; whether they were validated does not matter.
impl PartialEq for Request {
    fn eq(&self, other: &Self) -> bool {
        self.principal == other.principal
            && self.action == other.action
            && self.resource == other.resource
            && self.context == other.context
    }
}

impl Eq for Request {}
