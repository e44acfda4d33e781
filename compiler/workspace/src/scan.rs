//! Which files of a folder are the workspace's specs, and which module name each one has.
//!
//! The editor (the folder it opened) and the command line (`--workspace`, by default the current
//! folder) take the list from here, so that `use rules.shared` means the same file in both.
//! Listing reads folders only, never a spec's text: an unused `.etr` may be a gigabyte or a FIFO.

use std::path::{Path, PathBuf};

/// The deepest folder level scanned for specs, and the most files taken: a guard against
/// opening the editor on a home folder.
const MAX_SCAN_DEPTH: usize = 8;
const MAX_SCAN_FILES: usize = 2_000;
/// The most folder entries (files and folders) looked at in all.
const MAX_SCAN_ENTRIES: usize = 50_000;

/// A spec file of a workspace folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WorkspaceSpec {
    /// The dotted name other specs `use` it by, when it has one (see [`module_name_for`]).
    pub module: Option<String>,
    /// The file: `root` joined with its path relative to `root`.
    pub path: PathBuf,
}

/// The specs of a workspace folder with their module names: every `*.etr` file below `root`
/// (hidden folders, `target` and `node_modules` skipped; at most 8 levels, 2,000 specs and 50,000
/// folder entries looked at), in path order, named by [`module_name_for`] their path relative to
/// `root`.
pub fn workspace_specs(root: &Path) -> Vec<WorkspaceSpec> {
    let mut found = Vec::new();
    let mut budget = MAX_SCAN_ENTRIES;
    scan(root, 0, &mut found, &mut budget);
    found.sort();
    found
        .into_iter()
        .map(|path| {
            let module = path.strip_prefix(root).ok().and_then(|r| module_name_for(&r.to_string_lossy()));
            WorkspaceSpec { module, path }
        })
        .collect()
}

/// The dotted module name of a workspace file from its path relative to the workspace folder:
/// `rules/shared.etr` is `rules.shared`. `None` when the path is not a plain `.etr` file name
/// (every segment a letter or `_`, then letters, digits or `_`), and when the name is a stdlib
/// module's (`etr/record.etr` in a workspace): the stdlib is never shadowed, so a spec's
/// `use etr.record` means the same everywhere.
pub fn module_name_for(relative_path: &str) -> Option<String> {
    let stem = relative_path.strip_suffix(".etr")?;
    let segments: Vec<&str> = stem.split(['/', '\\']).collect();
    let plain = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let name = segments.iter().all(|s| plain(s)).then(|| segments.join("."))?;
    etr_stdlib::module(&name).is_none().then_some(name)
}

/// Collects the `*.etr` files below `dir`, in path order (each folder's entries sorted, so the
/// caps keep the same files whatever order the file system lists them in). `budget` counts the
/// folder entries looked at: a workspace opened on a home folder or a data folder stops early
/// instead of walking millions of files.
fn scan(dir: &Path, depth: usize, found: &mut Vec<PathBuf>, budget: &mut usize) {
    if depth > MAX_SCAN_DEPTH || found.len() >= MAX_SCAN_FILES || *budget == 0 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<std::fs::DirEntry> = entries.flatten().take(*budget).collect();
    *budget -= entries.len();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            scan(&path, depth + 1, found, budget);
        } else if kind.is_file() && name.ends_with(".etr") && found.len() < MAX_SCAN_FILES {
            found.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_follow_relative_paths() {
        assert_eq!(module_name_for("rules/shared.etr").as_deref(), Some("rules.shared"));
        assert_eq!(module_name_for("jcl.etr").as_deref(), Some("jcl"));
        assert_eq!(module_name_for("my rules/x.etr"), None);
        assert_eq!(module_name_for("2025/x.etr"), None);
        assert_eq!(module_name_for("notes.txt"), None);
        // This repository's own copy of the stdlib is an ordinary module; `etr/record.etr` would
        // be the stdlib's name.
        assert_eq!(module_name_for("stdlib/etr/record.etr").as_deref(), Some("stdlib.etr.record"));
        assert_eq!(module_name_for("etr/record.etr"), None);
        assert_eq!(module_name_for("etr/mine.etr").as_deref(), Some("etr.mine"));
    }

    #[test]
    fn the_scan_lists_specs_in_path_order_and_skips_hidden_and_build_folders() {
        let root = tempfile::tempdir().unwrap();
        let files =
            ["b.etr", "a/z.etr", "a/notes.txt", ".git/x.etr", "target/y.etr", "node_modules/m.etr", "etr/codes.etr"];
        for path in files {
            let path = root.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let found: Vec<(Option<String>, PathBuf)> = workspace_specs(root.path())
            .into_iter()
            .map(|s| (s.module, s.path.strip_prefix(root.path()).unwrap().to_path_buf()))
            .collect();
        let want = [(Some("a.z"), "a/z.etr"), (Some("b"), "b.etr"), (None, "etr/codes.etr")];
        let want: Vec<(Option<String>, PathBuf)> =
            want.iter().map(|(m, p)| (m.map(str::to_owned), PathBuf::from(p))).collect();
        assert_eq!(found, want);
    }

    #[test]
    fn the_scan_stops_at_the_depth_cap() {
        let root = tempfile::tempdir().unwrap();
        // Folders d0 to d8: d7's files are at the deepest level scanned, d8's are one below.
        let deepest = (0..MAX_SCAN_DEPTH).fold(root.path().to_path_buf(), |dir, level| dir.join(format!("d{level}")));
        let below = deepest.join(format!("d{MAX_SCAN_DEPTH}"));
        std::fs::create_dir_all(&below).unwrap();
        std::fs::write(deepest.join("deepest.etr"), "").unwrap();
        std::fs::write(below.join("too_deep.etr"), "").unwrap();
        let found: Vec<PathBuf> = workspace_specs(root.path()).into_iter().map(|s| s.path).collect();
        assert_eq!(found, [deepest.join("deepest.etr")]);
    }
}
