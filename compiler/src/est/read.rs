//! Cedar's JSON policy format read back: a policy's JSON tree to Cedar text that parses (as
//! written) to exactly the tree the JSON describes.
//!
//! Every operand that is not a variable is written in parentheses, so the text never depends on
//! precedence, and a negated literal stays a negation (`-(1)`, where `-1` is the literal). The
//! text is then parsed by the policy parser, which checks what the grammar checks (names,
//! slots, the action's type); this module checks the shape of the
//! JSON and says where in it a problem is, as a path (`staticPolicies.policy0.conditions[0].body`).

use std::fmt::Write;

use smol_str::SmolStr;
use thuja_runtime::EntityType;
use thuja_runtime::ext::ExtFn;
use thuja_runtime::json::Json;
use thuja_runtime::name::{is_identifier, is_reserved_identifier};
use thuja_runtime::uid::write_escaped;

/// A problem with the JSON's shape, and where in the JSON it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at `{path}`: {message}")]
pub struct ShapeError {
    pub path: String,
    pub message: String,
}

type R<T> = Result<T, ShapeError>;

fn err<T>(path: &str, message: impl Into<String>) -> R<T> {
    Err(ShapeError {
        path: path.to_string(),
        message: message.into(),
    })
}

fn fields<'a>(j: &'a Json, path: &str, what: &str) -> R<&'a [(SmolStr, Json)]> {
    match j {
        Json::Object(entries) => Ok(entries),
        other => err(
            path,
            format!("expected {what} (an object), found {}", other.kind()),
        ),
    }
}

