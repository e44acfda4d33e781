//! The accepted file as a whole, from a real run of `contributors/jcl.etr`: its bytes do not depend
//! on how many threads encoded it, and its columns carry the encodings and statistics the runtime
//! promises (docs/notes/0009).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use etr_runtime::pipeline::{self, RunConfig};
use parquet::basic::Encoding;
use parquet::file::reader::{FileReader, SerializedFileReader};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The bytes of `accepted.parquet` after running JCL's spec on `input` with `threads` threads and
/// reads of `block` bytes.
fn accepted_bytes(input: &Path, threads: usize, block: usize) -> Vec<u8> {
    let spec = std::fs::read_to_string(repo().join("contributors/jcl.etr")).expect("contributors/jcl.etr");
    let (program, diagnostics, ..) = etr_tests::compile("jcl.etr", &spec);
    let program = program.unwrap_or_else(|| panic!("jcl.etr compiles: {diagnostics:?}"));
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let mut config = RunConfig { threads, as_of: Some(20_000), ..RunConfig::default() };
    config.reader.block_size = block;
    let summary = pipeline::run(Arc::clone(&program), input, &out, &config).expect("the run succeeds");
    assert!(summary.accepted > 0 && summary.rejected > 0, "the file has both accepted and rejected lines");
    std::fs::read(out.join("accepted.parquet")).expect("accepted.parquet")
}

#[test]
fn threads_do_not_change_the_accepted_file() {
    let input = repo().join("tests/corpus/w1/jcl_2k_dirty/input.psv");
    // Small blocks make many batches, so that every encoder thread sees many of them.
    let reference = accepted_bytes(&input, 1, 16 << 10);
    for threads in [2, 3, 5] {
        let bytes = accepted_bytes(&input, threads, 16 << 10);
        assert!(
            bytes == reference,
            "{threads} threads wrote another file ({} vs {} bytes)",
            bytes.len(),
            reference.len()
        );
    }
}

#[test]
fn columns_carry_the_promised_encodings_and_statistics() {
    let input = repo().join("tests/corpus/w1/jcl_1k/input.psv");
    let bytes = accepted_bytes(&input, 2, 1 << 20);
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), bytes).expect("write the copy");
    let reader = SerializedFileReader::new(file.reopen().expect("reopen")).expect("a Parquet file");
    let row_group = reader.metadata().row_group(0);
    let column = |name: &str| {
        (0..row_group.num_columns())
            .map(|i| row_group.column(i))
            .find(|c| c.column_path().string() == name)
            .unwrap_or_else(|| panic!("accepted.parquet has no column {name}"))
    };
    // Keys, codes, numbers and dates keep their statistics; free text outside keys does not.
    for name in ["account_no", "id_number", "outstanding_balance", "as_at_date", "line_no", "account_status"] {
        assert!(column(name).statistics().is_some(), "{name} has statistics");
    }
    for name in ["subject_name", "address", "postcode"] {
        assert!(column(name).statistics().is_none(), "{name} has no statistics");
    }
    // Integers and dates are delta-encoded; codes are dictionary-encoded.
    for name in ["outstanding_balance", "open_date", "line_no", "days_past_due"] {
        assert!(column(name).encodings().any(|e| e == Encoding::DELTA_BINARY_PACKED), "{name} is delta-encoded");
    }
    for name in ["account_status", "state_code"] {
        assert!(column(name).encodings().any(|e| e == Encoding::RLE_DICTIONARY), "{name} is dictionary-encoded");
    }
}
