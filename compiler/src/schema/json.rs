//! Cedar's JSON schema format, read into and written from the [`syntax`](super::syntax) tree, so
//! JSON schemas go through the same resolver as `.cedarschema` text.
//!
//! Reading ([`parse_json_schema_file`]) accepts and rejects what `cedar-policy` 4.x does at the
//! level of the format: unknown keys and repeated keys are errors (as in Cedar, a repeated
//! annotation key keeps its last value), required fields must be present, `null` is accepted
//! only where Cedar accepts it, names must be valid identifiers or `::`-paths. Errors are located:
//! syntax errors at the offending character, format errors at the offending key or value. Things
//! Cedar's JSON format can say but Thuja's schema model cannot (open records with
//! `additionalAttributes: true`, `external` declarations, action `attributes`) are errors.
//! JSON nesting is bounded ([`MAX_NESTING`]) and the stack grows on demand: no input panics or
//! overflows the stack. Meaning (names resolving, cycles, ...) is checked by the resolver.
//!
//! How the JSON forms map onto the tree:
//! - `{"type": "Long" | "String" | "Boolean"}` and `{"type": "Extension", "name": N}` become the
//!   names `__cedar::Long`, `__cedar::String`, `__cedar::Bool`, `__cedar::N`, which mean exactly the
//!   builtin type;
//! - `{"type": "Entity", "name": N}` becomes [`TypeExpr::EntityRef`], a bare `{"type": "N"}`
//!   [`TypeExpr::CommonRef`], and `{"type": "EntityOrCommon", "name": N}` a plain
//!   [`TypeExpr::Name`] (the text format's meaning);
//! - the namespace `""` is the empty namespace; a missing `appliesTo` means the action applies to
//!   nothing; `principalTypes` and `resourceTypes` are required when `appliesTo` is written.
//!
//! Writing ([`to_json`]) produces the JSON form of a tree, typed as precisely as the tree's own
//! declarations allow: a name that resolves to a builtin becomes `Long`/`Boolean`/`Extension`, to
//! an entity type `Entity`, to a common type a bare common type reference, and a name that does
//! not resolve `EntityOrCommon`. Resolving the written JSON gives the same schema as resolving
//! the tree.

use std::collections::HashSet;

use serde_json::{Map, Value, json};
use thuja_runtime::name::{RESERVED_NAMESPACE, is_identifier, is_reserved_identifier};
use thuja_runtime::schema::EXTENSION_TYPES;

use super::syntax::*;
use crate::diagnostic::Diagnostic;
use crate::parser::MAX_NESTING;
use crate::source::Span;

type PResult<T> = Result<T, Diagnostic>;

// ===================================================================================
// A JSON tree with spans
// ===================================================================================

/// A JSON value and the span of its text.
#[derive(Clone, Debug, PartialEq)]
struct JValue {
    kind: JKind,
    span: Span,
}

#[derive(Clone, Debug, PartialEq)]
enum JKind {
    Null,
    Bool(bool),
    Number,
    String(String),
    Array(Vec<JValue>),
    /// Entries in source order; repeated keys are kept (the reader decides).
    Object(Vec<(Key, JValue)>),
}

/// An object key (its unescaped value) and the span of its string literal.
#[derive(Clone, Debug, PartialEq)]
struct Key {
    value: String,
    span: Span,
}

impl JValue {
    fn kind_name(&self) -> &'static str {
        match self.kind {
            JKind::Null => "null",
            JKind::Bool(_) => "a boolean",
            JKind::Number => "a number",
            JKind::String(_) => "a string",
            JKind::Array(_) => "an array",
            JKind::Object(_) => "an object",
        }
    }

    fn is_null(&self) -> bool {
        matches!(self.kind, JKind::Null)
    }
}

/// Reads one JSON value surrounded only by whitespace.
fn parse_json(text: &str) -> PResult<JValue> {
    let mut p = JsonParser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    p.ws();
    let v = p.value()?;
    p.ws();
    if p.pos < p.bytes.len() {
        return Err(p.error_here("trailing characters after the JSON value"));
    }
    Ok(v)
}

struct JsonParser<'s> {
    text: &'s str,
    bytes: &'s [u8],
    pos: usize,
    depth: usize,
}

