//! The real material the fuzzers start from: every spec of the repository, and every corpus
//! case's contributor file grouped by the spec that reads it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The repository's root.
pub fn repo_root() -> PathBuf {
    etr_tests::workspace_root()
}

/// A spec of the repository: its path (relative to the root) and text.
#[derive(Debug, Clone)]
pub struct SeedSpec {
    pub path: String,
    pub text: String,
}

/// Every `.etr` file under the folders that hold specs, sorted by path (so that seeds pick the
/// same spec on every machine).
pub fn specs() -> Vec<SeedSpec> {
    let root = repo_root();
    let mut paths = Vec::new();
    for folder in ["contributors", "examples", "stdlib/etr", "tests/corpus"] {
        collect_files(&root.join(folder), "etr", &mut paths);
    }
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let shown = path.strip_prefix(&root).unwrap_or(&path).display().to_string();
            Some(SeedSpec { path: shown, text })
        })
        .collect()
}

fn collect_files(folder: &Path, extension: &str, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, extension, into);
        } else if path.extension().is_some_and(|e| e == extension) {
            into.push(path);
        }
    }
}

/// A spec that runs, with the contributor files of the corpus cases that use it.
#[derive(Clone)]
pub struct DataSeed {
    pub spec_path: String,
    pub spec_text: String,
    pub program: Arc<etr_ir::Program>,
    pub samples: Vec<Vec<u8>>,
}

/// Inputs bigger than this are left out: the fuzzer makes its own huge lines.
const MAX_SAMPLE_BYTES: usize = 1 << 20;

/// The corpus cases' inputs (`input.psv`, or built from `input.gen`), grouped by spec, for the
/// specs that compile; sorted by spec path.
pub fn data_seeds() -> Vec<DataSeed> {
    let root = repo_root().join("tests/corpus");
    let mut cases = Vec::new();
    let Ok(categories) = std::fs::read_dir(&root) else { return Vec::new() };
    for category in categories.flatten() {
        let Ok(entries) = std::fs::read_dir(category.path()) else { continue };
        cases.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
    }
    cases.sort();
    let mut seeds: Vec<DataSeed> = Vec::new();
    for case in cases {
        let input = if case.join("input.psv").exists() {
            std::fs::read(case.join("input.psv")).ok()
        } else if case.join("input.gen").exists() {
            std::fs::read_to_string(case.join("input.gen"))
                .ok()
                .and_then(|recipe| etr_tests::generate::generate(&recipe).ok())
        } else {
            None
        };
        let Some(input) = input.filter(|bytes| bytes.len() <= MAX_SAMPLE_BYTES) else { continue };
        let Ok((spec_path, spec_text)) = etr_tests::corpus::spec_of(&case) else { continue };
        if let Some(seed) = seeds.iter_mut().find(|s| s.spec_path == spec_path) {
            seed.samples.push(input);
            continue;
        }
        let Some(program) = etr_tests::compile(&spec_path, &spec_text).0 else { continue };
        seeds.push(DataSeed { spec_path, spec_text, program, samples: vec![input] });
    }
    seeds.sort_by(|a, b| a.spec_path.cmp(&b.spec_path));
    seeds
}
