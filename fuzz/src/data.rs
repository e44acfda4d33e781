//! The `data` target: mangled contributor files through `pipeline::run` on both engines, with one
//! and several threads and different reader block sizes.
//!
//! Files start from the corpus cases' inputs (the W1 samples and the others, each with the spec
//! that reads it) and are mangled per line (fields dropped or added, bytes garbled, invalid
//! UTF-8, NUL, stray CR, CRLF and lone CR endings, huge lines, duplicated and empty lines) and per
//! file (header or trailer missing or malformed, a BOM, the last line truncated, Ctrl-Z padding,
//! nothing at all).
//!
//! Oracles, besides no panic and no hang: every run succeeds (bad data is never a run error); it
//! conserves lines (`lines_read = accepted + rejected + refused`, `rejects.parquet` holds exactly
//! `rejected` distinct line numbers, `accepted.parquet` has `accepted` rows, and none when the
//! file is fatal); and the three runs write byte-identical files (`summary.json` compared without
//! its timings, engine, memory and spec hash).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, RecordBatch};
use etr_runtime::pipeline::{self, Engine, RunConfig};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::json;

use crate::minimise::{Budget, ddmin};
use crate::rng::Rng;
use crate::seeds::{DataSeed, data_seeds};
use crate::{Failure, Stats, Target, escape_bytes, unescape_bytes};

/// One file and how the third run cuts it.
#[derive(Debug, Clone)]
pub struct DataCase {
    pub origin: String,
    /// The spec's path, as in [`DataSeed::spec_path`].
    pub spec: String,
    pub bytes: Vec<u8>,
    /// The reader's block size and the thread count of the runs that vary them.
    pub block: usize,
    pub threads: usize,
}

pub struct DataTarget {
    seeds: Vec<DataSeed>,
}

impl DataTarget {
    pub fn load() -> DataTarget {
        DataTarget { seeds: data_seeds() }
    }

    pub fn specs(&self) -> Vec<&str> {
        self.seeds.iter().map(|s| s.spec_path.as_str()).collect()
    }
}

/// The files of an output folder compared across runs, and the summary keys that may differ.
pub const COMPARED_FILES: &[&str] =
    &["accepted.parquet", "rejects.parquet", "warnings.parquet", "feedback.csv", "summary.json"];
const VOLATILE_SUMMARY_KEYS: &[&str] = &["timings_ms", "engine", "memory_bytes", "spec_hash"];

/// An output folder's compared files: name and bytes, in [`COMPARED_FILES`] order.
pub type OutputFiles = Vec<(String, Vec<u8>)>;

/// The compared files of an output folder: name and bytes (the summary without its volatile keys,
/// re-serialised); a missing file is absent from the list.
pub fn output_files(folder: &Path) -> Result<OutputFiles, String> {
    let mut files = Vec::new();
    for name in COMPARED_FILES {
        let path = folder.join(name);
        if !path.exists() {
            continue;
        }
        let mut bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if *name == "summary.json" {
            let mut value: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(|e| format!("summary.json does not parse: {e}"))?;
            if let Some(object) = value.as_object_mut() {
                for key in VOLATILE_SUMMARY_KEYS {
                    object.remove(*key);
                }
            }
            bytes = serde_json::to_vec_pretty(&value).map_err(|e| e.to_string())?;
        }
        files.push((name.to_string(), bytes));
    }
    Ok(files)
}

