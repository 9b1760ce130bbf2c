//! The validator's type lattice: Cedar's validation types, subtyping and least upper bounds.
//!
//! Strict mode is the only mode the validator runs in, but subtyping is also asked in the
//! permissive sense: Cedar checks "is this operand an entity / a record / a set" permissively
//! (any entity type is an entity), and only demands exact agreement where two operands meet
//! (`==`, `contains`, set literals, `if` branches).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use thuja_runtime::EntityType;
use thuja_runtime::schema::{RecordType, SchemaType};

/// A boolean type: either boolean, or only `true`, or only `false`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BoolType {
    AnyBool,
    True,
    False,
}

/// Which entities a type admits: any entity, or entities of one of a (non-empty) set of types.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityKind {
    AnyEntity,
    /// The least upper bound of entity types; never empty.
    Lub(BTreeSet<EntityType>),
}

/// One attribute of a record type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrType {
    pub ty: Type,
    pub required: bool,
}

/// Record attributes by name.
pub type Attrs = Arc<BTreeMap<Arc<str>, AttrType>>;

/// A validation type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    /// The type of no value (the bottom of the lattice).
    Never,
    Bool(BoolType),
    Long,
    String,
    Entity(EntityKind),
    /// A set; `None` is the element type of "any set".
    Set(Option<Box<Type>>),
    Record {
        attrs: Attrs,
        open: bool,
    },
    /// An extension type by its Cedar name (`decimal`, `ipaddr`, `datetime`, `duration`).
    Ext(&'static str),
}

/// Why two types have no least upper bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LubHelp {
    /// Different entity types (strict mode has no unions of entity types).
    EntityType,
    /// An entity and a record.
    EntityRecord,
    /// Records with different attribute sets.
    RecordWidth,
    /// An attribute required in one record and optional in the other.
    AttributeQualifier,
    None,
}

impl Type {
    pub fn bool_any() -> Type {
        Type::Bool(BoolType::AnyBool)
    }

    pub fn singleton_bool(b: bool) -> Type {
        Type::Bool(if b { BoolType::True } else { BoolType::False })
    }

    pub fn named_entity(name: EntityType) -> Type {
        Type::Entity(EntityKind::Lub(BTreeSet::from([name])))
    }

    pub fn any_entity() -> Type {
        Type::Entity(EntityKind::AnyEntity)
    }

    pub fn any_set() -> Type {
        Type::Set(None)
    }

    pub fn set_of(elem: Type) -> Type {
        Type::Set(Some(Box::new(elem)))
    }

    pub fn any_record() -> Type {
        Type::Record {
            attrs: Arc::new(BTreeMap::new()),
            open: true,
        }
    }

    pub fn closed_record(attrs: BTreeMap<Arc<str>, AttrType>) -> Type {
        Type::Record {
            attrs: Arc::new(attrs),
            open: false,
        }
    }

    /// The validation type of a schema type.
    pub fn from_schema(ty: &SchemaType) -> Type {
        FromSchema::default().ty(ty)
    }

    /// The (closed) validation type of a schema record type.
    pub fn from_record(rec: &Arc<RecordType>) -> Type {
        FromSchema::default().record(rec)
    }

    /// The entity types of an entity type (not "any entity").
    pub fn as_entity_lub(&self) -> Option<&BTreeSet<EntityType>> {
        match self {
            Type::Entity(EntityKind::Lub(lub)) => Some(lub),
            _ => None,
        }
    }

    /// The entity types of an entity type, or of the elements of a set of entities.
    pub fn as_set_or_entity_lub(&self) -> Option<&BTreeSet<EntityType>> {
        match self {
            Type::Set(Some(elem)) => elem.as_entity_lub(),
            _ => self.as_entity_lub(),
        }
    }

    /// Whether every value of `a` is a value of `b`.
    pub fn is_subtype(a: &Type, b: &Type, strict: bool) -> bool {
        Memo::default().is_subtype(a, b, strict)
    }

