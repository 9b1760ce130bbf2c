//! Prints a schema [`syntax`](super::syntax) tree as `.cedarschema` text.
//!
//! What it promises: the text parses back ([`super::parse`]), and is accepted by Cedar, to a tree
//! that resolves to the same schema as the printed tree (but see `appliesTo` below). Declarations keep their order and annotations; names that are not
//! identifiers (action names, odd attribute names) are quoted and escaped.
//!
//! The text format cannot say a few things the JSON format can, and the printer rewrites them:
//! - builtins read from JSON (`__cedar::Long`) print as `Long` unless a declaration in the file
//!   could capture that name in that namespace;
//! - an entity shape given as a common type name is replaced by that common type's record (the
//!   name may go through other common types); when that record was written in another namespace
//!   it cannot be moved, and printing fails with an error at the shape;
//! - an action whose principal or resource list is empty applies to no request, which Cedar's
//!   text format can only say by omitting `appliesTo` (Cedar rejects empty or missing lists); so
//!   its `appliesTo` is omitted, context included. The printed schema then differs from the tree's
//!   only in the context of actions no request can use.
//!
//! References that JSON restricts to entity types or common types print as plain names; when the
//! text format would resolve such a name differently (a common type and an entity type of the
//! same name), printing fails with an error at the reference rather than change its meaning.

use std::collections::HashMap;
use std::fmt::Write;

use thuja_runtime::name::{RESERVED_NAMESPACE, is_identifier, is_reserved_identifier};
use thuja_runtime::uid::write_escaped;

use super::json::{Declared, Target, qualify};
use super::syntax::*;
use crate::diagnostic::Diagnostic;

const INDENT: &str = "  ";

/// Prints a tree as `.cedarschema` text, or fails on an entity shape the text format cannot
/// express (see the module documentation).
pub fn to_cedarschema(file: &SchemaFile) -> Result<String, Diagnostic> {
    let file = inline_shapes(file)?;
    let mut p = Printer {
        decls: Declared::of(&file),
        error: None,
    };
    let mut out = String::new();
    let mut first = true;
    for ns in &file.namespaces {
        if !first {
            out.push('\n');
        }
        first = false;
        match &ns.name {
            Some(name) => {
                p.annotations(&mut out, &ns.annotations, "");
                let _ = writeln!(out, "namespace {} {{", name.full());
                let ns_name = name.full();
                for (i, decl) in ns.decls.iter().enumerate() {
                    if i > 0 {
                        out.push('\n');
                    }
                    p.decl(&mut out, decl, &ns_name, INDENT);
                }
                out.push_str("}\n");
            }
            None => {
                for (i, decl) in ns.decls.iter().enumerate() {
                    if i > 0 {
                        out.push('\n');
                    }
                    p.decl(&mut out, decl, "", "");
                }
            }
        }
    }
    match p.error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Replaces entity shapes written as common type names by the record they expand to.
fn inline_shapes(file: &SchemaFile) -> Result<SchemaFile, Diagnostic> {
    // Common type definitions by full name, with their namespace.
    let mut commons: HashMap<String, (String, &TypeExpr)> = HashMap::new();
    for ns in &file.namespaces {
        let ns_name = ns.name.as_ref().map(Path::full).unwrap_or_default();
        for decl in &ns.decls {
            if let DeclKind::Type(t) = &decl.kind {
                commons
                    .entry(qualify(&ns_name, &t.name.value))
                    .or_insert((ns_name.clone(), &t.def));
            }
        }
    }
    let declared = Declared::of(file);
    let mut out = file.clone();
    for ns in &mut out.namespaces {
        let ns_name = ns.name.as_ref().map(Path::full).unwrap_or_default();
        for decl in &mut ns.decls {
            let DeclKind::Entity(EntityDecl {
                body: EntityBody::Standard { attrs, .. },
                ..
            }) = &mut decl.kind
            else {
                continue;
            };
            let Some(shape) = attrs.as_mut() else {
                continue;
            };
            if matches!(shape, TypeExpr::Record(_)) {
                continue;
            }
            let span = shape.span();
            let cannot = |why: &str| {
                Diagnostic::new(
                    format!("this entity shape cannot be written in the text format: {why}"),
                    span,
                )
            };
            let mut current: TypeExpr = shape.clone();
            let mut current_ns = ns_name.clone();
            let mut steps = 0;
            let record = loop {
                steps += 1;
                if steps > commons.len() + 1 {
                    return Err(cannot("its common types refer to each other in a cycle"));
                }
                let path = match &current {
                    TypeExpr::Record(r) => break r.clone(),
                    TypeExpr::Name(p) | TypeExpr::CommonRef(p) => p.clone(),
                    TypeExpr::EntityRef(_) | TypeExpr::Set(..) => {
                        return Err(cannot("it is not a record type"));
                    }
                };
                let full = match declared.lookup(&current_ns, &path) {
                    Target::Common => {
                        let candidates = if path.is_qualified() {
                            vec![path.full()]
                        } else {
                            vec![qualify(&current_ns, &path.full()), path.full()]
                        };
                        candidates.into_iter().find(|c| commons.contains_key(c))
                    }
                    _ => None,
                };
                let Some((def_ns, def)) = full.and_then(|f| commons.get(&f)) else {
                    return Err(cannot("it does not name a common record type"));
                };
                current = (*def).clone();
                current_ns = def_ns.clone();
            };
            if current_ns != ns_name {
                return Err(cannot(
                    "its record is declared in another namespace, where its names may mean other types",
                ));
            }
            *shape = TypeExpr::Record(record);
        }
    }
    Ok(out)
}

struct Printer {
    decls: Declared,
    /// The first reference found that the text format cannot express.
    error: Option<Diagnostic>,
}

fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    let _ = write_escaped(out, s);
    out.push('"');
}

