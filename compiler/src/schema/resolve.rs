//! Name resolution: the [`syntax`](super::syntax) tree to the resolved [`Schema`] model.
//!
//! What it promises, following Cedar 4's rules:
//! - a type name `N` written in namespace `NS` means, in order of preference: the common type
//!   `NS::N`, the entity type `NS::N`, the common type `N` (empty namespace), the entity type `N`,
//!   then the primitive or extension type `N` (`Long`, `String`, `Bool`, `ipaddr`, `decimal`,
//!   `datetime`, `duration`). A qualified name `A::N` means the common or entity type `A::N`, or
//!   for `__cedar::N` the builtin `N`. In these type positions the actions' type `NS::Action`
//!   counts as an entity type where `NS` declares actions. Entity type references (`in`,
//!   `principal`, `resource`) consider declared entity types only;
//! - common types are resolved once each, in an order where every common type comes after the
//!   ones it names (cycles are errors), and shared wherever they are named: reading a schema
//!   takes time and memory linear in its size, however many times its common types refer to
//!   one another. Every common type is checked, even unused. A type may nest at most
//!   [`MAX_NESTING`] sets and records, counting those reached through the common types it
//!   names;
//! - action groups (`in`) must be declared actions: `"g"` means `NS::Action::"g"` (or
//!   `Action::"g"` in the empty namespace), `P::"g"` means `NS::P::"g"` or `P::"g"` when `P` is
//!   one identifier, and exactly `P::"g"` when qualified. Group membership may not be cyclic;
//! - JSON's restricted references: an entity reference (`EntityRef`) considers entity types
//!   only, a common reference (`CommonRef`) common types then builtins; an entity shape written as
//!   a common type name must expand to a record;
//! - a missing `appliesTo`, `principal` or `resource` means the action applies to no request; the
//!   context, when written, must be a record type;
//! - repeated declarations (entity type, common type, action, named namespace), common types
//!   named with a reserved type keyword, names using the `__cedar` namespace, an entity type
//!   named `Action`, and a name in a named namespace that shadows one of the empty namespace
//!   (`N::T` beside `T`, `N::Action::"a"` beside `Action::"a"`; Cedar's RFC 70) are errors.
//!
//! Every error found is reported (not only the first), each pointing at the offending name.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use thuja_runtime::name::RESERVED_NAMESPACE;
use thuja_runtime::schema::{
    ActionDef, AttrType, EXTENSION_TYPES, EntityTypeDef, RecordType, SchemaType,
};
use thuja_runtime::{EntityType, EntityUid, Schema};

use super::syntax::*;
use crate::diagnostic::Diagnostic;
use crate::parser::MAX_NESTING;
use crate::source::Span;

/// Names a common type may not have.
const RESERVED_TYPE_NAMES: &[&str] = &[
    "Bool",
    "Boolean",
    "Entity",
    "Extension",
    "Long",
    "Record",
    "Set",
    "String",
];

/// Resolves a parsed schema file. On failure, returns every error found, in source order.
pub fn resolve(file: &SchemaFile) -> Result<Schema, Vec<Diagnostic>> {
    let mut r = Resolver::default();
    r.collect(file);
    r.resolve_common_types();
    let schema = r.build();
    if r.errors.is_empty() {
        Ok(schema)
    } else {
        let mut errors = r.errors;
        errors.sort_by_key(|e| (e.span.start, e.span.end));
        Err(errors)
    }
}

/// An error already recorded in the resolver's error list.
struct Reported;

type RResult<T> = Result<T, Reported>;

struct EntityEntry<'a> {
    ns: String,
    decl: &'a EntityDecl,
}

struct CommonEntry<'a> {
    ns: String,
    def: &'a TypeExpr,
}

struct ActionEntry<'a> {
    ns: String,
    decl: &'a ActionDecl,
    name_span: Span,
}

/// What a type name refers to.
enum Found {
    Common(String),
    Entity(EntityType),
    Builtin(SchemaType),
}

/// A resolved type and how many sets and records it nests.
type Resolved = (SchemaType, usize);

#[derive(Clone)]
enum CommonState {
    Done(Resolved),
    Failed,
}