fn lines_of(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

/// One line mangled; `line` keeps its ending, if it had one.
fn mangle_line(line: &[u8], rng: &mut Rng) -> Vec<u8> {
    let (body, ending) = match line.strip_suffix(b"\n") {
        Some(body) => match body.strip_suffix(b"\r") {
            Some(body) => (body.to_vec(), b"\r\n".to_vec()),
            None => (body.to_vec(), b"\n".to_vec()),
        },
        None => (line.to_vec(), Vec::new()),
    };
    let mut body = body;
    let mut ending = ending;
    match rng.below(13) {
        0 => {
            let mut fields: Vec<&[u8]> = body.split(|&b| b == b'|').collect();
            if fields.len() > 1 {
                fields.remove(rng.below(fields.len()));
            }
            body = fields.join(&b'|');
        }
        1 => body.extend_from_slice(b"|EXTRA"),
        2 | 3 => {
            if !body.is_empty() {
                let at = rng.below(body.len());
                body[at] = rng.byte();
            }
        }
        4 => {
            let at = rng.below(body.len() + 1);
            const INVALID: &[&[u8]] = &[&[0xff], &[0xc3], &[0xe2, 0x9c], &[0xed, 0xa0, 0x80], &[0xc0, 0xaf]];
            let bad = *rng.pick::<&[u8]>(INVALID);
            body.splice(at..at, bad.iter().copied());
        }
        5 => {
            let at = rng.below(body.len() + 1);
            body.insert(at, 0);
        }
        6 => {
            let at = rng.below(body.len() + 1);
            body.insert(at, b'\r');
        }
        7 => ending = rng.pick(&[&b"\r\n"[..], b"\r", b"\n", b"\n\r", b""]).to_vec(),
        8 => {
            // A huge line: a field repeated (or one field made huge).
            let size = rng.between(10_000, 300_000);
            const FILLERS: &[&[u8]] = &[b"A", b"|", b"9", "é".as_bytes(), b" "];
            let filler = *rng.pick::<&[u8]>(FILLERS);
            let at = rng.below(body.len() + 1);
            let huge: Vec<u8> = filler.iter().copied().cycle().take(size).collect();
            body.splice(at..at, huge);
        }
        9 => body.truncate(rng.below(body.len() + 1)),
        10 => body.clear(),
        11 => {
            // Every field emptied or given blanks around it.
            let fields: Vec<Vec<u8>> = body
                .split(|&b| b == b'|')
                .map(|f| {
                    if rng.chance(1, 4) {
                        Vec::new()
                    } else if rng.chance(1, 4) {
                        [b" ", f, b" "].concat()
                    } else {
                        f.to_vec()
                    }
                })
                .collect();
            body = fields.join(&b'|');
        }
        _ => body = body.iter().map(|b| b.to_ascii_lowercase()).collect(),
    }
    body.extend(ending);
    body
}

impl Target for DataTarget {
    type Input = DataCase;

    fn name(&self) -> &'static str {
        "data"
    }

    fn time_limit(&self) -> std::time::Duration {
        std::time::Duration::from_secs(60)
    }

    fn generate(&self, rng: &mut Rng) -> DataCase {
        // Half the cases on JCL, the W1 workload; the rest spread over the other specs.
        let jcl = self.seeds.iter().find(|s| s.spec_path == "contributors/jcl.etr");
        let seed = match jcl {
            Some(jcl) if rng.chance(1, 2) => jcl,
            _ => rng.pick(&self.seeds),
        };
        let sample = rng.pick(&seed.samples);
        let lines = lines_of(sample);
        let mut log = Vec::new();
        let mut out: Vec<Vec<u8>> = Vec::new();
        if lines.len() > 2 {
            // The header, a window of data lines, the trailer: each may go missing.
            let header = lines[0].clone();
            let trailer = lines[lines.len() - 1].clone();
            let data = &lines[1..lines.len() - 1];
            let from = rng.below(data.len());
            let to = (from + rng.between(0, 150)).min(data.len());
            if rng.chance(9, 10) {
                out.push(header);
            } else {
                log.push("no header");
            }
            out.extend(data[from..to].iter().cloned());
            if rng.chance(9, 10) {
                out.push(trailer);
            } else {
                log.push("no trailer");
            }
        } else {
            out = lines;
        }
        let mangles = rng.below(1 + out.len() / 4).min(40);
        for _ in 0..mangles {
            if out.is_empty() {
                break;
            }
            let at = rng.below(out.len());
            match rng.below(10) {
                0 => {
                    let copy = out[at].clone();
                    out.insert(at, copy);
                }
                1 => {
                    out.remove(at);
                }
                _ => out[at] = mangle_line(&out[at], rng),
            }
        }
        log.push("lines mangled");
        let mut bytes = out.concat();
        match rng.below(12) {
            0 => {
                log.push("BOM");
                bytes.splice(0..0, [0xef, 0xbb, 0xbf]);
            }
            1 => {
                log.push("last line truncated");
                let cut = bytes.len().saturating_sub(rng.between(1, 30));
                bytes.truncate(cut);
            }
            2 => {
                log.push("Ctrl-Z and blank padding");
                const PADDING: &[&[u8]] = &[b"\x1a", b"\n\n\n", b"\x1a\n", b"\r\n\r\n", b" \n"];
                let padding = *rng.pick::<&[u8]>(PADDING);
                bytes.extend_from_slice(padding);
            }
            3 => {
                log.push("all CRLF");
                bytes = bytes.iter().flat_map(|&b| if b == b'\n' { vec![b'\r', b'\n'] } else { vec![b] }).collect();
            }
            4 => {
                log.push("all lone CR");
                bytes = bytes.iter().map(|&b| if b == b'\n' { b'\r' } else { b }).collect();
            }
            5 if rng.chance(1, 3) => {
                log.push("empty file");
                bytes.clear();
            }
            _ => {}
        }
        DataCase {
            origin: format!("{} + {}", seed.spec_path, log.join(", ")),
            spec: seed.spec_path.clone(),
            bytes,
            block: if rng.chance(1, 2) { rng.between(1, 64) } else { rng.between(65, 70_000) },
            threads: rng.between(2, 4),
        }
    }

    fn check(&self, case: &DataCase) -> Result<Stats, Failure> {
        let seed = self
            .seeds
            .iter()
            .find(|s| s.spec_path == case.spec)
            .ok_or_else(|| Failure::new("harness: unknown spec", case.spec.clone()))?;
        check_runs(&seed.program, case)
    }

    fn minimise(
        &self,
        input: DataCase,
        budget: &mut Budget,
        reproduces: &mut dyn FnMut(&DataCase) -> bool,
    ) -> DataCase {
        let lines = ddmin(lines_of(&input.bytes), budget, &mut |lines| {
            reproduces(&DataCase { bytes: lines.concat(), ..input.clone() })
        });
        let shorter = DataCase { bytes: lines.concat(), origin: format!("{} (minimised)", input.origin), ..input };
        // Bytes last: ddmin removes big chunks first, so a huge line shrinks in a few tries when
        // most of it is not needed.
        let bytes = ddmin(shorter.bytes.clone(), budget, &mut |bytes| {
            reproduces(&DataCase { bytes: bytes.to_vec(), ..shorter.clone() })
        });
        DataCase { bytes, ..shorter }
    }

    fn input_to_json(&self, input: &DataCase) -> serde_json::Value {
        json!({
            "origin": input.origin,
            "spec": input.spec,
            "block": input.block,
            "threads": input.threads,
            "bytes": escape_bytes(&input.bytes),
        })
    }

    fn input_from_json(&self, value: &serde_json::Value) -> Result<DataCase, String> {
        Ok(DataCase {
            origin: value["origin"].as_str().unwrap_or_default().to_string(),
            spec: value["spec"].as_str().ok_or("no `spec`")?.to_string(),
            bytes: unescape_bytes(value["bytes"].as_str().ok_or("no `bytes`")?)?,
            block: value["block"].as_u64().ok_or("no `block`")? as usize,
            threads: value["threads"].as_u64().ok_or("no `threads`")? as usize,
        })
    }

    fn inspection_copy(&self, input: &DataCase) -> Option<(&'static str, Vec<u8>)> {
        Some(("psv", input.bytes.clone()))
    }
}

