//! Writing Cedar's JSON data formats: the entities file, single values and contexts.
//!
//! The output reads back — with the readers of this module's siblings, and with `cedar-policy`'s
//! `Entities::from_json_str` — as the same data, with or without a schema, and writing what was
//! read gives the same text again (the writer is a fixed point of read-then-write).
//!
//! ```json
//! [{"uid":{"type":"User","id":"alice"},
//!   "attrs":{"age":30,"boss":{"__entity":{"type":"User","id":"bob"}}},
//!   "parents":[{"type":"Group","id":"admins"}],
//!   "tags":{"level":{"__extn":{"fn":"decimal","arg":"1.5000"}}}}]
//! ```
//!
//! The form, close to `cedar-policy`'s `Entities::write_to_json`:
//!
//! * every value carries its escape, so no schema is needed to read it: entity references are
//!   `{"__entity": {"type", "id"}}`, extension values `{"__extn": {"fn", "arg"}}`, sets arrays and
//!   records objects;
//! * an entity is `{"uid", "attrs", "parents", "tags"}`, `uid` and `parents` as plain
//!   `{"type", "id"}`; `tags` only when the entity has some;
//! * `parents` are the *direct* parents, which the reader closes into the same ancestors
//!   (`cedar-policy` writes every ancestor as a parent, equivalent for evaluation; direct ones keep
//!   the store equal field by field);
//! * extension arguments are canonical, as the value carries no memory of how it was written:
//!   `decimal` with four fractional digits (`"1.5000"`), `ip` as the address (IPv6 compressed per
//!   RFC 5952, never with an embedded IPv4 part, which Cedar's `ip` rejects) followed by `/prefix`
//!   unless the prefix is the full width, `duration` in milliseconds (`"-90000ms"`), `datetime` as
//!   `YYYY-MM-DDThh:mm:ss.SSSZ`; a datetime outside years 0000–9999 (reachable with `offset`) is
//!   written as Cedar writes any datetime it computed,
//!   `{"__extn": {"fn": "offset", "args": [datetime("1970-01-01"), duration("Nms")]}}`.
//!
//! The output is deterministic: entities in uid order (type name, then id, as strings), attributes,
//! tags and record keys in name order, set elements in [`Value`]'s order, parents in uid order,
//! the keys of an entity object in the order `uid`, `attrs`, `parents`, `tags` (the string forms
//! keep that order; a `serde_json::Value` orders object keys as its `preserve_order` feature says).
//!
//! A record whose only key is reserved for an escape (`__entity`, `__extn`, `__expr`) and whose
//! value would make it read back as that escape cannot be written (an error): such a record can
//! only come from reading with a schema that declares such an attribute. Other records with
//! reserved keys are written (they read back as records); `cedar-policy` refuses to write any
//! record with a reserved key.

use std::fmt::Write as _;
use std::net;

