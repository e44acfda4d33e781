//! Saved cases: one JSON file per failure kind, under `findings/<target>/` (bugs not fixed yet,
//! not replayed by the tests) or `regressions/<target>/` (fixed bugs, replayed by
//! `tests/regressions.rs`, which fails while the bug is back).
//!
//! A file says what failed and how it was found, and holds the minimised input in the target's
//! JSON form; a copy of the input in its own format (`.etr`, `.psv`) may sit next to it, for
//! people and for `etr`, and is never read back.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::{Failure, Target};

/// The crate's folder, where `findings/` and `regressions/` live.
pub fn fuzz_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A saved case, read back.
#[derive(Debug, Clone)]
pub struct SavedCase {
    pub path: PathBuf,
    pub target: String,
    pub failure: String,
    pub input: serde_json::Value,
}

/// A file name from a failure kind: lowercase words joined by `-`, at most 60 characters.
pub fn short_name(kind: &str) -> String {
    let mut name = String::new();
    for c in kind.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    let name: String = name.trim_end_matches('-').chars().take(60).collect();
    let name = name.trim_end_matches('-').to_string();
    if name.is_empty() { "failure".into() } else { name }
}

/// Saves a minimised failing case under `folder/<target>/`, with its inspection copy; returns
/// the JSON file's path.
pub fn save<T: Target>(
    folder: &Path,
    target: &T,
    input: &T::Input,
    failure: &Failure,
    found_by: &str,
) -> std::io::Result<PathBuf> {
    let dir = folder.join(target.name());
    std::fs::create_dir_all(&dir)?;
    let name = short_name(&failure.kind);
    let path = dir.join(format!("{name}.json"));
    let shown =
        path.strip_prefix(fuzz_root().parent().unwrap_or(Path::new("."))).unwrap_or(&path).display().to_string();
    let document = json!({
        "target": target.name(),
        "failure": failure.kind,
        "detail": failure.detail,
        "found_by": found_by,
        "replay": format!("cargo run --release -p etr-fuzz -- replay {shown}"),
        "input": target.input_to_json(input),
    });
    let mut text = serde_json::to_string_pretty(&document).map_err(std::io::Error::other)?;
    text.push('\n');
    std::fs::write(&path, text)?;
    if let Some((extension, bytes)) = target.inspection_copy(input) {
        std::fs::write(dir.join(format!("{name}.{extension}")), bytes)?;
    }
    Ok(path)
}

/// Reads one saved case.
pub fn load(path: &Path) -> Result<SavedCase, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let field =
        |name: &str| value[name].as_str().map(str::to_string).ok_or_else(|| format!("{}: no `{name}`", path.display()));
    Ok(SavedCase {
        path: path.to_path_buf(),
        target: field("target")?,
        failure: field("failure")?,
        input: value["input"].clone(),
    })
}

/// Every saved case of `folder` (all targets), sorted by path.
pub fn cases_in(folder: &Path) -> Result<Vec<SavedCase>, String> {
    let mut paths = Vec::new();
    let Ok(targets) = std::fs::read_dir(folder) else { return Ok(Vec::new()) };
    for target in targets.flatten() {
        let Ok(files) = std::fs::read_dir(target.path()) else { continue };
        for file in files.flatten() {
            if file.path().extension().is_some_and(|e| e == "json") {
                paths.push(file.path());
            }
        }
    }
    paths.sort();
    paths.iter().map(|p| load(p)).collect()
}

/// The failure kinds of the open findings of `target` (saved under `findings/`): a campaign
/// counts these but does not save them again, and the smoke run tolerates them. The kinds of
/// `regressions/` are not among them: a fixed bug that comes back is a new failure.
pub fn open_kinds(root: &Path, target: &str) -> Vec<String> {
    cases_in(&root.join("findings"))
        .map(|cases| cases.into_iter().filter(|c| c.target == target).map(|c| c.failure).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_plain_words() {
        assert_eq!(short_name("panic at compiler/fmt/src/doc.rs:12"), "panic-at-compiler-fmt-src-doc-rs-12");
        assert_eq!(short_name("fmt: not idempotent"), "fmt-not-idempotent");
        assert_eq!(short_name("!!!"), "failure");
        assert!(short_name(&"x".repeat(200)).len() <= 60);
    }
}
