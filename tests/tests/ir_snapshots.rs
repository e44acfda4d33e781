//! The typed IR of every spec in `contributors/` and of the stdlib-only example, as text
//! (`etr explain`), compared with `tests/snapshots/`. A change in lowering shows up as a reviewable
//! diff. `UPDATE_EXPECT=1` rewrites the snapshots.

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

#[test]
fn stdlib_modules_check_clean() {
    for module in etr_stdlib::MODULES {
        let (program, diagnostics, db, file) = etr_tests::compile(module.path, module.text);
        assert!(program.is_none(), "{} is a module, not a contributor spec", module.name);
        assert!(diagnostics.is_empty(), "{}", etr_tests::render_diagnostics(&db, file, &diagnostics));
    }
}
