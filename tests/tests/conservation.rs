//! Property: whatever the bytes, a run conserves lines and does not depend on how it was cut.
//!
//! Random files are built from real JCL lines (some intact, some mutated: fields dropped or added,
//! values garbled, invalid UTF-8, NUL bytes, stray CRs), random line endings, and random garbage
//! lines. For each, the run must succeed, and: `lines_read = accepted + rejected + refused`;
//! `accepted.parquet` holds `accepted` rows; `rejects.parquet` holds exactly `rejected` distinct
//! line numbers; and two runs with different block sizes, thread counts and engines (interpreter,
//! JIT) give identical outputs.

use std::sync::Arc;

use etr_runtime::pipeline::{self, RunConfig};
use proptest::prelude::*;

fn program() -> Arc<etr_ir::Program> {
    let root = etr_tests::workspace_root();
    let text = std::fs::read_to_string(root.join("contributors/jcl.etr")).expect("jcl.etr");
    etr_tests::compile("contributors/jcl.etr", &text).0.expect("jcl.etr compiles")
}

fn sample_lines() -> Vec<String> {
    let root = etr_tests::workspace_root();
    let text = std::fs::read_to_string(root.join("tests/corpus/w1/jcl_2k_dirty/input.psv")).expect("fixture");
    text.lines().skip(1).take(200).filter(|l| !l.starts_with("T|")).map(str::to_string).collect()
}

#[derive(Debug, Clone)]
enum Piece {
    Good(usize),
    DropField(usize, usize),
    AddField(usize),
    Garble(usize, usize, u8),
    Garbage(Vec<u8>),
    Empty,
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        6 => (0usize..200).prop_map(Piece::Good),
        1 => (0usize..200, 0usize..41).prop_map(|(l, f)| Piece::DropField(l, f)),
        1 => (0usize..200).prop_map(Piece::AddField),
        2 => (0usize..200, 0usize..300, any::<u8>()).prop_map(|(l, at, b)| Piece::Garble(l, at, b)),
        1 => proptest::collection::vec(any::<u8>(), 0..80).prop_map(Piece::Garbage),
        1 => Just(Piece::Empty),
    ]
}

fn build(pieces: &[Piece], lines: &[String], header: bool, trailer: bool, ending: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if header {
        out.extend(b"H|JCL|202506|1|1|2025-06-28T02:00:00|JCL-3|full");
        out.extend(ending);
    }
    for p in pieces {
        let line: Vec<u8> = match p {
            Piece::Good(i) => lines[i % lines.len()].clone().into_bytes(),
            Piece::DropField(i, f) => {
                let mut fields: Vec<&str> = lines[i % lines.len()].split('|').collect();
                if *f < fields.len() {
                    fields.remove(*f);
                }
                fields.join("|").into_bytes()
            }
            Piece::AddField(i) => format!("{}|EXTRA", lines[i % lines.len()]).into_bytes(),
            Piece::Garble(i, at, b) => {
                let mut bytes = lines[i % lines.len()].clone().into_bytes();
                let at = at % bytes.len().max(1);
                if at < bytes.len() {
                    bytes[at] = *b;
                }
                bytes
            }
            Piece::Garbage(bytes) => bytes.clone(),
            Piece::Empty => Vec::new(),
        };
        out.extend(line);
        out.extend(ending);
    }
    if trailer {
        out.extend(format!("T|{}|0.00|0.00", pieces.len()).as_bytes());
        out.extend(ending);
    }
    out
}

fn run(
    program: &Arc<etr_ir::Program>,
    input: &std::path::Path,
    threads: usize,
    block: usize,
    engine: pipeline::Engine,
) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let mut config =
        RunConfig { threads, engine, native_backend: etr_tests::native_backend(engine), ..RunConfig::default() };
    config.reader.block_size = block;
    let summary = pipeline::run(Arc::clone(program), input, &out, &config).expect("a run never fails on bad data");
    assert_eq!(summary.lines_read, summary.accepted + summary.rejected + summary.refused, "conservation: {summary:?}");
    assert!(summary.refused == 0 || !summary.fatal.is_empty());
    let rejects = etr_tests::render::parquet_as_tsv(&out.join("rejects.parquet")).expect("rejects");
    let distinct: std::collections::BTreeSet<&str> =
        rejects.lines().skip(1).map(|l| l.split('\t').next().unwrap_or("")).collect();
    assert_eq!(distinct.len() as u64, summary.rejected, "distinct rejected line numbers");
    let accepted_path = out.join("accepted.parquet");
    if summary.fatal.is_empty() {
        let accepted = etr_tests::render::parquet_as_tsv(&accepted_path).expect("accepted");
        assert_eq!(accepted.lines().count() as u64 - 1, summary.accepted);
    } else {
        assert!(!accepted_path.exists(), "a fatal file writes no accepted output");
    }
    let mut files = vec![("rejects".to_string(), rejects)];
    if accepted_path.exists() {
        files.push(("accepted".into(), etr_tests::render::parquet_as_tsv(&accepted_path).expect("accepted")));
    }
    files.push((
        "counts".into(),
        format!(
            "{} {} {} {:?} {:?}",
            summary.lines_read, summary.accepted, summary.rejected, summary.fatal, summary.per_rule
        ),
    ));
    files
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn random_and_malformed_files_conserve_lines(
        pieces in proptest::collection::vec(piece(), 0..60),
        header in any::<bool>(),
        trailer in any::<bool>(),
        ending in prop_oneof![Just(b"\n".to_vec()), Just(b"\r\n".to_vec()), Just(b"\r".to_vec())],
        block in 1usize..4096,
    ) {
        let program = program();
        let lines = sample_lines();
        let bytes = build(&pieces, &lines, header, trailer, &ending);
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("input.psv");
        std::fs::write(&input, &bytes).expect("write input");
        // The interpreter on one thread and big blocks against the JIT on three threads and small
        // blocks: same outputs.
        let one = run(&program, &input, 1, 1 << 20, pipeline::Engine::Interp);
        let other = run(&program, &input, 3, block, pipeline::Engine::Jit);
        prop_assert_eq!(one, other);
    }
}