impl JsonParser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// An error at the current position (one character wide, or empty at the end).
    fn error_here(&self, message: impl Into<String>) -> Diagnostic {
        let end = self
            .text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
            .map_or(self.pos, |c| self.pos + c.len_utf8());
        Diagnostic::new(message, Span::new(self.pos, end))
    }

    fn unexpected(&self, expected: &str) -> Diagnostic {
        match self
            .text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
        {
            None => self.error_here(format!("unexpected end of input, expected {expected}")),
            Some(c) => self.error_here(format!("unexpected character `{c}`, expected {expected}")),
        }
    }

    fn nested(&mut self, f: impl FnOnce(&mut Self) -> PResult<JValue>) -> PResult<JValue> {
        if self.depth >= MAX_NESTING {
            return Err(self.error_here(format!(
                "JSON is nested too deeply (more than {MAX_NESTING} levels)"
            )));
        }
        self.depth += 1;
        let result = stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || f(self));
        self.depth -= 1;
        result
    }

    fn value(&mut self) -> PResult<JValue> {
        let start = self.pos;
        let kind = match self.peek() {
            Some(b'{') => return self.nested(|p| p.object()),
            Some(b'[') => return self.nested(|p| p.array()),
            Some(b'"') => JKind::String(self.string()?),
            Some(b't') => self.literal("true", JKind::Bool(true))?,
            Some(b'f') => self.literal("false", JKind::Bool(false))?,
            Some(b'n') => self.literal("null", JKind::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            _ => return Err(self.unexpected("a JSON value")),
        };
        Ok(JValue {
            kind,
            span: Span::new(start, self.pos),
        })
    }

    fn literal(&mut self, word: &str, kind: JKind) -> PResult<JKind> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(self.unexpected("a JSON value"))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> PResult<JKind> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.unexpected("a digit")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.unexpected("a digit"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.unexpected("a digit"));
            }
        }
        Ok(JKind::Number)
    }

    fn hex4(&mut self) -> PResult<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.unexpected("a hexadecimal digit")),
            };
            v = v * 16 + u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }

    /// A string literal (at its opening quote), unescaped.
    fn string(&mut self) -> PResult<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(self.text.get(run_start..self.pos).unwrap_or(""));
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let esc_start = self.pos;
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if self.bytes[self.pos..].starts_with(b"\\u") {
                                    self.pos += 2;
                                    let lo = self.hex4()?;
                                    if !(0xDC00..0xE000).contains(&lo) {
                                        return Err(Diagnostic::new(
                                            "invalid unicode escape: lone surrogate",
                                            Span::new(esc_start, self.pos),
                                        ));
                                    }
                                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                } else {
                                    return Err(Diagnostic::new(
                                        "invalid unicode escape: lone surrogate",
                                        Span::new(esc_start, self.pos),
                                    ));
                                }
                            } else {
                                hi
                            };
                            match char::from_u32(code) {
                                Some(c) => out.push(c),
                                None => {
                                    return Err(Diagnostic::new(
                                        "invalid unicode escape: lone surrogate",
                                        Span::new(esc_start, self.pos),
                                    ));
                                }
                            }
                            continue;
                        }
                        _ => return Err(self.unexpected("an escape character")),
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(_) => {
                    return Err(self.error_here("control character in a string"));
                }
                None => return Err(self.error_here("unexpected end of input in a string")),
            }
        }
    }

    fn array(&mut self) -> PResult<JValue> {
        let start = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
        } else {
            loop {
                self.ws();
                items.push(self.value()?);
                self.ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b']') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.unexpected("`,` or `]`")),
                }
            }
        }
        Ok(JValue {
            kind: JKind::Array(items),
            span: Span::new(start, self.pos),
        })
    }

    fn object(&mut self) -> PResult<JValue> {
        let start = self.pos;
        self.pos += 1;
        let mut entries = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                self.ws();
                if self.peek() != Some(b'"') {
                    return Err(self.unexpected("a string key"));
                }
                let key_start = self.pos;
                let value = self.string()?;
                let key = Key {
                    value,
                    span: Span::new(key_start, self.pos),
                };
                self.ws();
                if self.peek() != Some(b':') {
                    return Err(self.unexpected("`:`"));
                }
                self.pos += 1;
                self.ws();
                let v = self.value()?;
                entries.push((key, v));
                self.ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.unexpected("`,` or `}`")),
                }
            }
        }
        Ok(JValue {
            kind: JKind::Object(entries),
            span: Span::new(start, self.pos),
        })
    }
}

// ===================================================================================
// JSON to the syntax tree
// ===================================================================================

/// Reads a JSON schema into the syntax tree. The first error is reported.
pub fn parse_json_schema_file(text: &str) -> PResult<SchemaFile> {
    let root = parse_json(text)?;
    let entries = object(&root, "a schema (an object of namespaces)")?;
    check_duplicates(entries, "namespace")?;
    let mut file = SchemaFile::default();
    for (key, def) in entries {
        file.namespaces.push(namespace(key, def)?);
    }
    Ok(file)
}

fn expected(v: &JValue, what: &str) -> Diagnostic {
    Diagnostic::new(format!("expected {what}, found {}", v.kind_name()), v.span)
}

fn object<'a>(v: &'a JValue, what: &str) -> PResult<&'a [(Key, JValue)]> {
    match &v.kind {
        JKind::Object(entries) => Ok(entries),
        _ => Err(expected(v, what)),
    }
}

fn array<'a>(v: &'a JValue, what: &str) -> PResult<&'a [JValue]> {
    match &v.kind {
        JKind::Array(items) => Ok(items),
        _ => Err(expected(v, what)),
    }
}

fn string<'a>(v: &'a JValue, what: &str) -> PResult<&'a str> {
    match &v.kind {
        JKind::String(s) => Ok(s),
        _ => Err(expected(v, what)),
    }
}

fn boolean(v: &JValue, what: &str) -> PResult<bool> {
    match v.kind {
        JKind::Bool(b) => Ok(b),
        _ => Err(expected(v, what)),
    }
}

/// Rejects a key that repeats in an object.
fn check_duplicates(entries: &[(Key, JValue)], what: &str) -> PResult<()> {
    let mut seen = HashSet::new();
    for (k, _) in entries {
        if !seen.insert(k.value.as_str()) {
            return Err(Diagnostic::new(
                format!("duplicate {what} `{}`", k.value),
                k.span,
            ));
        }
    }
    Ok(())
}

fn list_fields(fields: &[&str]) -> String {
    if fields.is_empty() {
        return "no other fields".to_string();
    }
    let quoted: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
    format!("one of {}", quoted.join(", "))
}

/// Rejects unknown and repeated fields of an object whose fields are `allowed`.
fn check_fields(entries: &[(Key, JValue)], allowed: &[&str], what: &str) -> PResult<()> {
    for (k, _) in entries {
        if !allowed.contains(&k.value.as_str()) {
            return Err(Diagnostic::new(
                format!(
                    "unknown field `{}` in {what}, expected {}",
                    k.value,
                    list_fields(allowed)
                ),
                k.span,
            ));
        }
    }
    let mut seen = HashSet::new();
    for (k, _) in entries {
        if !seen.insert(k.value.as_str()) {
            return Err(Diagnostic::new(
                format!("duplicate field `{}` in {what}", k.value),
                k.span,
            ));
        }
    }
    Ok(())
}

fn field<'a>(entries: &'a [(Key, JValue)], name: &str) -> Option<&'a JValue> {
    entries
        .iter()
        .find(|(k, _)| k.value == name)
        .map(|(_, v)| v)
}

/// A field that is absent or `null` counts as absent.
fn opt_field<'a>(entries: &'a [(Key, JValue)], name: &str) -> Option<&'a JValue> {
    field(entries, name).filter(|v| !v.is_null())
}

fn required<'a>(
    entries: &'a [(Key, JValue)],
    name: &str,
    whole: &JValue,
    what: &str,
) -> PResult<&'a JValue> {
    field(entries, name)
        .ok_or_else(|| Diagnostic::new(format!("missing field `{name}` in {what}"), whole.span))
}

