//! One sweep over the input file: a reader thread cuts it into blocks of whole lines, worker
//! threads split and evaluate blocks in parallel, and the calling thread receives the results in
//! file order.
//!
//! Memory is bounded by a fixed number of blocks in flight (a token channel: the reader takes a
//! token per block, the calling thread returns it once it has handled the block), so it does not
//! grow with the file.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use etr_interp::RawBatch;

use crate::config::{Progress, RunConfig};
use crate::error::{Result, RuntimeError};
use crate::input::dialect::SourceDialect;
use crate::input::reader::{BlockReader, RawBlock, ReaderConfig};
use crate::input::split::{split_block, split_block_columns};

/// What the reader learnt about the file.
pub(crate) struct StreamFacts {
    pub(crate) header: Option<etr_interp::RawRecordLine>,
    pub(crate) trailer: Option<etr_interp::RawRecordLine>,
    pub(crate) data_lines: u64,
    pub(crate) ignored_trailing_lines: u64,
    pub(crate) bytes: u64,
    /// The blake3 hash, computed on a run's first pass only.
    pub(crate) input_hash: Option<String>,
    pub(crate) fingerprint: u128,
}

type WorkItem = (u64, RawBlock);
/// A block's split batch, its evaluation, and its lines' file offsets (see
/// [`RawBlock::line_offsets`]).
type WorkResult<T> = (u64, std::result::Result<(RawBatch, T, Vec<u64>), RuntimeError>);

/// Which pass a stream is (for progress) and which columns its blocks need split (`None`: all).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sweep<'a> {
    pub(crate) pass: u8,
    pub(crate) passes: u8,
    pub(crate) columns: Option<&'a [bool]>,
}

/// Reads the file, evaluates its blocks on worker threads, and hands each result to `on_result`
/// in file order on the calling thread. `evaluate` runs on the worker threads, once per block,
/// after the split.
pub(crate) fn stream<T: Send>(
    input: &Path,
    dialect: &SourceDialect,
    config: &RunConfig,
    sweep: Sweep<'_>,
    evaluate: &(dyn Fn(&RawBatch) -> std::result::Result<T, etr_interp::InterpError> + Sync),
    mut on_result: impl FnMut(u64, &RawBatch, &[u64], T) -> Result<()>,
) -> Result<StreamFacts> {
    let threads = config.threads.max(1);
    // Blocks in flight: enough to keep every worker busy while the writer catches up.
    let in_flight = threads * 2 + 2;
    let (token_tx, token_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        token_tx.send(()).map_err(|_| RuntimeError::Internal("token channel closed".into()))?;
    }
    let (work_tx, work_rx) = sync_channel::<WorkItem>(in_flight);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (result_tx, result_rx) = sync_channel::<WorkResult<T>>(in_flight);

    std::thread::scope(|scope| -> Result<StreamFacts> {
        let reader = {
            let input = input.to_path_buf();
            let dialect = dialect.clone();
            // The content hash is for the summary: the first pass computes it, later passes only
            // prove they read the same bytes (the fingerprint).
            let reader_config = ReaderConfig { content_hash: sweep.pass == 1, ..config.reader.clone() };
            scope.spawn(move || read_blocks(&input, &dialect, reader_config, token_rx, work_tx))
        };
        for _ in 0..threads {
            let work_rx = Arc::clone(&work_rx);
            let result_tx: SyncSender<WorkResult<T>> = result_tx.clone();
            let dialect = dialect.clone();
            scope.spawn(move || evaluate_blocks(&work_rx, &result_tx, &dialect, sweep.columns, evaluate));
        }
        drop(result_tx);

        // Receive in any order, hand over in file order.
        let mut pending: BTreeMap<u64, (RawBatch, T, Vec<u64>)> = BTreeMap::new();
        let mut next = 0u64;
        let mut lines_done = 0u64;
        let mut failure: Option<RuntimeError> = None;
        for (seq, result) in result_rx.iter() {
            if failure.is_some() {
                let _ = token_tx.send(());
                continue;
            }
            match result {
                Ok(done) => {
                    pending.insert(seq, done);
                }
                Err(e) => {
                    failure = Some(e);
                    let _ = token_tx.send(());
                    continue;
                }
            }
            while let Some((batch, result, offsets)) = pending.remove(&next) {
                lines_done += batch.len() as u64;
                if let Err(e) = on_result(next, &batch, &offsets, result) {
                    failure = Some(e);
                }
                next += 1;
                // Returning the token lets the reader read one more block.
                let _ = token_tx.send(());
                if let Some(progress) = &config.progress {
                    progress(Progress { pass: sweep.pass, passes: sweep.passes, lines: lines_done });
                }
                if failure.is_some() {
                    break;
                }
            }
        }
        drop(token_tx);
        let facts = reader.join().map_err(|_| RuntimeError::Internal("the reader thread panicked".into()))?;
        if let Some(e) = failure {
            return Err(e);
        }
        let facts = facts?;
        if !pending.is_empty() {
            return Err(RuntimeError::Internal("blocks were left unwritten".into()));
        }
        Ok(facts)
    })
}

fn read_blocks(
    input: &Path,
    dialect: &SourceDialect,
    config: ReaderConfig,
    tokens: Receiver<()>,
    work: SyncSender<WorkItem>,
) -> Result<StreamFacts> {
    let file = std::fs::File::open(input).map_err(|e| RuntimeError::io("open", input, e))?;
    let mut reader = BlockReader::new(file, dialect, config)?.with_source_name(input);
    let mut seq = 0u64;
    loop {
        // Wait for room before reading: this is what bounds memory.
        if tokens.recv().is_err() {
            // The writer stopped (it failed): stop reading.
            return Err(RuntimeError::Internal("the writer stopped".into()));
        }
        match reader.next_block()? {
            Some(block) => {
                if work.send((seq, block)).is_err() {
                    return Err(RuntimeError::Internal("the workers stopped".into()));
                }
                seq += 1;
            }
            None => break,
        }
    }
    drop(work);
    let facts = reader.finish()?;
    Ok(StreamFacts {
        header: facts.header,
        trailer: facts.trailer,
        data_lines: facts.data_lines,
        ignored_trailing_lines: facts.ignored_trailing_lines,
        bytes: facts.bytes,
        input_hash: facts.input_hash,
        fingerprint: facts.fingerprint,
    })
}

fn evaluate_blocks<T>(
    work: &Mutex<Receiver<WorkItem>>,
    results: &SyncSender<WorkResult<T>>,
    dialect: &SourceDialect,
    wanted_columns: Option<&[bool]>,
    evaluate: &(dyn Fn(&RawBatch) -> std::result::Result<T, etr_interp::InterpError> + Sync),
) {
    loop {
        let item = match work.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok((seq, mut block)) = item else { return };
        let first_line = block.first_line_no();
        // A panic here is a bug, but it must end in a clear error and no output, not an abort of
        // the whole process with a partial folder: catch it and report it as an internal error.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let batch = match wanted_columns {
                Some(wanted) => split_block_columns(&block, dialect, wanted),
                None => split_block(&block, dialect),
            };
            let offsets = block.take_line_offsets();
            evaluate(&batch).map(|result| (batch, result, offsets))
        }));
        let result = match outcome {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(e)) => Err(RuntimeError::Internal(format!("evaluation failed: {e}"))),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_string());
                Err(RuntimeError::Internal(format!(
                    "the evaluator panicked on the block starting at line {first_line}: {what}"
                )))
            }
        };
        if results.send((seq, result)).is_err() {
            return;
        }
    }
}
