//! The C ABI called from Rust as C calls it: statuses and messages, the outputs, ownership
//! (everything returned is freed here through the library's free functions), NULL pointers,
//! invalid UTF-8, bad inputs with located messages, and one handle shared by threads while its
//! policies and entities change.

// Calling `extern "C"` functions with raw pointers needs `unsafe`: these tests do what a C
// program does. Each block says why its pointers are valid.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char};
use std::ptr;

use thuja_capi::*;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/tinytodo");

fn example(file: &str) -> String {
    format!("{EXAMPLE}/{file}")
}

fn read(file: &str) -> String {
    std::fs::read_to_string(example(file)).expect("example file")
}

fn c(text: &str) -> CString {
    CString::new(text).expect("no NUL")
}

/// A message returned by the library, read and freed.
fn take_string(text: *mut c_char) -> Option<String> {
    if text.is_null() {
        return None;
    }
    // SAFETY: a string the library returned, read once and freed once.
    unsafe {
        let owned = CStr::from_ptr(text).to_str().expect("UTF-8").to_string();
        thuja_string_free(text);
        Some(owned)
    }
}

/// A status and the message that came with it.
#[derive(Debug)]
struct Failed {
    status: ThujaStatus,
    message: String,
}

fn outcome(status: ThujaStatus, message: *mut c_char) -> Result<(), Failed> {
    let message = take_string(message);
    if status == THUJA_STATUS_OK {
        assert_eq!(message, None, "a message on success");
        Ok(())
    } else {
        Err(Failed {
            status,
            message: message.expect("every failure has a message"),
        })
    }
}

/// An engine handle, freed on drop.
#[derive(Debug)]
struct Engine(*mut ThujaEngine);

// SAFETY: the library promises a handle may be used from any thread, by many at once.
unsafe impl Send for Engine {}
// SAFETY: as above.
unsafe impl Sync for Engine {}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: a handle from `thuja_engine_from_*`, freed once.
        unsafe { thuja_engine_free(self.0) }
    }
}

fn opt(text: Option<&CString>) -> *const c_char {
    text.map_or(ptr::null(), |t| t.as_ptr())
}

fn from_strings(
    policies: &str,
    schema: Option<&str>,
    entities: Option<&str>,
    links: Option<&str>,
    options: Option<ThujaEngineOptions>,
) -> Result<Engine, Failed> {
    let (policies, schema, entities, links) =
        (c(policies), schema.map(c), entities.map(c), links.map(c));
    let mut engine = ptr::null_mut();
    let mut message = ptr::null_mut();
    // SAFETY: NUL-terminated strings or NULL, options on the stack or NULL, writable outs.
    let status = unsafe {
        thuja_engine_from_strings(
            policies.as_ptr(),
            opt(schema.as_ref()),
            opt(entities.as_ref()),
            opt(links.as_ref()),
            options.as_ref().map_or(ptr::null(), |o| o as *const _),
            &mut engine,
            &mut message,
        )
    };
    outcome(status, message)
        .map(|()| {
            assert!(!engine.is_null());
            Engine(engine)
        })
        .inspect_err(|_| assert!(engine.is_null(), "no handle on failure"))
}

fn tinytodo_from_files(options: Option<ThujaEngineOptions>) -> Engine {
    let (policies, schema, entities) = (
        c(&example("policies.cedar")),
        c(&example("tinytodo.cedarschema")),
        c(&example("entities.json")),
    );
    let mut engine = ptr::null_mut();
    let mut message = ptr::null_mut();
    // SAFETY: NUL-terminated paths, NULL links, writable outs.
    let status = unsafe {
        thuja_engine_from_files(
            policies.as_ptr(),
            schema.as_ptr(),
            entities.as_ptr(),
            ptr::null(),
            options.as_ref().map_or(ptr::null(), |o| o as *const _),
            &mut engine,
            &mut message,
        )
    };
    outcome(status, message).expect("the example builds");
    Engine(engine)
}

/// A response copied out of the library's `ThujaResponse`, which is freed.
#[derive(Debug, PartialEq)]
struct Answer {
    allow: bool,
    reasons: Vec<String>,
    errors: Vec<PolicyFailure>,
}

/// A `ThujaPolicyError`: the policy, the message, and the file, line and column if known.
type PolicyFailure = (String, String, Option<(String, u32, u32)>);

