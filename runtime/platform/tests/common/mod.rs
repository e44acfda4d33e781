//! What the platform's test binaries share: the spec compiler they give the platform.

use std::path::Path;

use etr_platform::{CompiledSpec, SpecCompiler};

/// Compiles specs with the test crate's front end (the CLI supplies the real one).
pub struct TestCompiler;

impl SpecCompiler for TestCompiler {
    fn compile(&self, spec: &Path) -> Result<CompiledSpec, String> {
        let text = std::fs::read_to_string(spec).map_err(|e| e.to_string())?;
        let (program, diagnostics, db, file) = etr_tests::compile(&spec.display().to_string(), &text);
        let program = program.ok_or_else(|| etr_tests::render_diagnostics(&db, file, &diagnostics))?;
        Ok(CompiledSpec { program, spec_hash: etr_runtime::pipeline::spec_hash([text.as_str()]) })
    }
}
