//! The salsa database: inputs are file texts; parse, resolve, check and lower are tracked queries.
//!
//! Granularity: every query is per file. `parse` depends only on its file's text, so an edit to one
//! spec never re-parses another; `resolve` reads the parses of the file and of the modules it
//! imports; `names` (the name map the editor reads) reads `resolve`; `check` (types, fallibility, lowering to the typed IR) reads `resolve`. The stdlib is
//! set with high durability because it changes only with a new etr release, contributor specs
//! with medium durability, so that editing one spec re-validates only what depends on it.

use std::sync::Arc;

use etr_syntax::ParsedFile;
use salsa::{Durability, Setter};

use crate::check::{CheckResult, check_file};
use crate::names::{NameMap, names_of};
use crate::resolver::{Resolved, resolve_file};

/// One spec or stdlib module: its path (for diagnostics) and its text.
#[salsa::input]
pub struct SourceFile {
    #[returns(ref)]
    pub path: String,
    #[returns(ref)]
    pub text: String,
}

/// The set of modules a `use` can name: dotted module name -> file.
#[salsa::input]
pub struct ModuleSet {
    #[returns(ref)]
    pub modules: Vec<(String, SourceFile)>,
}

/// The database trait the queries take, so that the language server can bring its own database.
#[salsa::db]
pub trait Db: salsa::Database {
    /// The modules visible to `use`.
    fn module_set(&self) -> ModuleSet;
}

/// The concrete database used by the CLI and the tests.
#[salsa::db]
#[derive(Clone)]
pub struct Database {
    storage: salsa::Storage<Self>,
    modules: Option<ModuleSet>,
}

#[salsa::db]
impl salsa::Database for Database {}

#[salsa::db]
impl Db for Database {
    fn module_set(&self) -> ModuleSet {
        self.modules.expect("Database::new always sets the module set")
    }
}

impl Default for Database {
    fn default() -> Self {
        Self::new()
    }
}

impl Database {
    /// An empty database: no module is importable until `set_modules` is called.
    pub fn new() -> Database {
        let mut db = Database { storage: salsa::Storage::default(), modules: None };
        let set = ModuleSet::builder(Vec::new()).durability(Durability::HIGH).new(&db);
        db.modules = Some(set);
        db
    }

    /// Sets the importable modules (name, path, text), e.g. the stdlib, with high durability.
    pub fn set_modules<'a>(&mut self, modules: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>) {
        let files: Vec<(String, SourceFile)> = modules
            .into_iter()
            .map(|(name, path, text)| {
                let file =
                    SourceFile::builder(path.to_string(), text.to_string()).durability(Durability::HIGH).new(&*self);
                (name.to_string(), file)
            })
            .collect();
        let set = self.module_set();
        set.set_modules(self).with_durability(Durability::HIGH).to(files);
    }

    /// The importable module whose path is `path`.
    pub fn module_file(&self, path: &str) -> Option<SourceFile> {
        let modules = self.module_set().modules(self);
        modules.iter().find(|(_, file)| file.path(self) == path).map(|(_, file)| *file)
    }

    /// The text of the importable module whose path is `path` (to render a diagnostic in it).
    pub fn module_text(&self, path: &str) -> Option<String> {
        self.module_file(path).map(|file| file.text(self).clone())
    }

    /// Adds a spec file (medium durability: it changes between runs, not keystroke by keystroke).
    pub fn add_file(&mut self, path: &str, text: &str) -> SourceFile {
        SourceFile::builder(path.to_string(), text.to_string()).durability(Durability::MEDIUM).new(&*self)
    }

    /// Replaces a file's text (an editor buffer changes with low durability).
    pub fn set_file_text(&mut self, file: SourceFile, text: &str) {
        file.set_text(self).with_durability(Durability::LOW).to(text.to_string());
    }
}

/// Parses a file. Never fails: syntax errors are in the result.
#[salsa::tracked(returns(ref))]
pub fn parse(db: &dyn Db, file: SourceFile) -> ParsedFile {
    etr_syntax::parse_file(file.text(db))
}

/// Resolves a file's imports and collects the declarations visible in it.
#[salsa::tracked(returns(clone))]
pub fn resolve(db: &dyn Db, file: SourceFile) -> Arc<Resolved> {
    Arc::new(resolve_file(db, file))
}

/// The file's name map: its declarations and imports' and what every written name means. A pass
/// of its own (not part of `check`, which stops early), so that the editor sees names resolved
/// in module files and half-written specs.
#[salsa::tracked(returns(clone))]
pub fn names(db: &dyn Db, file: SourceFile) -> Arc<NameMap> {
    Arc::new(names_of(db, file))
}

/// Type-checks a file and lowers it to the typed IR, with every diagnostic of the file.
#[salsa::tracked(returns(clone))]
pub fn check(db: &dyn Db, file: SourceFile) -> Arc<CheckResult> {
    Arc::new(check_file(db, file))
}

/// The compiled program of a contributor spec, when it has no error.
#[salsa::tracked(returns(clone))]
pub fn lower(db: &dyn Db, file: SourceFile) -> Option<Arc<etr_ir::Program>> {
    let result = check(db, file);
    if result.diagnostics.iter().any(|d| d.is_error()) { None } else { result.program.clone() }
}
