//! Tests of the `.cedarschema` reader: tinytodo, name resolution, common types, enums, tags,
//! actions, errors and their locations, and every schema in the shared conformance data.

#![allow(clippy::panic, clippy::unwrap_used, reason = "tests fail by panicking")]

use std::path::{Path, PathBuf};

use thuja_runtime::schema::{AttrType, SchemaType};
use thuja_runtime::{EntityType, EntityUid, Schema};

use super::parse_schema;
use crate::diagnostic::SourceErrors;
use crate::source::Source;

fn ok(text: &str) -> Schema {
    match parse_schema(Source::new("test.cedarschema", text)) {
        Ok(s) => s,
        Err(e) => panic!("{}", e.render()),
    }
}

fn err(text: &str) -> SourceErrors {
    match parse_schema(Source::new("test.cedarschema", text)) {
        Ok(s) => panic!("expected an error, got {s:?}"),
        Err(e) => e,
    }
}

/// The first error's message and the text it points at.
fn first_err(text: &str) -> (String, String) {
    let e = err(text);
    let d = &e.errors[0];
    (d.message.clone(), text[d.span.range()].to_string())
}

fn et(s: &str) -> EntityType {
    EntityType::new_unchecked(s)
}

fn action(ty: &str, id: &str) -> EntityUid {
    EntityUid::new(et(ty), id)
}

fn attr<'a>(s: &'a Schema, ty: &str, name: &str) -> &'a AttrType {
    &s.entity_types[&et(ty)].attrs.attrs[name]
}

#[test]
fn tinytodo() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/tinytodo/tinytodo.cedarschema");
    let text = std::fs::read_to_string(path).unwrap();
    let s = ok(&text);
    let names: Vec<&str> = s.entity_types.keys().map(|t| t.as_str()).collect();
    assert_eq!(
        names,
        [
            "TinyTodo::Application",
            "TinyTodo::List",
            "TinyTodo::Team",
            "TinyTodo::User"
        ]
    );
    let team = &s.entity_types[&et("TinyTodo::Team")];
    assert_eq!(
        team.member_of
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>(),
        ["TinyTodo::Application", "TinyTodo::Team"]
    );
    let joined = attr(&s, "TinyTodo::User", "joinedAt");
    assert_eq!(joined.ty, SchemaType::Ext("datetime"));
    assert!(!joined.required);
    assert!(attr(&s, "TinyTodo::User", "name").required);
    assert_eq!(
        attr(&s, "TinyTodo::List", "owner").ty,
        SchemaType::Entity(et("TinyTodo::User"))
    );
    // The common type `Task` is expanded.
    let SchemaType::Set(task) = &attr(&s, "TinyTodo::List", "tasks").ty else {
        panic!("tasks is a set")
    };
    let SchemaType::Record(task) = task.as_ref() else {
        panic!("Task is a record")
    };
    assert_eq!(task.attrs["id"].ty, SchemaType::Long);
    assert_eq!(task.attrs["done"].ty, SchemaType::Bool);

    assert_eq!(s.actions.len(), 9);
    let create = &s.actions[&action("TinyTodo::Action", "CreateList")];
    assert_eq!(create.principals, [et("TinyTodo::User")].into());
    assert_eq!(create.resources, [et("TinyTodo::Application")].into());
    assert!(create.context.attrs.is_empty());
    let edit = &s.actions[&action("TinyTodo::Action", "EditShare")];
    assert_eq!(edit.resources, [et("TinyTodo::List")].into());
    assert_eq!(edit.context.attrs["ip"].ty, SchemaType::Ext("ipaddr"));
    assert!(!edit.context.attrs["ip"].required);
}

