//! The `extern "C"` functions and the C types they exchange. This is the crate's only module with
//! `unsafe` code: reading the pointers C gives (strings, the engine handle, arrays), writing the
//! results through out-pointers, and turning the objects handed to C back into Rust ones when C
//! frees them. Everything else is in the `calls` module, in safe Rust.
//!
//! Every function runs its body inside `guard`: a panic is caught and reported as
//! `THUJA_STATUS_PANIC`, never unwinding into C nor aborting the host.

#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use thuja::{Decision, Response};

use crate::calls::{self, Failure, Handle, Input, Options, Outcome, Sources};
use crate::status::*;

/// An engine handle: policies, optional schema, entities, compiled and ready to decide.
///
/// Made by `thuja_engine_from_strings` or `thuja_engine_from_files`, freed by
/// `thuja_engine_free`. One handle may be used by any number of threads at once: decisions take
/// no lock and see one consistent engine each; `thuja_engine_swap_policies*`,
/// `thuja_engine_upsert_entities` and `thuja_engine_remove_entities` build a new engine beside
/// the current one and swap it in atomically (they wait for each other, never for decisions).
pub struct ThujaEngine {
    handle: Handle,
}

/// How an engine is built. Get the defaults from `thuja_engine_options_default` and change
/// what you need; passing NULL instead of options means the defaults.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ThujaEngineOptions {
    /// `THUJA_EVALUATOR_VM` (default), `THUJA_EVALUATOR_JIT` or `THUJA_EVALUATOR_INTERP`.
    pub evaluator: ThujaEvaluator,
    /// The schema's format: `THUJA_SCHEMA_FORMAT_CEDAR` (default) or `THUJA_SCHEMA_FORMAT_JSON`.
    pub schema_format: ThujaSchemaFormat,
    /// Whether requests are validated against the schema before they are decided (default
    /// true; no effect without a schema). An invalid request is answered with
    /// `THUJA_STATUS_INVALID_REQUEST`.
    pub request_validation: bool,
}

/// A policy whose evaluation failed (so it was not satisfied), in a `ThujaResponse`.
#[repr(C)]
pub struct ThujaPolicyError {
    /// The policy's id (its `@id` annotation, its link id, or `policyN`).
    pub policy_id: *const c_char,
    /// What went wrong, e.g. a type error or a missing attribute.
    pub message: *const c_char,
    /// The policy file's name (the path for policies read from a file), or NULL when the
    /// location is unknown.
    pub file: *const c_char,
    /// The 1-based line of the expression that raised the error; 0 when unknown.
    pub line: u32,
    /// The 1-based column (in characters) of that expression; 0 when unknown.
    pub column: u32,
}

/// The answer to a request, from `thuja_engine_decide`; free it with `thuja_response_free`.
/// Everything it points to lives as long as it does.
#[repr(C)]
pub struct ThujaResponse {
    /// `THUJA_DECISION_ALLOW` or `THUJA_DECISION_DENY`.
    pub decision: ThujaDecision,
    /// The ids of the policies that determined the decision, sorted; NULL when there are none.
    pub reasons: *const *const c_char,
    /// How many `reasons` there are.
    pub reasons_len: usize,
    /// The policies whose evaluation failed; NULL when there are none.
    pub errors: *const ThujaPolicyError,
    /// How many `errors` there are.
    pub errors_len: usize,
}

/// A `ThujaResponse` and the memory it points to, freed together. `public` comes first, so a
/// pointer to an `OwnedResponse` is a pointer to its `ThujaResponse` (`repr(C)`).
#[repr(C)]
struct OwnedResponse {
    public: ThujaResponse,
    reasons: Vec<*const c_char>,
    errors: Vec<ThujaPolicyError>,
    /// Owns every string the pointers above point into (a `CString`'s bytes do not move when
    /// it does).
    strings: Vec<CString>,
}

