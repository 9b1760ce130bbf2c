//! What the validator reports: errors (the policy set is invalid) and warnings.

use std::fmt;

use thuja_runtime::PolicyId;

use crate::source::Span;

/// The kinds of validation error, named as Cedar's validator names them.
///
/// Three are never reported, and exist so names line up with Cedar's: `InvalidActionApplication`
/// (a warning since Cedar 4, see [`WarningKind`]), `UndefinedFunction` (the parser already
/// rejects unknown functions) and `HierarchyNotRespected` (Cedar 4.14 no longer reports it).
/// `NoTagsAllowed` is reported where Cedar would, but strict mode leaves no way to reach it
/// (`hasTag` on an entity type without tags is `false`, so the guarded `getTag` is not checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// An entity type the schema does not declare.
    UnrecognizedEntityType,
    /// An action the schema does not declare.
    UnrecognizedActionId,
    InvalidActionApplication,
    /// An operand of the wrong type.
    UnexpectedType,
    /// Operands that must have compatible types (`==`, `contains`, set elements, `if`
    /// branches, tag types) do not: strict mode has no unions of entity or record types.
    IncompatibleTypes,
    /// An attribute the type does not have.
    UnsafeAttributeAccess,
    /// An optional attribute read where no `has` guards it.
    UnsafeOptionalAttributeAccess,
    /// A tag read where no `hasTag` guards it.
    UnsafeTagAccess,
    /// `getTag` on an entity type declared without tags.
    NoTagsAllowed,
    UndefinedFunction,
    /// An extension function called with the wrong number of arguments.
    WrongNumberArguments,
    /// An extension constructor's string literal does not parse (`ip("1.2.3.x")`).
    FunctionArgumentValidation,
    /// `[]` (strict mode cannot type it).
    EmptySetForbidden,
    /// An extension constructor called on something other than a literal.
    NonLitExtConstructor,
    HierarchyNotRespected,
    /// Level validation met an expression shape it cannot measure.
    InternalInvariantViolation,
    /// Level validation: a dereference too deep, or of a literal or slot.
    EntityDerefLevelViolation,
    /// An entity of an enumerated type with an id the type does not list.
    InvalidEnumEntity,
}

impl ErrorKind {
    /// Cedar's kebab-case name for the error (as in its diagnostics' codes).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::UnrecognizedEntityType => "unrecognized-entity-type",
            ErrorKind::UnrecognizedActionId => "unrecognized-action-id",
            ErrorKind::InvalidActionApplication => "invalid-action-application",
            ErrorKind::UnexpectedType => "unexpected-type",
            ErrorKind::IncompatibleTypes => "incompatible-types",
            ErrorKind::UnsafeAttributeAccess => "unsafe-attribute-access",
            ErrorKind::UnsafeOptionalAttributeAccess => "unsafe-optional-attribute-access",
            ErrorKind::UnsafeTagAccess => "unsafe-tag-access",
            ErrorKind::NoTagsAllowed => "no-tags-allowed",
            ErrorKind::UndefinedFunction => "undefined-function",
            ErrorKind::WrongNumberArguments => "wrong-number-arguments",
            ErrorKind::FunctionArgumentValidation => "function-argument-validation",
            ErrorKind::EmptySetForbidden => "empty-set-forbidden",
            ErrorKind::NonLitExtConstructor => "non-lit-ext-constructor",
            ErrorKind::HierarchyNotRespected => "hierarchy-not-respected",
            ErrorKind::InternalInvariantViolation => "internal-invariant-violation",
            ErrorKind::EntityDerefLevelViolation => "entity-deref-level-violation",
            ErrorKind::InvalidEnumEntity => "invalid-enum-entity",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One validation error: which policy, what kind, where and why.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ValidationError {
    pub policy_id: PolicyId,
    pub kind: ErrorKind,
    /// Where in the policy's source (for a template link, the template's).
    pub span: Span,
    pub message: String,
}

/// The kinds of validation warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WarningKind {
    /// The policy's scope names no request the schema allows.
    InvalidActionApplication,
    /// The policy evaluates to false in every request environment.
    ImpossiblePolicy,
}

impl WarningKind {
    pub fn name(self) -> &'static str {
        match self {
            WarningKind::InvalidActionApplication => "invalid-action-application",
            WarningKind::ImpossiblePolicy => "impossible-policy",
        }
    }
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ValidationWarning {
    pub policy_id: PolicyId,
    pub kind: WarningKind,
    pub span: Span,
    pub message: String,
}

/// The outcome of validating a policy set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationResult {
    pub errors: Vec<ValidationError>,
    pub warnings: Vec<ValidationWarning>,
}

impl ValidationResult {
    /// Whether the policy set is valid (warnings do not count).
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "for policy `{}`, {} [{}]",
            self.policy_id, self.message, self.kind
        )
    }
}

impl fmt::Display for ValidationWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "for policy `{}`, {} [{}]",
            self.policy_id, self.message, self.kind
        )
    }
}
