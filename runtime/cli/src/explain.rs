//! `etr explain`: the typed IR of a spec, as text.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::specs;

pub fn run(path: &Path, workspace: &Path) -> Result<ExitCode> {
    let (mut db, workspace) = specs::database(workspace)?;
    let spec = specs::load(&mut db, &workspace, path)?;
    let (program, diagnostics) = specs::compile(&db, spec);
    specs::print_diagnostics(&db, spec, &diagnostics);
    match program {
        Some(program) => {
            print!("{program}");
            Ok(ExitCode::SUCCESS)
        }
        None => Ok(ExitCode::from(1)),
    }
}
