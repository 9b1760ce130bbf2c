//! A JSON tree read with control over duplicate object keys.
//!
//! `serde_json::Value` silently keeps the last of two equal keys, but Cedar rejects duplicates in
//! entity data, so the text is read through this module's own visitor. Numbers keep whether they
//! fit an `i64` (the only numbers Cedar accepts) and their text otherwise, for error messages.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use smol_str::SmolStr;

use super::JsonError;

/// A JSON value. Objects keep their keys in source order. Strings and keys are [`SmolStr`]s,
/// held inline up to 23 bytes (most keys and ids), so reading a document allocates for its
/// arrays, objects and long strings only.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// A number that is an integer in the `i64` range.
    Int(i64),
    /// Any other number, as text.
    OtherNumber(String),
    String(SmolStr),
    Array(Vec<Json>),
    Object(Vec<(SmolStr, Json)>),
}

/// What to do when an object repeats a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duplicates {
    Reject,
    /// Keep the last value (what `serde_json::Value` does).
    LastWins,
}

impl Json {
    /// The value of `key`, if this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// Converts a `serde_json::Value` (which cannot hold duplicate keys).
    pub fn from_value(v: &serde_json::Value) -> Json {
        match v {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(b) => Json::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Json::Int(i),
                None => Json::OtherNumber(n.to_string()),
            },
            serde_json::Value::String(s) => Json::String(SmolStr::new(s)),
            serde_json::Value::Array(items) => {
                Json::Array(items.iter().map(Json::from_value).collect())
            }
            serde_json::Value::Object(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| (SmolStr::new(k), Json::from_value(v)))
                    .collect(),
            ),
        }
    }

    /// A short rendering of the value for error messages.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        self.write_compact(&mut s);
        if s.chars().count() > 200 {
            let cut: String = s.chars().take(200).collect();
            format!("{cut}...")
        } else {
            s
        }
    }

    /// The value as compact JSON text (no whitespace), objects' keys in their order here.
    pub fn to_compact_string(&self) -> String {
        let mut s = String::new();
        self.write(&mut s, usize::MAX);
        s
    }

    fn write_compact(&self, out: &mut String) {
        self.write(out, 400);
    }

    /// Writes the value, stopping once `out` is longer than `limit`. Deep values (as long
    /// chains of operators make in Cedar's JSON policy format) grow the stack on demand.
    fn write(&self, out: &mut String, limit: usize) {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.write_inner(out, limit))
    }

    fn write_inner(&self, out: &mut String, limit: usize) {
        if out.len() > limit {
            return;
        }
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(i) => out.push_str(&i.to_string()),
            Json::OtherNumber(n) => out.push_str(n),
            Json::String(s) => out.push_str(&serde_json::Value::String(s.to_string()).to_string()),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out, limit);
                }
                out.push(']');
            }
            Json::Object(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(k.to_string()).to_string());
                    out.push(':');
                    v.write(out, limit);
                }
                out.push('}');
            }
        }
    }

    /// The JSON kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Int(_) | Json::OtherNumber(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

/// Reads JSON text (one value, surrounded only by whitespace). `serde_json`'s nesting limit
/// (128) stays on, so deeply nested input is an error rather than a stack overflow.
pub fn parse(src: &str, duplicates: Duplicates) -> Result<Json, JsonError> {
    let mut de = serde_json::Deserializer::from_str(src);
    let json = Seed(duplicates)
        .deserialize(&mut de)
        .map_err(|e| JsonError::from_serde(&e))?;
    de.end().map_err(|e| JsonError::from_serde(&e))?;
    Ok(json)
}

/// Where each element of the top-level array in `src` starts, as 1-based (line, column) with
/// the column counted in bytes (as `serde_json` counts). Used to locate errors found after
/// parsing, such as an entity that does not fit the schema. `src` is well-formed JSON here.
pub(crate) fn top_level_element_positions(src: &str) -> Vec<(usize, usize)> {
    let mut positions = Vec::new();
    let (mut depth, mut in_string, mut escaped, mut expecting) = (0usize, false, false, false);
    let (mut line, mut line_start) = (1usize, 0usize);
    for (i, b) in src.bytes().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if b == b'\n' {
            line += 1;
            line_start = i + 1;
            continue;
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        if expecting && depth == 1 && b != b']' {
            positions.push((line, i - line_start + 1));
            expecting = false;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                expecting = depth == 1 && b == b'[';
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expecting = true,
            _ => {}
        }
    }
    positions
}

