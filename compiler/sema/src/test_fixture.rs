//! The fixtures of sema's unit tests: specs in one string, checked through the `check` query.
//!
//! A fixture is one or more files: `//- /path` lines start a file, and the last file is the one
//! checked (the others are modules it `use`s by their file name, `/shared.etr` as `use shared`).
//! Fixtures declare their own record and codes rather than loading the stdlib.

use std::sync::Arc;

use etr_ir as ir;
use expect_test::Expect;

use crate::CheckResult;
use crate::db::Database;

/// The files of a fixture: `(path, text)`, the checked file last.
pub(crate) fn files(fixture: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in fixture.lines() {
        if let Some(path) = line.strip_prefix("//- ") {
            out.push((path.trim().to_owned(), String::new()));
        } else {
            if out.is_empty() {
                out.push(("/spec.etr".to_owned(), String::new()));
            }
            let text = &mut out.last_mut().expect("pushed above").1;
            text.push_str(line);
            text.push('\n');
        }
    }
    out
}

/// The text a span covers, to show where a diagnostic points.
fn spanned<'t>(files: &'t [(String, String)], path: &str, span: etr_syntax::ast::Span) -> &'t str {
    files.iter().find(|(p, _)| p == path).map_or("?", |(_, text)| &text[span.start as usize..span.end as usize])
}

pub(crate) fn diagnostic_lines(files: &[(String, String)], diagnostics: &[crate::Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let at = spanned(files, &d.primary.file, d.primary.span);
        out.push_str(&format!("{} {} {at:?}: {}\n", d.code.id, d.primary.file, d.message));
    }
    out
}

/// A fixture after `check`.
pub(crate) struct Compiled {
    pub(crate) files: Vec<(String, String)>,
    pub(crate) result: Arc<CheckResult>,
    /// The program, when the checked file is a contributor spec without errors.
    pub(crate) program: Option<Arc<ir::Program>>,
}

/// Checks the fixture's last file; the others are importable modules.
pub(crate) fn compile(fixture: &str) -> Compiled {
    let files = files(fixture);
    let mut db = Database::new();
    let (own_path, own_text) = files.last().expect("a fixture has a file");
    let modules: Vec<(String, &str, &str)> = files[..files.len() - 1]
        .iter()
        .map(|(path, text)| {
            let name = path.trim_start_matches('/').trim_end_matches(".etr").replace('/', ".");
            (name, path.as_str(), text.as_str())
        })
        .collect();
    db.set_modules(modules.iter().map(|(name, path, text)| (name.as_str(), *path, *text)));
    let file = db.add_file(own_path, own_text);
    let result = crate::check(&db, file);
    let program = crate::lower(&db, file);
    Compiled { files, result, program }
}

impl Compiled {
    /// One line per diagnostic: code, file, the text it points at, message.
    pub(crate) fn diagnostics(&self) -> String {
        diagnostic_lines(&self.files, &self.result.diagnostics)
    }

    /// The inferred type of the first expression of the checked file written exactly `text`.
    pub(crate) fn type_of(&self, text: &str) -> Option<&str> {
        let (_, own) = self.files.last()?;
        let at = own.find(text)? as u32;
        let span = etr_syntax::ast::Span { start: at, end: at + text.len() as u32 };
        self.result.expr_types.iter().find(|it| it.span == span).map(|it| it.ty.as_str())
    }
}

/// Checks the fixture and shows its diagnostics, then its program when it has one.
pub(crate) fn check_spec(fixture: &str, expected: Expect) {
    let compiled = compile(fixture);
    let mut out = compiled.diagnostics();
    if let Some(program) = &compiled.program {
        out.push_str(&program.to_string());
    }
    expected.assert_eq(&out);
}