impl OwnedResponse {
    fn new(response: &Response) -> Box<OwnedResponse> {
        let mut strings = Vec::new();
        let mut keep = |text: &str| -> *const c_char {
            let text = c_string(text);
            let at = text.as_ptr();
            strings.push(text);
            at
        };
        let reasons: Vec<*const c_char> = response.reasons.iter().map(|id| keep(id)).collect();
        let errors: Vec<ThujaPolicyError> = response
            .errors
            .iter()
            .map(|error| ThujaPolicyError {
                policy_id: keep(&error.policy_id),
                message: keep(&error.error.to_string()),
                file: error
                    .location
                    .as_ref()
                    .map_or(ptr::null(), |at| keep(&at.file)),
                line: error.location.as_ref().map_or(0, |at| at.line),
                column: error.location.as_ref().map_or(0, |at| at.column),
            })
            .collect();
        let public = ThujaResponse {
            decision: match response.decision {
                Decision::Allow => THUJA_DECISION_ALLOW,
                Decision::Deny => THUJA_DECISION_DENY,
            },
            reasons: if reasons.is_empty() {
                ptr::null()
            } else {
                reasons.as_ptr()
            },
            reasons_len: reasons.len(),
            errors: if errors.is_empty() {
                ptr::null()
            } else {
                errors.as_ptr()
            },
            errors_len: errors.len(),
        };
        // The vectors' buffers stay where they are when the vectors move into the box.
        Box::new(OwnedResponse {
            public,
            reasons,
            errors,
            strings,
        })
    }
}

/// `text` as a C string; a NUL inside it (possible in an entity id or a message quoting one)
/// becomes U+FFFD.
fn c_string(text: &str) -> CString {
    CString::new(text).unwrap_or_else(|_| {
        let cleaned = text.replace('\0', "\u{FFFD}");
        CString::new(cleaned).unwrap_or_default()
    })
}

/// Runs `body` with panics caught; writes the failure's message (or NULL on success) to
/// `message` unless it is NULL, and returns the status.
fn guard(message: *mut *mut c_char, body: impl FnOnce() -> Outcome<()>) -> ThujaStatus {
    let outcome = panic::catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        Err(Failure::new(
            THUJA_STATUS_PANIC,
            format!("internal error (a panic, caught; nothing was changed): {what}"),
        ))
    });
    let (status, text) = match outcome {
        Ok(()) => (THUJA_STATUS_OK, None),
        Err(failure) => (failure.status, Some(failure.message)),
    };
    if !message.is_null() {
        let out = text.map_or(ptr::null_mut(), |text| c_string(&text).into_raw());
        // SAFETY: the caller passes NULL (checked above) or a pointer to a writable
        // `char *` (the documented contract of every function's `message`).
        unsafe { message.write(out) };
    }
    status
}

/// An out-pointer checked not to be NULL and already set to NULL, so that it holds NULL on
/// every failure.
struct Out<T>(*mut *mut T);

impl<T> Out<T> {
    /// # Safety
    /// `out` is NULL or points to a writable `T *`.
    unsafe fn new(out: *mut *mut T, what: &str) -> Outcome<Self> {
        if out.is_null() {
            return Err(null(what));
        }
        // SAFETY: not NULL, and writable by the caller's contract.
        unsafe { out.write(ptr::null_mut()) };
        Ok(Out(out))
    }

    fn set(self, value: *mut T) {
        // SAFETY: `Out::new` checked the pointer and the caller's contract makes it writable.
        unsafe { self.0.write(value) }
    }
}

fn null(what: &str) -> Failure {
    Failure::new(THUJA_STATUS_NULL_POINTER, format!("`{what}` is NULL"))
}

/// # Safety
/// `text` is NULL or a NUL-terminated string that stays valid and unchanged for `'a`.
unsafe fn optional_str<'a>(text: *const c_char, what: &str) -> Outcome<Option<&'a str>> {
    if text.is_null() {
        return Ok(None);
    }
    // SAFETY: not NULL, and NUL-terminated and valid for 'a by the caller's contract.
    let text = unsafe { CStr::from_ptr(text) };
    text.to_str().map(Some).map_err(|e| {
        Failure::new(
            THUJA_STATUS_INVALID_UTF8,
            format!("`{what}` is not valid UTF-8: {e}"),
        )
    })
}

/// # Safety
/// As [`optional_str`].
unsafe fn required_str<'a>(text: *const c_char, what: &str) -> Outcome<&'a str> {
    // SAFETY: the caller's contract is `optional_str`'s.
    unsafe { optional_str(text, what) }?.ok_or_else(|| null(what))
}

/// # Safety
/// `engine` is NULL or a handle from `thuja_engine_from_*` not yet freed, for `'a`.
unsafe fn engine_ref<'a>(engine: *const ThujaEngine) -> Outcome<&'a Handle> {
    // SAFETY: NULL is checked by `as_ref`; otherwise a live handle by the caller's contract.
    let engine = unsafe { engine.as_ref() }.ok_or_else(|| null("engine"))?;
    Ok(&engine.handle)
}