#[derive(Default)]
struct Resolver<'a> {
    errors: Vec<Diagnostic>,
    /// Entity types by full name, in declaration order.
    entities: BTreeMap<EntityType, EntityEntry<'a>>,
    entity_order: Vec<EntityType>,
    commons: HashMap<String, CommonEntry<'a>>,
    common_order: Vec<String>,
    common_state: HashMap<String, CommonState>,
    actions: BTreeMap<EntityUid, ActionEntry<'a>>,
    /// The types of the declared actions (`NS::Action`).
    action_types: HashSet<EntityType>,
}

fn qualify(ns: &str, name: &str) -> String {
    if ns.is_empty() {
        name.to_string()
    } else {
        format!("{ns}::{name}")
    }
}

fn builtin(name: &str) -> Option<SchemaType> {
    match name {
        "Long" => Some(SchemaType::Long),
        "String" => Some(SchemaType::String),
        // `Boolean` is only JSON's spelling (`{"type": "Boolean"}`), which the JSON reader maps.
        "Bool" => Some(SchemaType::Bool),
        _ => EXTENSION_TYPES
            .iter()
            .find(|e| **e == name)
            .map(|e| SchemaType::Ext(e)),
    }
}

fn action_type(ns: &str) -> EntityType {
    EntityType::qualify(ns, "Action")
}

impl<'a> Resolver<'a> {
    fn error(&mut self, d: Diagnostic) -> Reported {
        self.errors.push(d);
        Reported
    }

    fn check_not_reserved_ns(&mut self, parts: &[&Name]) {
        for p in parts {
            if p.value == RESERVED_NAMESPACE {
                self.errors.push(
                    Diagnostic::new(
                        format!("use of the reserved `{RESERVED_NAMESPACE}` namespace"),
                        p.span,
                    )
                    .with_help(format!(
                        "names containing `{RESERVED_NAMESPACE}` are reserved for Cedar's builtin types"
                    )),
                );
            }
        }
    }

    // ----- pass 1: declarations -----

    fn collect(&mut self, file: &'a SchemaFile) {
        let mut seen_ns: HashMap<String, Span> = HashMap::new();
        for ns in &file.namespaces {
            let ns_name = match &ns.name {
                Some(path) => {
                    let parts: Vec<&Name> = path.parts.iter().collect();
                    self.check_not_reserved_ns(&parts);
                    let full = path.full();
                    if seen_ns.insert(full.clone(), path.span).is_some() {
                        self.errors.push(Diagnostic::new(
                            format!("duplicate namespace: `{full}` is declared more than once"),
                            path.span,
                        ));
                    }
                    full
                }
                None => String::new(),
            };
            for decl in &ns.decls {
                self.collect_decl(&ns_name, decl);
            }
        }
        self.check_shadowing(file);
    }

    /// A name declared in a named namespace may not shadow one declared in the empty namespace
    /// (Cedar's RFC 70): `N::T` beside `T` (entity or common types), `N::Action::"a"` beside
    /// `Action::"a"`.
    fn check_shadowing(&mut self, file: &SchemaFile) {
        let top_level = || file.namespaces.iter().filter(|ns| ns.name.is_none());
        let mut types = HashSet::new();
        let mut actions = HashSet::new();
        for decl in top_level().flat_map(|ns| &ns.decls) {
            match &decl.kind {
                DeclKind::Entity(e) => types.extend(e.names.iter().map(|n| n.value.as_str())),
                DeclKind::Type(t) => {
                    types.insert(t.name.value.as_str());
                }
                DeclKind::Action(a) => actions.extend(a.names.iter().map(|n| n.value.as_str())),
            }
        }
        for ns in file.namespaces.iter().filter(|ns| ns.name.is_some()) {
            for decl in &ns.decls {
                let (names, shadowed, what): (Vec<&Name>, &HashSet<&str>, &str) = match &decl.kind {
                    DeclKind::Entity(e) => (e.names.iter().collect(), &types, "type"),
                    DeclKind::Type(t) => (vec![&t.name], &types, "type"),
                    DeclKind::Action(a) => (a.names.iter().collect(), &actions, "action"),
                };
                for name in names
                    .into_iter()
                    .filter(|n| shadowed.contains(n.value.as_str()))
                {
                    self.errors.push(Diagnostic::new(
                        format!(
                            "this {what} declaration shadows the {what} `{}` declared outside any namespace",
                            name.value
                        ),
                        name.span,
                    ));
                }
            }
        }
    }

