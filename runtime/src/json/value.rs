//! Cedar values in JSON, and checking values against schema types.
//!
//! Without an expected type a value is read as Cedar reads it untyped: booleans, integers
//! (`i64` only), strings, arrays as sets, objects as records, plus two escapes:
//!
//! * `{"__entity": {"type": "A::B", "id": "x"}}` — an entity reference;
//! * `{"__extn": {"fn": "decimal", "arg": "1.0"}}` (or `"args": [...]`) — an extension function
//!   call, evaluated when read.
//!
//! As in Cedar, an escape is recognized only as an object whose single key is the escape and
//! whose content has the expected fields; anything else is an ordinary record. `null`,
//! non-integer numbers and the removed `__expr` escape are errors.
//!
//! With an expected type, an entity reference may also be written `{"type": .., "id": ..}`, an
//! extension value as its constructor's argument (`"10.0.0.1"` for an `ipaddr`), or as a bare
//! `{"fn": .., "arg": ..}`; records are read attribute by attribute (required attributes must be
//! present, no others may be) and sets element by element. The readers then check the value
//! against the type with [`typecheck_value`].

use std::collections::BTreeMap;
use std::sync::Arc;

use smol_str::SmolStr;

use super::limits::{MAX_CONTEXT_BYTES, too_long};
use crate::ext::ExtFn;
use crate::name::EntityType;
use crate::schema::{RecordType, Schema, SchemaType};
use crate::uid::EntityUid;
use crate::value::{Record, Value};

use super::JsonError;
use super::tree::{self, Duplicates, Json};

/// Reads one Cedar value from JSON text. With `expected`, the value is read as that type (so the
/// escapes may be implicit) and must conform to it.
pub fn value_from_json_str(src: &str, expected: Option<&SchemaType>) -> Result<Value, JsonError> {
    if src.len() > MAX_CONTEXT_BYTES {
        return Err(too_long(
            "value",
            src.len(),
            MAX_CONTEXT_BYTES,
            "MAX_CONTEXT_BYTES",
        ));
    }
    let json = tree::parse(src, Duplicates::Reject)?;
    value_from_tree(&json, expected)
}

/// Like [`value_from_json_str`], for an already parsed `serde_json::Value`.
pub fn value_from_json_value(
    json: &serde_json::Value,
    expected: Option<&SchemaType>,
) -> Result<Value, JsonError> {
    value_from_tree(&Json::from_value(json), expected)
}

fn value_from_tree(json: &Json, expected: Option<&SchemaType>) -> Result<Value, JsonError> {
    let loc = Loc::Value;
    match expected {
        None => untyped(json, &loc),
        Some(ty) => {
            let value = typed(json, ty, &loc)?;
            typecheck_value(&value, ty).map_err(|e| loc.error(e))?;
            Ok(value)
        }
    }
}

/// Where a value is being read, for error messages.
#[derive(Clone, Debug)]
pub(crate) enum Loc {
    Value,
    Context,
    EntityUid,
    Parents(EntityUid),
    Attr(EntityUid, Arc<str>),
    Tag(EntityUid, Arc<str>),
}