/// # Safety
/// `options` is NULL or points to a `ThujaEngineOptions`.
unsafe fn options(options: *const ThujaEngineOptions) -> Outcome<Options> {
    // SAFETY: NULL is checked by `as_ref`; otherwise readable by the caller's contract.
    match unsafe { options.as_ref() } {
        None => Ok(Options::default()),
        Some(o) => Options::new(o.evaluator, o.schema_format, o.request_validation),
    }
}

fn into_handle(handle: Handle) -> *mut ThujaEngine {
    Box::into_raw(Box::new(ThujaEngine { handle }))
}

fn string_out(out: Out<c_char>, text: &str) {
    out.set(c_string(text).into_raw());
}

/// The library's version, e.g. `"0.1.0"`: a static string, not to be freed.
#[unsafe(no_mangle)]
pub extern "C" fn thuja_version() -> *const c_char {
    panic::catch_unwind(|| {
        let version = concat!(env!("CARGO_PKG_VERSION"), "\0");
        CStr::from_bytes_with_nul(version.as_bytes()).unwrap_or(c"unknown")
    })
    .unwrap_or(c"unknown")
    .as_ptr()
}

/// The name of a status code, e.g. `"THUJA_STATUS_INPUT"` (`"THUJA_STATUS_UNKNOWN"` for a
/// number that is none): a static string, not to be freed.
#[unsafe(no_mangle)]
pub extern "C" fn thuja_status_name(status: ThujaStatus) -> *const c_char {
    panic::catch_unwind(|| status_name(status))
        .unwrap_or(c"THUJA_STATUS_UNKNOWN")
        .as_ptr()
}

/// The default options: the VM, schemas in the `.cedarschema` format, request validation on.
#[unsafe(no_mangle)]
pub extern "C" fn thuja_engine_options_default() -> ThujaEngineOptions {
    let defaults = ThujaEngineOptions {
        evaluator: THUJA_EVALUATOR_VM,
        schema_format: THUJA_SCHEMA_FORMAT_CEDAR,
        request_validation: true,
    };
    panic::catch_unwind(|| ThujaEngineOptions {
        request_validation: Options::default().request_validation,
        ..defaults
    })
    .unwrap_or(defaults)
}

/// Builds an engine from texts: `policies` (Cedar policies; required), and optionally (NULL
/// for none) `schema` (in the format `options` gives), `entities` (Cedar's entities JSON) and
/// `links` (template links as the `cedar` CLI's `--template-linked` JSON). Policies with an
/// `@id("...")` annotation get that id. `options` may be NULL for the defaults.
///
/// On success `*engine` is the new handle (free it with `thuja_engine_free`); on failure it is
/// NULL. Messages name the inputs `policies.cedar`, `schema.cedarschema` (or
/// `schema.cedarschema.json`), `entities.json` and `links.json`.
///
/// # Safety
/// Every string argument is NULL or a NUL-terminated string; `options` is NULL or points to a
/// `ThujaEngineOptions`; `engine` points to a writable `ThujaEngine *`; `message` is NULL or
/// points to a writable `char *`, set to NULL on success and to a message to free with
/// `thuja_string_free` on failure (as for every function with a `message`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn thuja_engine_from_strings(
    policies: *const c_char,
    schema: *const c_char,
    entities: *const c_char,
    links: *const c_char,
    options: *const ThujaEngineOptions,
    engine: *mut *mut ThujaEngine,
    message: *mut *mut c_char,
) -> ThujaStatus {
    guard(message, || {
        // SAFETY (for the block): the arguments are as this function's contract says.
        let (out, sources, options) = unsafe {
            let out = Out::new(engine, "engine")?;
            let sources = Sources {
                policies: Input::Text(required_str(policies, "policies")?),
                schema: optional_str(schema, "schema")?.map(Input::Text),
                entities: optional_str(entities, "entities")?.map(Input::Text),
                links: optional_str(links, "links")?.map(Input::Text),
            };
            (out, sources, self::options(options)?)
        };
        out.set(into_handle(calls::build(sources, options)?));
        Ok(())
    })
}