/// A `::`-separated name, each part a non-reserved identifier.
fn path_of(s: &str, span: Span, what: &str) -> PResult<Path> {
    let mut parts = Vec::new();
    for part in s.split("::") {
        if !is_identifier(part) {
            return Err(Diagnostic::new(
                format!("invalid {what} `{s}`: each part must be an identifier"),
                span,
            ));
        }
        if is_reserved_identifier(part) {
            return Err(Diagnostic::new(
                format!("invalid {what} `{s}`: `{part}` is a reserved identifier"),
                span,
            ));
        }
        parts.push(Name {
            value: part.to_string(),
            span,
        });
    }
    Ok(Path { parts, span })
}

/// A declared name: one non-reserved identifier.
fn ident_of(s: &str, span: Span, what: &str) -> PResult<Name> {
    if !is_identifier(s) {
        return Err(Diagnostic::new(
            format!("invalid {what} `{s}`: expected an identifier"),
            span,
        ));
    }
    if is_reserved_identifier(s) {
        return Err(Diagnostic::new(
            format!("invalid {what} `{s}`: this identifier is reserved"),
            span,
        ));
    }
    Ok(Name {
        value: s.to_string(),
        span,
    })
}

fn builtin_path(name: &str, span: Span) -> Path {
    Path {
        parts: vec![
            Name {
                value: RESERVED_NAMESPACE.to_string(),
                span,
            },
            Name {
                value: name.to_string(),
                span,
            },
        ],
        span,
    }
}

/// `"annotations": { "key": "value" }`; a repeated key keeps its last value, as in Cedar.
fn annotations(v: Option<&JValue>) -> PResult<Vec<Annotation>> {
    let Some(v) = v else {
        return Ok(Vec::new());
    };
    let entries = object(v, "an object of annotations")?;
    let mut out: Vec<Annotation> = Vec::new();
    // Where each key is in `out`: a repeated key keeps its first place and its last value.
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (k, val) in entries {
        if !is_identifier(&k.value) {
            return Err(Diagnostic::new(
                format!(
                    "invalid annotation key `{}`: expected an identifier",
                    k.value
                ),
                k.span,
            ));
        }
        let value = string(val, "a string annotation value")?;
        let ann = Annotation {
            key: Name {
                value: k.value.clone(),
                span: k.span,
            },
            value: Some(Name {
                value: value.to_string(),
                span: val.span,
            }),
        };
        match index.get(k.value.as_str()).and_then(|&i| out.get_mut(i)) {
            Some(existing) => *existing = ann,
            None => {
                index.insert(k.value.as_str(), out.len());
                out.push(ann);
            }
        }
    }
    Ok(out)
}

const NAMESPACE_FIELDS: &[&str] = &["commonTypes", "entityTypes", "actions", "annotations"];

fn namespace(key: &Key, def: &JValue) -> PResult<Namespace> {
    let what = if key.value.is_empty() {
        "the empty namespace".to_string()
    } else {
        format!("namespace `{}`", key.value)
    };
    let entries = object(def, &format!("an object defining {what}"))?;
    check_fields(entries, NAMESPACE_FIELDS, &what)?;
    let anns = annotations(field(entries, "annotations"))?;
    let name = if key.value.is_empty() {
        if !anns.is_empty() {
            return Err(Diagnostic::new(
                "annotations are not allowed on the empty namespace",
                key.span,
            ));
        }
        None
    } else {
        Some(path_of(&key.value, key.span, "namespace name")?)
    };
    let mut decls = Vec::new();
    if let Some(commons) = field(entries, "commonTypes") {
        let commons = object(commons, "an object of common types")?;
        check_duplicates(commons, "common type")?;
        for (k, v) in commons {
            let name = ident_of(&k.value, k.span, "common type name")?;
            let (def, anns) = ty_with(v, &["annotations"], "a common type")?;
            decls.push(Decl {
                annotations: anns,
                kind: DeclKind::Type(TypeDecl { name, def }),
                span: k.span.to(v.span),
            });
        }
    }
    let entity_types = required(entries, "entityTypes", def, &what)?;
    let entity_types = object(entity_types, "an object of entity types")?;
    check_duplicates(entity_types, "entity type")?;
    for (k, v) in entity_types {
        let name = ident_of(&k.value, k.span, "entity type name")?;
        let (body, anns) = entity_type(v, &k.value)?;
        decls.push(Decl {
            annotations: anns,
            kind: DeclKind::Entity(EntityDecl {
                names: vec![name],
                body,
            }),
            span: k.span.to(v.span),
        });
    }
    let actions = required(entries, "actions", def, &what)?;
    let actions = object(actions, "an object of actions")?;
    check_duplicates(actions, "action")?;
    for (k, v) in actions {
        let name = Name {
            value: k.value.clone(),
            span: k.span,
        };
        let (decl, anns) = action(v, name)?;
        decls.push(Decl {
            annotations: anns,
            kind: DeclKind::Action(decl),
            span: k.span.to(v.span),
        });
    }
    Ok(Namespace {
        annotations: anns,
        name,
        decls,
        span: key.span.to(def.span),
    })
}

const ENTITY_FIELDS: &[&str] = &[
    "memberOfTypes",
    "shape",
    "tags",
    "enum",
    "external",
    "annotations",
];

