//! # thuja-fuzz
//!
//! Test tooling for differential random testing (issue #5): seeded generators of consistent Cedar
//! inputs, the oracles they are checked against, and shrinking of failures into conformance
//! tests. Used by the `drt` binary and by this crate's tests; not part of the product, which is
//! why it may link `cedar-policy` as an ordinary dependency.
//!
//! - [`generator`]: [`generate`] draws a [`Case`] (schema, entities, policies, requests) from a seed
//!   in a [`Mode`], counting constructs in a [`Coverage`];
//! - [`oracle`]: [`check`] runs a case through Thuja's interpreter and VM (on code compiled
//!   without and, for schema cases, with the validator's types) and through
//!   `cedar-policy`, compares them, and checks the authorization properties;
//! - [`shrink`]: [`shrink::shrink`] makes a failing case small and
//!   [`shrink::write_conformance`] writes it in Cedar's integration-test format.
//!
//! Every mismatch found stays as a conformance test in `fuzz/regressions/` (replayed by
//! `tests/regressions.rs`; bugs found but not yet fixed are listed there as known-open).
//!
//! ```no_run
//! use thuja_fuzz::{Coverage, Mode, check, generate};
//! let mut coverage = Coverage::default();
//! let case = generate(42, Mode::Schema, &mut coverage);
//! assert!(check(&case).mismatches.is_empty());
//! ```

pub mod generator;
/// Hostile inputs (long chains, deep nesting, alias-heavy schemas) for the `hostile` target.
pub mod hostile;
pub mod oracle;
pub mod shrink;
/// The bodies of the cargo-fuzz targets in `fuzz/targets/` (one function per reader).
pub mod targets;
pub mod tpe;

pub use generator::{CONSTRUCTS, Case, Coverage, Mode, RequestSpec, generate};
pub use oracle::{Checked, Mismatch, Outcome, check};

/// The mode of the `n`th case of a run: one in five is schema-less.
pub fn mode_of(seed: u64) -> Mode {
    if seed % 5 == 4 {
        Mode::Loose
    } else {
        Mode::Schema
    }
}