/// Where the top-level value of `src` starts (1-based line and byte column).
pub(crate) fn top_level_position(src: &str) -> (usize, usize) {
    let offset = src.len() - src.trim_start().len();
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let column = offset - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// Objects with more keys than this find repeated keys through an index.
const SCANNED_KEYS: usize = 16;

#[derive(Clone, Copy)]
struct Seed(Duplicates);

impl<'de> DeserializeSeed<'de> for Seed {
    type Value = Json;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Json, E> {
        Ok(Json::Int(i))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Json, E> {
        Ok(match i64::try_from(u) {
            Ok(i) => Json::Int(i),
            Err(_) => Json::OtherNumber(u.to_string()),
        })
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Json, E> {
        Ok(Json::OtherNumber(
            serde_json::Number::from_f64(f)
                .map(|n| n.to_string())
                .unwrap_or_else(|| f.to_string()),
        ))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Json, E> {
        Ok(Json::String(SmolStr::new(s)))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Json, E> {
        Ok(Json::String(SmolStr::from(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut entries: Vec<(SmolStr, Json)> = Vec::new();
        // Repeated keys are found by a scan while the object is small (most are), then by an
        // index of its keys, so that reading an object stays linear in its size.
        let mut index: Option<HashMap<SmolStr, usize>> = None;
        while let Some(key) = map.next_key_seed(Key)? {
            let value = map.next_value_seed(self)?;
            let existing = match &index {
                Some(index) => index.get(&key).copied(),
                None => entries.iter().position(|(k, _)| *k == key),
            };
            match existing.and_then(|i| entries.get_mut(i)) {
                Some(existing) => match self.0 {
                    Duplicates::Reject => {
                        return Err(de::Error::custom(format_args!(
                            "the key {} appears more than once in an object",
                            serde_json::Value::String(key.into())
                        )));
                    }
                    Duplicates::LastWins => existing.1 = value,
                },
                None => {
                    if let Some(index) = &mut index {
                        index.insert(key.clone(), entries.len());
                    }
                    entries.push((key, value));
                    if index.is_none() && entries.len() > SCANNED_KEYS {
                        index = Some(
                            entries
                                .iter()
                                .enumerate()
                                .map(|(i, (k, _))| (k.clone(), i))
                                .collect(),
                        );
                    }
                }
            }
        }
        Ok(Json::Object(entries))
    }
}

/// Reads an object key as a [`SmolStr`], without allocating when it is short.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = SmolStr;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<SmolStr, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for Key {
    type Value = SmolStr;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<SmolStr, E> {
        Ok(SmolStr::new(s))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<SmolStr, E> {
        Ok(SmolStr::from(s))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    #[test]
    fn finds_top_level_elements() {
        let src = "[\n  {\"a\": \"x,]\\\"[\"},\n  [1, 2], 3\n]";
        assert_eq!(top_level_element_positions(src), [(2, 3), (3, 3), (3, 11)]);
        assert!(top_level_element_positions("[]").is_empty());
        assert_eq!(top_level_position("\n  {}"), (2, 3));
    }

    #[test]
    fn reads_values_and_rejects_duplicates_with_position() {
        let j = parse(
            r#"{"a": [1, -2, 1.5, 18446744073709551615], "b": null}"#,
            Duplicates::Reject,
        )
        .unwrap();
        assert_eq!(
            j.get("a"),
            Some(&Json::Array(vec![
                Json::Int(1),
                Json::Int(-2),
                Json::OtherNumber("1.5".into()),
                Json::OtherNumber("18446744073709551615".into()),
            ]))
        );
        let err = parse("{\n \"a\": 1,\n \"a\": 2}", Duplicates::Reject).unwrap_err();
        assert!(err.message.contains("more than once"), "{err}");
        assert_eq!(err.line, Some(3));
        let j = parse(r#"{"a": 1, "a": 2}"#, Duplicates::LastWins).unwrap();
        assert_eq!(j, Json::Object(vec![("a".into(), Json::Int(2))]));
    }

    #[test]
    fn rejects_trailing_text_and_deep_nesting() {
        assert!(parse("[1] x", Duplicates::Reject).is_err());
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let err = parse(&deep, Duplicates::Reject).unwrap_err();
        assert!(err.message.contains("nested too deeply"), "{err}");
    }
}
