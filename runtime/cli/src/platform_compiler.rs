//! The compiler the platform runs specs with: the same database, workspace modules and spec
//! identity as `etr run`, behind the platform's `SpecCompiler` seam (the platform does not link the
//! front end).

use std::path::{Path, PathBuf};

use etr_platform::{CompiledSpec, SpecCompiler};

use crate::specs;

/// Compiles a contributor's spec with the specs of `workspace` importable.
pub struct CliCompiler {
    pub workspace: PathBuf,
}

impl SpecCompiler for CliCompiler {
    fn compile(&self, spec: &Path) -> Result<CompiledSpec, String> {
        let (mut db, files) = specs::database(&self.workspace).map_err(|e| format!("{e:#}"))?;
        let file = specs::load(&mut db, &files, spec).map_err(|e| format!("{e:#}"))?;
        let (program, diagnostics) = specs::compile(&db, file);
        let Some(program) = program else {
            let errors: Vec<_> = diagnostics.into_iter().filter(|d| d.is_error()).collect();
            return Err(format!(
                "{} has errors:\n{}",
                spec.display(),
                errors
                    .iter()
                    .map(|d| etr_sema::render::render(d, &|p| specs::source_text(&db, file, p), false))
                    .collect::<String>()
            ));
        };
        Ok(CompiledSpec { program, spec_hash: specs::spec_hash(&db, file) })
    }
}
