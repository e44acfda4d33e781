//! `etr explain`: the typed IR of a spec, as text, then the passes a run of it makes over its
//! input file (the runtime's plan, which `etr run` executes).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use etr_runtime::passes::PassPlan;

use crate::specs;

pub fn run(path: &Path, workspace: &Path) -> Result<ExitCode> {
    let (mut db, workspace) = specs::database(workspace)?;
    let spec = specs::load(&mut db, &workspace, path)?;
    let (program, diagnostics) = specs::compile(&db, spec);
    specs::print_diagnostics(&db, spec, &diagnostics);
    match program {
        Some(program) => {
            let plan = PassPlan::for_program(program.clone())
                .with_context(|| format!("planning the passes of {}", path.display()))?;
            print!("{program}");
            print!("{}", plan.display(&program));
            Ok(ExitCode::SUCCESS)
        }
        None => Ok(ExitCode::from(1)),
    }
}
