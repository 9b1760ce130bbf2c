//! The validator's type lattice: Cedar's validation types, subtyping and least upper bounds.
//!
//! Strict mode is the only mode the validator runs in, but subtyping is also asked in the
//! permissive sense: Cedar checks "is this operand an entity / a record / a set" permissively
//! (any entity type is an entity), and only demands exact agreement where two operands meet
//! (`==`, `contains`, set literals, `if` branches).

use std::collections::{BTreeMap, BTreeSet};
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
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttrType {
    pub ty: Type,
    pub required: bool,
}

/// Record attributes by name.
pub type Attrs = Arc<BTreeMap<Arc<str>, AttrType>>;

/// A validation type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
        match ty {
            SchemaType::Bool => Type::bool_any(),
            SchemaType::Long => Type::Long,
            SchemaType::String => Type::String,
            SchemaType::Entity(name) => Type::named_entity(name.clone()),
            SchemaType::Set(elem) => Type::set_of(Type::from_schema(elem)),
            SchemaType::Record(rec) => Type::from_record(rec),
            SchemaType::Ext(name) => Type::Ext(name),
        }
    }

    /// The (closed) validation type of a schema record type.
    pub fn from_record(rec: &RecordType) -> Type {
        Type::closed_record(
            rec.attrs
                .iter()
                .map(|(name, attr)| {
                    (
                        name.clone(),
                        AttrType {
                            ty: Type::from_schema(&attr.ty),
                            required: attr.required,
                        },
                    )
                })
                .collect(),
        )
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
        match (a, b) {
            (Type::Never, _) => true,
            (Type::Bool(BoolType::True | BoolType::False), Type::Bool(BoolType::AnyBool)) => true,
            (Type::Bool(x), Type::Bool(y)) => x == y,
            (Type::Long, Type::Long) | (Type::String, Type::String) => true,
            (Type::Set(ea), Type::Set(eb)) => match (ea, eb) {
                (Some(ea), Some(eb)) => Type::is_subtype(ea, eb, strict),
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
                    && ((*o1 && !strict && attrs_subtype(a0, a1, strict))
                        || (a0.len() == a1.len() && attrs_subtype(a0, a1, strict)))
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

    /// The least upper bound of two types (in strict mode when `strict`).
    pub fn lub(a: &Type, b: &Type, strict: bool) -> Result<Type, LubHelp> {
        if Type::is_subtype(a, b, strict) {
            return Ok(b.clone());
        }
        if Type::is_subtype(b, a, strict) {
            return Ok(a.clone());
        }
        match (a, b) {
            (Type::Bool(_), Type::Bool(_)) => Ok(Type::bool_any()),
            (Type::Set(None), Type::Set(_)) | (Type::Set(_), Type::Set(None)) => {
                Ok(Type::Set(None))
            }
            (Type::Set(Some(ea)), Type::Set(Some(eb))) => {
                Ok(Type::set_of(Type::lub(ea, eb, strict)?))
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
                if strict && a0.len() != a1.len() {
                    return Err(LubHelp::RecordWidth);
                }
                let mut attrs = BTreeMap::new();
                for (k, t0) in a0.iter() {
                    let lubbed = match a1.get(k) {
                        None => Err(LubHelp::RecordWidth),
                        Some(t1) => attr_lub(t0, t1, strict),
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
                let open =
                    *o0 || *o1 || (!strict && attrs.keys().collect::<BTreeSet<_>>() != all_keys);
                Ok(Type::Record {
                    attrs: Arc::new(attrs),
                    open,
                })
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

fn attrs_subtype(a0: &Attrs, a1: &Attrs, strict: bool) -> bool {
    a1.iter().all(|(k, t1)| {
        a0.get(k).is_some_and(|t0| {
            let qualifier = if strict {
                t0.required == t1.required
            } else {
                t0.required || !t1.required
            };
            qualifier && Type::is_subtype(&t0.ty, &t1.ty, strict)
        })
    })
}

fn attr_lub(t0: &AttrType, t1: &AttrType, strict: bool) -> Result<AttrType, LubHelp> {
    let ty = Type::lub(&t0.ty, &t1.ty, strict)?;
    if strict && t0.required != t1.required {
        return Err(LubHelp::AttributeQualifier);
    }
    Ok(AttrType {
        ty,
        required: t0.required && t1.required,
    })
}

/// The permissive least upper bound of attribute sets: the attributes both have (used for the
/// attributes of a union of entity types).
pub fn permissive_attrs_lub(a0: &Attrs, a1: &Attrs) -> Attrs {
    Arc::new(
        a0.iter()
            .filter_map(|(k, t0)| {
                let t1 = a1.get(k)?;
                attr_lub(t0, t1, false).ok().map(|t| (k.clone(), t))
            })
            .collect(),
    )
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Never => f.write_str("__cedar::internal::Never"),
            Type::Bool(BoolType::True) => f.write_str("__cedar::internal::True"),
            Type::Bool(BoolType::False) => f.write_str("__cedar::internal::False"),
            Type::Bool(BoolType::AnyBool) => f.write_str("Bool"),
            Type::Long => f.write_str("Long"),
            Type::String => f.write_str("String"),
            Type::Set(Some(elem)) => write!(f, "Set<{elem}>"),
            Type::Set(None) => f.write_str("Set<__cedar::internal::Any>"),
            Type::Entity(EntityKind::AnyEntity) => f.write_str("__cedar::internal::AnyEntity"),
            Type::Entity(EntityKind::Lub(lub)) => {
                if lub.len() == 1 {
                    if let Some(t) = lub.iter().next() {
                        write!(f, "{t}")?;
                    }
                    Ok(())
                } else {
                    f.write_str("__cedar::internal::Union<")?;
                    for (i, t) in lub.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{t}")?;
                    }
                    f.write_str(">")
                }
            }
            Type::Record { attrs, open } => {
                if *open {
                    f.write_str("__cedar::internal::OpenRecord")?;
                }
                f.write_str("{")?;
                for (name, attr) in attrs.iter() {
                    let q = if attr.required { "" } else { "?" };
                    write!(f, "{name}{q}: {},", attr.ty)?;
                }
                f.write_str("}")
            }
            Type::Ext(name) => f.write_str(name),
        }
    }
}