fn text_at(text: *const c_char) -> String {
    // SAFETY: a string of a live response.
    unsafe { CStr::from_ptr(text) }
        .to_str()
        .expect("UTF-8")
        .to_string()
}

fn decide(
    engine: &Engine,
    principal: &str,
    action: &str,
    resource: &str,
    context: Option<&str>,
) -> Result<Answer, Failed> {
    let (principal, action, resource, context) =
        (c(principal), c(action), c(resource), context.map(c));
    let mut response: *mut ThujaResponse = ptr::null_mut();
    let mut message = ptr::null_mut();
    // SAFETY: a live handle, NUL-terminated strings or NULL, writable outs.
    let status = unsafe {
        thuja_engine_decide(
            engine.0,
            principal.as_ptr(),
            action.as_ptr(),
            resource.as_ptr(),
            opt(context.as_ref()),
            &mut response,
            &mut message,
        )
    };
    if let Err(failed) = outcome(status, message) {
        assert!(response.is_null(), "no response on failure");
        return Err(failed);
    }
    // SAFETY: a response the call returned, read and then freed once; its arrays hold
    // `*_len` elements.
    unsafe {
        let r = &*response;
        let reasons = if r.reasons_len == 0 {
            assert!(r.reasons.is_null());
            Vec::new()
        } else {
            std::slice::from_raw_parts(r.reasons, r.reasons_len)
                .iter()
                .map(|&t| text_at(t))
                .collect()
        };
        let errors = if r.errors_len == 0 {
            assert!(r.errors.is_null());
            Vec::new()
        } else {
            std::slice::from_raw_parts(r.errors, r.errors_len)
                .iter()
                .map(|e| {
                    let location = (!e.file.is_null()).then(|| (text_at(e.file), e.line, e.column));
                    (text_at(e.policy_id), text_at(e.message), location)
                })
                .collect()
        };
        let answer = Answer {
            allow: {
                assert!(
                    [THUJA_DECISION_ALLOW, THUJA_DECISION_DENY].contains(&r.decision),
                    "decision {}",
                    r.decision
                );
                r.decision == THUJA_DECISION_ALLOW
            },
            reasons,
            errors,
        };
        thuja_response_free(response);
        Ok(answer)
    }
}

type JsonCall = unsafe extern "C" fn(
    *const ThujaEngine,
    *const c_char,
    *mut *mut c_char,
    *mut *mut c_char,
) -> ThujaStatus;

fn json_call(call: JsonCall, engine: &Engine, input: &str) -> Result<serde_json::Value, Failed> {
    let input = c(input);
    let mut out = ptr::null_mut();
    let mut message = ptr::null_mut();
    // SAFETY: a live handle, a NUL-terminated string, writable outs.
    let status = unsafe { call(engine.0, input.as_ptr(), &mut out, &mut message) };
    if let Err(failed) = outcome(status, message) {
        assert!(out.is_null(), "no output on failure");
        return Err(failed);
    }
    let text = take_string(out).expect("an answer");
    Ok(serde_json::from_str(&text).expect("JSON"))
}

fn decide_json(engine: &Engine, request: &str) -> Result<serde_json::Value, Failed> {
    json_call(thuja_engine_decide_json, engine, request)
}

fn decide_batch(engine: &Engine, requests: &str) -> Result<serde_json::Value, Failed> {
    json_call(thuja_engine_decide_batch, engine, requests)
}

fn swap_policies(engine: &Engine, policies: &str, links: Option<&str>) -> Result<(), Failed> {
    let (policies, links) = (c(policies), links.map(c));
    let mut message = ptr::null_mut();
    // SAFETY: a live handle, NUL-terminated strings or NULL, a writable out.
    let status = unsafe {
        thuja_engine_swap_policies(
            engine.0,
            policies.as_ptr(),
            opt(links.as_ref()),
            &mut message,
        )
    };
    outcome(status, message)
}

fn upsert(engine: &Engine, entities: &str) -> Result<(), Failed> {
    let entities = c(entities);
    let mut message = ptr::null_mut();
    // SAFETY: a live handle, a NUL-terminated string, a writable out.
    let status = unsafe { thuja_engine_upsert_entities(engine.0, entities.as_ptr(), &mut message) };
    outcome(status, message)
}

