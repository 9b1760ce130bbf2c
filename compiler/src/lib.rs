//! # thuja-compiler
//!
//! Thuja's front end: Cedar policy text to an AST ([`parser`], [`ast`]), templates and their
//! links ([`template`]), and schemas ([`schema`]). Every error carries the source it came from and
//! a span, and renders as `file:line:col` with the offending snippet ([`diagnostic`]).
//!
//! For the compiled tiers it builds the scope index ([`index`]: which policies a request's
//! principal, action and resource can select, as roaring bitmaps) and lowers the policies
//! with their index to the bytecode [`program::Program`] that the VM runs.
//!
//! The compiler evaluates nothing; the interpreter evaluates the AST, and later tiers lower it.

pub mod ast;
pub mod diagnostic;
pub mod est;
pub mod format;
pub mod index;
pub mod lexer;
pub mod parser;
pub mod program;
pub mod schema;
pub mod source;
pub mod template;
pub mod validator;

pub use diagnostic::{Diagnostic, ReportFormat, SourceErrors};
pub use source::{Source, Span};
