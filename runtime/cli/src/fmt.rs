//! `etr fmt`: rewrites spec files in the canonical layout, or checks that they already are.
//!
//! Every file is handled on its own: a file that cannot be read or does not parse is reported
//! with its path and left untouched, and the other files are still processed. A rewrite is atomic
//! (the new text goes to a temporary file next to the spec, which is then renamed over it), so an
//! interrupted run never leaves a half-written spec; a file already formatted is not touched.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

/// What `etr fmt` does with the formatted text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Replace each file whose layout changes.
    InPlace,
    /// Change nothing; list the files whose layout would change.
    Check,
    /// Print the formatted text of each file to standard output.
    Stdout,
}

/// Exit status: 0 when everything went well, 1 when `--check` found files to reformat, 2 when a
/// file could not be read, parsed or written (this wins over 1).
pub fn run(paths: &[PathBuf], mode: Mode) -> Result<ExitCode> {
    let mut failed = 0;
    let mut changed = Vec::new();
    for path in paths {
        match format_file(path, mode) {
            Ok(true) => changed.push(path),
            Ok(false) => {}
            Err(error) => {
                eprintln!("error: {}: {error:#}", path.display());
                failed += 1;
            }
        }
    }
    match mode {
        Mode::Check => {
            for path in &changed {
                println!("{}", path.display());
            }
            if !changed.is_empty() {
                eprintln!("{} of {} file{} would be reformatted", changed.len(), paths.len(), plural(paths.len()));
            }
        }
        Mode::InPlace => {
            let unchanged = paths.len() - changed.len() - failed;
            eprintln!("{} file{} reformatted, {unchanged} unchanged", changed.len(), plural(changed.len()));
        }
        Mode::Stdout => {}
    }
    if failed > 0 {
        eprintln!("{failed} file{} could not be formatted", plural(failed));
        return Ok(ExitCode::from(2));
    }
    Ok(if mode == Mode::Check && !changed.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Formats one file; returns whether its layout changes.
fn format_file(path: &Path, mode: Mode) -> Result<bool> {
    let text = std::fs::read_to_string(path).context("cannot read the file")?;
    let formatted = etr_fmt::format(&text)?;
    let changes = formatted != text;
    match mode {
        Mode::Stdout => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(formatted.as_bytes()).context("cannot write to standard output")?;
        }
        Mode::InPlace if changes => replace_atomically(path, &formatted)?,
        Mode::InPlace | Mode::Check => {}
    }
    Ok(changes)
}

/// Writes `text` to a temporary file in the same folder (so the rename cannot cross file
/// systems), with the original's permissions, then renames it over `path`. A symbolic link is
/// followed, so that the file it points to is replaced and the link stays a link.
fn replace_atomically(path: &Path, text: &str) -> Result<()> {
    let path = std::fs::canonicalize(path).context("cannot resolve the file's path")?;
    let folder = path.parent().unwrap_or(Path::new("/"));
    let permissions = std::fs::metadata(&path).context("cannot read the file's permissions")?.permissions();
    let mut temporary = tempfile::Builder::new()
        .prefix(".etr-fmt-")
        .suffix(".tmp")
        .tempfile_in(folder)
        .context("cannot create a temporary file next to it")?;
    temporary.write_all(text.as_bytes()).context("cannot write the temporary file")?;
    temporary.as_file().sync_all().context("cannot write the temporary file")?;
    std::fs::set_permissions(temporary.path(), permissions).context("cannot set the temporary file's permissions")?;
    temporary.persist(&path).map_err(|error| error.error).context("cannot replace the file")?;
    Ok(())
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}