    fn collect_decl(&mut self, ns: &str, decl: &'a Decl) {
        match &decl.kind {
            DeclKind::Entity(e) => {
                for name in &e.names {
                    self.check_not_reserved_ns(&[name]);
                    if name.value == "Action" {
                        self.errors.push(Diagnostic::new(
                            "`Action` cannot be declared as an entity type: it is the type of the declared actions",
                            name.span,
                        ));
                        continue;
                    }
                    let ty = EntityType::new_unchecked(qualify(ns, &name.value));
                    if self.entities.contains_key(&ty) {
                        self.errors.push(Diagnostic::new(
                            format!("duplicate entity type declaration: `{ty}`"),
                            name.span,
                        ));
                        continue;
                    }
                    self.entity_order.push(ty.clone());
                    self.entities.insert(
                        ty,
                        EntityEntry {
                            ns: ns.to_string(),
                            decl: e,
                        },
                    );
                }
            }
            DeclKind::Type(t) => {
                self.check_not_reserved_ns(&[&t.name]);
                if RESERVED_TYPE_NAMES.contains(&t.name.value.as_str()) {
                    self.errors.push(
                        Diagnostic::new(
                            format!("this uses a reserved schema keyword: `{}`", t.name.value),
                            t.name.span,
                        )
                        .with_help(
                            "builtin type names such as `Long`, `Set` and `Record` cannot be used as common type names",
                        ),
                    );
                    return;
                }
                let full = qualify(ns, &t.name.value);
                if self.commons.contains_key(&full) {
                    self.errors.push(Diagnostic::new(
                        format!("duplicate common type declaration: `{full}`"),
                        t.name.span,
                    ));
                    return;
                }
                self.common_order.push(full.clone());
                self.commons.insert(
                    full,
                    CommonEntry {
                        ns: ns.to_string(),
                        def: &t.def,
                    },
                );
            }
            DeclKind::Action(a) => {
                self.action_types.insert(action_type(ns));
                for name in &a.names {
                    let uid = EntityUid::new(action_type(ns), name.value.as_str());
                    if self.actions.contains_key(&uid) {
                        self.errors.push(Diagnostic::new(
                            format!("duplicate action declaration: `{uid}`"),
                            name.span,
                        ));
                        continue;
                    }
                    self.actions.insert(
                        uid,
                        ActionEntry {
                            ns: ns.to_string(),
                            decl: a,
                            name_span: name.span,
                        },
                    );
                }
            }
        }
    }

    // ----- name lookup -----

    /// What a type name written in `ns` refers to, if anything.
    fn lookup(&self, ns: &str, path: &Path) -> Option<Found> {
        let full = path.full();
        if path.is_qualified() {
            if self.commons.contains_key(&full) {
                return Some(Found::Common(full));
            }
            let ty = EntityType::new_unchecked(full.as_str());
            if self.entities.contains_key(&ty) || self.is_action_type(&ty) {
                return Some(Found::Entity(ty));
            }
            return match path.parts.as_slice() {
                [first, last] if first.value == RESERVED_NAMESPACE => {
                    builtin(&last.value).map(Found::Builtin)
                }
                _ => None,
            };
        }
        let mut candidates = vec![qualify(ns, &full)];
        if !ns.is_empty() {
            candidates.push(full.clone());
        }
        for c in candidates {
            if self.commons.contains_key(&c) {
                return Some(Found::Common(c));
            }
            let ty = EntityType::new_unchecked(c.as_str());
            if self.entities.contains_key(&ty) || self.is_action_type(&ty) {
                return Some(Found::Entity(ty));
            }
        }
        builtin(&full).map(Found::Builtin)
    }

    /// Whether `ty` is the type of some declared action (`NS::Action`), which attribute types
    /// may name although it is not a declared entity type.
    fn is_action_type(&self, ty: &EntityType) -> bool {
        self.action_types.contains(ty)
    }