fn remove(engine: &Engine, uids: &[&str]) -> Result<(), Failed> {
    let owned: Vec<CString> = uids.iter().map(|u| c(u)).collect();
    let pointers: Vec<*const c_char> = owned.iter().map(|u| u.as_ptr()).collect();
    let mut message = ptr::null_mut();
    // SAFETY: a live handle, `len` NUL-terminated strings, a writable out.
    let status = unsafe {
        thuja_engine_remove_entities(engine.0, pointers.as_ptr(), pointers.len(), &mut message)
    };
    outcome(status, message)
}

const ALICE: &str = r#"TinyTodo::User::"alice""#;
const BOB: &str = r#"TinyTodo::User::"bob""#;
const CASEY: &str = r#"TinyTodo::User::"casey""#;
const GROCERIES: &str = r#"TinyTodo::List::"groceries""#;

fn action(name: &str) -> String {
    format!(r#"TinyTodo::Action::"{name}""#)
}

#[test]
fn the_example_decides_from_files_with_every_evaluator() {
    for evaluator in [
        THUJA_EVALUATOR_VM,
        THUJA_EVALUATOR_JIT,
        THUJA_EVALUATOR_INTERP,
    ] {
        let options = ThujaEngineOptions {
            evaluator,
            ..thuja_engine_options_default()
        };
        let engine = tinytodo_from_files(Some(options));
        let editor = decide(&engine, ALICE, &action("UpdateTask"), GROCERIES, None).unwrap();
        assert_eq!(
            editor,
            Answer {
                allow: true,
                reasons: vec!["editors-edit".into()],
                errors: vec![],
            },
            "evaluator {evaluator}"
        );
        let reader = decide(&engine, CASEY, &action("UpdateTask"), GROCERIES, None).unwrap();
        assert!(!reader.allow && reader.reasons.is_empty());
        let owner = decide(
            &engine,
            BOB,
            &action("DeleteList"),
            GROCERIES,
            Some(r#"{"ip": "192.168.0.1"}"#),
        )
        .unwrap();
        assert_eq!(
            (owner.allow, owner.reasons),
            (false, vec!["delete-from-office-only".to_string()])
        );
    }
}

#[test]
fn uids_may_be_json_and_the_context_is_typed_by_the_schema() {
    let engine = tinytodo_from_files(None);
    let answer = decide(
        &engine,
        r#"{"type": "TinyTodo::User", "id": "bob"}"#,
        r#"{"__entity": {"type": "TinyTodo::Action", "id": "DeleteList"}}"#,
        GROCERIES,
        Some(r#"{"ip": "10.1.2.3"}"#),
    )
    .unwrap();
    assert_eq!(answer.reasons, ["owner-has-full-access"]);
    assert!(answer.allow);
}

#[test]
fn engines_from_strings_with_a_json_schema_and_links() {
    let schema_json = thuja::input::translate_schema(
        "tinytodo.cedarschema",
        &read("tinytodo.cedarschema"),
        thuja::input::SchemaFormat::Cedar,
    )
    .unwrap();
    let options = ThujaEngineOptions {
        schema_format: THUJA_SCHEMA_FORMAT_JSON,
        ..thuja_engine_options_default()
    };
    let policies = format!(
        "{}\n@id(\"readers-template\")\npermit(principal == ?principal, action == TinyTodo::Action::\"GetList\", resource);",
        read("policies.cedar")
    );
    let links = r#"[{"template_id": "readers-template", "link_id": "bob-reads",
                     "args": {"?principal": "TinyTodo::User::\"bob\""}}]"#;
    let engine = from_strings(
        &policies,
        Some(&schema_json),
        Some(&read("entities.json")),
        Some(links),
        Some(options),
    )
    .unwrap();
    let answer = decide(&engine, BOB, &action("GetList"), GROCERIES, None).unwrap();
    assert_eq!(answer.reasons, ["bob-reads", "owner-has-full-access"]);
    // The same schema read in the wrong format is a located error that says so.
    let err = from_strings(&policies, Some(&schema_json), None, None, None).unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_INPUT);
    assert!(
        err.message.starts_with("schema.cedarschema:1:1") && err.message.contains("JSON"),
        "{}",
        err.message
    );
}