/// The three runs of a case and their oracles.
pub fn check_runs(program: &Arc<etr_ir::Program>, case: &DataCase) -> Result<Stats, Failure> {
    let mut stats = Stats::default();
    let dir = tempfile::tempdir().map_err(|e| Failure::new("harness: no temporary folder", e.to_string()))?;
    let input = dir.path().join("input.psv");
    std::fs::write(&input, &case.bytes).map_err(|e| Failure::new("harness: cannot write the input", e.to_string()))?;
    let runs = [
        ("interp, 1 thread, 1 MiB blocks", Engine::Interp, 1, 1 << 20),
        ("jit, several threads, small blocks", Engine::Jit, case.threads, case.block),
        ("interp, several threads, small blocks", Engine::Interp, case.threads, case.block),
    ];
    let mut reference: Option<(&str, OutputFiles)> = None;
    for (i, (name, engine, threads, block)) in runs.into_iter().enumerate() {
        let out = dir.path().join(format!("out{i}"));
        let mut config =
            RunConfig { threads, engine, native_backend: etr_tests::native_backend(engine), ..RunConfig::default() };
        config.reader.block_size = block;
        config.as_of = Some(pipeline::parse_as_of(crate::child::AS_OF).expect("a valid date"));
        let summary = pipeline::run(Arc::clone(program), &input, &out, &config)
            .map_err(|e| Failure::new("data: the run failed", format!("{name}: {e}")))?;
        stats.passed("data: the run succeeds");
        conservation(&summary, &out).map_err(|f| Failure::new(f.kind, format!("{name}: {}", f.detail)))?;
        stats.passed("data: conservation (counts, reject line numbers, accepted rows)");
        let files = output_files(&out).map_err(|e| Failure::new("data: unreadable output", e))?;
        match &reference {
            None => reference = Some((name, files)),
            Some((first, expected)) => {
                compare_outputs(expected, &files, &out, dir.path().join("out0").as_path())
                    .map_err(|f| Failure::new(f.kind, format!("{first} vs {name}: {}", f.detail)))?;
                stats.passed("data: identical files across engines, threads and blocks");
            }
        }
    }
    Ok(stats)
}