fn entity_type(v: &JValue, name: &str) -> PResult<(EntityBody, Vec<Annotation>)> {
    let what = format!("entity type `{name}`");
    let entries = object(v, &format!("an object defining {what}"))?;
    check_fields(entries, ENTITY_FIELDS, &what)?;
    // As in Cedar, `null` is not accepted for any of these fields.
    for (k, val) in entries {
        if val.is_null() {
            return Err(Diagnostic::new(
                format!("invalid `null` for field `{}` of {what}", k.value),
                val.span,
            ));
        }
    }
    let anns = annotations(field(entries, "annotations"))?;
    if let Some(ext) = field(entries, "external")
        && boolean(ext, "a boolean")?
    {
        return Err(Diagnostic::new(
            format!("{what} is declared `external`, which Thuja does not support"),
            ext.span,
        ));
    }
    let member_of = field(entries, "memberOfTypes");
    let shape = field(entries, "shape");
    let tags = field(entries, "tags");
    if let Some(choices) = field(entries, "enum") {
        let unexpected: Vec<&str> = [
            ("memberOfTypes", member_of.is_some()),
            ("shape", shape.is_some()),
            ("tags", tags.is_some()),
        ]
        .iter()
        .filter(|(_, present)| *present)
        .map(|(f, _)| *f)
        .collect();
        if !unexpected.is_empty() {
            return Err(Diagnostic::new(
                format!(
                    "unexpected field in enumerated {what}: {}",
                    unexpected.join(", ")
                ),
                v.span,
            ));
        }
        let items = array(choices, "an array of entity ids")?;
        if items.is_empty() {
            return Err(Diagnostic::new(
                format!("the `enum` of {what} must not be empty"),
                choices.span,
            ));
        }
        let mut ids = Vec::new();
        for item in items {
            ids.push(Name {
                value: string(item, "a string entity id")?.to_string(),
                span: item.span,
            });
        }
        return Ok((EntityBody::Enum(ids), anns));
    }
    let mut parents = Vec::new();
    if let Some(m) = member_of {
        for item in array(m, "an array of entity type names")? {
            parents.push(path_of(
                string(item, "an entity type name")?,
                item.span,
                "entity type name",
            )?);
        }
    }
    let attrs = shape.map(|s| ty(s, "a shape type")).transpose()?;
    let tags = tags.map(|t| ty(t, "a tag type")).transpose()?;
    Ok((
        EntityBody::Standard {
            parents,
            attrs,
            tags,
        },
        anns,
    ))
}

const ACTION_FIELDS: &[&str] = &[
    "attributes",
    "appliesTo",
    "memberOf",
    "external",
    "annotations",
];

fn action(v: &JValue, name: Name) -> PResult<(ActionDecl, Vec<Annotation>)> {
    let what = format!("action `{}`", name.value);
    let entries = object(v, &format!("an object defining {what}"))?;
    check_fields(entries, ACTION_FIELDS, &what)?;
    let anns = annotations(field(entries, "annotations"))?;
    if let Some(attrs) = opt_field(entries, "attributes") {
        return Err(Diagnostic::new(
            format!("{what} has `attributes`, which Cedar schemas no longer support"),
            attrs.span,
        ));
    }
    if let Some(ext) = opt_field(entries, "external")
        && boolean(ext, "a boolean")?
    {
        return Err(Diagnostic::new(
            format!("{what} is declared `external`, which Thuja does not support"),
            ext.span,
        ));
    }
    let mut parents = Vec::new();
    if let Some(m) = opt_field(entries, "memberOf") {
        for item in array(m, "an array of action references")? {
            parents.push(action_ref(item)?);
        }
    }
    let applies_to = opt_field(entries, "appliesTo")
        .map(applies_to)
        .transpose()?;
    Ok((
        ActionDecl {
            names: vec![name],
            parents,
            applies_to,
        },
        anns,
    ))
}

fn action_ref(v: &JValue) -> PResult<ActionRef> {
    let what = "an action reference";
    let entries = object(v, "an action reference (`{\"id\": ..., \"type\": ...}`)")?;
    check_fields(entries, &["id", "type"], what)?;
    let id = required(entries, "id", v, what)?;
    let id = Name {
        value: string(id, "a string action id")?.to_string(),
        span: id.span,
    };
    let ty = match opt_field(entries, "type") {
        Some(t) => Some(path_of(
            string(t, "an action type name")?,
            t.span,
            "action type name",
        )?),
        None => None,
    };
    Ok(ActionRef {
        ty,
        id,
        span: v.span,
    })
}

fn applies_to(v: &JValue) -> PResult<AppliesTo> {
    let what = "`appliesTo`";
    let entries = object(v, "an object for `appliesTo`")?;
    check_fields(
        entries,
        &["principalTypes", "resourceTypes", "context"],
        what,
    )?;
    let types = |key: &str| -> PResult<Vec<Path>> {
        let list = required(entries, key, v, what)?;
        let mut out = Vec::new();
        for item in array(list, "an array of entity type names")? {
            out.push(path_of(
                string(item, "an entity type name")?,
                item.span,
                "entity type name",
            )?);
        }
        Ok(out)
    };
    let principals = types("principalTypes")?;
    let resources = types("resourceTypes")?;
    let context = field(entries, "context")
        .map(|c| ty(c, "a context type"))
        .transpose()?;
    Ok(AppliesTo {
        principals: Some(principals),
        resources: Some(resources),
        context,
        span: v.span,
    })
}

const TYPE_FIELDS: &[&str] = &[
    "type",
    "element",
    "attributes",
    "additionalAttributes",
    "name",
];

fn ty(v: &JValue, what: &str) -> PResult<TypeExpr> {
    ty_with(v, &[], what).map(|(t, _)| t)
}

/// A type object that may also carry `extra` fields (`annotations`, `required`), which the
/// caller reads; returns the type and the object's annotations.
fn ty_with(v: &JValue, extra: &[&str], what: &str) -> PResult<(TypeExpr, Vec<Annotation>)> {
    stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || ty_inner(v, extra, what))
}