#[test]
fn errors_in_policies_are_reported_with_their_location() {
    let policies = "permit(principal, action, resource);\n\npermit(principal, action, resource)\n  when { context.n > 1 };";
    let engine = from_strings(policies, None, None, None, None).unwrap();
    let answer = decide(
        &engine,
        r#"User::"a""#,
        r#"Action::"view""#,
        r#"Photo::"p""#,
        Some(r#"{"n": "one"}"#),
    )
    .unwrap();
    assert!(answer.allow);
    assert_eq!(answer.reasons, ["policy0"]);
    let [(policy, message, location)] = &answer.errors[..] else {
        panic!("one error: {answer:?}")
    };
    assert_eq!(policy, "policy1");
    assert!(message.contains("long"), "{message}");
    assert_eq!(location, &Some(("policies.cedar".to_string(), 4, 10)));
    // The same as JSON.
    let json = decide_json(
        &engine,
        r#"{"principal": "User::\"a\"", "action": {"type": "Action", "id": "view"},
            "resource": "Photo::\"p\"", "context": {"n": "one"}}"#,
    )
    .unwrap();
    assert_eq!(json["decision"], "allow");
    assert_eq!(json["reasons"], serde_json::json!(["policy0"]));
    assert_eq!(json["errors"][0]["policy"], "policy1");
    assert_eq!(json["errors"][0]["message"], message.as_str());
    assert_eq!(
        json["errors"][0]["location"],
        serde_json::json!({"file": "policies.cedar", "line": 4, "column": 10})
    );
}

#[test]
fn bad_inputs_are_refused_with_located_messages() {
    let err = from_strings(
        "permit(principal, action, resource)",
        None,
        None,
        None,
        None,
    )
    .unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_INPUT);
    assert!(
        err.message.starts_with("policies.cedar:1:"),
        "{}",
        err.message
    );

    let err = from_strings(
        "permit(principal, action, resource);",
        None,
        Some(r#"[{"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": [] "#),
        None,
        None,
    )
    .unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_INPUT);
    assert!(
        err.message.starts_with("entities.json:1:"),
        "{}",
        err.message
    );

    let engine = tinytodo_from_files(None);
    let err = decide(
        &engine,
        "TinyTodo::User::alice",
        &action("GetList"),
        GROCERIES,
        None,
    )
    .unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_INPUT);
    assert!(err.message.starts_with("principal:1:"), "{}", err.message);
    let err = decide(
        &engine,
        ALICE,
        &action("GetList"),
        GROCERIES,
        Some("{\"ip\": "),
    )
    .unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_INPUT);
    assert!(err.message.starts_with("context:1:"), "{}", err.message);
    let err = decide(
        &engine,
        r#"{"type": 1}"#,
        &action("GetList"),
        GROCERIES,
        None,
    )
    .unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_INPUT);
    assert!(err.message.contains("principal"), "{}", err.message);
    let err = decide_json(&engine, r#"{"principal": "#).unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_INPUT);
    assert!(err.message.starts_with("request:1:"), "{}", err.message);

    // Requests the schema refuses.
    let err = decide(
        &engine,
        ALICE,
        &action("GetList"),
        GROCERIES,
        Some(r#"{"mood": "good"}"#),
    )
    .unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_INPUT);
    assert!(err.message.contains("mood"), "{}", err.message);
    let err = decide(&engine, GROCERIES, &action("GetList"), GROCERIES, None).unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_INVALID_REQUEST);
    assert!(err.message.contains("principal"), "{}", err.message);
}

#[test]
fn missing_files_and_unknown_options_are_reported() {
    let (missing, mut engine, mut message) = (
        c(&example("no-such-file.cedar")),
        ptr::null_mut(),
        ptr::null_mut(),
    );
    // SAFETY: NUL-terminated path, NULLs, writable outs.
    let status = unsafe {
        thuja_engine_from_files(
            missing.as_ptr(),
            ptr::null(),
            ptr::null(),
            ptr::null(),
            ptr::null(),
            &mut engine,
            &mut message,
        )
    };
    let err = outcome(status, message).unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_IO);
    assert!(
        err.message.contains("no-such-file.cedar"),
        "{}",
        err.message
    );
    assert!(engine.is_null());

    for options in [
        ThujaEngineOptions {
            evaluator: 7,
            ..thuja_engine_options_default()
        },
        ThujaEngineOptions {
            schema_format: 9,
            ..thuja_engine_options_default()
        },
    ] {
        let err = from_strings("", None, None, None, Some(options)).unwrap_err();
        assert_eq!(err.status, THUJA_STATUS_INVALID_ARGUMENT, "{}", err.message);
    }
}

