//! Checking policies against a schema, as Cedar's validator does in strict mode: [`validate`]
//! gives every error (with its kind, named as Cedar names it, and its span in the policy's
//! source) and warning.
//!
//! ```
//! use thuja::{input, validate};
//!
//! let schema = input::schema_from_str("s.cedarschema", "entity User; action view appliesTo { principal: User, resource: User };")?;
//! let policies = input::policies_from_str("p.cedar", "permit(principal, action == Action::\"view\", resource) when { principal.age > 3 };")?;
//! let result = validate::validate(&schema, &policies, validate::ValidationOptions::default());
//! assert_eq!(result.errors[0].kind, validate::ErrorKind::UnsafeAttributeAccess);
//! # Ok::<(), thuja::input::InputError>(())
//! ```

pub use thuja_compiler::validator::{
    ErrorKind, ValidationError, ValidationOptions, ValidationResult, ValidationWarning,
    WarningKind, validate,
};
