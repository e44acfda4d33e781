//! The IDE's salsa database: the compiler's queries (`etr_sema::Db`) over files the editor owns.
//!
//! It differs from the CLI's `etr_sema::Database` in one way: the set of importable modules is
//! the workspace (the stdlib plus the folder's specs) and changes while the server runs. Stdlib
//! files get high durability, so that a keystroke in a spec never re-validates the stdlib's
//! queries; open buffers get low durability.

use etr_sema::SourceFile;
use etr_sema::db::ModuleSet;
use salsa::{Durability, Setter};

#[salsa::db]
#[derive(Clone)]
pub(crate) struct IdeDatabase {
    storage: salsa::Storage<Self>,
    /// Always `Some` after `new`; an `Option` only because the input needs a database to exist.
    modules: Option<ModuleSet>,
}

#[salsa::db]
impl salsa::Database for IdeDatabase {}

#[salsa::db]
impl etr_sema::Db for IdeDatabase {
    fn module_set(&self) -> ModuleSet {
        self.modules.expect("IdeDatabase::new sets the module set")
    }
}

impl IdeDatabase {
    pub(crate) fn new() -> IdeDatabase {
        let mut db = IdeDatabase { storage: salsa::Storage::default(), modules: None };
        let set = ModuleSet::builder(Vec::new()).durability(Durability::MEDIUM).new(&db);
        db.modules = Some(set);
        db
    }

    pub(crate) fn new_file(&mut self, path: &str, text: String, read_only: bool) -> SourceFile {
        let durability = if read_only { Durability::HIGH } else { Durability::LOW };
        SourceFile::builder(path.to_string(), text).durability(durability).new(&*self)
    }

    pub(crate) fn set_text(&mut self, file: SourceFile, text: String) {
        file.set_text(self).with_durability(Durability::LOW).to(text);
    }

    pub(crate) fn set_modules(&mut self, modules: Vec<(String, SourceFile)>) {
        let set = etr_sema::Db::module_set(self);
        set.set_modules(self).with_durability(Durability::MEDIUM).to(modules);
    }
}