#[test]
fn null_pointers_are_errors() {
    let engine = tinytodo_from_files(None);
    let text = c("permit(principal, action, resource);");
    let mut out_engine: *mut ThujaEngine = ptr::null_mut();
    let mut out_string: *mut c_char = ptr::null_mut();
    let mut out_response: *mut ThujaResponse = ptr::null_mut();
    let (p_engine, p_string, p_response): (
        *mut *mut ThujaEngine,
        *mut *mut c_char,
        *mut *mut ThujaResponse,
    ) = (&mut out_engine, &mut out_string, &mut out_response);
    // Every call below has a NULL where a pointer is required, and an otherwise valid
    // argument list.
    let statuses: Vec<(&str, ThujaStatus, *mut c_char)> = {
        let mut runs = Vec::new();
        let mut run = |name, call: &dyn Fn(*mut *mut c_char) -> ThujaStatus| {
            let mut message = ptr::null_mut();
            let status = call(&mut message);
            runs.push((name, status, message));
        };
        // SAFETY (every closure): NULL where the test wants it, valid pointers elsewhere.
        run("from_strings policies", &|m| unsafe {
            thuja_engine_from_strings(
                ptr::null(),
                ptr::null(),
                ptr::null(),
                ptr::null(),
                ptr::null(),
                p_engine,
                m,
            )
        });
        run("from_strings out", &|m| unsafe {
            thuja_engine_from_strings(
                text.as_ptr(),
                ptr::null(),
                ptr::null(),
                ptr::null(),
                ptr::null(),
                ptr::null_mut(),
                m,
            )
        });
        run("from_files policies", &|m| unsafe {
            thuja_engine_from_files(
                ptr::null(),
                ptr::null(),
                ptr::null(),
                ptr::null(),
                ptr::null(),
                p_engine,
                m,
            )
        });
        run("decide engine", &|m| unsafe {
            thuja_engine_decide(
                ptr::null(),
                text.as_ptr(),
                text.as_ptr(),
                text.as_ptr(),
                ptr::null(),
                p_response,
                m,
            )
        });
        run("decide principal", &|m| unsafe {
            thuja_engine_decide(
                engine.0,
                ptr::null(),
                text.as_ptr(),
                text.as_ptr(),
                ptr::null(),
                p_response,
                m,
            )
        });
        run("decide out", &|m| unsafe {
            thuja_engine_decide(
                engine.0,
                text.as_ptr(),
                text.as_ptr(),
                text.as_ptr(),
                ptr::null(),
                ptr::null_mut(),
                m,
            )
        });
        run("decide_json request", &|m| unsafe {
            thuja_engine_decide_json(engine.0, ptr::null(), p_string, m)
        });
        run("decide_json out", &|m| unsafe {
            thuja_engine_decide_json(engine.0, text.as_ptr(), ptr::null_mut(), m)
        });
        run("decide_batch engine", &|m| unsafe {
            thuja_engine_decide_batch(ptr::null(), text.as_ptr(), p_string, m)
        });
        run("swap policies", &|m| unsafe {
            thuja_engine_swap_policies(engine.0, ptr::null(), ptr::null(), m)
        });
        run("swap from files", &|m| unsafe {
            thuja_engine_swap_policies_from_files(engine.0, ptr::null(), ptr::null(), m)
        });
        run("upsert", &|m| unsafe {
            thuja_engine_upsert_entities(engine.0, ptr::null(), m)
        });
        run("remove uids", &|m| unsafe {
            thuja_engine_remove_entities(engine.0, ptr::null(), 2, m)
        });
        let one_null = [text.as_ptr(), ptr::null()];
        run("remove a uid", &|m| unsafe {
            thuja_engine_remove_entities(engine.0, one_null.as_ptr(), 2, m)
        });
        runs
    };
    for (name, status, message) in statuses {
        let err = outcome(status, message).unwrap_err();
        assert_eq!(
            err.status, THUJA_STATUS_NULL_POINTER,
            "{name}: {}",
            err.message
        );
        assert!(err.message.contains("is NULL"), "{name}: {}", err.message);
    }
    assert!(out_engine.is_null() && out_string.is_null() && out_response.is_null());

    // A NULL message pointer is allowed: only the status comes back.
    // SAFETY: valid pointers but the optional message.
    let status = unsafe { thuja_engine_upsert_entities(engine.0, ptr::null(), ptr::null_mut()) };
    assert_eq!(status, THUJA_STATUS_NULL_POINTER);
    // No uids at all, NULL array: nothing to do.
    remove(&engine, &[]).unwrap();
    // SAFETY: zero uids, NULL array allowed.
    let status = unsafe { thuja_engine_remove_entities(engine.0, ptr::null(), 0, ptr::null_mut()) };
    assert_eq!(status, THUJA_STATUS_OK);
    // The free functions accept NULL.
    // SAFETY: NULL is documented as nothing to free.
    unsafe {
        thuja_engine_free(ptr::null_mut());
        thuja_response_free(ptr::null_mut());
        thuja_string_free(ptr::null_mut());
    }
}