    /// The least upper bound of two types (in strict mode when `strict`).
    pub fn lub(a: &Type, b: &Type, strict: bool) -> Result<Type, LubHelp> {
        Memo::default().lub(a, b, strict)
    }
    /// The least upper bound of several types (`Never` for none).
    pub fn lub_all<'a>(
        tys: impl IntoIterator<Item = &'a Type>,
        strict: bool,
    ) -> Result<Type, LubHelp> {
        tys.into_iter()
            .try_fold(Type::Never, |acc, t| Type::lub(&acc, t, strict))
    }

    /// Whether no value has both types (only ever claimed for entity types).
    pub fn are_disjoint(a: &Type, b: &Type) -> bool {
        match (a.as_entity_lub(), b.as_entity_lub()) {
            (Some(l0), Some(l1)) => l0.is_disjoint(l1),
            _ => false,
        }
    }
}

/// The permissive least upper bound of attribute sets: the attributes both have (used for the
/// attributes of a union of entity types).
pub fn permissive_attrs_lub(a0: &Attrs, a1: &Attrs) -> Attrs {
    let mut memo = Memo::default();
    Arc::new(
        a0.iter()
            .filter_map(|(k, t0)| {
                let t1 = a1.get(k)?;
                memo.attr_lub(t0, t1, false).ok().map(|t| (k.clone(), t))
            })
            .collect(),
    )
}

/// What comparing two types has found so far. A record type named twice in a schema is one
/// shared attribute map, and the types the schema's record types become share theirs the same
/// way: remembering each pair of maps compared makes comparing two types cost the size of
/// their maps in memory, not the size they would take written out (which can be exponential).
/// Keys are addresses of maps inside the two types being compared, alive while this is.
#[derive(Default)]
struct Memo {
    subtypes: HashMap<(usize, usize, bool), bool>,
    lubs: HashMap<RecordPair, Result<Type, LubHelp>>,
}

/// Two records' attribute maps (by address), whether each is open, and strictness.
type RecordPair = (usize, usize, bool, bool, bool);

fn address(attrs: &Attrs) -> usize {
    Arc::as_ptr(attrs) as usize
}