/// Builds an engine from files, as `thuja_engine_from_strings` does from texts: the paths of
/// the policies (required), and optionally (NULL for none) of the schema, the entities and the
/// template links. Messages name the files by these paths.
///
/// # Safety
/// As for `thuja_engine_from_strings`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn thuja_engine_from_files(
    policies_path: *const c_char,
    schema_path: *const c_char,
    entities_path: *const c_char,
    links_path: *const c_char,
    options: *const ThujaEngineOptions,
    engine: *mut *mut ThujaEngine,
    message: *mut *mut c_char,
) -> ThujaStatus {
    guard(message, || {
        // SAFETY (for the block): the arguments are as this function's contract says.
        let (out, sources, options) = unsafe {
            let out = Out::new(engine, "engine")?;
            let sources = Sources {
                policies: Input::File(required_str(policies_path, "policies_path")?),
                schema: optional_str(schema_path, "schema_path")?.map(Input::File),
                entities: optional_str(entities_path, "entities_path")?.map(Input::File),
                links: optional_str(links_path, "links_path")?.map(Input::File),
            };
            (out, sources, self::options(options)?)
        };
        out.set(into_handle(calls::build(sources, options)?));
        Ok(())
    })
}

/// Frees an engine handle (NULL: nothing). No call on it may be running or start afterwards;
/// decisions already answered are unaffected.
///
/// # Safety
/// `engine` is NULL or a handle from `thuja_engine_from_*` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn thuja_engine_free(engine: *mut ThujaEngine) {
    let _ = guard(ptr::null_mut(), || {
        if !engine.is_null() {
            // SAFETY: a handle made by `into_handle` (`Box::into_raw`), freed once, by the
            // caller's contract.
            drop(unsafe { Box::from_raw(engine) });
        }
        Ok(())
    });
}

/// Decides one request. `principal`, `action` and `resource` are entity uids, as Cedar text
/// (`User::"alice"`) or as JSON (`{"type": "User", "id": "alice"}`); `context` is a JSON
/// object, or NULL for `{}`. With a schema the context is read with the action's context type
/// and, with request validation on, the request is validated.
///
/// On success `*response` is the answer (free it with `thuja_response_free`); on failure NULL.
///
/// # Safety
/// `engine` is a live handle; the strings are NULL or NUL-terminated; `response` points to a
/// writable `ThujaResponse *`; `message` as for `thuja_engine_from_strings`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn thuja_engine_decide(
    engine: *const ThujaEngine,
    principal: *const c_char,
    action: *const c_char,
    resource: *const c_char,
    context: *const c_char,
    response: *mut *mut ThujaResponse,
    message: *mut *mut c_char,
) -> ThujaStatus {
    guard(message, || {
        // SAFETY (for the block): the arguments are as this function's contract says.
        let (handle, out, principal, action, resource, context) = unsafe {
            (
                engine_ref(engine)?,
                Out::new(response, "response")?,
                required_str(principal, "principal")?,
                required_str(action, "action")?,
                required_str(resource, "resource")?,
                optional_str(context, "context")?,
            )
        };
        let answer = calls::decide(handle, principal, action, resource, context)?;
        let owned = Box::into_raw(OwnedResponse::new(&answer));
        // A pointer to an `OwnedResponse` is one to its first field (`repr(C)`).
        out.set(owned.cast::<ThujaResponse>());
        Ok(())
    })
}

/// Frees a response (NULL: nothing).
///
/// # Safety
/// `response` is NULL or a response from `thuja_engine_decide` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn thuja_response_free(response: *mut ThujaResponse) {
    let _ = guard(ptr::null_mut(), || {
        if !response.is_null() {
            // SAFETY: made by `Box::into_raw` of an `OwnedResponse` and cast to its first
            // field (`repr(C)`), freed once, by the caller's contract.
            drop(unsafe { Box::from_raw(response.cast::<OwnedResponse>()) });
        }
        Ok(())
    });
}