use serde::ser::{Error as _, Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::entity::{Entities, Entity};
use crate::ext::{Datetime, ExtValue, IpAddr};
use crate::uid::EntityUid;
use crate::value::{Record, Value};

use super::JsonError;
use super::value::value_from_json_value;

/// The keys a record may not have, because Cedar's JSON uses them for escapes.
pub const RESERVED_KEYS: [&str; 3] = ["__entity", "__extn", "__expr"];

/// The entities file for `entities`, as a `serde_json::Value` (an array of entity objects).
pub fn entities_to_json_value(entities: &Entities) -> Result<serde_json::Value, JsonError> {
    to_value(&EntitiesJson(entities))
}

/// The entities file for `entities`, as compact JSON text.
pub fn entities_to_json_string(entities: &Entities) -> Result<String, JsonError> {
    to_string(&EntitiesJson(entities), false)
}

/// The entities file for `entities`, as indented JSON text (as `cedar-policy` writes it).
pub fn entities_to_json_string_pretty(entities: &Entities) -> Result<String, JsonError> {
    to_string(&EntitiesJson(entities), true)
}

/// One entity object of an entities file.
pub fn entity_to_json_value(entity: &Entity) -> Result<serde_json::Value, JsonError> {
    to_value(&EntityJson(entity))
}

/// One value, with explicit escapes.
pub fn value_to_json_value(value: &Value) -> Result<serde_json::Value, JsonError> {
    to_value(&ValueJson(value))
}

/// One value as compact JSON text, with explicit escapes.
pub fn value_to_json_string(value: &Value) -> Result<String, JsonError> {
    to_string(&ValueJson(value), false)
}

/// A request context (a record) as a JSON object, with explicit escapes.
pub fn context_to_json_value(context: &Record) -> Result<serde_json::Value, JsonError> {
    to_value(&RecordJson(context))
}

/// A request context as compact JSON text.
pub fn context_to_json_string(context: &Record) -> Result<String, JsonError> {
    to_string(&RecordJson(context), false)
}

fn to_value(v: &impl Serialize) -> Result<serde_json::Value, JsonError> {
    serde_json::to_value(v).map_err(|e| JsonError::new(e.to_string()))
}

fn to_string(v: &impl Serialize, pretty: bool) -> Result<String, JsonError> {
    let written = if pretty {
        serde_json::to_string_pretty(v)
    } else {
        serde_json::to_string(v)
    };
    written.map_err(|e| JsonError::new(e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Serialization, in a fixed order
// ---------------------------------------------------------------------------------------------

struct EntitiesJson<'a>(&'a Entities);

impl Serialize for EntitiesJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut entities: Vec<&Entity> = self.0.iter().collect();
        entities.sort_by(|a, b| a.uid().cmp(b.uid()));
        let mut seq = s.serialize_seq(Some(entities.len()))?;
        for e in entities {
            seq.serialize_element(&EntityJson(e))?;
        }
        seq.end()
    }
}

struct EntityJson<'a>(&'a Entity);

impl Serialize for EntityJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let tags = !e.tags().is_empty();
        let mut map = s.serialize_map(Some(if tags { 4 } else { 3 }))?;
        map.serialize_entry("uid", &UidJson(e.uid()))?;
        map.serialize_entry("attrs", &AttrsJson(e.attrs().iter()))?;
        map.serialize_entry("parents", &ParentsJson(e))?;
        if tags {
            map.serialize_entry("tags", &AttrsJson(e.tags().iter()))?;
        }
        map.end()
    }
}

struct ParentsJson<'a>(&'a Entity);

impl Serialize for ParentsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.parents().iter().map(UidJson))
    }
}

/// `{"type": .., "id": ..}`.
struct UidJson<'a>(&'a EntityUid);

impl Serialize for UidJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("type", self.0.entity_type().as_str())?;
        map.serialize_entry("id", self.0.id())?;
        map.end()
    }
}

/// Attributes or tags: names to values, in name order (the maps are ordered). Their names are
/// not record keys, so reserved names are fine here.
struct AttrsJson<I>(I);

impl<'a, I> Serialize for AttrsJson<I>
where
    I: Iterator<Item = (&'a std::sync::Arc<str>, &'a Value)> + Clone,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.clone().map(|(k, v)| (k.as_ref(), ValueJson(v))))
    }
}

struct RecordJson<'a>(&'a Record);

impl Serialize for RecordJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if let Some(key) = ambiguous_key(self.0) {
            return Err(S::Error::custom(format!(
                "cannot write the record `{}` as JSON: with its only key `{key}`, reserved for escapes, it would read back as something else",
                Value::Record(self.0.clone())
            )));
        }
        s.collect_map(self.0.iter().map(|(k, v)| (k.as_ref(), ValueJson(v))))
    }
}

/// The key of a record that would not read back as itself: a single key reserved for an escape
/// whose written value makes the object read as that escape (or be rejected, for `__expr`).
/// Records with other keys besides are never escapes.
fn ambiguous_key(rec: &Record) -> Option<&str> {
    let mut entries = rec.iter();
    let (Some((key, inner)), None) = (entries.next(), entries.next()) else {
        return None;
    };
    if !RESERVED_KEYS.contains(&key.as_ref()) {
        return None;
    }
    let reads_back = value_to_json_value(inner).ok().is_some_and(|inner| {
        let object = serde_json::Value::Object([(key.to_string(), inner)].into_iter().collect());
        value_from_json_value(&object, None).is_ok_and(|v| v == Value::Record(rec.clone()))
    });
    (!reads_back).then_some(key.as_ref())
}

