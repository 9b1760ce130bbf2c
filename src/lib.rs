//! # Thuja
//!
//! A fast, exact engine for the [Cedar](https://www.cedarpolicy.com) authorization-policy
//! language: the same policy, entity, schema and request files as Cedar, and the same decisions.
//!
//! ```no_run
//! use thuja::{Authorizer, input};
//!
//! let policies = input::policies_from_str("policies.cedar", "permit(principal, action, resource);")?;
//! let entities = input::entities_from_str("entities.json", "[]", None)?;
//! let request = input::request_from_parts(r#"User::"alice""#, r#"Action::"view""#, r#"Photo::"a""#, None, None, None)?;
//! let response = Authorizer::new().is_authorized(&request, &policies, &entities);
//! println!("{}", response.decision);
//! # Ok::<(), thuja::input::InputError>(())
//! ```
//!
//! This crate is the public facade: [`input`] reads Cedar's file formats into Thuja's types with
//! located errors, [`Authorizer`] answers requests, and [`conformance`] runs Cedar's integration
//! tests. The parts live in their own crates: `thuja-runtime` (data model), `thuja-compiler`
//! (parsing, schemas), `thuja-interp` (the reference interpreter).

pub mod conformance;
pub mod input;

pub use thuja_compiler::ast::PolicySet;
pub use thuja_runtime::{
    Decision, Entities, EntityUid, PolicyError, Request, Response, Schema, Value,
};

/// Which evaluator answers requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// The reference interpreter, which evaluates the AST directly.
    #[default]
    Interp,
}

/// Answers authorization requests with the chosen engine.
#[derive(Clone, Debug, Default)]
pub struct Authorizer {
    engine: Engine,
}

impl Authorizer {
    pub fn new() -> Self {
        Authorizer::default()
    }

    pub fn with_engine(engine: Engine) -> Self {
        Authorizer { engine }
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Decides `request` against `policies` over `entities`.
    pub fn is_authorized(
        &self,
        request: &Request,
        policies: &PolicySet,
        entities: &Entities,
    ) -> Response {
        match self.engine {
            Engine::Interp => thuja_interp::is_authorized(policies, request, entities),
        }
    }
}