fn conservation(summary: &etr_runtime::output::Summary, out: &Path) -> Result<(), Failure> {
    if summary.lines_read != summary.accepted + summary.rejected + summary.refused {
        return Err(Failure::new(
            "data: lines not conserved",
            format!(
                "read {} != accepted {} + rejected {} + refused {}",
                summary.lines_read, summary.accepted, summary.rejected, summary.refused
            ),
        ));
    }
    if summary.refused > 0 && summary.fatal.is_empty() {
        return Err(Failure::new("data: lines refused in a file that is not fatal", format!("{summary:?}")));
    }
    let rejects = etr_tests::render::parquet_as_tsv(&out.join("rejects.parquet"))
        .map_err(|e| Failure::new("data: rejects.parquet unreadable", e))?;
    let distinct: std::collections::BTreeSet<&str> =
        rejects.lines().skip(1).map(|l| l.split('\t').next().unwrap_or("")).collect();
    if distinct.len() as u64 != summary.rejected {
        return Err(Failure::new(
            "data: rejected count differs from the reject line numbers",
            format!("{} distinct line numbers, summary says {}", distinct.len(), summary.rejected),
        ));
    }
    let accepted = out.join("accepted.parquet");
    if summary.fatal.is_empty() {
        let rows = etr_tests::render::parquet_as_tsv(&accepted)
            .map_err(|e| Failure::new("data: accepted.parquet unreadable", e))?
            .lines()
            .count() as u64
            - 1;
        if rows != summary.accepted {
            return Err(Failure::new(
                "data: accepted rows differ from the count",
                format!("{rows} rows, summary says {}", summary.accepted),
            ));
        }
    } else if accepted.exists() {
        return Err(Failure::new("data: a fatal file wrote accepted rows", format!("{:?}", summary.fatal)));
    }
    Ok(())
}