fn ty_inner(v: &JValue, extra: &[&str], what: &str) -> PResult<(TypeExpr, Vec<Annotation>)> {
    let entries = object(v, &format!("{what} (an object with a `type` field)"))?;
    let mut allowed: Vec<&str> = TYPE_FIELDS.to_vec();
    allowed.extend_from_slice(extra);
    check_fields(entries, &allowed, "a type")?;
    let anns = if extra.contains(&"annotations") {
        annotations(field(entries, "annotations"))?
    } else {
        Vec::new()
    };
    let type_field = required(entries, "type", v, "a type")?;
    let type_name = string(type_field, "a type name")?;
    // Fields of the type object other than `type` that this kind of type does not take.
    let reject_others = |takes: &[&str]| -> PResult<()> {
        for (k, _) in entries {
            let f = k.value.as_str();
            if f == "type" || extra.contains(&f) || takes.contains(&f) {
                continue;
            }
            return Err(Diagnostic::new(
                format!(
                    "unknown field `{f}` in a type `{type_name}`, expected {}",
                    list_fields(takes)
                ),
                k.span,
            ));
        }
        Ok(())
    };
    let name_field = |kind: &str| -> PResult<(&str, Span)> {
        let n = required(entries, "name", v, &format!("a type `{kind}`"))?;
        Ok((string(n, "a type name")?, n.span))
    };
    let span = type_field.span;
    let t = match type_name {
        "String" | "Long" | "Boolean" => {
            reject_others(&[])?;
            let name = if type_name == "Boolean" {
                "Bool"
            } else {
                type_name
            };
            TypeExpr::Name(builtin_path(name, span))
        }
        "Set" => {
            reject_others(&["element"])?;
            let elem = required(entries, "element", v, "a type `Set`")?;
            TypeExpr::Set(Box::new(ty(elem, "an element type")?), v.span)
        }
        "Record" => {
            reject_others(&["attributes", "additionalAttributes"])?;
            if let Some(open) = field(entries, "additionalAttributes")
                && boolean(open, "a boolean")?
            {
                return Err(Diagnostic::new(
                    "records with `additionalAttributes: true` are not supported",
                    open.span,
                ));
            }
            let attrs = required(entries, "attributes", v, "a type `Record`")?;
            TypeExpr::Record(record(attrs, v.span)?)
        }
        "Entity" => {
            reject_others(&["name"])?;
            let (n, nspan) = name_field("Entity")?;
            TypeExpr::EntityRef(path_of(n, nspan, "entity type")?)
        }
        "EntityOrCommon" => {
            reject_others(&["name"])?;
            let (n, nspan) = name_field("EntityOrCommon")?;
            TypeExpr::Name(path_of(n, nspan, "entity or common type")?)
        }
        "Extension" => {
            reject_others(&["name"])?;
            let (n, nspan) = name_field("Extension")?;
            let name = ident_of(n, nspan, "extension type")?;
            if !EXTENSION_TYPES.contains(&n) {
                return Err(
                    Diagnostic::new(format!("unknown extension type `{n}`"), nspan).with_help(
                        format!("the extension types are {}", EXTENSION_TYPES.join(", ")),
                    ),
                );
            }
            TypeExpr::Name(builtin_path(&name.value, nspan))
        }
        other => {
            reject_others(&[])?;
            TypeExpr::CommonRef(path_of(other, span, "common type")?)
        }
    };
    Ok((t, anns))
}

fn record(v: &JValue, span: Span) -> PResult<RecordTypeExpr> {
    let entries = object(v, "an object of attributes")?;
    check_duplicates(entries, "attribute")?;
    let mut attrs = Vec::new();
    for (k, val) in entries {
        let what = format!("attribute `{}`", k.value);
        let (t, anns) = ty_with(val, &["required", "annotations"], &what)?;
        let required = match field(object(val, &what)?, "required") {
            Some(r) => boolean(r, "a boolean for `required`")?,
            None => true,
        };
        attrs.push(AttrDecl {
            annotations: anns,
            name: Name {
                value: k.value.clone(),
                span: k.span,
            },
            required,
            ty: t,
        });
    }
    Ok(RecordTypeExpr { attrs, span })
}

// ===================================================================================
// The syntax tree to JSON
// ===================================================================================

/// The JSON schema form of a tree. Namespaces without a name are merged into `""`, as are
/// repeated namespaces of one name; a declaration of several names is written once per name.
pub fn to_json(file: &SchemaFile) -> Value {
    let decls = Declared::of(file);
    let mut root = Map::new();
    for ns in &file.namespaces {
        let ns_name = ns.name.as_ref().map(Path::full).unwrap_or_default();
        let entry = root
            .entry(ns_name.clone())
            .or_insert_with(|| json!({"entityTypes": {}, "actions": {}}));
        let Value::Object(entry) = entry else {
            continue;
        };
        if !ns.annotations.is_empty() {
            entry.insert("annotations".into(), annotations_json(&ns.annotations));
        }
        let w = Writer {
            decls: &decls,
            ns: &ns_name,
        };
        for decl in &ns.decls {
            w.decl(entry, decl);
        }
    }
    Value::Object(root)
}

/// The JSON schema form of a tree as pretty-printed text (two-space indentation, a final newline).
/// Whatever the JSON map ordering in the build, the format's own keys come in a fixed readable
/// order (`type` first, then its fields; common types, entity types, actions, annotations).
pub fn to_json_string(file: &SchemaFile) -> String {
    let mut out = String::new();
    write_pretty(&mut out, &to_json(file), 0, true);
    out.push('\n');
    out
}

/// Keys whose value is a map keyed by user-chosen names (kept in map order).
const NAMED_MAPS: &[&str] = &[
    "commonTypes",
    "entityTypes",
    "actions",
    "attributes",
    "annotations",
];

/// The order of the format's own keys in printed JSON; other keys follow in map order.
const KEY_ORDER: &[&str] = &[
    "type",
    "name",
    "element",
    "attributes",
    "additionalAttributes",
    "required",
    "memberOfTypes",
    "shape",
    "tags",
    "enum",
    "memberOf",
    "appliesTo",
    "principalTypes",
    "resourceTypes",
    "context",
    "id",
    "commonTypes",
    "entityTypes",
    "actions",
    "annotations",
];

/// Writes `v`; `named` says its keys are user-chosen names, printed in map order.
fn write_pretty(out: &mut String, v: &Value, depth: usize, named: bool) {
    stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || {
        write_pretty_inner(out, v, depth, named)
    });
}