/// Decides one request given as JSON, as the `cedar` CLI's request file:
/// `{"principal": ..., "action": ..., "resource": ..., "context": {...}}` (uids as Cedar text
/// or JSON; `context` optional). On success `*response_json` is the answer as JSON:
/// `{"decision":"allow","reasons":["policy0"],"errors":[{"policy":"policy1","message":"...",
/// "location":{"file":"policies.cedar","line":4,"column":16}}]}` (`location` may be null); free
/// it with `thuja_string_free`. On failure it is NULL.
///
/// # Safety
/// `engine` is a live handle; `request` is NULL or NUL-terminated; `response_json` points to a
/// writable `char *`; `message` as for `thuja_engine_from_strings`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn thuja_engine_decide_json(
    engine: *const ThujaEngine,
    request: *const c_char,
    response_json: *mut *mut c_char,
    message: *mut *mut c_char,
) -> ThujaStatus {
    guard(message, || {
        // SAFETY (for the block): the arguments are as this function's contract says.
        let (handle, out, request) = unsafe {
            (
                engine_ref(engine)?,
                Out::new(response_json, "response_json")?,
                required_str(request, "request")?,
            )
        };
        string_out(out, &calls::decide_json(handle, request)?);
        Ok(())
    })
}

/// Decides a batch of requests, all on the same engine (a swap during the call affects none of
/// them): `requests` is a JSON array of requests, or JSON Lines (one request per line; blank
/// lines skipped), each as for `thuja_engine_decide_json`. On success `*responses_json` is a
/// JSON array with, in order, each request's answer as `thuja_engine_decide_json` gives it, or
/// `{"error":"..."}` for a request that could not be decided (the others still are); free it
/// with `thuja_string_free`. The call fails only when `requests` is not JSON at all.
///
/// # Safety
/// As for `thuja_engine_decide_json`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn thuja_engine_decide_batch(
    engine: *const ThujaEngine,
    requests: *const c_char,
    responses_json: *mut *mut c_char,
    message: *mut *mut c_char,
) -> ThujaStatus {
    guard(message, || {
        // SAFETY (for the block): the arguments are as this function's contract says.
        let (handle, out, requests) = unsafe {
            (
                engine_ref(engine)?,
                Out::new(responses_json, "responses_json")?,
                required_str(requests, "requests")?,
            )
        };
        string_out(out, &calls::decide_batch(handle, requests)?);
        Ok(())
    })
}

/// Replaces the engine's policies with `policies` (Cedar text; `@id` annotations name them) and
/// the template `links` (NULL for none); schema and entities stay. Requests in flight finish on
/// the old policies. On failure nothing changes.
///
/// # Safety
/// `engine` is a live handle; the strings are NULL or NUL-terminated; `message` as for
/// `thuja_engine_from_strings`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn thuja_engine_swap_policies(
    engine: *const ThujaEngine,
    policies: *const c_char,
    links: *const c_char,
    message: *mut *mut c_char,
) -> ThujaStatus {
    guard(message, || {
        // SAFETY (for the block): the arguments are as this function's contract says.
        let (handle, policies, links) = unsafe {
            (
                engine_ref(engine)?,
                required_str(policies, "policies")?,
                optional_str(links, "links")?,
            )
        };
        calls::swap_policies(handle, Input::Text(policies), links.map(Input::Text))
    })
}

/// `thuja_engine_swap_policies` with the policies, and optionally the links (NULL for none),
/// read from files.
///
/// # Safety
/// As for `thuja_engine_swap_policies`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn thuja_engine_swap_policies_from_files(
    engine: *const ThujaEngine,
    policies_path: *const c_char,
    links_path: *const c_char,
    message: *mut *mut c_char,
) -> ThujaStatus {
    guard(message, || {
        // SAFETY (for the block): the arguments are as this function's contract says.
        let (handle, policies, links) = unsafe {
            (
                engine_ref(engine)?,
                required_str(policies_path, "policies_path")?,
                optional_str(links_path, "links_path")?,
            )
        };
        calls::swap_policies(handle, Input::File(policies), links.map(Input::File))
    })
}

/// Adds the entities of `entities` (Cedar's entities JSON, read with the engine's schema),
/// replacing those with the same uids; the entities whose ancestors change with them are
/// updated. The rest of the engine is shared, not rebuilt. On failure nothing changes.
///
/// # Safety
/// `engine` is a live handle; `entities` is NULL or NUL-terminated; `message` as for
/// `thuja_engine_from_strings`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn thuja_engine_upsert_entities(
    engine: *const ThujaEngine,
    entities: *const c_char,
    message: *mut *mut c_char,
) -> ThujaStatus {
    guard(message, || {
        // SAFETY (for the block): the arguments are as this function's contract says.
        let (handle, entities) =
            unsafe { (engine_ref(engine)?, required_str(entities, "entities")?) };
        calls::upsert_entities(handle, entities)
    })
}