impl Memo {
    fn is_subtype(&mut self, a: &Type, b: &Type, strict: bool) -> bool {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
            self.is_subtype_inner(a, b, strict)
        })
    }

    fn is_subtype_inner(&mut self, a: &Type, b: &Type, strict: bool) -> bool {
        match (a, b) {
            (Type::Never, _) => true,
            (Type::Bool(BoolType::True | BoolType::False), Type::Bool(BoolType::AnyBool)) => true,
            (Type::Bool(x), Type::Bool(y)) => x == y,
            (Type::Long, Type::Long) | (Type::String, Type::String) => true,
            (Type::Set(ea), Type::Set(eb)) => match (ea, eb) {
                (Some(ea), Some(eb)) => self.is_subtype(ea, eb, strict),
                (_, None) => true,
                (None, Some(_)) => false,
            },
            (
                Type::Record {
                    attrs: a0,
                    open: o0,
                },
                Type::Record {
                    attrs: a1,
                    open: o1,
                },
            ) => {
                (!*o0 || *o1)
                    && ((*o1 && !strict && self.attrs_subtype(a0, a1, strict))
                        || (a0.len() == a1.len() && self.attrs_subtype(a0, a1, strict)))
            }
            (Type::Entity(e0), Type::Entity(e1)) => match (e0, e1) {
                (EntityKind::Lub(l0), EntityKind::Lub(l1)) => {
                    if strict {
                        l0 == l1
                    } else {
                        l0.is_subset(l1)
                    }
                }
                (EntityKind::AnyEntity, EntityKind::AnyEntity) => true,
                (EntityKind::Lub(_), EntityKind::AnyEntity) => !strict,
                (EntityKind::AnyEntity, EntityKind::Lub(_)) => false,
            },
            (Type::Ext(x), Type::Ext(y)) => x == y,
            _ => false,
        }
    }

    fn lub(&mut self, a: &Type, b: &Type, strict: bool) -> Result<Type, LubHelp> {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.lub_inner(a, b, strict))
    }

    fn lub_inner(&mut self, a: &Type, b: &Type, strict: bool) -> Result<Type, LubHelp> {
        if self.is_subtype(a, b, strict) {
            return Ok(b.clone());
        }
        if self.is_subtype(b, a, strict) {
            return Ok(a.clone());
        }
        match (a, b) {
            (Type::Bool(_), Type::Bool(_)) => Ok(Type::bool_any()),
            (Type::Set(None), Type::Set(_)) | (Type::Set(_), Type::Set(None)) => {
                Ok(Type::Set(None))
            }
            (Type::Set(Some(ea)), Type::Set(Some(eb))) => {
                Ok(Type::set_of(self.lub(ea, eb, strict)?))
            }
            (
                Type::Record {
                    attrs: a0,
                    open: o0,
                },
                Type::Record {
                    attrs: a1,
                    open: o1,
                },
            ) => {
                let key = (address(a0), address(a1), *o0, *o1, strict);
                if let Some(known) = self.lubs.get(&key) {
                    return known.clone();
                }
                let lubbed = self.record_lub((a0, *o0), (a1, *o1), strict);
                self.lubs.insert(key, lubbed.clone());
                lubbed
            }
            (Type::Entity(e0), Type::Entity(e1)) => match (e0, e1) {
                (EntityKind::Lub(l0), EntityKind::Lub(l1)) => {
                    if strict && l0 != l1 {
                        Err(LubHelp::EntityType)
                    } else {
                        Ok(Type::Entity(EntityKind::Lub(
                            l0.union(l1).cloned().collect(),
                        )))
                    }
                }
                (EntityKind::AnyEntity, EntityKind::AnyEntity) => Ok(Type::any_entity()),
                _ => {
                    if strict {
                        Err(LubHelp::EntityType)
                    } else {
                        Ok(Type::any_entity())
                    }
                }
            },
            (Type::Entity(_), Type::Record { .. }) | (Type::Record { .. }, Type::Entity(_)) => {
                Err(LubHelp::EntityRecord)
            }
            _ => Err(LubHelp::None),
        }
    }

    /// The least upper bound of two record types (their attributes and whether they are open).
    fn record_lub(
        &mut self,
        (a0, o0): (&Attrs, bool),
        (a1, o1): (&Attrs, bool),
        strict: bool,
    ) -> Result<Type, LubHelp> {
        if strict && a0.len() != a1.len() {
            return Err(LubHelp::RecordWidth);
        }
        let mut attrs = BTreeMap::new();
        for (k, t0) in a0.iter() {
            let lubbed = match a1.get(k) {
                None => Err(LubHelp::RecordWidth),
                Some(t1) => self.attr_lub(t0, t1, strict),
            };
            match lubbed {
                Ok(t) => {
                    attrs.insert(k.clone(), t);
                }
                Err(e) if strict => return Err(e),
                Err(_) => {}
            }
        }
        let all_keys: BTreeSet<_> = a0.keys().chain(a1.keys()).collect();
        let open = o0 || o1 || (!strict && attrs.keys().collect::<BTreeSet<_>>() != all_keys);
        Ok(Type::Record {
            attrs: Arc::new(attrs),
            open,
        })
    }

    fn attrs_subtype(&mut self, a0: &Attrs, a1: &Attrs, strict: bool) -> bool {
        if Arc::ptr_eq(a0, a1) {
            // Subtyping is reflexive.
            return true;
        }
        let key = (address(a0), address(a1), strict);
        if let Some(&known) = self.subtypes.get(&key) {
            return known;
        }
        let holds = a1.iter().all(|(k, t1)| {
            a0.get(k).is_some_and(|t0| {
                let qualifier = if strict {
                    t0.required == t1.required
                } else {
                    t0.required || !t1.required
                };
                qualifier && self.is_subtype(&t0.ty, &t1.ty, strict)
            })
        });
        self.subtypes.insert(key, holds);
        holds
    }

    fn attr_lub(
        &mut self,
        t0: &AttrType,
        t1: &AttrType,
        strict: bool,
    ) -> Result<AttrType, LubHelp> {
        let ty = self.lub(&t0.ty, &t1.ty, strict)?;
        if strict && t0.required != t1.required {
            return Err(LubHelp::AttributeQualifier);
        }
        Ok(AttrType {
            ty,
            required: t0.required && t1.required,
        })
    }
}