fn write_pretty_inner(out: &mut String, v: &Value, depth: usize, named: bool) {
    let pad = |out: &mut String, d: usize| {
        for _ in 0..d {
            out.push_str("  ");
        }
    };
    match v {
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                pad(out, depth + 1);
                write_pretty(out, item, depth + 1, false);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            pad(out, depth);
            out.push(']');
        }
        Value::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            // A stable sort: the format's keys in their order, then the rest as they were.
            keys.sort_by_key(|k| {
                if named {
                    return 0;
                }
                KEY_ORDER
                    .iter()
                    .position(|o| o == k)
                    .unwrap_or(KEY_ORDER.len())
            });
            out.push_str("{\n");
            for (i, k) in keys.iter().enumerate() {
                pad(out, depth + 1);
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push_str(": ");
                if let Some(item) = map.get(*k) {
                    let child_named = !named && NAMED_MAPS.contains(&k.as_str());
                    write_pretty(out, item, depth + 1, child_named);
                }
                out.push_str(if i + 1 < keys.len() { ",\n" } else { "\n" });
            }
            pad(out, depth);
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The common and entity types a file declares, by full name.
pub(crate) struct Declared {
    pub(crate) commons: HashSet<String>,
    pub(crate) entities: HashSet<String>,
}

pub(crate) fn qualify(ns: &str, name: &str) -> String {
    if ns.is_empty() {
        name.to_string()
    } else {
        format!("{ns}::{name}")
    }
}

/// What a type name refers to, by the resolver's rules over a file's own declarations.
pub(crate) enum Target {
    Common,
    Entity,
    /// A primitive or extension type, by its builtin name (`Bool` for booleans).
    Builtin(String),
    Unresolved,
}

fn builtin_name(name: &str) -> Option<&str> {
    match name {
        "Long" | "String" | "Bool" => Some(name),
        "Boolean" => Some("Bool"),
        _ => EXTENSION_TYPES.iter().find(|e| **e == name).copied(),
    }
}

impl Declared {
    pub(crate) fn of(file: &SchemaFile) -> Self {
        let mut d = Declared {
            commons: HashSet::new(),
            entities: HashSet::new(),
        };
        for ns in &file.namespaces {
            let ns_name = ns.name.as_ref().map(Path::full).unwrap_or_default();
            for decl in &ns.decls {
                match &decl.kind {
                    DeclKind::Type(t) => {
                        d.commons.insert(qualify(&ns_name, &t.name.value));
                    }
                    DeclKind::Entity(e) => {
                        for n in &e.names {
                            d.entities.insert(qualify(&ns_name, &n.value));
                        }
                    }
                    DeclKind::Action(_) => {}
                }
            }
        }
        d
    }

    /// What the type name `path`, written in namespace `ns`, refers to.
    pub(crate) fn lookup(&self, ns: &str, path: &Path) -> Target {
        let full = path.full();
        if path.is_qualified() {
            if self.commons.contains(&full) {
                return Target::Common;
            }
            if self.entities.contains(&full) {
                return Target::Entity;
            }
            return match path.parts.as_slice() {
                [first, last] if first.value == RESERVED_NAMESPACE => builtin_name(&last.value)
                    .map_or(Target::Unresolved, |b| Target::Builtin(b.to_string())),
                _ => Target::Unresolved,
            };
        }
        let mut candidates = vec![qualify(ns, &full)];
        if !ns.is_empty() {
            candidates.push(full.clone());
        }
        for c in &candidates {
            if self.commons.contains(c) {
                return Target::Common;
            }
            if self.entities.contains(c) {
                return Target::Entity;
            }
        }
        builtin_name(&full).map_or(Target::Unresolved, |b| Target::Builtin(b.to_string()))
    }
}

/// Type keywords of the JSON format, which a bare `{"type": ...}` cannot use as a common type.
const JSON_TYPE_KEYWORDS: &[&str] = &[
    "String",
    "Long",
    "Boolean",
    "Set",
    "Record",
    "Entity",
    "EntityOrCommon",
    "Extension",
];

fn annotations_json(anns: &[Annotation]) -> Value {
    let mut m = Map::new();
    for a in anns {
        let v = a
            .value
            .as_ref()
            .map(|v| v.value.clone())
            .unwrap_or_default();
        m.insert(a.key.value.clone(), Value::String(v));
    }
    Value::Object(m)
}

struct Writer<'a> {
    decls: &'a Declared,
    ns: &'a str,
}