/// Byte equality of the compared files; when Parquet bytes differ, whether the rows do too.
fn compare_outputs(
    expected: &[(String, Vec<u8>)],
    got: &[(String, Vec<u8>)],
    got_dir: &Path,
    expected_dir: &Path,
) -> Result<(), Failure> {
    let names = |files: &[(String, Vec<u8>)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    if names(expected) != names(got) {
        return Err(Failure::new("data: different output files", format!("{:?} vs {:?}", names(expected), names(got))));
    }
    for ((name, a), (_, b)) in expected.iter().zip(got) {
        if a == b {
            continue;
        }
        if name.ends_with(".parquet") {
            let read = |dir: &Path| {
                read_parquet(&dir.join(name))
                    .map_err(|e| Failure::new("data: unreadable output", format!("{name}: {e}")))
            };
            let (ra, rb) = (read(expected_dir)?, read(got_dir)?);
            return Err(match first_different_value(&ra, &rb) {
                None => Failure::new(
                    format!("data: {name} bytes differ (same rows)"),
                    metadata_difference(expected_dir, got_dir, name),
                ),
                Some(where_) => Failure::new(format!("data: {name} rows differ"), where_),
            });
        }
        let (ta, tb) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
        return Err(Failure::new(format!("data: {name} differs"), crate::spec::first_difference(&ta, &tb)));
    }
    Ok(())
}

/// A Parquet file's rows, in one batch.
fn read_parquet(path: &Path) -> Result<RecordBatch, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| b.build()).map_err(|e| e.to_string())?;
    let schema = arrow::record_batch::RecordBatchReader::schema(&reader);
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    arrow::compute::concat_batches(&schema, &batches).map_err(|e| e.to_string())
}

/// Where two tables first differ (schema, row count, or the first differing cell, shown whole
/// but cut to a few hundred characters); none when they are equal.
fn first_different_value(a: &RecordBatch, b: &RecordBatch) -> Option<String> {
    if a.schema() != b.schema() {
        return Some(format!("schemas differ: {:?} vs {:?}", a.schema(), b.schema()));
    }
    if a.num_rows() != b.num_rows() {
        return Some(format!("{} rows vs {}", a.num_rows(), b.num_rows()));
    }
    let options = arrow::util::display::FormatOptions::default();
    for (column, field) in a.schema().fields().iter().enumerate() {
        let (x, y) = (a.column(column), b.column(column));
        if x == y {
            continue;
        }
        let fx = arrow::util::display::ArrayFormatter::try_new(x.as_ref(), &options).ok()?;
        let fy = arrow::util::display::ArrayFormatter::try_new(y.as_ref(), &options).ok()?;
        for row in 0..a.num_rows() {
            let (vx, vy) = (fx.value(row).to_string(), fy.value(row).to_string());
            if vx != vy || x.is_null(row) != y.is_null(row) {
                let cut = |v: &str| v.chars().take(300).collect::<String>();
                return Some(format!(
                    "column `{}`, row {row}: {} bytes `{}` vs {} bytes `{}`",
                    field.name(),
                    vx.len(),
                    cut(&vx),
                    vy.len(),
                    cut(&vy)
                ));
            }
        }
        return Some(format!("column `{}` differs in its arrays, not in its displayed values", field.name()));
    }
    None
}

/// What differs between two Parquet files with the same rows: their row groups and column
/// chunk statistics, as parquet's metadata reader shows them.
fn metadata_difference(a_dir: &Path, b_dir: &Path, name: &str) -> String {
    let describe = |dir: &Path| -> String {
        let Ok(file) = std::fs::File::open(dir.join(name)) else { return "unreadable".into() };
        let Ok(reader) = parquet::file::reader::SerializedFileReader::new(file) else { return "unreadable".into() };
        let metadata = parquet::file::reader::FileReader::metadata(&reader);
        let mut out = Vec::new();
        for (i, group) in metadata.row_groups().iter().enumerate() {
            for column in group.columns() {
                out.push(format!(
                    "group {i} {}: {} bytes, stats {:?}",
                    column.column_path(),
                    column.compressed_size(),
                    column.statistics()
                ));
            }
        }
        out.join("\n")
    };
    let (a, b) = (describe(a_dir), describe(b_dir));
    let first = a.lines().zip(b.lines()).find(|(x, y)| x != y);
    match first {
        Some((x, y)) => format!("first metadata difference:\n  {}\n  {}", cut_line(x), cut_line(y)),
        None => "the metadata is the same; the pages differ".into(),
    }
}

fn cut_line(line: &str) -> String {
    line.chars().take(400).collect()
}