    /// What a name that must be a common type (JSON `{"type": "N"}`) written in `ns` refers to:
    /// the common type `NS::N` or `N`, else the primitive or extension type `N` (Cedar's builtin
    /// aliases); a qualified name means exactly that common type, or `__cedar::N` the builtin.
    fn lookup_common(&self, ns: &str, path: &Path) -> Option<Found> {
        let full = path.full();
        if path.is_qualified() {
            if self.commons.contains_key(&full) {
                return Some(Found::Common(full));
            }
            return match path.parts.as_slice() {
                [first, last] if first.value == RESERVED_NAMESPACE => {
                    builtin(&last.value).map(Found::Builtin)
                }
                _ => None,
            };
        }
        let mut candidates = vec![qualify(ns, &full)];
        if !ns.is_empty() {
            candidates.push(full.clone());
        }
        if let Some(c) = candidates
            .into_iter()
            .find(|c| self.commons.contains_key(c))
        {
            return Some(Found::Common(c));
        }
        builtin(&full).map(Found::Builtin)
    }

    /// The entity type an entity type reference written in `ns` names.
    fn entity_ref(&mut self, ns: &str, path: &Path) -> RResult<EntityType> {
        let full = path.full();
        let mut candidates = Vec::new();
        if path.is_qualified() {
            candidates.push(full.clone());
        } else {
            candidates.push(qualify(ns, &full));
            if !ns.is_empty() {
                candidates.push(full.clone());
            }
        }
        for c in candidates {
            let ty = EntityType::new_unchecked(c);
            if self.entities.contains_key(&ty) {
                return Ok(ty);
            }
        }
        let help = if self.lookup(ns, path).is_some() {
            format!("`{full}` is not an entity type; only entity types may be used here")
        } else {
            format!("no entity type named `{full}` is declared")
        };
        Err(self.error(
            Diagnostic::new(format!("failed to resolve type: {full}"), path.span).with_help(help),
        ))
    }

    // ----- types -----

    /// Resolves every common type, each once, after the common types it names.
    fn resolve_common_types(&mut self) {
        for name in self.common_order_by_dependency() {
            let Some(entry) = self.commons.get(&name) else {
                continue;
            };
            let (ns, def) = (entry.ns.clone(), entry.def);
            if matches!(self.common_state.get(&name), Some(CommonState::Failed)) {
                continue;
            }
            let state = match self.ty_depth(&ns, def) {
                Ok(resolved) => CommonState::Done(resolved),
                Err(Reported) => CommonState::Failed,
            };
            self.common_state.insert(name, state);
        }
    }

    /// The common types in an order where each comes after the common types its definition
    /// names, found by a depth-first walk with an explicit stack (so an alias chain of any
    /// length needs no deep recursion). A name met while its own definition is being walked
    /// closes a cycle: that is reported where it is named, and the common type fails.
    fn common_order_by_dependency(&mut self) -> Vec<String> {
        enum Visit {
            InProgress,
            Finished,
        }
        let mut visits: HashMap<String, Visit> = HashMap::new();
        let mut order = Vec::with_capacity(self.common_order.len());
        for root in self.common_order.clone() {
            if visits.contains_key(&root) {
                continue;
            }
            visits.insert(root.clone(), Visit::InProgress);
            let deps = self.common_references(&root);
            let mut stack = vec![(root, deps, 0usize)];
            while let Some((name, deps, next)) = stack.last_mut() {
                let Some((dep, span)) = deps.get(*next).cloned() else {
                    visits.insert(name.clone(), Visit::Finished);
                    order.push(name.clone());
                    stack.pop();
                    continue;
                };
                *next += 1;
                match visits.get(&dep) {
                    Some(Visit::Finished) => {}
                    Some(Visit::InProgress) => {
                        if !matches!(self.common_state.get(&dep), Some(CommonState::Failed)) {
                            self.common_state.insert(dep.clone(), CommonState::Failed);
                            self.errors.push(
                                Diagnostic::new(
                                    format!(
                                        "cycle in common type definitions: `{dep}` refers to itself"
                                    ),
                                    span,
                                )
                                .with_help("a common type may not refer to itself, directly or through other common types"),
                            );
                        }
                    }
                    None => {
                        visits.insert(dep.clone(), Visit::InProgress);
                        let deps = self.common_references(&dep);
                        stack.push((dep, deps, 0));
                    }
                }
            }
        }
        order
    }

