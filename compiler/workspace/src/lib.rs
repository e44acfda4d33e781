//! A workspace of etr specs as the editor and the command line both see it: which files of a
//! folder are its modules and by which names (`scan.rs`), the one way a spec is read from disk
//! (`disk.rs`), and the loader that reads a module only once something uses it (`loader.rs`).
//!
//! It exists so that `etr check` and `etr lsp` resolve `use rules.shared` alike without the
//! command line linking the language server (tower-lsp, tokio) to get there.
//!
//! API Boundary: [`workspace_specs`], [`module_name_for`], [`read_spec`] with [`MAX_SPEC_BYTES`]
//! and [`ReadRefusal`], and the loader's [`Unread`], [`ModuleHost`] and [`read_needed_modules`].
//! Architecture Invariant: this is the front end's file-system edge, not a compiler crate: it
//! lists folders and reads spec files, and knows neither the compiler's database nor the
//! protocol; it depends on `etr-stdlib` alone (for the module names a workspace cannot shadow).

mod disk;
mod loader;
mod scan;

pub use disk::{MAX_SPEC_BYTES, ReadRefusal, read_spec};
pub use loader::{ModuleHost, Unread, read_needed_modules};
pub use scan::{WorkspaceSpec, module_name_for, workspace_specs};