impl Loc {
    pub(crate) fn error(&self, msg: impl std::fmt::Display) -> JsonError {
        JsonError::new(match self {
            Loc::Value => format!("{msg}"),
            Loc::Context => format!("in context: {msg}"),
            Loc::EntityUid => format!("in an entity's uid: {msg}"),
            Loc::Parents(uid) => format!("in parents of `{uid}`: {msg}"),
            Loc::Attr(uid, attr) => format!("in attribute `{attr}` on `{uid}`: {msg}"),
            Loc::Tag(uid, tag) => format!("in tag `{tag}` on `{uid}`: {msg}"),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Untyped reading (Cedar's `CedarValueJson`)
// ---------------------------------------------------------------------------------------------

/// Reads a value with no expected type.
pub(crate) fn untyped(json: &Json, loc: &Loc) -> Result<Value, JsonError> {
    // Cedar first reads the whole value as JSON it accepts (integers only), so a bad number
    // anywhere is an error, even inside fields an escape ignores.
    check_numbers(json, loc)?;
    untyped_inner(json, loc)
}

fn check_numbers(json: &Json, loc: &Loc) -> Result<(), JsonError> {
    match json {
        Json::OtherNumber(n) => Err(loc.error(format!(
            "`{n}` is not a valid Cedar value: numbers must be integers between -9223372036854775808 and 9223372036854775807"
        ))),
        Json::Array(items) => items.iter().try_for_each(|i| check_numbers(i, loc)),
        Json::Object(entries) => entries.iter().try_for_each(|(_, v)| check_numbers(v, loc)),
        _ => Ok(()),
    }
}

/// The escape an object is, in the untyped reading.
enum Escape<'a> {
    Entity(&'a str, &'a str),
    Extn(&'a str, Vec<&'a Json>),
    Expr,
}

fn untyped_escape(entries: &[(SmolStr, Json)]) -> Option<Escape<'_>> {
    let [(key, inner)] = entries else {
        return None;
    };
    match (key.as_str(), inner) {
        ("__extn", Json::Object(fields)) if fields.len() >= 2 => {
            let name = inner.get("fn")?.as_str()?;
            if let Some(arg) = inner.get("arg") {
                return Some(Escape::Extn(name, vec![arg]));
            }
            match inner.get("args")? {
                Json::Array(args) => Some(Escape::Extn(name, args.iter().collect())),
                _ => None,
            }
        }
        ("__expr", Json::String(_)) => Some(Escape::Expr),
        ("__entity", Json::Object(fields)) if fields.len() >= 2 => {
            let ty = inner.get("type")?.as_str()?;
            let id = inner.get("id")?.as_str()?;
            Some(Escape::Entity(ty, id))
        }
        _ => None,
    }
}

fn untyped_inner(json: &Json, loc: &Loc) -> Result<Value, JsonError> {
    match json {
        Json::Null => Err(loc.error("found a `null`; JSON `null`s are not allowed in Cedar")),
        Json::Bool(b) => Ok(Value::Bool(*b)),
        Json::Int(i) => Ok(Value::Long(*i)),
        Json::OtherNumber(n) => Err(loc.error(format!("`{n}` is not a valid Cedar value"))),
        Json::String(s) => Ok(Value::string(s.as_str())),
        Json::Array(items) => items
            .iter()
            .map(|i| untyped_inner(i, loc))
            .collect::<Result<_, _>>()
            .map(Value::Set),
        Json::Object(entries) => match untyped_escape(entries) {
            Some(Escape::Entity(ty, id)) => Ok(Value::Entity(entity_uid(ty, id, loc)?)),
            Some(Escape::Extn(name, args)) => {
                let args = args
                    .into_iter()
                    .map(|a| untyped_inner(a, loc))
                    .collect::<Result<Vec<_>, _>>()?;
                call_extension(name, &args, loc)
            }
            Some(Escape::Expr) => Err(expr_escape_error(loc)),
            None => {
                let mut map = BTreeMap::new();
                for (k, v) in entries {
                    map.insert(Arc::from(k.as_str()), untyped_inner(v, loc)?);
                }
                Ok(Value::Record(Record::from(map)))
            }
        },
    }
}

fn expr_escape_error(loc: &Loc) -> JsonError {
    loc.error("the `__expr` escape is no longer supported")
}

/// Builds an entity uid from the parts of an `__entity` escape.
pub(crate) fn entity_uid(ty: &str, id: &str, loc: &Loc) -> Result<EntityUid, JsonError> {
    let ty = EntityType::parse(ty)
        .map_err(|e| loc.error(format!("invalid entity type in an entity reference: {e}")))?;
    Ok(EntityUid::new(ty, id))
}

/// Calls the extension function `name` on evaluated arguments.
fn call_extension(name: &str, args: &[Value], loc: &Loc) -> Result<Value, JsonError> {
    let f = lookup_extension(name, loc)?;
    f.call(args).map_err(|e| loc.error(e))
}

fn lookup_extension(name: &str, loc: &Loc) -> Result<ExtFn, JsonError> {
    if let Err(e) = EntityType::parse(name) {
        return Err(loc.error(format!(
            "invalid extension function name in `__extn` escape: {e}"
        )));
    }
    ExtFn::lookup(name)
        .ok_or_else(|| loc.error(format!("extension function `{name}` does not exist")))
}

// ---------------------------------------------------------------------------------------------
// Typed reading (Cedar's schema-based `ValueParser`)
// ---------------------------------------------------------------------------------------------

/// Reads a value expected to have type `ty`. This does not fully check the value against the
/// type (see [`typecheck_value`]); it decides how the JSON is read.
pub(crate) fn typed(json: &Json, ty: &SchemaType, loc: &Loc) -> Result<Value, JsonError> {
    match ty {
        SchemaType::Entity(_) => entity_ref(json, loc).map(Value::Entity),
        SchemaType::Ext(name) => typed_extension(json, name, loc),
        SchemaType::Set(elem) => match json {
            Json::Array(items) => items
                .iter()
                .map(|i| typed(i, elem, loc))
                .collect::<Result<_, _>>()
                .map(Value::Set),
            other => {
                let actual = untyped(other, loc)?;
                Err(loc.error(mismatch(ty, &actual)))
            }
        },
        SchemaType::Record(rt) => match json {
            Json::Object(entries) => typed_record(entries, rt, loc).map(Value::Record),
            other => {
                let actual = untyped(other, loc)?;
                Err(loc.error(mismatch(ty, &actual)))
            }
        },
        SchemaType::Bool | SchemaType::Long | SchemaType::String => untyped(json, loc),
    }
}

/// Reads the attributes of a record of type `rt`: every required attribute must be present, and
/// no attribute outside the type may be.
pub(crate) fn typed_record(
    entries: &[(SmolStr, Json)],
    rt: &RecordType,
    loc: &Loc,
) -> Result<Record, JsonError> {
    let mut map = BTreeMap::new();
    for (name, attr) in &rt.attrs {
        match entries.iter().find(|(k, _)| **k == **name) {
            Some((_, v)) => {
                map.insert(name.clone(), typed(v, &attr.ty, loc)?);
            }
            None if attr.required => {
                return Err(loc.error(format!(
                    "expected the record to have an attribute `{name}`, but it does not"
                )));
            }
            None => {}
        }
    }
    if let Some((extra, _)) = entries
        .iter()
        .find(|(k, _)| !rt.attrs.contains_key(k.as_str()))
    {
        return Err(loc.error(format!(
            "record attribute `{extra}` should not exist according to the schema"
        )));
    }
    Ok(Record::from(map))
}

/// Reads an entity reference: `{"__entity": {"type", "id"}}` or `{"type", "id"}` (other fields
/// are ignored, as Cedar ignores them; `[type, id]` is accepted for `{"type", "id"}`).
pub(crate) fn entity_ref(json: &Json, loc: &Loc) -> Result<EntityUid, JsonError> {
    if json.get("__expr").is_some_and(|e| e.as_str().is_some()) {
        return Err(expr_escape_error(loc));
    }
    if let Some((ty, id)) = json.get("__entity").and_then(type_and_id) {
        return entity_uid(ty, id, loc);
    }
    if let Some((ty, id)) = type_and_id(json) {
        return entity_uid(ty, id, loc);
    }
    Err(loc.error(format!(
        "expected a literal entity reference, but got `{}`",
        json.describe()
    )))
}

/// `{"type": .., "id": ..}`, or the same two strings as an array `[type, id]` (serde's positional
/// form of a struct, which Cedar accepts too).
fn type_and_id(json: &Json) -> Option<(&str, &str)> {
    match json {
        Json::Array(items) => match items.as_slice() {
            [ty, id] => Some((ty.as_str()?, id.as_str()?)),
            _ => None,
        },
        _ => Some((json.get("type")?.as_str()?, json.get("id")?.as_str()?)),
    }
}

/// An extension call written as `{"fn": .., "arg": ..}` or `{"fn": .., "args": [..]}`.
fn fn_and_args(json: &Json) -> Option<(&str, Vec<&Json>)> {
    let name = json.get("fn")?.as_str()?;
    if let Some(arg) = json.get("arg").filter(|a| numbers_ok(a)) {
        return Some((name, vec![arg]));
    }
    match json.get("args")? {
        Json::Array(args) if args.iter().all(numbers_ok) => Some((name, args.iter().collect())),
        _ => None,
    }
}

fn numbers_ok(json: &Json) -> bool {
    check_numbers(json, &Loc::Value).is_ok()
}

/// The argument types of an extension function, for reading its arguments with implicit
/// escapes. `None` stands for a string.
fn extension_arg_types(f: ExtFn) -> &'static [Option<&'static str>] {
    match f {
        ExtFn::Decimal | ExtFn::Ip | ExtFn::Datetime | ExtFn::Duration => &[None],
        ExtFn::LessThan
        | ExtFn::LessThanOrEqual
        | ExtFn::GreaterThan
        | ExtFn::GreaterThanOrEqual => &[Some("decimal"), Some("decimal")],
        ExtFn::IsIpv4 | ExtFn::IsIpv6 | ExtFn::IsLoopback | ExtFn::IsMulticast => &[Some("ipaddr")],
        ExtFn::IsInRange => &[Some("ipaddr"), Some("ipaddr")],
        ExtFn::Offset => &[Some("datetime"), Some("duration")],
        ExtFn::DurationSince => &[Some("datetime"), Some("datetime")],
        ExtFn::ToDate | ExtFn::ToTime => &[Some("datetime")],
        ExtFn::ToMilliseconds
        | ExtFn::ToSeconds
        | ExtFn::ToMinutes
        | ExtFn::ToHours
        | ExtFn::ToDays => &[Some("duration")],
    }
}

/// The single-argument constructor of an extension type.
fn constructor_of(type_name: &str) -> Option<ExtFn> {
    match type_name {
        "decimal" => Some(ExtFn::Decimal),
        "ipaddr" => Some(ExtFn::Ip),
        "datetime" => Some(ExtFn::Datetime),
        "duration" => Some(ExtFn::Duration),
        _ => None,
    }
}

fn typed_extension(json: &Json, type_name: &str, loc: &Loc) -> Result<Value, JsonError> {
    if json.get("__expr").is_some_and(|e| e.as_str().is_some()) {
        return Err(expr_escape_error(loc));
    }
    let call = json
        .get("__extn")
        .and_then(fn_and_args)
        .or_else(|| fn_and_args(json));
    if let Some((name, args)) = call {
        let f = lookup_extension(name, loc)?;
        let arg_types = extension_arg_types(f);
        if args.len() != arg_types.len() {
            return Err(loc.error(format!(
                "expected {} arguments for function {name} but {} arguments are provided",
                arg_types.len(),
                args.len()
            )));
        }
        let args = args
            .iter()
            .zip(arg_types)
            .map(|(arg, ty)| match ty {
                Some(ext) => typed_extension(arg, ext, loc),
                None => untyped(arg, loc),
            })
            .collect::<Result<Vec<_>, _>>()?;
        return f.call(&args).map_err(|e| loc.error(e));
    }
    // An implicit constructor call: the JSON is the constructor's argument.
    let arg = untyped(json, loc)?;
    let ctor = constructor_of(type_name)
        .ok_or_else(|| loc.error(format!("missing extension constructor for {type_name}")))?;
    ctor.call(&[arg]).map_err(|e| loc.error(e))
}

// ---------------------------------------------------------------------------------------------
// Checking values against schema types
// ---------------------------------------------------------------------------------------------

/// Whether `value` has type `ty`: records have every required attribute and no undeclared one,
/// sets have elements of the element type, entities are of the named type, extension values of
/// the named extension type.
pub fn value_conforms(value: &Value, ty: &SchemaType) -> bool {
    match (value, ty) {
        (Value::Bool(_), SchemaType::Bool)
        | (Value::Long(_), SchemaType::Long)
        | (Value::String(_), SchemaType::String) => true,
        (Value::Entity(uid), SchemaType::Entity(name)) => uid.entity_type() == name,
        (Value::Ext(e), SchemaType::Ext(name)) => e.type_name() == *name,
        (Value::Set(set), SchemaType::Set(elem)) => set.iter().all(|v| value_conforms(v, elem)),
        (Value::Record(rec), SchemaType::Record(rt)) => record_conforms(rec, rt),
        _ => false,
    }
}

/// Whether a record has type `rt`.
pub fn record_conforms(rec: &Record, rt: &RecordType) -> bool {
    rt.attrs.iter().all(|(name, attr)| match rec.get(name) {
        Some(v) => value_conforms(v, &attr.ty),
        None => !attr.required,
    }) && rec.keys().all(|k| rt.attrs.contains_key(k))
}

/// Checks `value` against `ty`, describing a mismatch in Cedar's words.
pub fn typecheck_value(value: &Value, ty: &SchemaType) -> Result<(), String> {
    if value_conforms(value, ty) {
        Ok(())
    } else {
        Err(mismatch(ty, value))
    }
}

fn mismatch(expected: &SchemaType, actual: &Value) -> String {
    let mut shown = actual.to_string();
    if shown.chars().count() > 200 {
        shown = shown.chars().take(200).collect::<String>() + "...";
    }
    format!(
        "type mismatch: value was expected to have type {expected}, but it {}: `{shown}`",
        mismatch_reason(expected, actual)
    )
}

fn mismatch_reason(expected: &SchemaType, actual: &Value) -> String {
    if let (SchemaType::Record(rt), Value::Record(rec)) = (expected, actual) {
        if let Some((name, _)) = rt
            .attrs
            .iter()
            .find(|(n, a)| a.required && !rec.contains_key(n))
        {
            return format!("is missing the required attribute `{name}`");
        }
        if let Some(extra) = rec.keys().find(|k| !rt.attrs.contains_key(*k)) {
            return format!("contains an unexpected attribute `{extra}`");
        }
    }
    format!("actually has type {}", actual_type(actual))
}

/// A value's type as Cedar names it in type mismatch messages.
fn actual_type(value: &Value) -> String {
    match value {
        Value::Bool(_) => "bool".into(),
        Value::Long(_) => "long".into(),
        Value::String(_) => "string".into(),
        Value::Entity(uid) => format!("(entity of type `{}`)", uid.entity_type()),
        Value::Set(_) => "set".into(),
        Value::Record(_) => "record".into(),
        Value::Ext(e) => e.type_name().into(),
    }
}

/// Checks every entity reference inside `value` against the schema: an entity of an enumerated
/// type must have one of its ids, and an action must be declared.
pub(crate) fn validate_uids_in_value(schema: &Schema, value: &Value) -> Result<(), String> {
    match value {
        Value::Entity(uid) => validate_uid(schema, uid),
        Value::Set(set) => set
            .iter()
            .try_for_each(|v| validate_uids_in_value(schema, v)),
        Value::Record(rec) => rec
            .iter()
            .try_for_each(|(_, v)| validate_uids_in_value(schema, v)),
        _ => Ok(()),
    }
}

/// Checks one entity uid against the schema (Cedar's `validate_euid`).
pub(crate) fn validate_uid(schema: &Schema, uid: &EntityUid) -> Result<(), String> {
    if let Some(def) = schema.entity_type(uid.entity_type())
        && let Some(ids) = &def.enum_ids
        && !ids.iter().any(|id| id.as_ref() == uid.id())
    {
        return Err(enum_error(uid));
    }
    if uid.is_action() && schema.action(uid).is_none() {
        return Err(format!(
            "found action entity `{uid}`, but it was not declared as an action in the schema"
        ));
    }
    Ok(())
}

pub(crate) fn enum_error(uid: &EntityUid) -> String {
    let mut id = String::new();
    let _ = crate::uid::write_escaped(&mut id, uid.id());
    format!(
        "entity `{uid}` is of an enumerated entity type, but `\"{id}\"` is not declared as a valid eid"
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use crate::schema::AttrType;

    fn rec_type(attrs: &[(&str, SchemaType, bool)]) -> RecordType {
        RecordType {
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
    }

    fn ety(s: &str) -> EntityType {
        EntityType::parse(s).unwrap()
    }

    fn uid(t: &str, id: &str) -> EntityUid {
        EntityUid::new(ety(t), id)
    }

    #[test]
    fn reads_untyped_values() {
        let v = value_from_json_str(
            r#"{"b": true, "n": -3, "s": "x", "set": [2, 1, 2], "e": {"__entity": {"type": "A::B", "id": "x"}}}"#,
            None,
        )
        .unwrap();
        let Value::Record(rec) = v else { panic!() };
        assert_eq!(rec.get("b"), Some(&Value::Bool(true)));
        assert_eq!(rec.get("n"), Some(&Value::Long(-3)));
        assert_eq!(rec.get("s"), Some(&Value::string("x")));
        assert_eq!(
            rec.get("set"),
            Some(&Value::Set(
                [Value::Long(1), Value::Long(2)].into_iter().collect()
            ))
        );
        assert_eq!(rec.get("e"), Some(&Value::Entity(uid("A::B", "x"))));
    }

    #[test]
    fn rejects_bad_numbers_null_and_expr() {
        for bad in [
            "1.5",
            "9223372036854775808",
            "1e3",
            "null",
            "[1, null]",
            r#"{"__expr": "1"}"#,
        ] {
            assert!(value_from_json_str(bad, None).is_err(), "{bad}");
        }
        assert_eq!(
            value_from_json_str("-9223372036854775808", None).unwrap(),
            Value::Long(i64::MIN)
        );
        // A bad number even inside an escape's ignored field.
        assert!(
            value_from_json_str(r#"{"__entity": {"type": "A", "id": "x", "z": 0.5}}"#, None)
                .is_err()
        );
    }

    #[test]
    fn escapes_with_other_keys_are_records_as_in_cedar() {
        let v =
            value_from_json_str(r#"{"__entity": {"type": "A", "id": "x"}, "k": 1}"#, None).unwrap();
        assert!(matches!(v, Value::Record(r) if r.len() == 2));
        let v = value_from_json_str(r#"{"__entity": {"type": "A"}}"#, None).unwrap();
        assert!(matches!(v, Value::Record(_)));
        // Extra fields inside an escape are ignored.
        let v =
            value_from_json_str(r#"{"__entity": {"type": "A", "id": "x", "z": 1}}"#, None).unwrap();
        assert_eq!(v, Value::Entity(uid("A", "x")));
        assert!(value_from_json_str(r#"{"__entity": {"type": "1A", "id": "x"}}"#, None).is_err());
    }

    #[test]
    fn rejects_duplicate_keys_at_any_depth() {
        let err = value_from_json_str(r#"{"a": {"b": 1, "b": 2}}"#, None).unwrap_err();
        assert!(err.message.contains("more than once"), "{err}");
        assert_eq!(err.line, Some(1));
    }

    #[test]
    fn extension_escapes() {
        // Depends on the extension types' parsers.
        let v =
            value_from_json_str(r#"{"__extn": {"fn": "ip", "arg": "10.0.0.1"}}"#, None).unwrap();
        assert!(matches!(&v, Value::Ext(e) if e.type_name() == "ipaddr"));
        let v = value_from_json_str(
            r#"{"__extn": {"fn": "isIpv4", "arg": {"__extn": {"fn": "ip", "arg": "10.0.0.1"}}}}"#,
            None,
        )
        .unwrap();
        assert_eq!(v, Value::Bool(true));
        assert!(value_from_json_str(r#"{"__extn": {"fn": "nope", "arg": "1"}}"#, None).is_err());
        assert!(value_from_json_str(r#"{"__extn": {"fn": "ip", "arg": 1}}"#, None).is_err());
        let ty = SchemaType::Ext("ipaddr");
        let v = value_from_json_str(r#""10.0.0.1""#, Some(&ty)).unwrap();
        assert!(matches!(&v, Value::Ext(e) if e.type_name() == "ipaddr"));
        let v = value_from_json_str(r#"{"fn": "ip", "arg": "10.0.0.1"}"#, Some(&ty)).unwrap();
        assert!(matches!(&v, Value::Ext(e) if e.type_name() == "ipaddr"));
        let err = value_from_json_str(r#"{"__extn": {"fn": "decimal", "arg": "1.0"}}"#, Some(&ty))
            .unwrap_err();
        assert!(err.message.contains("type mismatch"), "{err}");
        assert!(value_from_json_str(r#""not an ip""#, Some(&ty)).is_err());
    }

    #[test]
    fn extension_arity_checked_in_typed_escape() {
        let ty = SchemaType::Ext("decimal");
        let err = value_from_json_str(r#"{"__extn": {"fn": "decimal", "args": []}}"#, Some(&ty))
            .unwrap_err();
        assert!(err.message.contains("arguments"), "{err}");
    }

    #[test]
    fn reads_typed_values() {
        let ty = SchemaType::record(rec_type(&[
            ("owner", SchemaType::Entity(ety("User")), true),
            ("tags", SchemaType::set_of(SchemaType::String), false),
            ("age", SchemaType::Long, true),
        ]));
        let v = value_from_json_str(
            r#"{"owner": {"type": "User", "id": "a"}, "age": 3}"#,
            Some(&ty),
        )
        .unwrap();
        let Value::Record(rec) = v else { panic!() };
        assert_eq!(rec.get("owner"), Some(&Value::Entity(uid("User", "a"))));
        assert!(!rec.contains_key("tags"));

        let err = value_from_json_str(r#"{"owner": {"type": "User", "id": "a"}}"#, Some(&ty))
            .unwrap_err();
        assert!(err.message.contains("`age`"), "{err}");
        let err = value_from_json_str(
            r#"{"owner": {"type": "User", "id": "a"}, "age": 3, "x": 1}"#,
            Some(&ty),
        )
        .unwrap_err();
        assert!(err.message.contains("`x`"), "{err}");
        let err = value_from_json_str(
            r#"{"owner": {"type": "User", "id": "a"}, "age": "x"}"#,
            Some(&ty),
        )
        .unwrap_err();
        assert!(err.message.contains("type mismatch"), "{err}");
        assert!(err.message.contains("Long"), "{err}");
        let err = value_from_json_str(
            r#"{"owner": {"type": "Group", "id": "a"}, "age": 1}"#,
            Some(&ty),
        )
        .unwrap_err();
        assert!(err.message.contains("type mismatch"), "{err}");
        let err =
            value_from_json_str(r#"{"owner": "User::\"a\"", "age": 1}"#, Some(&ty)).unwrap_err();
        assert!(err.message.contains("entity reference"), "{err}");
        let err = value_from_json_str(
            r#"{"owner": {"type": "User", "id": "a"}, "age": 1, "tags": "x"}"#,
            Some(&ty),
        )
        .unwrap_err();
        assert!(err.message.contains("Set<String>"), "{err}");
        let err = value_from_json_str(r#"[1]"#, Some(&ty)).unwrap_err();
        assert!(err.message.contains("type mismatch"), "{err}");
    }

    #[test]
    fn conformance_of_values() {
        let rt = rec_type(&[
            ("a", SchemaType::Long, true),
            ("b", SchemaType::Bool, false),
        ]);
        let rec: Record = [(Arc::from("a"), Value::Long(1))].into_iter().collect();
        assert!(record_conforms(&rec, &rt));
        let rec: Record = [(Arc::from("b"), Value::Bool(true))].into_iter().collect();
        assert!(!record_conforms(&rec, &rt));
        let set: crate::value::Set = [Value::Long(1)].into_iter().collect();
        assert!(value_conforms(
            &Value::Set(set.clone()),
            &SchemaType::set_of(SchemaType::Long)
        ));
        assert!(!value_conforms(
            &Value::Set(set),
            &SchemaType::set_of(SchemaType::String)
        ));
        assert!(value_conforms(
            &Value::Set(crate::value::Set::default()),
            &SchemaType::set_of(SchemaType::String)
        ));
    }
}
