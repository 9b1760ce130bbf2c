//! The syntax tree of a `.cedarschema` file, as written: names are not yet resolved, common types
//! not yet expanded, and every node keeps the span of the text it came from so the resolver can
//! point its errors at the offending name.
//!
//! Annotations are kept (the parser checks that no key repeats) but carry no meaning here.
//!
//! The JSON schema format ([`super::json`]) reads into the same tree, so both formats share one
//! resolver. The few things only JSON can say have their own nodes: a type reference that must
//! name an entity type ([`TypeExpr::EntityRef`]) or a common type ([`TypeExpr::CommonRef`]), and
//! an entity shape given as a common type name. JSON's builtin types are written as
//! `__cedar::Long`, `__cedar::ipaddr`, ..., which mean exactly the builtin in both formats.

use crate::source::Span;

/// An identifier or a string literal (its unescaped value), with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    pub value: String,
    pub span: Span,
}

/// A `::`-separated path of identifiers, e.g. `TinyTodo::List`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    pub parts: Vec<Name>,
    pub span: Span,
}

impl Path {
    /// The path as written, parts joined by `::`.
    pub fn full(&self) -> String {
        let parts: Vec<&str> = self.parts.iter().map(|p| p.value.as_str()).collect();
        parts.join("::")
    }

    /// Whether the path has more than one part.
    pub fn is_qualified(&self) -> bool {
        self.parts.len() > 1
    }
}

/// `@key` or `@key("value")`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    pub key: Name,
    pub value: Option<Name>,
}

/// A whole schema file: namespaces in order. Declarations written outside any `namespace` block
/// each form a namespace with no name.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SchemaFile {
    pub namespaces: Vec<Namespace>,
}

/// `namespace A::B { ... }`, or a top-level declaration (`name: None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespace {
    pub annotations: Vec<Annotation>,
    pub name: Option<Path>,
    pub decls: Vec<Decl>,
    pub span: Span,
}

/// One declaration with its annotations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decl {
    pub annotations: Vec<Annotation>,
    pub kind: DeclKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeclKind {
    Entity(EntityDecl),
    Action(ActionDecl),
    Type(TypeDecl),
}

/// `entity A, B in [C] = { ... } tags T;` or `entity A enum ["x", "y"];`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityDecl {
    pub names: Vec<Name>,
    pub body: EntityBody,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntityBody {
    Standard {
        /// The parent types named after `in`.
        parents: Vec<Path>,
        /// The attribute record, if one was written. The text format only writes a record
        /// (`TypeExpr::Record`); JSON may name a common type that must expand to a record.
        attrs: Option<TypeExpr>,
        tags: Option<TypeExpr>,
    },
    /// The ids of an enumerated entity type.
    Enum(Vec<Name>),
}

/// `action "a", b in [g] appliesTo { ... };`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionDecl {
    pub names: Vec<Name>,
    pub parents: Vec<ActionRef>,
    pub applies_to: Option<AppliesTo>,
}

/// A reference to an action: `"name"`, `name`, or `Path::"name"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionRef {
    /// The action type path, when written (`NS::Action` in `NS::Action::"name"`).
    pub ty: Option<Path>,
    pub id: Name,
    pub span: Span,
}

/// The body of `appliesTo { ... }`; `None` fields were not written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliesTo {
    pub principals: Option<Vec<Path>>,
    pub resources: Option<Vec<Path>>,
    pub context: Option<TypeExpr>,
    pub span: Span,
}

/// `type Name = Type;`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeDecl {
    pub name: Name,
    pub def: TypeExpr,
}

/// A type as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeExpr {
    /// A primitive, extension, entity or common type name.
    Name(Path),
    /// A name that must refer to an entity type (JSON `{"type": "Entity", "name": ...}`).
    EntityRef(Path),
    /// A name that must refer to a common type, or to a primitive or extension type through
    /// Cedar's builtin aliases (JSON `{"type": "MyType"}`).
    CommonRef(Path),
    Set(Box<TypeExpr>, Span),
    Record(RecordTypeExpr),
}

impl TypeExpr {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Name(p) | TypeExpr::EntityRef(p) | TypeExpr::CommonRef(p) => p.span,
            TypeExpr::Set(_, span) => *span,
            TypeExpr::Record(r) => r.span,
        }
    }
}

/// `{ a: T, "b"?: U }`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordTypeExpr {
    pub attrs: Vec<AttrDecl>,
    pub span: Span,
}

/// One attribute of a record type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrDecl {
    pub annotations: Vec<Annotation>,
    pub name: Name,
    pub required: bool,
    pub ty: TypeExpr,
}