    /// The common types the definition of common type `name` names, with where, in source
    /// order.
    fn common_references(&self, name: &str) -> Vec<(String, Span)> {
        let Some(entry) = self.commons.get(name) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut pending = vec![entry.def];
        while let Some(ty) = pending.pop() {
            let found = match ty {
                TypeExpr::Name(path) => self.lookup(&entry.ns, path).map(|f| (f, path.span)),
                TypeExpr::CommonRef(path) => {
                    self.lookup_common(&entry.ns, path).map(|f| (f, path.span))
                }
                TypeExpr::EntityRef(_) => None,
                TypeExpr::Set(elem, _) => {
                    pending.push(elem);
                    None
                }
                TypeExpr::Record(rec) => {
                    // Pushed in reverse, so that they are taken in source order.
                    pending.extend(rec.attrs.iter().rev().map(|a| &a.ty));
                    None
                }
            };
            if let Some((Found::Common(c), span)) = found {
                out.push((c, span));
            }
        }
        out
    }

    /// The resolution of the common type `name`, resolved already (its dependents come after
    /// it), or failed.
    fn common(&mut self, name: &str) -> RResult<Resolved> {
        match self.common_state.get(name) {
            Some(CommonState::Done(resolved)) => Ok(resolved.clone()),
            Some(CommonState::Failed) | None => Err(Reported),
        }
    }

    fn ty(&mut self, ns: &str, ty: &'a TypeExpr) -> RResult<SchemaType> {
        self.ty_depth(ns, ty).map(|(t, _)| t)
    }