#[test]
fn invalid_utf8_is_an_error() {
    let bad = CString::new(vec![b'p', 0xff, b'x']).unwrap();
    let (mut engine, mut message) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: NUL-terminated (not UTF-8) string, NULLs, writable outs.
    let status = unsafe {
        thuja_engine_from_strings(
            bad.as_ptr(),
            ptr::null(),
            ptr::null(),
            ptr::null(),
            ptr::null(),
            &mut engine,
            &mut message,
        )
    };
    let err = outcome(status, message).unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_INVALID_UTF8);
    assert!(err.message.contains("`policies`"), "{}", err.message);
    assert!(engine.is_null());

    let handle = tinytodo_from_files(None);
    let (mut response, mut message) = (ptr::null_mut(), ptr::null_mut());
    let (good, act) = (c(ALICE), c(&action("GetList")));
    // SAFETY: a live handle, NUL-terminated strings, writable outs.
    let status = unsafe {
        thuja_engine_decide(
            handle.0,
            good.as_ptr(),
            act.as_ptr(),
            bad.as_ptr(),
            ptr::null(),
            &mut response,
            &mut message,
        )
    };
    let err = outcome(status, message).unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_INVALID_UTF8);
    assert!(err.message.contains("`resource`"), "{}", err.message);
    assert!(response.is_null());
}

#[test]
fn the_message_out_pointer_is_cleared_on_success() {
    let engine = tinytodo_from_files(None);
    let (request, mut out) = (c(&read("request.json")), ptr::null_mut());
    // Not a real string: the library must overwrite it without reading it.
    let mut message = std::ptr::dangling_mut::<c_char>();
    // SAFETY: a live handle, a NUL-terminated string, writable outs.
    let status =
        unsafe { thuja_engine_decide_json(engine.0, request.as_ptr(), &mut out, &mut message) };
    assert_eq!(status, THUJA_STATUS_OK);
    assert!(message.is_null());
    let json: serde_json::Value = serde_json::from_str(&take_string(out).unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"decision": "allow", "reasons": ["editors-edit"], "errors": []})
    );
}

#[test]
fn batches_are_decided_in_order_with_errors_in_place() {
    let engine = tinytodo_from_files(None);
    let request = read("request.json");
    let line = serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&request).unwrap())
        .unwrap();
    let denied = r#"{"principal": "TinyTodo::User::\"casey\"", "action": "TinyTodo::Action::\"UpdateTask\"", "resource": "TinyTodo::List::\"groceries\""}"#;
    let array = format!("[{request}, {denied}, {{\"principal\": 1}}]");
    let answers = decide_batch(&engine, &array).unwrap();
    let answers = answers.as_array().unwrap();
    assert_eq!(answers.len(), 3);
    assert_eq!(answers[0]["decision"], "allow");
    assert_eq!(answers[1]["decision"], "deny");
    assert!(
        answers[2]["error"]
            .as_str()
            .unwrap()
            .starts_with("request 2: "),
        "{}",
        answers[2]
    );

    let lines = format!("{line}\n\n{denied}\nnot json\n{line}\n");
    let answers = decide_batch(&engine, &lines).unwrap();
    let answers = answers.as_array().unwrap();
    let decisions: Vec<&str> = answers
        .iter()
        .map(|a| a["decision"].as_str().unwrap_or("error"))
        .collect();
    assert_eq!(decisions, ["allow", "deny", "error", "allow"]);
    assert!(
        answers[2]["error"]
            .as_str()
            .unwrap()
            .starts_with("line 4: ")
    );

    assert_eq!(decide_batch(&engine, "").unwrap(), serde_json::json!([]));
    let err = decide_batch(&engine, "[1, ").unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_INPUT);
}