#[test]
fn resolution_prefers_common_then_entity_then_outer_then_builtin() {
    let s = ok(r#"
        type C = Long;
        entity E;
        entity Long;
        namespace N {
          type NC = String;
          entity X {
            a: NC,          // N::NC (common, same namespace)
            b: E,           // E (empty namespace entity)
            c: __cedar::Long,
            d: Long,        // the empty-namespace entity `Long` shadows the builtin
            e: N::NC,
            f: Set<Y>,      // N::Y, declared later
            g: ipaddr,
            h: Bool,
            i: __cedar::decimal,
          };
          entity Y;
        }
        namespace M { entity Z { c: C, e: E }; }
    "#);
    let a = |n: &str| attr(&s, "N::X", n).ty.clone();
    assert_eq!(a("a"), SchemaType::String);
    assert_eq!(a("b"), SchemaType::Entity(et("E")));
    assert_eq!(a("c"), SchemaType::Long);
    assert_eq!(a("d"), SchemaType::Entity(et("Long")));
    assert_eq!(a("e"), SchemaType::String);
    assert_eq!(a("f"), SchemaType::set_of(SchemaType::Entity(et("N::Y"))));
    assert_eq!(a("g"), SchemaType::Ext("ipaddr"));
    assert_eq!(a("h"), SchemaType::Bool);
    assert_eq!(a("i"), SchemaType::Ext("decimal"));
    // `C` is the empty namespace's `type C = Long`, where `Long` is the entity type `Long`.
    assert_eq!(attr(&s, "M::Z", "c").ty, SchemaType::Entity(et("Long")));
    assert_eq!(attr(&s, "M::Z", "e").ty, SchemaType::Entity(et("E")));
}

#[test]
fn qualified_names_are_absolute() {
    let s = ok(r#"
        namespace A { entity T; type R = { x: Long }; }
        namespace B { entity U in [A::T] { r: A::R, t: A::T }; }
    "#);
    assert_eq!(s.entity_types[&et("B::U")].member_of, [et("A::T")].into());
    let SchemaType::Record(r) = &attr(&s, "B::U", "r").ty else {
        panic!()
    };
    assert_eq!(r.attrs["x"].ty, SchemaType::Long);
    // `A::T` written inside `A` does not mean `A::A::T`, and `B` cannot see `A`'s names unqualified.
    ok("namespace A { entity T; entity S in [A::T]; }");
    let (msg, at) = first_err("namespace A { entity T; } namespace B { entity U in [T]; }");
    assert_eq!(msg, "failed to resolve type: T");
    assert_eq!(at, "T");
}

#[test]
fn common_types_expand_and_cycles_are_errors() {
    let s = ok(r#"
        type A = { b: B, s: Set<B> };
        type B = Set<String>;
        type Ctx = { ip: ipaddr };
        entity E = A;
        action act appliesTo { principal: E, resource: E, context: Ctx };
    "#
    .replace("entity E = A;", "entity E { a: A };")
    .as_str());
    let SchemaType::Record(a) = &attr(&s, "E", "a").ty else {
        panic!()
    };
    assert_eq!(a.attrs["b"].ty, SchemaType::set_of(SchemaType::String));
    let act = &s.actions[&action("Action", "act")];
    assert_eq!(act.context.attrs["ip"].ty, SchemaType::Ext("ipaddr"));

    let e = err("type A = { b: B }; type B = Set<A>;");
    assert_eq!(e.errors.len(), 1, "{}", e.render());
    assert!(
        e.errors[0].message.contains("cycle"),
        "{}",
        e.errors[0].message
    );
    assert!(err("type A = A;").errors[0].message.contains("cycle"));

    let (msg, at) = first_err("type Long = String;");
    assert!(msg.contains("reserved"), "{msg}");
    assert_eq!(at, "Long");
    for name in [
        "Bool",
        "Boolean",
        "String",
        "Set",
        "Record",
        "Entity",
        "Extension",
    ] {
        err(&format!("type {name} = Long;"));
    }
    let (msg, at) = first_err(
        "entity E; type T = Long; action a appliesTo { principal: E, resource: E, context: T };",
    );
    assert!(msg.contains("must be a record"), "{msg}");
    assert_eq!(at, "T");
}

/// `type A0 = {x: A1, y: A1}; ...`: each common type names the next twice.
fn doubling(levels: usize) -> String {
    let mut text = String::from(
        "entity User; action a appliesTo { principal: User, resource: User, context: A0 };\n",
    );
    for i in 0..levels {
        text.push_str(&format!("type A{i} = {{x: A{n}, y: A{n}}};\n", n = i + 1));
    }
    text.push_str(&format!("type A{levels} = {{z: Long}};\n"));
    text
}

/// `type A0 = T<A1>; ...` where `T<_>` is `wrap`, ending in `Long`.
fn alias_chain(n: usize, wrap: &str) -> String {
    let mut text = String::from("entity User { v: A0 };\n");
    for i in 0..n {
        let next = wrap.replace('_', &format!("A{}", i + 1));
        text.push_str(&format!("type A{i} = {next};\n"));
    }
    text.push_str(&format!("type A{n} = Long;\n"));
    text
}

#[test]
fn common_types_are_shared_not_copied() {
    // Written out, A0 would have 2^400 leaves.
    let s = ok(&doubling(400));
    let ctx = &s.actions[&action("Action", "a")].context;
    let (SchemaType::Record(x), SchemaType::Record(y)) = (&ctx.attrs["x"].ty, &ctx.attrs["y"].ty)
    else {
        panic!()
    };
    assert!(std::sync::Arc::ptr_eq(x, y), "A1 is resolved once");
    // Printing such a type is cut short.
    let shown = SchemaType::Record(ctx.clone()).to_string();
    assert!(
        shown.len() < 3 * thuja_runtime::schema::MAX_SHOWN_TYPE,
        "{}",
        shown.len()
    );
    assert!(shown.ends_with('…'));
}

#[test]
fn alias_chains_resolve_without_recursion_and_nesting_through_them_is_bounded() {
    // 30,000 plain aliases: no nesting at all (the command-line tests take longer chains).
    let s = ok(&alias_chain(30_000, "_"));
    assert_eq!(attr(&s, "User", "v").ty, SchemaType::Long);
    // Sets through aliases count toward the nesting limit (and so does the attributes'
    // record around them).
    let s = ok(&alias_chain(crate::parser::MAX_NESTING - 1, "Set<_>"));
    let mut ty = &attr(&s, "User", "v").ty;
    let mut depth = 0;
    while let SchemaType::Set(elem) = ty {
        ty = elem;
        depth += 1;
    }
    assert_eq!(depth, crate::parser::MAX_NESTING - 1);
    let e = err(&alias_chain(crate::parser::MAX_NESTING, "Set<_>"));
    assert!(e.errors[0].message.contains("nested too deeply"));
    for (n, wrap) in [(1_001, "Set<_>"), (20_000, "Set<_>"), (5_000, "{a: _}")] {
        let text = alias_chain(n, wrap);
        let e = err(&text);
        assert_eq!(e.errors.len(), 1, "{}", e.render());
        let d = &e.errors[0];
        assert!(d.message.contains("nested too deeply"), "{}", d.message);
        assert!(
            text[d.span.range()].starts_with(&wrap[..1]),
            "located at the set or record"
        );
    }
    // A cycle at the end of a long chain is found, and reported once.
    let text = alias_chain(20_000, "_").replace("type A20000 = Long;", "type A20000 = A0;");
    let e = err(&text);
    assert_eq!(e.errors.len(), 1, "{}", e.render());
    assert!(e.errors[0].message.contains("cycle"));
}

#[test]
fn enums_and_tags() {
    let s = ok(r#"
        entity Color enum ["Red", "Blue"];
        entity Doc tags Set<String>;
        entity Doc2 in [Color] = { c: Color } tags { a: Long };
        entity Plain;
    "#);
    let color = &s.entity_types[&et("Color")];
    let ids: Vec<&str> = color
        .enum_ids
        .iter()
        .flatten()
        .map(|s| s.as_ref())
        .collect();
    assert_eq!(ids, ["Red", "Blue"]);
    assert_eq!(
        s.entity_types[&et("Doc")].tags,
        Some(SchemaType::set_of(SchemaType::String))
    );
    assert!(s.entity_types[&et("Doc2")].tags.is_some());
    assert!(s.entity_types[&et("Plain")].tags.is_none());
    assert!(s.entity_types[&et("Plain")].enum_ids.is_none());
    assert!(s.is_known_entity(&EntityUid::new(et("Color"), "Red")));
    assert!(!s.is_known_entity(&EntityUid::new(et("Color"), "Green")));
    err(r#"entity Color enum ["Red"] { a: Long };"#);
    err(r#"entity Color in [X] enum ["Red"];"#);
}

#[test]
fn actions_groups_and_applies_to() {
    let s = ok(r#"
        @doc("annotated") namespace App {
          entity User; entity Admin; entity Doc;
          action "all";
          action read, "write it" in ["all"] appliesTo {
            context: { n?: Long },
            resource: Doc,
            principal: [User, Admin],
          };
          action del in [read, Action::"all", App::Action::"all"];
          action ext in Other::Action::"g";
        }
        namespace Other { action "g"; }
        action top;
        namespace Third { action t in "top"; }
    "#);
    let uid = |ns: &str, id: &str| action(&format!("{ns}::Action"), id);
    let read = &s.actions[&uid("App", "read")];
    assert_eq!(read.member_of, [uid("App", "all")].into());
    assert_eq!(read.principals, [et("App::User"), et("App::Admin")].into());
    assert_eq!(read.resources, [et("App::Doc")].into());
    assert!(!read.context.attrs["n"].required);
    assert!(s.actions.contains_key(&uid("App", "write it")));
    let all = &s.actions[&uid("App", "all")];
    assert!(all.principals.is_empty() && all.resources.is_empty());
    assert_eq!(
        s.actions[&uid("App", "del")].member_of,
        [uid("App", "read"), uid("App", "all")].into()
    );
    assert_eq!(
        s.actions[&uid("App", "ext")].member_of,
        [uid("Other", "g")].into()
    );
    // An unqualified group falls back to the empty namespace.
    assert_eq!(
        s.actions[&uid("Third", "t")].member_of,
        [action("Action", "top")].into()
    );
    assert!(s.actions.contains_key(&action("Action", "top")));

    let (msg, at) = first_err(r#"action a in ["nope"];"#);
    assert_eq!(msg, r#"undeclared action: Action::"nope""#);
    assert_eq!(at, r#""nope""#);
    let e = err(r#"action a in b; action b in c; action c in a;"#);
    assert!(
        e.errors.iter().all(|d| d.message.contains("cycle")),
        "{}",
        e.render()
    );
    err("action a in a;");
    let (msg, at) = first_err("entity E; action a appliesTo { principal: E, principal: E };");
    assert!(msg.contains("duplicate"), "{msg}");
    assert_eq!(at, "principal");
    let (msg, at) = first_err("entity E; action a appliesTo { principal: Nope, resource: E };");
    assert_eq!(msg, "failed to resolve type: Nope");
    assert_eq!(at, "Nope");
    // A common type is not an entity type.
    let (msg, _) =
        first_err("entity E; type T = Long; action a appliesTo { principal: T, resource: E };");
    assert_eq!(msg, "failed to resolve type: T");
}

#[test]
fn errors_are_located_and_all_reported() {
    let text = "namespace N {\n  entity A { x: Unknown };\n  entity A;\n}\n";
    let e = err(text);
    assert_eq!(e.errors.len(), 2, "{}", e.render());
    assert_eq!(e.errors[0].message, "failed to resolve type: Unknown");
    assert_eq!(e.location(), "test.cedarschema:2:17");
    assert!(e.errors[1].message.contains("duplicate entity type"));
    assert!(
        e.render().contains("entity A { x: Unknown }"),
        "{}",
        e.render()
    );

    let e = err("entity A {\n  a: Long\n  b: Long };");
    assert_eq!(e.location(), "test.cedarschema:3:3");
    assert!(
        e.errors[0].message.contains("unexpected token `b`"),
        "{}",
        e.errors[0].message
    );

    assert!(
        first_err("type T = Long; type T = String;")
            .0
            .contains("duplicate common type")
    );
    assert!(
        first_err("action a; action \"a\";")
            .0
            .contains("duplicate action")
    );
    assert!(
        first_err("namespace A {} namespace A {}")
            .0
            .contains("duplicate namespace")
    );
    assert!(
        first_err("namespace __cedar { entity A; }")
            .0
            .contains("reserved")
    );
    assert!(
        first_err("entity A { a: __cedar::Nope };")
            .0
            .contains("failed to resolve")
    );
    // The same name in different namespaces is not a duplicate.
    ok("namespace M { entity A; action a; } namespace N { entity A; action a; }");
}

#[test]
fn odd_input_does_not_panic() {
    for text in [
        "",
        "entity",
        "entity A in [",
        "action",
        "action a in",
        "action a in X::",
        "type",
        "@",
        "@a(",
        "namespace",
        "namespace A",
        "namespace A {",
        "entity A { a?",
        "entity A tags",
        "\"",
        "entity A { \"\\u{zz}\": Long };",
        "Set<",
        "}",
        "action a appliesTo { context: 1 };",
        "type T = Set<Long",
        "entity A, in;",
    ] {
        let _ = parse_schema(Source::new("x", text));
    }
    ok("");
    ok("// only a comment");
    ok("namespace Empty {}");
}

/// Every `.cedarschema` file under `dir`, recursively.
fn schemas_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            schemas_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "cedarschema") {
            out.push(path);
        }
    }
}

fn parse_all(dirs: &[PathBuf]) -> Option<(usize, Vec<String>)> {
    let mut files = Vec::new();
    for dir in dirs {
        schemas_under(dir, &mut files);
    }
    if files.is_empty() {
        return None;
    }
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if let Err(e) = parse_schema(Source::new(path.display().to_string(), text)) {
            failures.push(e.to_string());
        }
    }
    Some((files.len(), failures))
}

#[test]
fn conformance_sample_schemas_parse() {
    let root = std::env::var("THUJA_CONFORMANCE_DIR").map_or_else(
        |_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/cedar-conformance"),
        PathBuf::from,
    );
    let dirs = [root.join("sample-data"), root.join("tests")];
    match parse_all(&dirs) {
        None => println!("skipped: no .cedarschema files under {}", root.display()),
        Some((n, failures)) => {
            assert!(
                failures.is_empty(),
                "{} of {n} failed:\n{}",
                failures.len(),
                failures.join("\n")
            );
            println!("parsed {n} conformance schemas");
        }
    }
}

#[test]
fn every_prefix_of_tinytodo_is_handled() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/tinytodo/tinytodo.cedarschema");
    let text = std::fs::read_to_string(path).unwrap();
    for (i, _) in text.char_indices() {
        let _ = parse_schema(Source::new("prefix", &text[..i]));
        let _ = parse_schema(Source::new("suffix", &text[i..]));
    }
}

#[test]
fn cedar_naming_rules() {
    // `Boolean` is JSON's spelling only; in text the type is `Bool`.
    assert_eq!(first_err("entity E { a: Boolean };").1, "Boolean");
    assert_eq!(
        first_err("entity E { a: __cedar::Boolean };").1,
        "__cedar::Boolean"
    );
    ok("entity E { a: __cedar::Bool, b: Bool };");
    // `Action` is the actions' type, never a declared entity type.
    let (msg, at) = first_err("namespace N { entity Action; }");
    assert!(msg.contains("`Action` cannot be declared"), "{msg}");
    assert_eq!(at, "Action");
    // ... but attribute types may name it where actions are declared.
    let s = ok("namespace N { entity E { a: Action, b: Set<N::Action> }; action \"a\"; }");
    let e = &s.entity_types[&et("N::E")];
    assert_eq!(e.attrs.attrs["a"].ty, SchemaType::Entity(et("N::Action")));
    assert_eq!(
        first_err("namespace N { entity E { a: Action }; }").1,
        "Action"
    );
    assert_eq!(
        first_err("namespace N { entity E in Action; action \"a\"; }").1,
        "Action"
    );
    // A named namespace may not shadow a name of the empty namespace.
    for text in [
        "entity T; namespace N { entity T; }",
        "namespace N { type T = Long; } entity T;",
        "type T = Long; namespace N { entity T; }",
    ] {
        let (msg, at) = first_err(text);
        assert!(msg.contains("shadows"), "{text}: {msg}");
        assert_eq!(at, "T");
    }
    let (msg, at) = first_err("action \"a\"; namespace N { action \"a\"; }");
    assert!(msg.contains("shadows"), "{msg}");
    assert_eq!(at, "\"a\"");
    ok("entity A; namespace A { entity B; } namespace A::B { entity C; }");
}
