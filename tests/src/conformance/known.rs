//! `tests/conformance/known_failures.tsv`: the cases etr fails today, one per line with its cause
//! (columns: file, dataset index, title, reason), grouped by reason.

use std::collections::BTreeMap;
use std::path::Path;

use super::CaseId;

const HEADER: &str = "file\tdataset\ttitle\treason";

/// The listed cases and their reasons.
pub fn read(path: &Path) -> Result<BTreeMap<CaseId, String>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let mut known = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if n == 0 || line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').collect();
        let [file, dataset, title, reason] = cells[..] else {
            return Err(format!("{}:{}: expected 4 tab-separated columns", path.display(), n + 1));
        };
        let dataset = dataset.parse().map_err(|_| format!("{}:{}: bad dataset index", path.display(), n + 1))?;
        known.insert(CaseId { file: file.into(), dataset, title: title.into() }, reason.to_string());
    }
    Ok(known)
}

/// Writes the list, grouped by reason, then by case.
pub fn write(path: &Path, known: &BTreeMap<CaseId, String>) -> Result<(), String> {
    let mut rows: Vec<(&String, &CaseId)> = known.iter().map(|(id, reason)| (reason, id)).collect();
    rows.sort();
    let mut text = format!("{HEADER}\n");
    for (reason, id) in rows {
        let clean = |s: &str| s.replace(['\t', '\n'], " ");
        text.push_str(&format!("{}\t{}\t{}\t{}\n", id.file, id.dataset, clean(&id.title), clean(reason)));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