#[test]
fn policies_are_swapped_and_a_failed_swap_changes_nothing() {
    let engine = from_strings(
        r#"permit(principal == User::"a", action, resource);"#,
        None,
        None,
        None,
        None,
    )
    .unwrap();
    let ask = |who: &str| {
        decide(
            &engine,
            &format!("User::\"{who}\""),
            r#"Action::"view""#,
            r#"Photo::"p""#,
            None,
        )
        .unwrap()
    };
    assert!(ask("a").allow && !ask("b").allow);
    swap_policies(
        &engine,
        r#"@id("bees") permit(principal == User::"b", action, resource);"#,
        None,
    )
    .unwrap();
    assert!(!ask("a").allow);
    assert_eq!(ask("b").reasons, ["bees"]);

    let err = swap_policies(&engine, "permit(principal, action, resource", None).unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_INPUT);
    assert!(
        err.message.starts_with("policies.cedar:1:"),
        "{}",
        err.message
    );
    let err = swap_policies(
        &engine,
        "permit(principal == ?principal, action, resource);",
        Some(r#"[{"template_id": "nope", "link_id": "l", "args": {}}]"#),
    )
    .unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_INPUT);
    assert!(err.message.contains("links.json"), "{}", err.message);
    assert_eq!(ask("b").reasons, ["bees"], "unchanged after failed swaps");

    // From files.
    let (policies, mut message) = (c(&example("policies.cedar")), ptr::null_mut());
    // SAFETY: a live handle, a NUL-terminated path, NULL links, a writable out.
    let status = unsafe {
        thuja_engine_swap_policies_from_files(
            engine.0,
            policies.as_ptr(),
            ptr::null(),
            &mut message,
        )
    };
    outcome(status, message).unwrap();
    assert!(!ask("b").allow);
    let answer = decide(
        &engine,
        "TinyTodo::User::\"x\"",
        &action("GetLists"),
        "TinyTodo::Application::\"TinyTodo\"",
        None,
    )
    .unwrap();
    assert_eq!(answer.reasons, ["anyone-creates-lists"]);
}

#[test]
fn entities_are_upserted_and_removed() {
    let engine = tinytodo_from_files(None);
    let dana = r#"TinyTodo::User::"dana""#;
    assert!(
        !decide(&engine, dana, &action("GetList"), GROCERIES, None)
            .unwrap()
            .allow
    );
    upsert(
        &engine,
        r#"[{"uid": {"type": "TinyTodo::User", "id": "dana"}, "attrs": {"name": "Dana"},
             "parents": [{"type": "TinyTodo::Team", "id": "groceries-readers"}]}]"#,
    )
    .unwrap();
    let answer = decide(&engine, dana, &action("GetList"), GROCERIES, None).unwrap();
    assert_eq!(answer.reasons, ["readers-read"]);

    // Removed (a uid not in the store is ignored), dana is no longer a member.
    remove(
        &engine,
        &[
            r#"{"type": "TinyTodo::User", "id": "dana"}"#,
            r#"TinyTodo::User::"nobody""#,
        ],
    )
    .unwrap();
    assert!(
        !decide(&engine, dana, &action("GetList"), GROCERIES, None)
            .unwrap()
            .allow
    );

    // Entities that do not conform to the schema, actions, cycles: refused, nothing changes.
    let err = upsert(
        &engine,
        r#"[{"uid": {"type": "TinyTodo::User", "id": "eve"}, "attrs": {}, "parents": []}]"#,
    )
    .unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_INPUT);
    assert!(err.message.contains("name"), "{}", err.message);
    let err = remove(&engine, &[&action("GetList")]).unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_BUILD);
    assert!(err.message.contains("action"), "{}", err.message);
    let err = upsert(
        &engine,
        r#"[{"uid": {"type": "TinyTodo::Team", "id": "everyone"}, "attrs": {},
             "parents": [{"type": "TinyTodo::Team", "id": "interns"}]}]"#,
    )
    .unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_BUILD);
    let err = remove(&engine, &["TinyTodo::User::"]).unwrap_err();
    assert_eq!(err.status, THUJA_STATUS_INPUT);
    assert!(err.message.starts_with("uid 0:1:"), "{}", err.message);
    let answer = decide(&engine, ALICE, &action("UpdateTask"), GROCERIES, None).unwrap();
    assert_eq!(answer.reasons, ["editors-edit"]);
}

