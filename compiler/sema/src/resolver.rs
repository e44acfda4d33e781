//! Name resolution across files: which modules a spec imports (transitively), and the items they
//! bring into scope.
//!
//! Imports are flat: `use etr.record` makes every declaration of that module, and of the modules
//! it uses, visible by its plain name. Collisions between declarations are reported by `check`.

use etr_syntax::ast::Item;

use crate::codes;
use crate::db::{Db, SourceFile, parse};
use crate::diagnostics::Diagnostic;
use crate::suggest::did_you_mean;

/// The items of a file and of everything it imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The file's own path.
    pub path: String,
    /// The imported modules, in the order first reached (depth first), without the file itself.
    pub imports: Vec<ImportedModule>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedModule {
    pub name: String,
    pub path: String,
    pub items: Vec<Item>,
}

pub(crate) fn resolve_file(db: &dyn Db, file: SourceFile) -> Resolved {
    let modules = db.module_set().modules(db).clone();
    let path = file.path(db).clone();
    let mut resolved = Resolved { path: path.clone(), imports: Vec::new(), diagnostics: Vec::new() };
    // Depth-first over `use` items; `visited` stops cycles between modules.
    let mut visited: Vec<String> = Vec::new();
    let mut stack: Vec<(SourceFile, String)> = vec![(file, path)];
    while let Some((current, current_path)) = stack.pop() {
        for item in &parse(db, current).items {
            let Item::Use(use_item) = item else { continue };
            let name: Vec<&str> = use_item.path.segments.iter().map(|s| s.text.as_str()).collect();
            let name = name.join(".");
            if visited.contains(&name) {
                continue;
            }
            match modules.iter().find(|(n, _)| *n == name) {
                Some((_, module_file)) => {
                    visited.push(name.clone());
                    let module_path = module_file.path(db).clone();
                    if *module_file != file {
                        resolved.imports.push(ImportedModule {
                            name: name.clone(),
                            path: module_path.clone(),
                            items: parse(db, *module_file).items.clone(),
                        });
                    }
                    stack.push((*module_file, module_path));
                }
                None => {
                    let help = did_you_mean(&name, modules.iter().map(|(n, _)| n.as_str())).or_else(|| {
                        let known: Vec<&str> = modules.iter().map(|(n, _)| n.as_str()).collect();
                        Some(format!("the modules are: {}", known.join(", ")))
                    });
                    resolved.diagnostics.push(
                        Diagnostic::error(
                            codes::UNKNOWN_MODULE,
                            format!("there is no module `{name}`"),
                            &current_path,
                            use_item.path.span,
                            "unknown module",
                        )
                        .with_help_opt(help),
                    );
                }
            }
        }
    }
    resolved
}
