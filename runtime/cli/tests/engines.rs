//! `etr run --engine jit` against `--engine interp` on every corpus case with an input file: the
//! binary hands the JIT to the runtime (which does not link it), and the outputs must be the same
//! bytes, whichever engine ran.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The corpus cases that run a spec on an input file, with that spec.
fn cases() -> Vec<(PathBuf, PathBuf)> {
    let mut cases = Vec::new();
    let corpus = root().join("tests/corpus");
    for category in std::fs::read_dir(&corpus).expect("the corpus folder") {
        let Ok(category) = category else { continue };
        let Ok(entries) = std::fs::read_dir(category.path()) else { continue };
        for case in entries.flatten() {
            let case = case.path();
            let input = case.join("input.psv");
            if !input.is_file() {
                continue;
            }
            let spec = match std::fs::read_to_string(case.join("spec.ref")) {
                Ok(reference) => root().join(reference.trim()),
                Err(_) => case.join("spec.etr"),
            };
            cases.push((spec, input));
        }
    }
    cases.sort();
    cases
}

/// Runs `spec` on `input` with `engine` into `out`, and returns the summary.
fn run(spec: &Path, input: &Path, out: &Path, engine: &str) -> serde_json::Value {
    let status = Command::new(env!("CARGO_BIN_EXE_etr"))
        .current_dir(root())
        .args(["run", "--quiet", "--threads", "2", "--as-of", "2025-07-01", "--engine", engine])
        .arg(spec)
        .arg(input)
        .arg("--out")
        .arg(out)
        .status()
        .expect("etr starts");
    // 3 is a fatal file, which still publishes its outputs.
    assert!(matches!(status.code(), Some(0 | 3)), "{} on {}: {status}", spec.display(), input.display());
    let text = std::fs::read(out.join("summary.json")).expect("a summary");
    serde_json::from_slice(&text).expect("the summary is JSON")
}

#[test]
fn the_jit_and_the_interpreter_write_the_same_files() {
    let cases = cases();
    assert!(cases.len() >= 8, "only {} corpus cases with an input file", cases.len());
    let dir = tempfile::tempdir().expect("temp dir");
    let mut native_kernels = 0;
    for (n, (spec, input)) in cases.iter().enumerate() {
        let interp_out = dir.path().join(format!("{n}-interp"));
        let jit_out = dir.path().join(format!("{n}-jit"));
        let mut interp = run(spec, input, &interp_out, "interp");
        let mut jit = run(spec, input, &jit_out, "jit");
        let engine = jit["engine"].as_str().unwrap_or_default().to_string();
        assert!(engine.starts_with("jit ("), "{}: the JIT did not run: {engine}", input.display());
        native_kernels += engine
            .trim_start_matches("jit (")
            .split_whitespace()
            .next()
            .and_then(|count| count.parse::<u32>().ok())
            .unwrap_or_default();
        for summary in [&mut interp, &mut jit] {
            let object = summary.as_object_mut().expect("an object");
            object.remove("engine");
            object.remove("timings_ms");
        }
        assert_eq!(interp, jit, "{}: the summaries differ", input.display());
        let mut names: Vec<_> = std::fs::read_dir(&interp_out)
            .expect("the output folder")
            .flatten()
            .map(|entry| entry.file_name())
            .filter(|name| name != "summary.json")
            .collect();
        names.sort();
        assert!(names.len() >= 3, "{}: only {names:?}", input.display());
        for name in names {
            let a = std::fs::read(interp_out.join(&name)).expect("readable");
            let b = std::fs::read(jit_out.join(&name)).unwrap_or_default();
            assert!(a == b, "{}: {} differs between the engines", input.display(), name.to_string_lossy());
        }
    }
    // The W1 spec has native parses and lookups: a JIT that compiled nothing would pass the
    // comparisons above without testing anything.
    assert!(native_kernels > 0, "no case ran a native kernel");
}
