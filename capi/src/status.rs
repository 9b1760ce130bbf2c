//! The numbers the C ABI exchanges: status codes, decisions, evaluators and schema formats.
//!
//! Each is a `uint32_t` with named constants rather than a C `enum`, so that no value a C
//! program passes can be undefined behaviour on the Rust side: an unknown evaluator or schema
//! format is reported as `THUJA_STATUS_INVALID_ARGUMENT`.

/// What a call returns: `THUJA_STATUS_OK` or why it failed (the call's message says more).
pub type ThujaStatus = u32;

/// The call succeeded; its outputs are set.
pub const THUJA_STATUS_OK: ThujaStatus = 0;
/// A pointer argument that must not be NULL was NULL.
pub const THUJA_STATUS_NULL_POINTER: ThujaStatus = 1;
/// A string argument was not valid UTF-8.
pub const THUJA_STATUS_INVALID_UTF8: ThujaStatus = 2;
/// An argument had a value outside its range (an unknown evaluator or schema format).
pub const THUJA_STATUS_INVALID_ARGUMENT: ThujaStatus = 3;
/// A file could not be read.
pub const THUJA_STATUS_IO: ThujaStatus = 4;
/// An input is malformed or means nothing valid: policies, schema, entities, template links,
/// an entity uid, a context or a request. The message says where, with the offending snippet
/// for text formats.
pub const THUJA_STATUS_INPUT: ThujaStatus = 5;
/// The request is not valid for the engine's schema (with request validation on).
pub const THUJA_STATUS_INVALID_REQUEST: ThujaStatus = 6;
/// The engine could not be built or changed: the entities do not form a store (a cycle in the
/// hierarchy) or do not conform to the schema, an action was upserted or removed, or native
/// code could not be made.
pub const THUJA_STATUS_BUILD: ThujaStatus = 7;
/// The library failed internally (a Rust panic, caught): the call did nothing. The handle stays
/// usable; please report the message.
pub const THUJA_STATUS_PANIC: ThujaStatus = 8;

/// A decision, in a `ThujaResponse`.
pub type ThujaDecision = u32;

/// The request is denied (also what a zeroed response says).
pub const THUJA_DECISION_DENY: ThujaDecision = 0;
/// The request is allowed.
pub const THUJA_DECISION_ALLOW: ThujaDecision = 1;

/// Which evaluator an engine decides with (all give the same answers).
pub type ThujaEvaluator = u32;

/// The bytecode VM (the default).
pub const THUJA_EVALUATOR_VM: ThujaEvaluator = 0;
/// Native code compiled by Cranelift (policies it cannot compile run on the VM).
pub const THUJA_EVALUATOR_JIT: ThujaEvaluator = 1;
/// The reference interpreter.
pub const THUJA_EVALUATOR_INTERP: ThujaEvaluator = 2;

/// The format of a schema text.
pub type ThujaSchemaFormat = u32;

/// The human-readable `.cedarschema` format (the default).
pub const THUJA_SCHEMA_FORMAT_CEDAR: ThujaSchemaFormat = 0;
/// Cedar's JSON schema format.
pub const THUJA_SCHEMA_FORMAT_JSON: ThujaSchemaFormat = 1;

/// The name of a status code (`"THUJA_STATUS_OK"`, ...), or `"THUJA_STATUS_UNKNOWN"`.
pub(crate) fn status_name(status: ThujaStatus) -> &'static std::ffi::CStr {
    match status {
        THUJA_STATUS_OK => c"THUJA_STATUS_OK",
        THUJA_STATUS_NULL_POINTER => c"THUJA_STATUS_NULL_POINTER",
        THUJA_STATUS_INVALID_UTF8 => c"THUJA_STATUS_INVALID_UTF8",
        THUJA_STATUS_INVALID_ARGUMENT => c"THUJA_STATUS_INVALID_ARGUMENT",
        THUJA_STATUS_IO => c"THUJA_STATUS_IO",
        THUJA_STATUS_INPUT => c"THUJA_STATUS_INPUT",
        THUJA_STATUS_INVALID_REQUEST => c"THUJA_STATUS_INVALID_REQUEST",
        THUJA_STATUS_BUILD => c"THUJA_STATUS_BUILD",
        THUJA_STATUS_PANIC => c"THUJA_STATUS_PANIC",
        _ => c"THUJA_STATUS_UNKNOWN",
    }
}