/// Removes the `uids_len` entities whose uids `uids` lists (each as Cedar text or JSON, as for
/// `thuja_engine_decide`; a uid not in the store is ignored). `uids` may be NULL when
/// `uids_len` is 0. On failure nothing changes.
///
/// # Safety
/// `engine` is a live handle; `uids` is NULL or points to `uids_len` pointers, each NULL or a
/// NUL-terminated string; `message` as for `thuja_engine_from_strings`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn thuja_engine_remove_entities(
    engine: *const ThujaEngine,
    uids: *const *const c_char,
    uids_len: usize,
    message: *mut *mut c_char,
) -> ThujaStatus {
    guard(message, || {
        // SAFETY (for the block): the arguments are as this function's contract says.
        let handle = unsafe { engine_ref(engine)? };
        let pointers: &[*const c_char] = if uids_len == 0 {
            &[]
        } else if uids.is_null() {
            return Err(null("uids"));
        } else if uids_len > isize::MAX as usize / size_of::<*const c_char>() {
            return Err(Failure::new(
                THUJA_STATUS_INVALID_ARGUMENT,
                format!("`uids_len` {uids_len} is larger than any array"),
            ));
        } else {
            // SAFETY: not NULL, `uids_len` readable pointers by the caller's contract, and a
            // size that fits in `isize`.
            unsafe { std::slice::from_raw_parts(uids, uids_len) }
        };
        let texts = pointers
            .iter()
            .enumerate()
            // SAFETY: each pointer is NULL or NUL-terminated by the caller's contract.
            .map(|(i, &text)| unsafe { required_str(text, &format!("uids[{i}]")) })
            .collect::<Outcome<Vec<&str>>>()?;
        calls::remove_entities(handle, &texts)
    })
}

/// Frees a string the library returned (a message or JSON; NULL: nothing).
///
/// # Safety
/// `text` is NULL or a string returned by this library, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn thuja_string_free(text: *mut c_char) {
    let _ = guard(ptr::null_mut(), || {
        if !text.is_null() {
            // SAFETY: made by `CString::into_raw`, freed once, by the caller's contract.
            drop(unsafe { CString::from_raw(text) });
        }
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_caught_and_reported() {
        let mut message: *mut c_char = ptr::null_mut();
        let status = guard(&mut message, || panic!("boom"));
        assert_eq!(status, THUJA_STATUS_PANIC);
        assert!(!message.is_null());
        // SAFETY: `guard` wrote a string from `CString::into_raw`.
        let text = unsafe { CString::from_raw(message) };
        let text = text.to_str().expect("UTF-8");
        assert!(text.contains("panic") && text.contains("boom"), "{text}");
    }

    #[test]
    fn a_panic_with_a_formatted_message_is_reported_and_null_message_is_allowed() {
        let status = guard(ptr::null_mut(), || panic!("{} went wrong", 42));
        assert_eq!(status, THUJA_STATUS_PANIC);
        let mut message: *mut c_char = ptr::null_mut();
        let status = guard(&mut message, || panic!("{} went wrong", 42));
        assert_eq!(status, THUJA_STATUS_PANIC);
        // SAFETY: `guard` wrote a string from `CString::into_raw`.
        let text = unsafe { CString::from_raw(message) };
        assert!(
            text.to_str().is_ok_and(|t| t.contains("42 went wrong")),
            "{text:?}"
        );
    }

    /// Every exported function catches panics: its body runs in `guard` or `catch_unwind`.
    #[test]
    fn every_entry_catches_panics() {
        let source = include_str!("ffi.rs");
        let tests_start = source.find("#[cfg(test)]").unwrap_or(source.len());
        let entries: Vec<&str> = source[..tests_start]
            .split("#[unsafe(no_mangle)]")
            .skip(1)
            .collect();
        assert!(entries.len() >= 15, "{} entries", entries.len());
        for entry in entries {
            let name = entry
                .split("fn ")
                .nth(1)
                .and_then(|rest| rest.split('(').next())
                .unwrap_or("?");
            assert!(
                entry.contains("guard(") || entry.contains("panic::catch_unwind("),
                "`{name}` does not catch panics"
            );
        }
    }

    #[test]
    fn strings_with_nul_are_kept_readable() {
        assert_eq!(c_string("a\0b").to_str().ok(), Some("a\u{FFFD}b"));
    }
}