struct ValueJson<'a>(&'a Value);

impl Serialize for ValueJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Long(i) => s.serialize_i64(*i),
            Value::String(text) => s.serialize_str(text),
            Value::Entity(uid) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("__entity", &UidJson(uid))?;
                map.end()
            }
            Value::Set(set) => s.collect_seq(set.iter().map(ValueJson)),
            Value::Record(rec) => RecordJson(rec).serialize(s),
            Value::Ext(e) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("__extn", &ExtJson(e))?;
                map.end()
            }
        }
    }
}

/// The inside of an `__extn` escape: `{"fn": .., "arg": ..}` (or `"args"` for `offset`).
struct ExtJson<'a>(&'a ExtValue);

impl Serialize for ExtJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (name, arg) = match self.0 {
            ExtValue::Decimal(d) => ("decimal", d.to_string()),
            ExtValue::Ip(ip) => ("ip", ip_argument(ip)),
            ExtValue::Duration(d) => ("duration", d.to_string()),
            ExtValue::Datetime(d) => match d.to_iso() {
                Some(iso) => ("datetime", iso),
                None => return offset_form(d).serialize(s),
            },
        };
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("fn", name)?;
        map.serialize_entry("arg", &arg)?;
        map.end()
    }
}

/// A datetime without a calendar form, as the epoch offset by its milliseconds (what
/// `cedar-policy` writes for any datetime it computed).
fn offset_form(d: &Datetime) -> serde_json::Value {
    serde_json::json!({
        "fn": "offset",
        "args": [
            {"__extn": {"fn": "datetime", "arg": "1970-01-01"}},
            {"__extn": {"fn": "duration", "arg": format!("{}ms", d.epoch_millis())}},
        ],
    })
}

/// The argument of `ip(..)` that rebuilds `ip`: the address, and `/prefix` unless the prefix is
/// the full width.
fn ip_argument(ip: &IpAddr) -> String {
    // `IpAddr` prints as `address/prefix`; the address is re-read to print IPv6 without the
    // `::ffff:1.2.3.4` form `std` uses for IPv4-mapped addresses, which Cedar's `ip` rejects.
    let shown = ip.to_string();
    let (addr, prefix) = shown.rsplit_once('/').unwrap_or((&shown, ""));
    let (text, full) = match addr.parse::<net::IpAddr>() {
        Ok(net::IpAddr::V4(a)) => (a.to_string(), "32"),
        Ok(net::IpAddr::V6(a)) => (ipv6_text(&a), "128"),
        // Not reachable: `IpAddr` prints a `std` address.
        Err(_) => return shown,
    };
    if prefix == full || prefix.is_empty() {
        text
    } else {
        format!("{text}/{prefix}")
    }
}