/// Checks an object has only `allowed` keys, and returns the value of each (`None` if absent).
fn take<'a, const N: usize>(
    j: &'a Json,
    path: &str,
    what: &str,
    allowed: [&str; N],
) -> R<[Option<&'a Json>; N]> {
    let entries = fields(j, path, what)?;
    let mut out = [None; N];
    for (k, v) in entries {
        match allowed.iter().position(|a| a == k) {
            Some(i) => out[i] = Some(v),
            None => {
                return err(
                    path,
                    format!(
                        "unknown field `{k}` in {what}; expected {}",
                        allowed
                            .iter()
                            .map(|a| format!("`{a}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
    }
    Ok(out)
}

fn required<'a>(v: Option<&'a Json>, path: &str, field: &str) -> R<&'a Json> {
    v.map_or_else(|| err(path, format!("missing field `{field}`")), Ok)
}

fn str_of<'a>(j: &'a Json, path: &str) -> R<&'a str> {
    j.as_str().map_or_else(
        || err(path, format!("expected a string, found {}", j.kind())),
        Ok,
    )
}

fn quoted(out: &mut String, s: &str) {
    out.push('"');
    let _ = write_escaped(out, s);
    out.push('"');
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// The text of one policy or template given as JSON.
pub fn policy_text(j: &Json, path: &str) -> R<String> {
    let [effect, principal, action, resource, conditions, annotations] = take(
        j,
        path,
        "a policy",
        [
            "effect",
            "principal",
            "action",
            "resource",
            "conditions",
            "annotations",
        ],
    )?;
    let mut out = String::new();
    if let Some(annotations) = annotations {
        let apath = join(path, "annotations");
        for (key, value) in fields(annotations, &apath, "annotations")? {
            let kpath = join(&apath, key);
            if !is_identifier(key) {
                return err(&kpath, format!("`{key}` is not a valid annotation key"));
            }
            let _ = write!(out, "@{key}");
            match value {
                Json::Null => {}
                Json::String(v) => {
                    out.push('(');
                    quoted(&mut out, v);
                    out.push(')');
                }
                other => {
                    return err(
                        &kpath,
                        format!(
                            "an annotation's value is a string or null, not {}",
                            other.kind()
                        ),
                    );
                }
            }
            out.push('\n');
        }
    }
    let epath = join(path, "effect");
    match str_of(required(effect, path, "effect")?, &epath)? {
        e @ ("permit" | "forbid") => out.push_str(e),
        other => {
            return err(
                &epath,
                format!("unknown effect `{other}`; expected `permit` or `forbid`"),
            );
        }
    }
    out.push_str("(\n  principal");
    let ppath = join(path, "principal");
    scope(
        &mut out,
        required(principal, path, "principal")?,
        &ppath,
        "?principal",
    )?;
    out.push_str(",\n  action");
    let apath = join(path, "action");
    action_scope(&mut out, required(action, path, "action")?, &apath)?;
    out.push_str(",\n  resource");
    let rpath = join(path, "resource");
    scope(
        &mut out,
        required(resource, path, "resource")?,
        &rpath,
        "?resource",
    )?;
    out.push_str("\n)");
    let cpath = join(path, "conditions");
    let Json::Array(conditions) = required(conditions, path, "conditions")? else {
        return err(&cpath, "expected an array of conditions");
    };
    for (i, c) in conditions.iter().enumerate() {
        let path = format!("{cpath}[{i}]");
        let [kind, body] = take(c, &path, "a condition", ["kind", "body"])?;
        let kpath = join(&path, "kind");
        match str_of(required(kind, &path, "kind")?, &kpath)? {
            k @ ("when" | "unless") => {
                let _ = write!(out, "\n{k} {{ ");
            }
            other => {
                return err(
                    &kpath,
                    format!("unknown condition kind `{other}`; expected `when` or `unless`"),
                );
            }
        }
        expr(
            &mut out,
            required(body, &path, "body")?,
            &join(&path, "body"),
        )?;
        out.push_str(" }");
    }
    out.push_str(";\n");
    Ok(out)
}

/// An entity uid: `{"type": T, "id": I}` or `{"__entity": {"type": T, "id": I}}`.
pub fn uid_text(j: &Json, path: &str) -> R<String> {
    if let Some(inner) = j.get("__entity") {
        let [_] = take(j, path, "an entity reference", ["__entity"])?;
        return uid_text(inner, &join(path, "__entity"));
    }
    let [ty, id] = take(j, path, "an entity reference", ["type", "id"])?;
    let tpath = join(path, "type");
    let ty = str_of(required(ty, path, "type")?, &tpath)?;
    EntityType::parse(ty).or_else(|e| err(&tpath, e.to_string()))?;
    let id = str_of(required(id, path, "id")?, &join(path, "id"))?;
    let mut out = format!("{ty}::");
    quoted(&mut out, id);
    Ok(out)
}

/// `"entity"` or `"slot"` of a scope constraint: exactly one of them.
fn entity_or_slot(
    out: &mut String,
    entity: Option<&Json>,
    slot: Option<&Json>,
    path: &str,
    slot_name: &str,
) -> R<()> {
    match (entity, slot) {
        (Some(e), None) => out.push_str(&uid_text(e, &join(path, "entity"))?),
        (None, Some(s)) => {
            let spath = join(path, "slot");
            let s = str_of(s, &spath)?;
            if s != slot_name {
                return err(
                    &spath,
                    format!("expected the slot `{slot_name}`, found `{s}`"),
                );
            }
            out.push_str(s);
        }
        _ => return err(path, "expected exactly one of `entity` and `slot`"),
    }
    Ok(())
}

fn op_of<'a>(j: &'a Json, path: &str) -> R<&'a str> {
    let op = j
        .get("op")
        .map_or_else(|| err(path, "missing field `op`"), Ok)?;
    str_of(op, &join(path, "op"))
}

fn scope(out: &mut String, j: &Json, path: &str, slot_name: &str) -> R<()> {
    match op_of(j, path)? {
        "All" | "all" => {
            take(j, path, "a scope constraint", ["op"])?;
        }
        op @ ("==" | "in") => {
            let [_, entity, slot] = take(j, path, "a scope constraint", ["op", "entity", "slot"])?;
            let _ = write!(out, " {op} ");
            entity_or_slot(out, entity, slot, path, slot_name)?;
        }
        "is" => {
            let [_, ty, in_entity] =
                take(j, path, "a scope constraint", ["op", "entity_type", "in"])?;
            let tpath = join(path, "entity_type");
            let ty = str_of(required(ty, path, "entity_type")?, &tpath)?;
            EntityType::parse(ty).or_else(|e| err(&tpath, e.to_string()))?;
            let _ = write!(out, " is {ty}");
            if let Some(in_entity) = in_entity {
                let ipath = join(path, "in");
                let [entity, slot] =
                    take(in_entity, &ipath, "an `in` constraint", ["entity", "slot"])?;
                out.push_str(" in ");
                entity_or_slot(out, entity, slot, &ipath, slot_name)?;
            }
        }
        other => {
            return err(
                &join(path, "op"),
                format!("unknown scope operator `{other}`; expected `All`, `==`, `in` or `is`"),
            );
        }
    }
    Ok(())
}

fn action_scope(out: &mut String, j: &Json, path: &str) -> R<()> {
    match op_of(j, path)? {
        "All" | "all" => {
            take(j, path, "an action constraint", ["op"])?;
        }
        "==" => {
            let [_, entity] = take(j, path, "an action constraint", ["op", "entity"])?;
            out.push_str(" == ");
            out.push_str(&uid_text(
                required(entity, path, "entity")?,
                &join(path, "entity"),
            )?);
        }
        "in" => {
            let [_, entity, entities] = take(
                j,
                path,
                "an action constraint",
                ["op", "entity", "entities"],
            )?;
            out.push_str(" in ");
            match (entity, entities) {
                (Some(e), None) => out.push_str(&uid_text(e, &join(path, "entity"))?),
                (None, Some(Json::Array(items))) => {
                    out.push('[');
                    for (i, e) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        out.push_str(&uid_text(e, &format!("{path}.entities[{i}]"))?);
                    }
                    out.push(']');
                }
                (None, Some(other)) => {
                    return err(
                        &join(path, "entities"),
                        format!("expected an array, found {}", other.kind()),
                    );
                }
                _ => return err(path, "expected exactly one of `entity` and `entities`"),
            }
        }
        other => {
            return err(
                &join(path, "op"),
                format!("unknown action operator `{other}`; expected `All`, `==` or `in`"),
            );
        }
    }
    Ok(())
}

