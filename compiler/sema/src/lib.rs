//! Semantic analysis of etr specs: the salsa database, name resolution, type and fallibility
//! checking, and lowering to the typed IR (`etr-ir`), with diagnostics that have stable codes.
//!
//! Architecture invariant: this crate does no IO. File texts come in through the database's
//! inputs; diagnostics and programs go out as values.
//!
//! API boundary: `Database` and the `Db` trait with its inputs (`db`), the queries `parse`,
//! `resolve`, `names` (the name map), `check` and `lower`, `Diagnostic` with its `codes` and `render`, and the table of
//! built-in functions (`builtins`: signatures, docs and examples, for the editor's completion and
//! hover and for the documentation tests). The language server and the CLI use only these;
//! everything else (the checker in `check/`, date formats, suggestions) is the crate's own.
#![deny(clippy::disallowed_methods)]

pub mod builtins;
mod check;
pub mod codes;
mod datefmt;
pub mod db;
mod diagnostics;
mod names;
pub mod render;
mod resolver;
mod suggest;
#[cfg(test)]
mod test_fixture;

pub use check::{CheckResult, ExprType};
pub use db::{Database, Db, SourceFile, lower, parse, resolve};
pub use diagnostics::{Diagnostic, DiagnosticSeverity, Label, Span};
pub use names::{Decl, DeclId, DeclKind, NameMap, NameRef, Resolution};
pub use resolver::{ImportedModule, Resolved};

/// Type-checks a file and lowers it to the typed IR, with every diagnostic of the file: the
/// tracked query [`db::check`]. (Salsa gives the query a type of the same name, which would
/// collide with the `check` module, so the crate root forwards to it.)
pub fn check(db: &dyn Db, file: SourceFile) -> std::sync::Arc<CheckResult> {
    db::check(db, file)
}

/// The file's name map, the tracked query [`db::names`] (forwarded for the same reason as
/// [`check`]: salsa's type of the query's name would collide with the `names` module).
pub fn names(db: &dyn Db, file: SourceFile) -> std::sync::Arc<NameMap> {
    db::names(db, file)
}
