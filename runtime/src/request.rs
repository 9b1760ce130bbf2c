//! Authorization requests: who (principal) wants to do what (action) to which resource, in what
//! context.

use crate::uid::EntityUid;
use crate::value::Record;

/// A request to authorize. The context is a record of values the policies can read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub principal: EntityUid,
    pub action: EntityUid,
    pub resource: EntityUid,
    pub context: Record,
}