fn section<'m>(entry: &'m mut Map<String, Value>, key: &str) -> Option<&'m mut Map<String, Value>> {
    match entry
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()))
    {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

impl Writer<'_> {
    fn decl(&self, entry: &mut Map<String, Value>, decl: &Decl) {
        match &decl.kind {
            DeclKind::Type(t) => {
                let mut v = self.ty(&t.def);
                if !decl.annotations.is_empty()
                    && let Value::Object(m) = &mut v
                {
                    m.insert("annotations".into(), annotations_json(&decl.annotations));
                }
                // Common types come first in Cedar's layout.
                if !entry.contains_key("commonTypes") {
                    let mut reordered = Map::new();
                    reordered.insert("commonTypes".into(), Value::Object(Map::new()));
                    reordered.append(entry);
                    *entry = reordered;
                }
                if let Some(m) = section(entry, "commonTypes") {
                    m.insert(t.name.value.clone(), v);
                }
            }
            DeclKind::Entity(e) => {
                let mut m = Map::new();
                match &e.body {
                    EntityBody::Enum(ids) => {
                        let ids = ids.iter().map(|i| Value::String(i.value.clone())).collect();
                        m.insert("enum".into(), Value::Array(ids));
                    }
                    EntityBody::Standard {
                        parents,
                        attrs,
                        tags,
                    } => {
                        if !parents.is_empty() {
                            let ps = parents.iter().map(|p| Value::String(p.full())).collect();
                            m.insert("memberOfTypes".into(), Value::Array(ps));
                        }
                        if let Some(shape) = attrs {
                            m.insert("shape".into(), self.ty(shape));
                        }
                        if let Some(tags) = tags {
                            m.insert("tags".into(), self.ty(tags));
                        }
                    }
                }
                if !decl.annotations.is_empty() {
                    m.insert("annotations".into(), annotations_json(&decl.annotations));
                }
                if let Some(section) = section(entry, "entityTypes") {
                    for n in &e.names {
                        section.insert(n.value.clone(), Value::Object(m.clone()));
                    }
                }
            }
            DeclKind::Action(a) => {
                let mut m = Map::new();
                if !a.parents.is_empty() {
                    let refs = a
                        .parents
                        .iter()
                        .map(|r| {
                            let mut o = Map::new();
                            o.insert("id".into(), Value::String(r.id.value.clone()));
                            if let Some(t) = &r.ty {
                                o.insert("type".into(), Value::String(t.full()));
                            }
                            Value::Object(o)
                        })
                        .collect();
                    m.insert("memberOf".into(), Value::Array(refs));
                }
                if let Some(at) = &a.applies_to {
                    let list = |l: &Option<Vec<Path>>| {
                        Value::Array(
                            l.iter()
                                .flatten()
                                .map(|p| Value::String(p.full()))
                                .collect(),
                        )
                    };
                    let mut o = Map::new();
                    o.insert("principalTypes".into(), list(&at.principals));
                    o.insert("resourceTypes".into(), list(&at.resources));
                    if let Some(ctx) = &at.context {
                        o.insert("context".into(), self.ty(ctx));
                    }
                    m.insert("appliesTo".into(), Value::Object(o));
                }
                if !decl.annotations.is_empty() {
                    m.insert("annotations".into(), annotations_json(&decl.annotations));
                }
                if let Some(section) = section(entry, "actions") {
                    for n in &a.names {
                        section.insert(n.value.clone(), Value::Object(m.clone()));
                    }
                }
            }
        }
    }

    fn ty(&self, t: &TypeExpr) -> Value {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.ty_inner(t))
    }

    fn ty_inner(&self, t: &TypeExpr) -> Value {
        match t {
            TypeExpr::Name(path) => match self.decls.lookup(self.ns, path) {
                Target::Builtin(b) => match b.as_str() {
                    "Long" | "String" => json!({ "type": b }),
                    "Bool" => json!({"type": "Boolean"}),
                    _ => json!({"type": "Extension", "name": b}),
                },
                Target::Entity => json!({"type": "Entity", "name": path.full()}),
                Target::Common if !JSON_TYPE_KEYWORDS.contains(&path.full().as_str()) => {
                    json!({ "type": path.full() })
                }
                Target::Common | Target::Unresolved => {
                    json!({"type": "EntityOrCommon", "name": path.full()})
                }
            },
            TypeExpr::EntityRef(path) => json!({"type": "Entity", "name": path.full()}),
            TypeExpr::CommonRef(path) => {
                if JSON_TYPE_KEYWORDS.contains(&path.full().as_str()) {
                    json!({"type": "EntityOrCommon", "name": path.full()})
                } else {
                    json!({ "type": path.full() })
                }
            }
            TypeExpr::Set(elem, _) => json!({"type": "Set", "element": self.ty(elem)}),
            TypeExpr::Record(rec) => {
                let mut attrs = Map::new();
                for a in &rec.attrs {
                    let mut v = self.ty(&a.ty);
                    if let Value::Object(m) = &mut v {
                        if !a.required {
                            m.insert("required".into(), Value::Bool(false));
                        }
                        if !a.annotations.is_empty() {
                            m.insert("annotations".into(), annotations_json(&a.annotations));
                        }
                    }
                    attrs.insert(a.name.value.clone(), v);
                }
                json!({"type": "Record", "attributes": attrs})
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used, reason = "tests fail by panicking")]
mod tests {
    use super::*;

    fn err(text: &str) -> (String, String) {
        let d = parse_json_schema_file(text).unwrap_err();
        let snippet = text.get(d.span.range()).unwrap_or("").to_string();
        (d.message, snippet)
    }

    #[test]
    fn reads_a_schema() {
        let text = r#"{
          "NS": {
            "annotations": {"doc": "ns"},
            "commonTypes": {"T": {"type": "Set", "element": {"type": "Long"}, "annotations": {"a": ""}}},
            "entityTypes": {
              "User": {"memberOfTypes": ["Group"], "shape": {"type": "Record", "attributes": {
                  "age": {"type": "Long", "required": false, "annotations": {"x": "y"}},
                  "ip": {"type": "Extension", "name": "ipaddr"},
                  "g": {"type": "Entity", "name": "Group"},
                  "t": {"type": "T"},
                  "e": {"type": "EntityOrCommon", "name": "User"}
              }}, "tags": {"type": "String"}},
              "Group": {},
              "Color": {"enum": ["red", "blue"]}
            },
            "actions": {
              "view": {"memberOf": [{"id": "all"}, {"id": "x", "type": "NS::Action"}],
                       "appliesTo": {"principalTypes": ["User"], "resourceTypes": [], "context": {"type": "Record", "attributes": {}}}},
              "all": {},
              "x": {"memberOf": null, "appliesTo": null}
            }
          },
          "": {"entityTypes": {}, "actions": {}}
        }"#;
        let file = parse_json_schema_file(text).unwrap();
        assert_eq!(file.namespaces.len(), 2);
        let ns = &file.namespaces[0];
        assert_eq!(ns.annotations.len(), 1);
        assert_eq!(ns.decls.len(), 7);
        let DeclKind::Type(t) = &ns.decls[0].kind else {
            panic!()
        };
        assert_eq!(ns.decls[0].annotations[0].key.value, "a");
        let TypeExpr::Set(elem, _) = &t.def else {
            panic!()
        };
        let TypeExpr::Name(p) = elem.as_ref() else {
            panic!()
        };
        assert_eq!(p.full(), "__cedar::Long");
        let DeclKind::Entity(e) = &ns.decls[1].kind else {
            panic!()
        };
        let EntityBody::Standard {
            parents,
            attrs: Some(TypeExpr::Record(rec)),
            tags: Some(_),
        } = &e.body
        else {
            panic!()
        };
        assert_eq!(parents[0].full(), "Group");
        assert!(!rec.attrs[0].required);
        assert_eq!(rec.attrs[0].annotations.len(), 1);
        assert!(matches!(&rec.attrs[2].ty, TypeExpr::EntityRef(p) if p.full() == "Group"));
        assert!(matches!(&rec.attrs[3].ty, TypeExpr::CommonRef(p) if p.full() == "T"));
        assert!(matches!(&rec.attrs[4].ty, TypeExpr::Name(p) if p.full() == "User"));
        let DeclKind::Action(a) = &ns.decls[4].kind else {
            panic!()
        };
        assert_eq!(a.parents.len(), 2);
        assert_eq!(a.applies_to.as_ref().unwrap().resources, Some(vec![]));
        let DeclKind::Action(x) = &ns.decls[6].kind else {
            panic!()
        };
        assert!(x.applies_to.is_none());
        assert!(file.namespaces[1].name.is_none());
    }

    #[test]
    fn rejects_unknown_and_duplicate_keys() {
        let (m, s) = err(r#"{"": {"entityTypes": {}, "actions": {}, "extra": 1}}"#);
        assert!(m.contains("unknown field `extra`"), "{m}");
        assert_eq!(s, r#""extra""#);
        let (m, s) = err(r#"{"": {"entityTypes": {"A": {}, "A": {}}, "actions": {}}}"#);
        assert!(m.contains("duplicate entity type `A`"), "{m}");
        assert_eq!(s, r#""A""#);
        let (m, _) = err(
            r#"{"N": {"entityTypes": {}, "actions": {}}, "N": {"entityTypes": {}, "actions": {}}}"#,
        );
        assert!(m.contains("duplicate namespace"), "{m}");
        let (m, _) = err(
            r#"{"": {"entityTypes": {"A": {"shape": {"type": "Record", "attributes": {}, "attributes": {}}}}, "actions": {}}}"#,
        );
        assert!(m.contains("duplicate field `attributes`"), "{m}");
        let (m, s) = err(
            r#"{"": {"entityTypes": {"A": {"shape": {"type": "Record", "attributes": {"x": {"type": "Long", "element": {"type": "Long"}}}}}}, "actions": {}}}"#,
        );
        assert!(m.contains("unknown field `element`"), "{m}");
        assert_eq!(s, r#""element""#);
        let (m, _) = err(r#"{"": {"entityTypes": {}}}"#);
        assert!(m.contains("missing field `actions`"), "{m}");
        let (m, _) = err(
            r#"{"": {"entityTypes": {}, "actions": {"a": {"appliesTo": {"principalTypes": []}}}}}"#,
        );
        assert!(m.contains("missing field `resourceTypes`"), "{m}");
        let (m, _) = err(
            r#"{"": {"entityTypes": {"A": {"enum": ["a"], "shape": {"type": "Record", "attributes": {}}}}, "actions": {}}}"#,
        );
        assert!(m.contains("unexpected field"), "{m}");
        let (m, _) = err(r#"{"": {"annotations": {"a": "b"}, "entityTypes": {}, "actions": {}}}"#);
        assert!(m.contains("empty namespace"), "{m}");
    }

    #[test]
    fn rejects_wrong_type_names_and_values() {
        let (m, s) = err(
            r#"{"": {"entityTypes": {"A": {"tags": {"type": "Extension", "name": "float"}}}, "actions": {}}}"#,
        );
        assert!(m.contains("unknown extension type `float`"), "{m}");
        assert_eq!(s, r#""float""#);
        let (m, _) =
            err(r#"{"": {"entityTypes": {"A": {"tags": {"type": "Set"}}}, "actions": {}}}"#);
        assert!(m.contains("missing field `element`"), "{m}");
        let (m, s) =
            err(r#"{"": {"entityTypes": {"A": {"tags": {"type": "my type"}}}, "actions": {}}}"#);
        assert!(m.contains("invalid common type"), "{m}");
        assert_eq!(s, r#""my type""#);
        let (m, _) = err(r#"{"": {"entityTypes": {"A": {"tags": {"type": 3}}}, "actions": {}}}"#);
        assert!(m.contains("expected a type name, found a number"), "{m}");
        let (m, _) = err(r#"{"": {"entityTypes": {"if": {}}, "actions": {}}}"#);
        assert!(m.contains("reserved"), "{m}");
        let (m, _) = err(r#"{"": {"entityTypes": {"A": {"memberOfTypes": null}}, "actions": {}}}"#);
        assert!(m.contains("null"), "{m}");
        let (m, _) = err(
            r#"{"": {"entityTypes": {"A": {"shape": {"type": "Record", "attributes": {}, "additionalAttributes": true}}}, "actions": {}}}"#,
        );
        assert!(m.contains("additionalAttributes"), "{m}");
        let (m, _) = err(r#"{"": {"entityTypes": {"A": {"enum": []}}, "actions": {}}}"#);
        assert!(m.contains("must not be empty"), "{m}");
    }

    #[test]
    fn syntax_errors_are_located() {
        let text = "{\n  \"\": {\n    \"entityTypes\": {},\n    \"actions\": {} x\n  }\n}";
        let d = parse_json_schema_file(text).unwrap_err();
        let src = crate::source::Source::new("s.json", text);
        assert_eq!(src.line_col(d.span.start), (4, 19));
        assert!(d.message.contains("expected `,` or `}`"), "{}", d.message);
        assert!(parse_json_schema_file("").is_err());
        assert!(parse_json_schema_file("{} {}").is_err());
        assert!(parse_json_schema_file(r#"{"a": "\ud800"}"#).is_err());
        assert!(parse_json_schema_file("[1, 2,]").is_err());
        assert!(parse_json_schema_file("01").is_err());
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_json_schema_file(&deep).is_err());
    }

    #[test]
    fn strings_unescape() {
        let v =
            parse_json(r#"["a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00 é", -1.5e3, true, null]"#).unwrap();
        let JKind::Array(items) = &v.kind else {
            panic!()
        };
        assert_eq!(
            items[0].kind,
            JKind::String("a\"\\/\u{8}\u{c}\n\r\té😀 é".into())
        );
        assert_eq!(items[1].kind, JKind::Number);
    }

    #[test]
    fn writes_typed_json() {
        let file = super::super::parse::parse_schema_file(
            r#"namespace N { type T = {a: Long}; entity E in [G] = {b: Bool, c?: ipaddr, d: T, e: G, f: __cedar::String} tags Set<String>; entity G; action "v" appliesTo {principal: E, resource: G, context: T}; }"#,
        )
        .unwrap();
        let v = to_json(&file);
        let ns = &v["N"];
        assert_eq!(ns["commonTypes"]["T"]["type"], "Record");
        let attrs = &ns["entityTypes"]["E"]["shape"]["attributes"];
        assert_eq!(attrs["b"], json!({"type": "Boolean"}));
        assert_eq!(
            attrs["c"],
            json!({"type": "Extension", "name": "ipaddr", "required": false})
        );
        assert_eq!(attrs["d"], json!({"type": "T"}));
        assert_eq!(attrs["e"], json!({"type": "Entity", "name": "G"}));
        assert_eq!(attrs["f"], json!({"type": "String"}));
        assert_eq!(ns["entityTypes"]["E"]["memberOfTypes"], json!(["G"]));
        let at = &ns["actions"]["v"]["appliesTo"];
        assert_eq!(at["principalTypes"], json!(["E"]));
        assert_eq!(at["resourceTypes"], json!(["G"]));
        assert_eq!(at["context"], json!({"type": "T"}));
    }
}