/// Writes `e` as an operand: in parentheses unless it is a variable or slot.
fn operand(out: &mut String, j: &Json, path: &str) -> R<()> {
    if j.get("Var").is_some() || j.get("Slot").is_some() {
        return expr(out, j, path);
    }
    out.push('(');
    expr(out, j, path)?;
    out.push(')');
    Ok(())
}

const BINARY: [&str; 12] = [
    "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "in", "&&", "||",
];
const METHODS: [&str; 5] = ["contains", "containsAll", "containsAny", "getTag", "hasTag"];

/// An expression's text. The JSON nests at most as deep as its reader allowed (128 levels);
/// the walk grows the stack on demand all the same.
pub fn expr(out: &mut String, j: &Json, path: &str) -> R<()> {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || expr_inner(out, j, path))
}

fn expr_inner(out: &mut String, j: &Json, path: &str) -> R<()> {
    let entries = fields(j, path, "an expression")?;
    let [(key, body)] = entries else {
        return err(
            path,
            format!(
                "an expression is an object with exactly one key, found {}",
                entries.len()
            ),
        );
    };
    let here = join(path, key);
    let here = here.as_str();
    match key.as_str() {
        "Value" => value(out, body, here)?,
        "Var" => match str_of(body, here)? {
            v @ ("principal" | "action" | "resource" | "context") => out.push_str(v),
            other => return err(here, format!("unknown variable `{other}`")),
        },
        "Slot" => match str_of(body, here)? {
            s @ ("?principal" | "?resource") => out.push_str(s),
            other => return err(here, format!("unknown slot `{other}`")),
        },
        "!" | "neg" | "isEmpty" => {
            let [arg] = take(body, here, "a unary operation", ["arg"])?;
            let arg = required(arg, here, "arg")?;
            let apath = join(here, "arg");
            match key.as_str() {
                "!" => {
                    out.push('!');
                    operand(out, arg, &apath)?;
                }
                "neg" => {
                    out.push('-');
                    operand(out, arg, &apath)?;
                }
                _ => {
                    operand(out, arg, &apath)?;
                    out.push_str(".isEmpty()");
                }
            }
        }
        k if BINARY.contains(&k) || METHODS.contains(&k) => {
            let [left, right] = take(body, here, "a binary operation", ["left", "right"])?;
            operand(out, required(left, here, "left")?, &join(here, "left"))?;
            if METHODS.contains(&k) {
                let _ = write!(out, ".{k}(");
                operand(out, required(right, here, "right")?, &join(here, "right"))?;
                out.push(')');
            } else {
                let _ = write!(out, " {k} ");
                operand(out, required(right, here, "right")?, &join(here, "right"))?;
            }
        }
        "." => {
            let [left, attr] = take(body, here, "an attribute access", ["left", "attr"])?;
            operand(out, required(left, here, "left")?, &join(here, "left"))?;
            let attr = str_of(required(attr, here, "attr")?, &join(here, "attr"))?;
            out.push('[');
            quoted(out, attr);
            out.push(']');
        }
        "has" => {
            let [left, attr] = take(body, here, "a `has` test", ["left", "attr"])?;
            operand(out, required(left, here, "left")?, &join(here, "left"))?;
            let apath = join(here, "attr");
            out.push_str(" has ");
            match required(attr, here, "attr")? {
                Json::String(a) => quoted(out, a),
                Json::Array(items) if !items.is_empty() => {
                    for (i, a) in items.iter().enumerate() {
                        let a = str_of(a, &format!("{apath}[{i}]"))?;
                        if !is_identifier(a) || is_reserved_identifier(a) {
                            return err(
                                &apath,
                                format!(
                                    "`{a}` cannot be written in a `has` test of several attributes (not an identifier)"
                                ),
                            );
                        }
                        if i > 0 {
                            out.push('.');
                        }
                        out.push_str(a);
                    }
                }
                _ => {
                    return err(
                        &apath,
                        "expected an attribute name or a non-empty array of them",
                    );
                }
            }
        }
        "like" => {
            let [left, pattern] = take(body, here, "a `like` test", ["left", "pattern"])?;
            operand(out, required(left, here, "left")?, &join(here, "left"))?;
            let ppath = join(here, "pattern");
            let Json::Array(elems) = required(pattern, here, "pattern")? else {
                return err(&ppath, "expected an array of pattern elements");
            };
            out.push_str(" like \"");
            for (i, el) in elems.iter().enumerate() {
                let epath = format!("{ppath}[{i}]");
                match el {
                    Json::String(w) if w == "Wildcard" => out.push('*'),
                    Json::Object(_) => {
                        let [lit] = take(el, &epath, "a pattern element", ["Literal"])?;
                        let lit =
                            str_of(required(lit, &epath, "Literal")?, &join(&epath, "Literal"))?;
                        for c in lit.chars() {
                            if c == '*' {
                                out.push_str("\\*");
                            } else {
                                let _ = write_escaped(out, c.encode_utf8(&mut [0; 4]));
                            }
                        }
                    }
                    _ => return err(&epath, "expected \"Wildcard\" or {\"Literal\": ...}"),
                }
            }
            out.push('"');
        }
        "is" => {
            let [left, ty, in_expr] =
                take(body, here, "an `is` test", ["left", "entity_type", "in"])?;
            operand(out, required(left, here, "left")?, &join(here, "left"))?;
            let tpath = join(here, "entity_type");
            let ty = str_of(required(ty, here, "entity_type")?, &tpath)?;
            EntityType::parse(ty).or_else(|e| err(&tpath, e.to_string()))?;
            let _ = write!(out, " is {ty}");
            if let Some(in_expr) = in_expr {
                out.push_str(" in ");
                operand(out, in_expr, &join(here, "in"))?;
            }
        }
        "if-then-else" => {
            let [c, t, e] = take(body, here, "an if-then-else", ["if", "then", "else"])?;
            out.push_str("if ");
            operand(out, required(c, here, "if")?, &join(here, "if"))?;
            out.push_str(" then ");
            operand(out, required(t, here, "then")?, &join(here, "then"))?;
            out.push_str(" else ");
            operand(out, required(e, here, "else")?, &join(here, "else"))?;
        }
        "Set" => {
            let Json::Array(items) = body else {
                return err(here, format!("expected an array, found {}", body.kind()));
            };
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                expr(out, item, &format!("{here}[{i}]"))?;
            }
            out.push(']');
        }
        "Record" => {
            let entries = fields(body, here, "a record")?;
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                quoted(out, k);
                out.push_str(": ");
                expr(out, v, &join(here, k))?;
            }
            out.push('}');
        }
        name => {
            let Some(func) = ExtFn::lookup(name) else {
                return err(path, format!("unknown operator or function `{name}`"));
            };
            let Json::Array(args) = body else {
                return err(
                    here,
                    format!("expected an array of arguments, found {}", body.kind()),
                );
            };
            let arg = |out: &mut String, i: usize| operand(out, &args[i], &format!("{here}[{i}]"));
            // Arities are checked where Cedar checks them: by evaluation, not here.
            if func.is_method() && !args.is_empty() {
                arg(out, 0)?;
                let _ = write!(out, ".{name}(");
                for i in 1..args.len() {
                    if i > 1 {
                        out.push_str(", ");
                    }
                    arg(out, i)?;
                }
                out.push(')');
            } else {
                let _ = write!(out, "{name}(");
                for i in 0..args.len() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    arg(out, i)?;
                }
                out.push(')');
            }
        }
    }
    Ok(())
}

