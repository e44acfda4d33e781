//! The program of workload W1, `contributors/jcl.etr`, compiled by the front end with the stdlib:
//! what the interpreter's, the JIT's and the runtime's tests and benches run, so that they run the
//! program the compiler really produces (there is no hand-lowered copy to drift from it).

use std::sync::{Arc, OnceLock};

use etr_ir::Program;

/// The spec's text, built in: the program changes with the spec, and no test reads a file for it.
const JCL: &str = include_str!("../../contributors/jcl.etr");

/// `contributors/jcl.etr` compiled (once per process); panics with the rendered diagnostics if it
/// does not compile.
pub fn jcl_program() -> Program {
    static PROGRAM: OnceLock<Arc<Program>> = OnceLock::new();
    let program = PROGRAM.get_or_init(|| {
        let (program, diagnostics, db, file) = crate::compile("contributors/jcl.etr", JCL);
        program.unwrap_or_else(|| {
            panic!("contributors/jcl.etr does not compile:\n{}", crate::render_diagnostics(&db, file, &diagnostics))
        })
    });
    Program::clone(program)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_program_is_the_spec_compiled() {
        let program = jcl_program();
        assert_eq!(program.contributor.code, "JCL");
        assert_eq!(program.source.columns.len(), 41);
        assert!(program.tables.iter().any(|t| t.name == "states"));
        assert_eq!(program, jcl_program(), "the same program every time");
    }
}