    /// A type and its nesting, checked against [`MAX_NESTING`].
    fn ty_depth(&mut self, ns: &str, ty: &'a TypeExpr) -> RResult<Resolved> {
        match ty {
            TypeExpr::Name(path) => match self.lookup(ns, path) {
                Some(Found::Common(name)) => self.common(&name),
                Some(Found::Entity(t)) => Ok((SchemaType::Entity(t), 0)),
                Some(Found::Builtin(t)) => Ok((t, 0)),
                None => {
                    let full = path.full();
                    Err(self.error(
                        Diagnostic::new(format!("failed to resolve type: {full}"), path.span)
                            .with_help(format!(
                                "`{full}` is neither a common type, an entity type, nor a primitive or extension type"
                            )),
                    ))
                }
            },
            TypeExpr::EntityRef(path) => self
                .entity_ref(ns, path)
                .map(|t| (SchemaType::Entity(t), 0)),
            TypeExpr::CommonRef(path) => match self.lookup_common(ns, path) {
                Some(Found::Common(name)) => self.common(&name),
                Some(Found::Builtin(t)) => Ok((t, 0)),
                Some(Found::Entity(_)) | None => {
                    let full = path.full();
                    Err(self.error(
                        Diagnostic::new(format!("failed to resolve type: {full}"), path.span)
                            .with_help(format!("`{full}` has not been declared as a common type")),
                    ))
                }
            },
            TypeExpr::Set(elem, span) => {
                let (elem, depth) =
                    stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.ty_depth(ns, elem))?;
                let depth = self.nest(depth, *span)?;
                Ok((SchemaType::set_of(elem), depth))
            }
            TypeExpr::Record(rec) => {
                let (rec, depth) = self.record(ns, rec)?;
                Ok((SchemaType::record(rec), depth))
            }
        }
    }

    /// The nesting of a set or record around a type nested `inner` deep, at `span`.
    fn nest(&mut self, inner: usize, span: Span) -> RResult<usize> {
        let depth = inner + 1;
        if depth > MAX_NESTING {
            return Err(self.error(
                Diagnostic::new(
                    format!("type is nested too deeply (more than {MAX_NESTING} levels)"),
                    span,
                )
                .with_help("the sets and records of the common types a type names count toward its nesting"),
            ));
        }
        Ok(depth)
    }

    /// A record type and its nesting.
    fn record(&mut self, ns: &str, rec: &'a RecordTypeExpr) -> RResult<(RecordType, usize)> {
        let mut attrs = BTreeMap::new();
        let mut failed = false;
        let mut deepest = 0;
        for attr in &rec.attrs {
            match stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.ty_depth(ns, &attr.ty)) {
                Ok((ty, depth)) => {
                    deepest = deepest.max(depth);
                    // As in Cedar, a repeated attribute name keeps its last declaration.
                    attrs.insert(
                        Arc::<str>::from(attr.name.value.as_str()),
                        AttrType {
                            ty,
                            required: attr.required,
                        },
                    );
                }
                Err(Reported) => failed = true,
            }
        }
        if failed {
            return Err(Reported);
        }
        let depth = self.nest(deepest, rec.span)?;
        Ok((RecordType { attrs }, depth))
    }

    // ----- pass 2: the schema -----

    fn build(&mut self) -> Schema {
        let mut schema = Schema::default();
        for ty in self.entity_order.clone() {
            let Some(entry) = self.entities.get(&ty) else {
                continue;
            };
            let (ns, decl) = (entry.ns.clone(), entry.decl);
            if let Ok(def) = self.entity_def(&ns, ty.clone(), decl) {
                schema.entity_types.insert(ty, def);
            }
        }
        let uids: Vec<EntityUid> = self.actions.keys().cloned().collect();
        for uid in uids {
            let Some(entry) = self.actions.get(&uid) else {
                continue;
            };
            let (ns, decl) = (entry.ns.clone(), entry.decl);
            if let Ok(def) = self.action_def(&ns, uid.clone(), decl) {
                schema.actions.insert(uid, def);
            }
        }
        self.check_action_cycles(&schema);
        schema
    }

    fn entity_def(
        &mut self,
        ns: &str,
        name: EntityType,
        decl: &'a EntityDecl,
    ) -> RResult<EntityTypeDef> {
        match &decl.body {
            EntityBody::Enum(ids) => Ok(EntityTypeDef {
                name,
                member_of: BTreeSet::new(),
                attrs: Default::default(),
                tags: None,
                enum_ids: Some(ids.iter().map(|id| Arc::from(id.value.as_str())).collect()),
            }),
            EntityBody::Standard {
                parents,
                attrs,
                tags,
            } => {
                let mut member_of = BTreeSet::new();
                let mut failed = false;
                for p in parents {
                    match self.entity_ref(ns, p) {
                        Ok(t) => {
                            member_of.insert(t);
                        }
                        Err(Reported) => failed = true,
                    }
                }
                let attrs = match attrs {
                    Some(TypeExpr::Record(rec)) => self.record(ns, rec).map(|(r, _)| Arc::new(r)),
                    Some(shape) => match self.ty(ns, shape) {
                        Ok(SchemaType::Record(r)) => Ok(r),
                        Ok(other) => Err(self.error(Diagnostic::new(
                            format!(
                                "the shape of an entity type must be a record type, not `{other}`"
                            ),
                            shape.span(),
                        ))),
                        Err(Reported) => Err(Reported),
                    },
                    None => Ok(Default::default()),
                };
                let tags = match tags {
                    Some(t) => self.ty(ns, t).map(Some),
                    None => Ok(None),
                };
                match (attrs, tags, failed) {
                    (Ok(attrs), Ok(tags), false) => Ok(EntityTypeDef {
                        name,
                        member_of,
                        attrs,
                        tags,
                        enum_ids: None,
                    }),
                    _ => Err(Reported),
                }
            }
        }
    }

    /// The declared action an action group reference written in `ns` names.
    fn action_ref(&mut self, ns: &str, r: &ActionRef) -> RResult<EntityUid> {
        let id = r.id.value.as_str();
        let candidates: Vec<EntityUid> = match &r.ty {
            Some(path) if path.is_qualified() => {
                vec![EntityUid::new(EntityType::new_unchecked(path.full()), id)]
            }
            Some(path) => {
                let base = path.full();
                let mut c = vec![EntityUid::new(EntityType::qualify(ns, &base), id)];
                if !ns.is_empty() {
                    c.push(EntityUid::new(EntityType::new_unchecked(base), id));
                }
                c
            }
            None => {
                let mut c = vec![EntityUid::new(action_type(ns), id)];
                if !ns.is_empty() {
                    c.push(EntityUid::new(action_type(""), id));
                }
                c
            }
        };
        if let Some(uid) = candidates.iter().find(|c| self.actions.contains_key(*c)) {
            return Ok(uid.clone());
        }
        let shown = candidates
            .first()
            .map(|c| c.to_string())
            .unwrap_or_default();
        Err(self.error(
            Diagnostic::new(format!("undeclared action: {shown}"), r.span)
                .with_help("an action group must be declared as an action in the schema"),
        ))
    }

    fn action_def(&mut self, ns: &str, uid: EntityUid, decl: &'a ActionDecl) -> RResult<ActionDef> {
        let mut failed = false;
        let mut member_of = BTreeSet::new();
        for p in &decl.parents {
            match self.action_ref(ns, p) {
                Ok(g) => {
                    member_of.insert(g);
                }
                Err(Reported) => failed = true,
            }
        }
        let mut principals = BTreeSet::new();
        let mut resources = BTreeSet::new();
        let mut context = Arc::default();
        if let Some(at) = &decl.applies_to {
            for (list, out) in [
                (&at.principals, &mut principals),
                (&at.resources, &mut resources),
            ] {
                for p in list.iter().flatten() {
                    match self.entity_ref(ns, p) {
                        Ok(t) => {
                            out.insert(t);
                        }
                        Err(Reported) => failed = true,
                    }
                }
            }
            if let Some(ctx) = &at.context {
                match self.ty(ns, ctx) {
                    Ok(SchemaType::Record(r)) => context = r,
                    Ok(other) => {
                        failed = true;
                        self.errors.push(Diagnostic::new(
                            format!(
                                "the context of an action must be a record type, not `{other}`"
                            ),
                            ctx.span(),
                        ));
                    }
                    Err(Reported) => failed = true,
                }
            }
        }
        if failed {
            return Err(Reported);
        }
        Ok(ActionDef {
            uid,
            member_of,
            principals,
            resources,
            context,
        })
    }

    /// Reports each action that is (transitively) a member of itself: each action of a strongly
    /// connected component of the group hierarchy with a cycle, found in time linear in the
    /// hierarchy (walking every action's groups from each would take its square on a chain).
    fn check_action_cycles(&mut self, schema: &Schema) {
        let uids: Vec<&EntityUid> = schema.actions.keys().collect();
        let groups: Vec<Vec<usize>> = schema
            .actions
            .values()
            .map(|def| {
                def.member_of
                    .iter()
                    .filter_map(|g| uids.binary_search(&g).ok())
                    .collect()
            })
            .collect();
        for i in cyclic_nodes(&groups) {
            let Some(uid) = uids.get(i) else { continue };
            let span = self
                .actions
                .get(*uid)
                .map(|e| e.name_span)
                .unwrap_or_default();
            self.errors.push(Diagnostic::new(
                format!("cycle in the action hierarchy: `{uid}` is a member of itself"),
                span,
            ));
        }
    }
}

