//! `etr check`: diagnostics for one or more specs; exit status 1 when any has an error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use crate::specs;

pub fn run(paths: &[PathBuf], as_json: bool, workspace: &Path) -> Result<ExitCode> {
    let (mut db, workspace) = specs::database(workspace)?;
    let mut any_error = false;
    let mut report = Vec::new();
    for path in paths {
        let spec = specs::load(&mut db, &workspace, path)?;
        let (_, diagnostics) = specs::compile(&db, spec);
        any_error |= diagnostics.iter().any(|d| d.is_error());
        if as_json {
            for d in &diagnostics {
                let text = specs::source_text(&db, spec, &d.primary.file).unwrap_or_default();
                let (line, column) = etr_sema::render::line_col(&text, d.primary.span.start);
                report.push(json!({
                    "file": d.primary.file,
                    "code": d.code.id,
                    "severity": if d.is_error() { "error" } else { "warning" },
                    "message": d.message,
                    "line": line,
                    "column": column,
                    "start": d.primary.span.start,
                    "end": d.primary.span.end,
                    "label": d.primary.message,
                    "help": d.help,
                }));
            }
        } else {
            specs::print_diagnostics(&db, spec, &diagnostics);
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            let warnings = diagnostics.len() - errors;
            if errors == 0 {
                eprintln!("{}: ok ({} warning{})", path.display(), warnings, if warnings == 1 { "" } else { "s" });
            } else {
                eprintln!(
                    "{}: {} error{}, {} warning{}",
                    path.display(),
                    errors,
                    if errors == 1 { "" } else { "s" },
                    warnings,
                    if warnings == 1 { "" } else { "s" }
                );
            }
        }
    }
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(if any_error { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