#[test]
fn statuses_have_names_and_the_version_is_static() {
    let name = |status| {
        // SAFETY: a static string.
        unsafe { CStr::from_ptr(thuja_status_name(status)) }
            .to_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(name(THUJA_STATUS_OK), "THUJA_STATUS_OK");
    assert_eq!(
        name(THUJA_STATUS_INVALID_REQUEST),
        "THUJA_STATUS_INVALID_REQUEST"
    );
    assert_eq!(name(THUJA_STATUS_PANIC), "THUJA_STATUS_PANIC");
    assert_eq!(name(1000), "THUJA_STATUS_UNKNOWN");
    // SAFETY: a static string.
    let version = unsafe { CStr::from_ptr(thuja_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    let defaults = thuja_engine_options_default();
    assert_eq!(
        (
            defaults.evaluator,
            defaults.schema_format,
            defaults.request_validation
        ),
        (THUJA_EVALUATOR_VM, THUJA_SCHEMA_FORMAT_CEDAR, true)
    );
}

/// One handle, four threads deciding, one swapping policies and upserting entities: every
/// call succeeds, and every answer is one the engine could give at some point (policy version
/// `v` allows members of group `v % 3`; entity version `e` puts user `u` in group `(u + e) % 3`).
#[test]
fn one_handle_is_shared_by_threads_while_it_changes() {
    const USERS: usize = 6;
    let policies = |v: usize| {
        format!(
            r#"@id("v{v}") permit(principal in Group::"g{}", action, resource);"#,
            v % 3
        )
    };
    let users = |e: usize| {
        let list: Vec<String> = (0..USERS)
            .map(|u| {
                format!(
                    r#"{{"uid": {{"type": "User", "id": "u{u}"}}, "attrs": {{}}, "parents": [{{"type": "Group", "id": "g{}"}}]}}"#,
                    (u + e) % 3
                )
            })
            .collect();
        format!("[{}]", list.join(","))
    };
    let engine = from_strings(&policies(0), None, Some(&users(0)), None, None).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (engine, done) = (&engine, &done);
            scope.spawn(move || {
                let mut asked = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) || asked < 50 {
                    let u = (t + asked) % USERS;
                    let answer = decide(
                        engine,
                        &format!("User::\"u{u}\""),
                        r#"Action::"a""#,
                        r#"R::"r""#,
                        None,
                    )
                    .expect("every decision succeeds");
                    assert!(answer.errors.is_empty());
                    match &answer.reasons[..] {
                        [] => assert!(!answer.allow),
                        [reason] => {
                            assert!(answer.allow && reason.starts_with('v'), "{answer:?}")
                        }
                        _ => panic!("{answer:?}"),
                    }
                    asked += 1;
                }
            });
        }
        for step in 1..=60 {
            if step % 2 == 1 {
                swap_policies(&engine, &policies(step / 2 + 1), None).unwrap();
            } else {
                upsert(&engine, &users(step / 2)).unwrap();
            }
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    // The last state: policy version 30 (group 0), entity version 30 (user u in group u % 3).
    for u in 0..USERS {
        let answer = decide(
            &engine,
            &format!("User::\"u{u}\""),
            r#"Action::"a""#,
            r#"R::"r""#,
            None,
        )
        .unwrap();
        assert_eq!(answer.allow, u % 3 == 0, "u{u}");
        if answer.allow {
            assert_eq!(answer.reasons, ["v30"]);
        }
    }
}
