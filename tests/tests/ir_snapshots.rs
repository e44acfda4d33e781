//! The typed IR of every spec in `contributors/` and of the stdlib-only example, as text
//! (`etr explain`), and the Cranelift IR the JIT generates for it, compared with
//! `tests/snapshots/`. A change in lowering or in code generation shows up as a reviewable diff.
//! `UPDATE_EXPECT=1` rewrites the snapshots.

use expect_test::expect_file;

#[test]
fn jcl_plan() {
    let root = etr_tests::workspace_root();
    let text = std::fs::read_to_string(root.join("contributors/jcl.etr")).expect("jcl.etr");
    let (program, diagnostics, db, file) = etr_tests::compile("contributors/jcl.etr", &text);
    assert!(diagnostics.is_empty(), "{}", etr_tests::render_diagnostics(&db, file, &diagnostics));
    let program = program.expect("jcl.etr compiles");
    expect_file!["../snapshots/jcl.ir.txt"].assert_eq(&program.to_string());
}

/// The JIT's kernels for JCL as Cranelift IR, before Cranelift optimises it: one kernel of each
/// kind (a month, a date, ringgit, an int, a lookup with long keys, one with short keys), each
/// under the line naming its binding. The other 23 are the same code with other constants.
#[test]
fn jcl_kernels_clif() {
    let root = etr_tests::workspace_root();
    let text = std::fs::read_to_string(root.join("contributors/jcl.etr")).expect("jcl.etr");
    let (program, ..) = etr_tests::compile("contributors/jcl.etr", &text);
    let program = program.expect("jcl.etr compiles");
    let jit = etr_jit::Jit::new().and_then(|mut jit| jit.compile(&program)).expect("the JIT compiles JCL");
    let clif = jit.clif_text();
    let kernels: Vec<&str> = clif.split_inclusive("\n}\n").collect();
    assert_eq!(kernels.len(), 29, "one function per compiled binding");
    let wanted = [
        "field reporting_month:",
        "field birth_or_reg_date:",
        "field credit_limit:",
        "field payment_term_days:",
        "field state_code:",
        "field capacity:",
    ];
    let shown: Vec<&str> = kernels
        .iter()
        .map(|k| k.trim_start_matches('\n'))
        .filter(|k| k.lines().next().is_some_and(|header| wanted.iter().any(|w| header.contains(w))))
        .collect();
    assert_eq!(shown.len(), wanted.len(), "each wanted kernel is compiled");
    expect_file!["../snapshots/jcl.clif.txt"].assert_eq(&shown.join("\n"));
}

#[test]
fn stdlib_modules_check_clean() {
    for module in etr_stdlib::MODULES {
        let (program, diagnostics, db, file) = etr_tests::compile(module.path, module.text);
        assert!(program.is_none(), "{} is a module, not a contributor spec", module.name);
        assert!(diagnostics.is_empty(), "{}", etr_tests::render_diagnostics(&db, file, &diagnostics));
    }
}