/// A `"Value"`: a literal in the entities JSON format (booleans, longs, strings, sets,
/// records, `{"__entity": ...}` and `{"__extn": {"fn", "arg"}}`).
fn value(out: &mut String, j: &Json, path: &str) -> R<()> {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || value_inner(out, j, path))
}

fn value_inner(out: &mut String, j: &Json, path: &str) -> R<()> {
    match j {
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Json::String(s) => quoted(out, s),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                value(out, item, &format!("{path}[{i}]"))?;
            }
            out.push(']');
        }
        Json::Object(entries) => {
            if j.get("__entity").is_some() {
                out.push_str(&uid_text(j, path)?);
            } else if let Some(extn) = j.get("__extn") {
                take(j, path, "an extension value", ["__extn"])?;
                let xpath = join(path, "__extn");
                let [func, arg] = take(extn, &xpath, "an extension value", ["fn", "arg"])?;
                let fpath = join(&xpath, "fn");
                let name = str_of(required(func, &xpath, "fn")?, &fpath)?;
                match ExtFn::lookup(name) {
                    Some(f) if !f.is_method() => {}
                    _ => return err(&fpath, format!("`{name}` is not an extension constructor")),
                }
                let _ = write!(out, "{name}(");
                value(out, required(arg, &xpath, "arg")?, &join(&xpath, "arg"))?;
                out.push(')');
            } else {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    quoted(out, k);
                    out.push_str(": ");
                    value(out, v, &join(path, k))?;
                }
                out.push('}');
            }
        }
        Json::Null | Json::OtherNumber(_) => {
            return err(path, format!("{} is not a Cedar value", j.describe()));
        }
    }
    Ok(())
}
