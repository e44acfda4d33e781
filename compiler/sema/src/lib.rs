//! Semantic analysis of etr specs: the salsa database, name resolution, type and fallibility
//! checking, and lowering to the typed IR (`etr-ir`), with diagnostics that have stable codes.
//!
//! Architecture invariant: this crate does no IO. File texts come in through the database's
//! inputs; diagnostics and programs go out as values.
//!
//! API boundary: `Database`, the queries in `db`, `Diagnostic` and `render`. The language server
//! and the CLI use only these.
#![deny(clippy::disallowed_methods)]

pub mod builtins;
pub mod checker;
pub mod codes;
pub mod datefmt;
pub mod db;
pub mod diagnostics;
pub mod render;
pub mod resolver;
pub mod suggest;

pub use checker::{CheckResult, ExprType};
pub use db::{Database, Db, SourceFile, check, lower, parse, resolve};
pub use diagnostics::{Diagnostic, DiagnosticSeverity, Label, Span};
