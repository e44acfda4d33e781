//! `etr run`: compile a spec and run it on a contributor file (placeholder until the pipeline lands).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::specs;

pub fn run(spec_path: &Path, _input: &Path, _out: &Path, _quiet: bool, _threads: Option<usize>) -> Result<ExitCode> {
    let mut db = specs::database();
    let spec = specs::load(&mut db, spec_path)?;
    let (program, diagnostics) = specs::compile(&db, spec);
    specs::print_diagnostics(&db, spec, &diagnostics);
    let Some(_program) = program else { return Ok(ExitCode::from(1)) };
    bail!("etr run is not wired yet")
}