/// RFC 5952 text of an IPv6 address: lowercase hex groups without leading zeros, the longest
/// run of two or more zero groups (the first of equals) as `::`, and no embedded IPv4 form.
fn ipv6_text(a: &net::Ipv6Addr) -> String {
    let groups = a.segments();
    // The longest run of zero groups, as (start, length).
    let mut best = (0, 0);
    let mut i = 0;
    while i < groups.len() {
        if groups[i] == 0 {
            let start = i;
            while i < groups.len() && groups[i] == 0 {
                i += 1;
            }
            if i - start > best.1 {
                best = (start, i - start);
            }
        } else {
            i += 1;
        }
    }
    let hex = |gs: &[u16]| {
        gs.iter()
            .map(|g| format!("{g:x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    if best.1 < 2 {
        return hex(&groups);
    }
    let mut out = String::new();
    let _ = write!(
        out,
        "{}::{}",
        hex(&groups[..best.0]),
        hex(&groups[best.0 + best.1..])
    );
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use std::sync::Arc;

    use super::*;
    use crate::json::{context_from_json_str, entities_from_json_str, value_from_json_str};

    /// Reads `src` untyped, writes it, and checks that it reads back equal and writes the same.
    fn round_trip(src: &str) -> String {
        let v = value_from_json_str(src, None).unwrap_or_else(|e| panic!("{src}: {e}"));
        let written = value_to_json_string(&v).unwrap();
        let again =
            value_from_json_str(&written, None).unwrap_or_else(|e| panic!("{written}: {e}"));
        assert_eq!(again, v, "{src} -> {written}");
        assert_eq!(value_to_json_string(&again).unwrap(), written);
        written
    }

    #[test]
    fn writes_values_with_escapes() {
        assert_eq!(round_trip("true"), "true");
        assert_eq!(round_trip("-9223372036854775808"), "-9223372036854775808");
        assert_eq!(round_trip(r#""a\"\n\u0001""#), r#""a\"\n\u0001""#);
        assert_eq!(round_trip("[3, 1, 3, [], {}]"), "[1,3,[],{}]");
        assert_eq!(
            round_trip(r#"{"b": 1, "a": {"__entity": {"type": "A::B", "id": "x\"y"}}}"#),
            r#"{"a":{"__entity":{"type":"A::B","id":"x\"y"}},"b":1}"#
        );
        // A record that merely looks like an escape stays a record.
        assert_eq!(
            round_trip(r#"{"__entity": {"type": "A"}, "k": 1}"#).len(),
            r#"{"__entity":{"type":"A"},"k":1}"#.len()
        );
    }

    #[test]
    fn records_with_reserved_keys_are_refused_only_if_ambiguous() {
        // Records that merely look like escapes, read without a schema, are written as read.
        for src in [
            r#"{"__extn": {"fn": "decimal"}}"#,
            r#"{"__entity": {"type": "A"}}"#,
            r#"{"__entity": "A::\"a\""}"#,
            r#"{"__extn": {"fn": "decimal", "arg": "1.0"}, "k": 1}"#,
        ] {
            round_trip(src);
        }
        // A record read with a schema that declares `__entity`: written, it would be an entity.
        let entity_like: Record = [
            (Arc::from("type"), Value::string("A")),
            (Arc::from("id"), Value::string("a")),
        ]
        .into_iter()
        .collect();
        let rec: Record = [(Arc::from("__entity"), Value::Record(entity_like))]
            .into_iter()
            .collect();
        let err = value_to_json_string(&Value::Record(rec)).unwrap_err();
        assert!(err.message.contains("`__entity`"), "{err}");
        let rec: Record = [(Arc::from("__expr"), Value::string("1"))]
            .into_iter()
            .collect();
        assert!(value_to_json_string(&Value::Record(rec)).is_err());
    }

    #[test]
    fn writes_canonical_extension_arguments() {
        let ext = |f: &str, arg: &str| {
            round_trip(&format!(r#"{{"__extn": {{"fn": "{f}", "arg": "{arg}"}}}}"#))
        };
        let arg = |f: &str, arg: &str| format!(r#"{{"__extn":{{"fn":"{f}","arg":"{arg}"}}}}"#);
        assert_eq!(ext("decimal", "1.5"), arg("decimal", "1.5000"));
        assert_eq!(ext("decimal", "-0.0"), arg("decimal", "0.0000"));
        assert_eq!(ext("decimal", "-2.25"), arg("decimal", "-2.2500"));
        assert_eq!(ext("ip", "10.0.0.1"), arg("ip", "10.0.0.1"));
        assert_eq!(ext("ip", "10.0.0.1/32"), arg("ip", "10.0.0.1"));
        assert_eq!(ext("ip", "10.0.0.1/24"), arg("ip", "10.0.0.1/24"));
        assert_eq!(ext("ip", "::1"), arg("ip", "::1"));
        assert_eq!(ext("ip", "FF00::/8"), arg("ip", "ff00::/8"));
        assert_eq!(ext("ip", "::"), arg("ip", "::"));
        assert_eq!(ext("ip", "1:0:0:2:0:0:0:3"), arg("ip", "1:0:0:2::3"));
        assert_eq!(ext("ip", "1:0:2:3:4:5:6:7"), arg("ip", "1:0:2:3:4:5:6:7"));
        // `std` prints these with an IPv4 tail, which `ip` refuses to read.
        assert_eq!(ext("ip", "::ffff:ff00:1"), arg("ip", "::ffff:ff00:1"));
        assert_eq!(
            ext("ip", "::ffff:7f00:1/120"),
            arg("ip", "::ffff:7f00:1/120")
        );
        assert_eq!(ext("duration", "1d2h"), arg("duration", "93600000ms"));
        assert_eq!(ext("duration", "-1h"), arg("duration", "-3600000ms"));
        assert_eq!(
            ext("datetime", "2024-10-15T12:35:00+0100"),
            arg("datetime", "2024-10-15T11:35:00.000Z")
        );
        assert_eq!(
            ext("datetime", "0000-01-01"),
            arg("datetime", "0000-01-01T00:00:00.000Z")
        );
    }

    #[test]
    fn datetimes_without_a_calendar_form_are_offsets() {
        let src = r#"{"__extn": {"fn": "offset", "args": [
            {"__extn": {"fn": "datetime", "arg": "9999-12-31"}},
            {"__extn": {"fn": "duration", "arg": "2d"}}]}}"#;
        let written = round_trip(src);
        assert!(written.contains(r#""fn":"offset""#), "{written}");
        let before = round_trip(
            r#"{"__extn": {"fn": "offset", "args": [
            {"__extn": {"fn": "datetime", "arg": "0000-01-01"}},
            {"__extn": {"fn": "duration", "arg": "-1ms"}}]}}"#,
        );
        assert!(before.contains("-62167219200001ms"), "{before}");
    }

    #[test]
    fn writes_entities_in_order_and_reads_them_back() {
        let src = r#"[
          {"uid": {"type": "User", "id": "b"}, "attrs": {}, "parents": [{"type": "Group", "id": "g"}]},
          {"uid": {"type": "User", "id": "a"}, "attrs": {"z": 1, "a": [{"__extn": {"fn": "ip", "arg": "10.0.0.1"}}]},
           "parents": [{"type": "User", "id": "b"}, {"type": "Group", "id": "ghost"}], "tags": {"t": "x"}},
          {"uid": {"type": "Group", "id": "g"}, "attrs": {}, "parents": [], "tags": {}}
        ]"#;
        let store = entities_from_json_str(src, None).unwrap();
        let written = entities_to_json_string(&store).unwrap();
        assert_eq!(
            written,
            concat!(
                r#"[{"uid":{"type":"Group","id":"g"},"attrs":{},"parents":[]},"#,
                r#"{"uid":{"type":"User","id":"a"},"attrs":{"a":[{"__extn":{"fn":"ip","arg":"10.0.0.1"}}],"z":1},"#,
                r#""parents":[{"type":"Group","id":"ghost"},{"type":"User","id":"b"}],"tags":{"t":"x"}},"#,
                r#"{"uid":{"type":"User","id":"b"},"attrs":{},"parents":[{"type":"Group","id":"g"}]}]"#
            )
        );
        let again = entities_from_json_str(&written, None).unwrap();
        for e in store.iter() {
            assert_eq!(again.get(e.uid()), Some(e));
        }
        assert_eq!(again.len(), store.len());
        assert_eq!(entities_to_json_string(&again).unwrap(), written);
        let value = entities_to_json_value(&store).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&written).unwrap(),
            value
        );
        let pretty = entities_to_json_string_pretty(&store).unwrap();
        assert_eq!(
            entities_to_json_string(&entities_from_json_str(&pretty, None).unwrap()).unwrap(),
            written
        );
    }

    #[test]
    fn writes_contexts() {
        let src = r#"{"ip": {"__extn": {"fn": "ip", "arg": "::1"}}, "n": 1}"#;
        let ctx = context_from_json_str(src, None).unwrap();
        let written = context_to_json_string(&ctx).unwrap();
        assert_eq!(
            written,
            r#"{"ip":{"__extn":{"fn":"ip","arg":"::1"}},"n":1}"#
        );
        assert_eq!(context_from_json_str(&written, None).unwrap(), ctx);
        assert_eq!(
            context_to_json_value(&ctx).unwrap(),
            serde_json::from_str::<serde_json::Value>(&written).unwrap()
        );
    }
}