fn is_plain_ident(s: &str) -> bool {
    is_identifier(s) && !is_reserved_identifier(s)
}

impl Printer {
    fn annotations(&mut self, out: &mut String, anns: &[Annotation], indent: &str) {
        for a in anns {
            let _ = write!(out, "{indent}@{}", a.key.value);
            if let Some(v) = &a.value {
                out.push('(');
                write_quoted(out, &v.value);
                out.push(')');
            }
            out.push('\n');
        }
    }

    fn decl(&mut self, out: &mut String, decl: &Decl, ns: &str, indent: &str) {
        self.annotations(out, &decl.annotations, indent);
        out.push_str(indent);
        match &decl.kind {
            DeclKind::Type(t) => {
                let _ = write!(out, "type {} = ", t.name.value);
                self.ty(out, &t.def, ns, indent);
            }
            DeclKind::Entity(e) => {
                out.push_str("entity ");
                let names: Vec<&str> = e.names.iter().map(|n| n.value.as_str()).collect();
                out.push_str(&names.join(", "));
                match &e.body {
                    EntityBody::Enum(ids) => {
                        out.push_str(" enum [");
                        for (i, id) in ids.iter().enumerate() {
                            if i > 0 {
                                out.push_str(", ");
                            }
                            write_quoted(out, &id.value);
                        }
                        out.push(']');
                    }
                    EntityBody::Standard {
                        parents,
                        attrs,
                        tags,
                    } => {
                        if !parents.is_empty() {
                            out.push_str(" in ");
                            self.paths(out, parents);
                        }
                        if let Some(shape) = attrs {
                            out.push_str(" = ");
                            self.ty(out, shape, ns, indent);
                        }
                        if let Some(tags) = tags {
                            out.push_str(" tags ");
                            self.ty(out, tags, ns, indent);
                        }
                    }
                }
            }
            DeclKind::Action(a) => {
                out.push_str("action ");
                for (i, n) in a.names.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_quoted(out, &n.value);
                }
                if !a.parents.is_empty() {
                    out.push_str(" in [");
                    for (i, r) in a.parents.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        if let Some(t) = &r.ty {
                            out.push_str(&t.full());
                            out.push_str("::");
                        }
                        write_quoted(out, &r.id.value);
                    }
                    out.push(']');
                }
                if let Some(at) = &a.applies_to {
                    self.applies_to(out, at, ns, indent);
                }
            }
        }
        out.push_str(";\n");
    }

    fn applies_to(&mut self, out: &mut String, at: &AppliesTo, ns: &str, indent: &str) {
        let inner = format!("{indent}{INDENT}");
        let mut lines: Vec<String> = Vec::new();
        for (word, list) in [("principal", &at.principals), ("resource", &at.resources)] {
            match list.as_ref().filter(|l| !l.is_empty()) {
                Some(list) => {
                    let mut s = format!("{inner}{word}: ");
                    self.paths(&mut s, list);
                    lines.push(s);
                }
                // The action applies to no request: Cedar's text says so without `appliesTo`.
                None => return,
            }
        }
        if let Some(ctx) = &at.context {
            let mut s = format!("{inner}context: ");
            self.ty(&mut s, ctx, ns, &inner);
            lines.push(s);
        }
        out.push_str(" appliesTo {\n");
        out.push_str(&lines.join(",\n"));
        let _ = write!(out, "\n{indent}}}");
    }

    fn paths(&mut self, out: &mut String, paths: &[Path]) {
        out.push('[');
        for (i, p) in paths.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(&p.full());
        }
        out.push(']');
    }

    /// A type name; `__cedar::N` prints as `N` when nothing declared could capture `N`.
    fn type_name(&mut self, out: &mut String, path: &Path, ns: &str) {
        if let [first, last] = path.parts.as_slice()
            && first.value == RESERVED_NAMESPACE
        {
            let short = Path {
                parts: vec![last.clone()],
                span: path.span,
            };
            if let Target::Builtin(_) = self.decls.lookup(ns, &short) {
                out.push_str(&last.value);
                return;
            }
        }
        out.push_str(&path.full());
    }

    fn ty(&mut self, out: &mut String, t: &TypeExpr, ns: &str, indent: &str) {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || {
            self.ty_inner(out, t, ns, indent)
        });
    }

    fn ty_inner(&mut self, out: &mut String, t: &TypeExpr, ns: &str, indent: &str) {
        match t {
            TypeExpr::Name(p) => self.type_name(out, p, ns),
            TypeExpr::EntityRef(p) | TypeExpr::CommonRef(p) => {
                // In text the name means what the resolver's general lookup finds; that must be
                // what JSON restricted it to.
                let entity = matches!(t, TypeExpr::EntityRef(_));
                let same = match self.decls.lookup(ns, p) {
                    Target::Entity => entity,
                    Target::Common | Target::Builtin(_) => !entity,
                    Target::Unresolved => true,
                };
                if !same && self.error.is_none() {
                    let (what, other) = if entity {
                        ("an entity type", "a common type")
                    } else {
                        ("a common type", "an entity type")
                    };
                    self.error = Some(Diagnostic::new(
                        format!(
                            "this reference cannot be written in the text format: JSON says `{}` is {what}, but in text it would name {other}",
                            p.full()
                        ),
                        p.span,
                    ));
                }
                self.type_name(out, p, ns)
            }
            TypeExpr::Set(elem, _) => {
                out.push_str("Set<");
                self.ty(out, elem, ns, indent);
                out.push('>');
            }
            TypeExpr::Record(rec) => {
                if rec.attrs.is_empty() {
                    out.push_str("{}");
                    return;
                }
                let inner = format!("{indent}{INDENT}");
                out.push_str("{\n");
                for a in &rec.attrs {
                    self.annotations(out, &a.annotations, &inner);
                    out.push_str(&inner);
                    if is_plain_ident(&a.name.value) {
                        out.push_str(&a.name.value);
                    } else {
                        write_quoted(out, &a.name.value);
                    }
                    if !a.required {
                        out.push('?');
                    }
                    out.push_str(": ");
                    self.ty(out, &a.ty, ns, &inner);
                    out.push_str(",\n");
                }
                out.push_str(indent);
                out.push('}');
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used, reason = "tests fail by panicking")]
mod tests {
    use super::*;
    use crate::schema::{json::parse_json_schema_file, parse::parse_schema_file, resolve::resolve};

    fn reprint(text: &str) -> String {
        let file = parse_schema_file(text).unwrap();
        let out = to_cedarschema(&file).unwrap();
        let again = parse_schema_file(&out).unwrap();
        assert_eq!(resolve(&again).unwrap(), resolve(&file).unwrap(), "{out}");
        out
    }

    #[test]
    fn prints_declarations_that_reparse() {
        let out = reprint(
            r#"@doc("n") namespace N { @a entity E, F in [G] = { "x y"?: Set<Long>, @b("c") "if": { z: Bool } } tags String;
               entity G enum ["a\"b", "é"]; type T = E;
               action "r\n", s in [N::Action::"g", "g"] appliesTo { principal: E, resource: [F, G], context: { t: T } };
               action g; }"#,
        );
        assert!(out.contains("namespace N {\n"), "{out}");
        assert!(out.contains("  @a\n  entity E, F in [G] = {\n"), "{out}");
        assert!(out.contains("\"x y\"?: Set<Long>,"), "{out}");
        assert!(out.contains("\"if\": {"), "{out}");
        assert!(out.contains(r#"enum ["a\"b", "é"]"#), "{out}");
        assert!(
            out.contains(r#"action "r\n", "s" in [N::Action::"g", "g"] appliesTo {"#),
            "{out}"
        );
    }

    #[test]
    fn builtins_from_json_print_short_unless_captured() {
        let file = parse_json_schema_file(
            r#"{"": {"entityTypes": {"Long": {}, "E": {"shape": {"type": "Record", "attributes": {
                 "a": {"type": "Long"}, "b": {"type": "Boolean"}, "c": {"type": "Extension", "name": "ipaddr"}}}}},
               "actions": {}}}"#,
        )
        .unwrap();
        let out = to_cedarschema(&file).unwrap();
        assert!(out.contains("a: __cedar::Long,"), "{out}");
        assert!(out.contains("b: Bool,"), "{out}");
        assert!(out.contains("c: ipaddr,"), "{out}");
        let again = parse_schema_file(&out).unwrap();
        assert_eq!(resolve(&again).unwrap(), resolve(&file).unwrap());
    }

    #[test]
    fn shapes_and_applies_to_that_text_cannot_say() {
        let file = parse_json_schema_file(
            r#"{"N": {"commonTypes": {"S": {"type": "Record", "attributes": {"a": {"type": "Long"}}}, "L": {"type": "Long"}},
               "entityTypes": {"E": {"shape": {"type": "S"}}},
               "actions": {"a": {"appliesTo": {"principalTypes": ["E"], "resourceTypes": [], "context": {"type": "S"}}}}}}"#,
        )
        .unwrap();
        let out = to_cedarschema(&file).unwrap();
        assert!(out.contains("entity E = {\n    a: Long,\n  };"), "{out}");
        assert!(out.contains("action \"a\";"), "{out}");
        let file = parse_json_schema_file(
            r#"{"N": {"commonTypes": {"L": {"type": "Long"}}, "entityTypes": {"E": {"shape": {"type": "L"}}}, "actions": {}}}"#,
        )
        .unwrap();
        let err = to_cedarschema(&file).unwrap_err();
        assert!(err.message.contains("cannot be written"), "{}", err.message);
    }
}