/// Converts schema types to validation types, each of the schema's record types once: the
/// validation types share their parts as the schema's types do.
#[derive(Default)]
pub struct FromSchema {
    /// Converted record types by the address of the schema's record (alive while this is:
    /// the schema is borrowed for the conversion).
    records: HashMap<usize, Type>,
}

impl FromSchema {
    pub fn ty(&mut self, ty: &SchemaType) -> Type {
        match ty {
            SchemaType::Bool => Type::bool_any(),
            SchemaType::Long => Type::Long,
            SchemaType::String => Type::String,
            SchemaType::Entity(name) => Type::named_entity(name.clone()),
            SchemaType::Set(elem) => {
                Type::set_of(stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
                    self.ty(elem)
                }))
            }
            SchemaType::Record(rec) => self.record(rec),
            SchemaType::Ext(name) => Type::Ext(name),
        }
    }

    /// The (closed) validation type of a schema record type.
    pub fn record(&mut self, rec: &Arc<RecordType>) -> Type {
        let key = Arc::as_ptr(rec) as usize;
        if let Some(done) = self.records.get(&key) {
            return done.clone();
        }
        let attrs = rec
            .attrs
            .iter()
            .map(|(name, attr)| {
                let ty = stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.ty(&attr.ty));
                let required = attr.required;
                (name.clone(), AttrType { ty, required })
            })
            .collect();
        let ty = Type::closed_record(attrs);
        self.records.insert(key, ty.clone());
        ty
    }
}

/// How many characters of a type are shown at most (in error messages); a longer type shows
/// its beginning and `…`. A type that shares its parts can be far larger written out than it
/// is in memory.
pub const MAX_SHOWN_TYPE: usize = 2000;

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Limited {
            text: String::new(),
            left: MAX_SHOWN_TYPE,
        };
        let complete = self.write(&mut out).is_ok();
        f.write_str(&out.text)?;
        if !complete {
            f.write_str("…")?;
        }
        Ok(())
    }
}

/// Text that refuses to grow past its budget.
struct Limited {
    text: String,
    left: usize,
}

impl fmt::Write for Limited {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if s.len() <= self.left {
            self.left -= s.len();
            self.text.push_str(s);
            return Ok(());
        }
        let mut cut = self.left;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.text.push_str(&s[..cut]);
        self.left = 0;
        Err(fmt::Error)
    }
}

impl Type {
    fn write(&self, out: &mut Limited) -> fmt::Result {
        use fmt::Write as _;
        match self {
            Type::Never => out.write_str("__cedar::internal::Never"),
            Type::Bool(BoolType::True) => out.write_str("__cedar::internal::True"),
            Type::Bool(BoolType::False) => out.write_str("__cedar::internal::False"),
            Type::Bool(BoolType::AnyBool) => out.write_str("Bool"),
            Type::Long => out.write_str("Long"),
            Type::String => out.write_str("String"),
            Type::Set(Some(elem)) => {
                out.write_str("Set<")?;
                elem.write(out)?;
                out.write_str(">")
            }
            Type::Set(None) => out.write_str("Set<__cedar::internal::Any>"),
            Type::Entity(EntityKind::AnyEntity) => out.write_str("__cedar::internal::AnyEntity"),
            Type::Entity(EntityKind::Lub(lub)) => {
                if lub.len() == 1 {
                    if let Some(t) = lub.iter().next() {
                        write!(out, "{t}")?;
                    }
                    Ok(())
                } else {
                    out.write_str("__cedar::internal::Union<")?;
                    for (i, t) in lub.iter().enumerate() {
                        if i > 0 {
                            out.write_str(", ")?;
                        }
                        write!(out, "{t}")?;
                    }
                    out.write_str(">")
                }
            }
            Type::Record { attrs, open } => {
                if *open {
                    out.write_str("__cedar::internal::OpenRecord")?;
                }
                out.write_str("{")?;
                for (name, attr) in attrs.iter() {
                    let q = if attr.required { "" } else { "?" };
                    write!(out, "{name}{q}: ")?;
                    attr.ty.write(out)?;
                    out.write_str(",")?;
                }
                out.write_str("}")
            }
            Type::Ext(name) => out.write_str(name),
        }
    }
}