/// The nodes of the graph `edges` (each node's successors, by index) that lie on a cycle: those
/// in a strongly connected component of more than one node, or with an edge to themselves; in
/// increasing order. Tarjan's algorithm, iterative: time and memory linear in the graph.
fn cyclic_nodes(edges: &[Vec<usize>]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    let n = edges.len();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut cyclic = vec![false; n];
    let mut next_index = 0usize;
    // The walk: a node and how many of its successors it has visited.
    let mut walk: Vec<(usize, usize)> = Vec::new();
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        walk.push((root, 0));
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut at)) = walk.last_mut() {
            if let Some(&w) = edges[v].get(*at) {
                *at += 1;
                if index[w] == UNSEEN {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    walk.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            walk.pop();
            if let Some(&(parent, _)) = walk.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                let loops = component.len() > 1 || edges[v].contains(&v);
                for w in component {
                    cyclic[w] = loops;
                }
            }
        }
    }
    (0..n).filter(|&i| cyclic[i]).collect()
}

#[cfg(test)]
mod cycle_tests {
    use super::cyclic_nodes;

    #[test]
    fn cyclic_nodes_are_those_on_a_cycle() {
        // 0 → 1 → 2 → 0 a cycle; 3 → 0 reaches it but is not on it; 4 loops on itself;
        // 5 → 6 a path.
        let edges = vec![vec![1], vec![2], vec![0], vec![0], vec![4], vec![6], vec![]];
        assert_eq!(cyclic_nodes(&edges), vec![0, 1, 2, 4]);
        assert_eq!(cyclic_nodes(&[]), Vec::<usize>::new());
        // A chain of a million, closed at its end, without recursion.
        let n = 1_000_000;
        let mut chain: Vec<Vec<usize>> = (0..n).map(|i| vec![i + 1]).collect();
        chain[n - 1] = vec![];
        assert!(cyclic_nodes(&chain).is_empty());
        chain[n - 1] = vec![0];
        assert_eq!(cyclic_nodes(&chain).len(), n);
    }
}
