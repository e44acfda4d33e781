//! Encoding a Parquet file's columns on several threads ("lanes").
//!
//! Encoding the accepted records (definition levels, plain or dictionary encoding, statistics,
//! zstd) costs more CPU than anything else in a run, and `ArrowWriter` does all of it on the thread
//! that calls `write`: the pipeline's one ordered writing thread. A profile of W1 showed that
//! thread saturated while the evaluation workers waited for it.
//!
//! Here every column belongs to one lane, a thread that owns the column's encoder: an
//! `ArrowColumnWriter`, or, when the sink asks for typed encoders, one of etr's own for the
//! record's types ([`crate::output::column_chunk`]). The writing thread hands each lane the same
//! unfiltered batch (its arrays are shared, not copied) with the plan of rows to keep; each lane
//! filters and encodes its own columns. At the end of a row group the lanes hand back their encoded
//! column chunks, which the writing thread appends to the file in schema order. Row groups end
//! where `ArrowWriter` would end them (every `max_row_group_rows` kept rows), and each column sees
//! the same arrays in the same order, so the file does not depend on the number of lanes: with
//! `ArrowColumnWriter`s it holds the very pages one `ArrowWriter` would write (a test compares the
//! bytes), and with typed encoders the same bytes on any number of threads.
//!
//! Memory stays bounded: a lane's job queue holds at most [`QUEUED_BATCHES`] batches, so a lane
//! that falls behind blocks the writing thread, which stops returning block tokens to the reader.

use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use arrow::array::{Array, ArrayRef, BooleanArray};
use arrow::compute::{FilterBuilder, FilterPredicate};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::column::writer::ColumnCloseResult;
use parquet::file::writer::SerializedFileWriter;

use crate::error::{Result, RuntimeError};
use crate::output::column_chunk::{ColumnChunkEncoder, ColumnChunkPages};

/// Batches a lane may have waiting before the writing thread blocks.
const QUEUED_BATCHES: usize = 4;

/// A Parquet file whose columns are encoded by lanes. Build it from a fresh `ArrowWriter` (which
/// carries the file's properties and its embedded Arrow schema).
pub(crate) struct LaneEncoder {
    file: SerializedFileWriter<File>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    lane_count: usize,
    max_row_group_rows: usize,
    /// Whether columns of the types [`ColumnChunkEncoder`] knows are encoded by it.
    typed: bool,
    /// Started on the first batch, when the columns' sizes are known.
    lanes: Vec<Lane>,
    /// For each column, the lane that encodes it.
    lane_of_column: Vec<usize>,
    /// Rows sent to the open row group; 0 when none is open (a group opens with its first rows).
    rows_in_group: usize,
    row_groups_written: usize,
    /// Set when the file is dropped unfinished (discarded, or a run failed): the lanes skip the
    /// batches still queued instead of encoding them for nothing.
    abandoned: Arc<AtomicBool>,
}

/// The writing thread's end of one lane.
struct Lane {
    jobs: SyncSender<LaneJob>,
    thread: JoinHandle<()>,
}

enum LaneJob {
    /// Encoders for a new row group, with their column indices.
    Start(Vec<(usize, ColumnEncoder)>),
    /// Rows to encode: the batch's rows where `keep` is true (all of them without a mask).
    Write { batch: RecordBatch, keep: Option<Arc<FilterPredicate>> },
    /// End the row group: send back the encoded column chunks with their column indices.
    Close(SyncSender<Result<Vec<(usize, EncodedColumnChunk)>>>),
}

/// Who encodes one column chunk.
enum ColumnEncoder {
    Arrow(Box<ArrowColumnWriter>),
    Typed(Box<ColumnChunkEncoder>),
}

/// An encoded column chunk, ready to be appended to its row group.
enum EncodedColumnChunk {
    Arrow(Box<ArrowColumnChunk>),
    Typed(ColumnChunkPages, Box<ColumnCloseResult>),
}

impl LaneEncoder {
    /// Takes over `writer`, which must not have been written to. With `typed`, the columns of
    /// the types [`ColumnChunkEncoder`] knows are encoded by it, on one lane at least. Gives the writer
    /// back (`Err`) when the schema has nested columns (one Arrow column to several Parquet
    /// leaves): those stay with `ArrowWriter`, as do writers asked for fewer than two lanes
    /// without `typed`.
    pub(crate) fn try_new(
        writer: ArrowWriter<File>,
        schema: SchemaRef,
        lane_count: usize,
        max_row_group_rows: usize,
        typed: bool,
    ) -> Result<std::result::Result<LaneEncoder, ArrowWriter<File>>> {
        let flat = schema.fields().iter().all(|f| !f.data_type().is_nested());
        if !flat || (lane_count < 2 && !typed) || max_row_group_rows == 0 {
            return Ok(Err(writer));
        }
        let (file, factory) = writer.into_serialized_writer()?;
        Ok(Ok(LaneEncoder {
            file,
            factory,
            schema,
            lane_count: lane_count.max(1),
            max_row_group_rows,
            typed,
            lanes: Vec::new(),
            lane_of_column: Vec::new(),
            rows_in_group: 0,
            row_groups_written: 0,
            abandoned: Arc::new(AtomicBool::new(false)),
        }))
    }

    /// Queues the rows of `batch` where `keep` is true (all rows without a mask).
    pub(crate) fn write(&mut self, batch: &RecordBatch, keep: Option<&BooleanArray>) -> Result<()> {
        if batch.schema().fields() != self.schema.fields() {
            return Err(RuntimeError::Internal("a batch of another schema was written to a Parquet file".into()));
        }
        if let Some(keep) = keep
            && (keep.len() != batch.num_rows() || keep.null_count() > 0)
        {
            return Err(RuntimeError::Internal(format!(
                "a keep mask of {} rows ({} null) for a batch of {}",
                keep.len(),
                keep.null_count(),
                batch.num_rows()
            )));
        }
        if self.lanes.is_empty() {
            self.start_lanes(batch)?;
        }
        let mut batch = batch.clone();
        let mut keep = keep.cloned();
        loop {
            let kept = keep.as_ref().map_or(batch.num_rows(), BooleanArray::true_count);
            if kept == 0 {
                return Ok(());
            }
            let room = self.max_row_group_rows - self.rows_in_group;
            if kept <= room {
                self.send_rows(batch, keep)?;
                self.rows_in_group += kept;
                if self.rows_in_group == self.max_row_group_rows {
                    self.close_group()?;
                }
                return Ok(());
            }
            // The row group fills inside this batch: its first `room` kept rows end it.
            let split = match &keep {
                None => room,
                Some(mask) => split_after_kept(mask, room),
            };
            let rest_len = batch.num_rows() - split;
            self.send_rows(batch.slice(0, split), keep.as_ref().map(|m| m.slice(0, split)))?;
            self.rows_in_group += room;
            self.close_group()?;
            keep = keep.map(|m| m.slice(split, rest_len));
            batch = batch.slice(split, rest_len);
        }
    }

    /// Ends the last row group, writes the footer and closes the file.
    pub(crate) fn finish(mut self) -> Result<()> {
        if self.rows_in_group > 0 {
            self.close_group()?;
        }
        for lane in std::mem::take(&mut self.lanes) {
            drop(lane.jobs);
            lane.thread.join().map_err(|_| lane_died())?;
        }
        self.file.finish()?;
        Ok(())
    }

    /// Assigns columns to lanes, heaviest first, each to the lane with the least bytes so far,
    /// judged by the first batch's buffers.
    fn start_lanes(&mut self, first: &RecordBatch) -> Result<()> {
        let lane_count = self.lane_count.min(first.num_columns()).max(1);
        let mut by_weight: Vec<(usize, usize)> =
            first.columns().iter().enumerate().map(|(i, a)| (column_weight(a), i)).collect();
        by_weight.sort_by(|a, b| b.cmp(a));
        let mut load = vec![0usize; lane_count];
        self.lane_of_column = vec![0; first.num_columns()];
        for (weight, column) in by_weight {
            let lane = (0..lane_count).min_by_key(|&l| (load[l], l)).unwrap_or(0);
            load[lane] += weight;
            self.lane_of_column[column] = lane;
        }
        for _ in 0..lane_count {
            let (jobs, inbox) = sync_channel(QUEUED_BATCHES);
            let schema = Arc::clone(&self.schema);
            let abandoned = Arc::clone(&self.abandoned);
            let thread = std::thread::Builder::new()
                .name("etr-encode".into())
                .spawn(move || run_lane(&schema, &inbox, &abandoned))
                .map_err(|e| RuntimeError::Internal(format!("cannot start a Parquet encoder thread: {e}")))?;
            self.lanes.push(Lane { jobs, thread });
        }
        Ok(())
    }

    /// Sends rows (at least one kept) to every lane, opening a row group first when none is open.
    fn send_rows(&mut self, batch: RecordBatch, keep: Option<BooleanArray>) -> Result<()> {
        if self.rows_in_group == 0 {
            let mut per_lane: Vec<Vec<(usize, ColumnEncoder)>> = (0..self.lanes.len()).map(|_| Vec::new()).collect();
            let writers = self.factory.create_column_writers(self.row_groups_written)?;
            let descriptors = self.file.schema_descr();
            let props = self.file.properties();
            for (column, writer) in writers.into_iter().enumerate() {
                let typed = self.typed.then(|| {
                    let data_type = self.schema.field(column).data_type();
                    ColumnChunkEncoder::for_column(data_type, descriptors.column(column), props)
                });
                let encoder = match typed.flatten() {
                    Some(typed) => ColumnEncoder::Typed(Box::new(typed)),
                    None => ColumnEncoder::Arrow(Box::new(writer)),
                };
                per_lane[self.lane_of_column[column]].push((column, encoder));
            }
            for (lane, writers) in per_lane.into_iter().enumerate() {
                self.send(lane, LaneJob::Start(writers))?;
            }
        }
        // Planned once for every column of the batch (which rows, as runs or indices).
        let keep = keep.map(|mask| Arc::new(FilterBuilder::new(&mask).optimize().build()));
        for lane in 0..self.lanes.len() {
            self.send(lane, LaneJob::Write { batch: batch.clone(), keep: keep.clone() })?;
        }
        Ok(())
    }

    fn close_group(&mut self) -> Result<()> {
        let mut replies = Vec::with_capacity(self.lanes.len());
        for lane in 0..self.lanes.len() {
            let (reply, answer) = sync_channel(1);
            self.send(lane, LaneJob::Close(reply))?;
            replies.push(answer);
        }
        let mut chunks: Vec<Option<EncodedColumnChunk>> = (0..self.schema.fields().len()).map(|_| None).collect();
        for answer in replies {
            for (column, chunk) in answer.recv().map_err(|_| lane_died())?? {
                chunks[column] = Some(chunk);
            }
        }
        let mut row_group = self.file.next_row_group()?;
        for chunk in chunks {
            match chunk.ok_or_else(|| RuntimeError::Internal("an encoder lane lost a column".into()))? {
                EncodedColumnChunk::Arrow(chunk) => chunk.append_to_row_group(&mut row_group)?,
                EncodedColumnChunk::Typed(bytes, close) => row_group.append_column(&bytes, *close)?,
            }
        }
        row_group.close()?;
        self.row_groups_written += 1;
        self.rows_in_group = 0;
        Ok(())
    }

    fn send(&self, lane: usize, job: LaneJob) -> Result<()> {
        self.lanes[lane].jobs.send(job).map_err(|_| lane_died())
    }
}

impl Drop for LaneEncoder {
    /// An unfinished file (discarded, or its run failed): the lanes stop encoding and end before
    /// the file is dropped, so no thread outlives the output it was writing.
    fn drop(&mut self) {
        self.abandoned.store(true, Ordering::Relaxed);
        for lane in std::mem::take(&mut self.lanes) {
            drop(lane.jobs);
            // A lane that panicked has nothing more to say here; the run already failed.
            let _ = lane.thread.join();
        }
    }
}

/// A lane's loop. After a failure it skips the rest of the group's rows and reports the failure
/// when the group closes, so that errors surface in order on the writing thread.
fn run_lane(schema: &SchemaRef, inbox: &Receiver<LaneJob>, abandoned: &AtomicBool) {
    let mut writers: Vec<(usize, ColumnEncoder)> = Vec::new();
    let mut failure: Option<RuntimeError> = None;
    for job in inbox {
        match job {
            LaneJob::Start(new) => writers = new,
            LaneJob::Write { batch, keep } => {
                if failure.is_none()
                    && !abandoned.load(Ordering::Relaxed)
                    && let Err(e) = encode_rows(schema, &mut writers, &batch, keep.as_deref())
                {
                    failure = Some(e);
                }
            }
            LaneJob::Close(reply) => {
                let result = match failure.take() {
                    Some(e) => Err(e),
                    None => std::mem::take(&mut writers)
                        .into_iter()
                        .map(|(column, writer)| {
                            let chunk = match writer {
                                ColumnEncoder::Arrow(writer) => EncodedColumnChunk::Arrow(Box::new(writer.close()?)),
                                ColumnEncoder::Typed(encoder) => {
                                    let (bytes, close) = encoder.close()?;
                                    EncodedColumnChunk::Typed(bytes, Box::new(close))
                                }
                            };
                            Ok((column, chunk))
                        })
                        .collect(),
                };
                writers.clear();
                // The writing thread may have given up already; nothing else to tell.
                let _ = reply.send(result);
            }
        }
    }
}

fn encode_rows(
    schema: &SchemaRef,
    writers: &mut [(usize, ColumnEncoder)],
    batch: &RecordBatch,
    keep: Option<&FilterPredicate>,
) -> Result<()> {
    for (column, writer) in writers {
        let array = batch.column(*column);
        match writer {
            ColumnEncoder::Typed(encoder) => {
                encoder.write(array.as_ref(), keep)?;
            }
            ColumnEncoder::Arrow(writer) => {
                let array: ArrayRef = match keep {
                    Some(keep) => keep.filter(array.as_ref())?,
                    None => Arc::clone(array),
                };
                for leaf in compute_leaves(schema.field(*column), &array)? {
                    writer.write(&leaf)?;
                }
            }
        }
    }
    Ok(())
}

/// The length of the prefix of `mask` that holds exactly `kept` (at least 1) true values (the
/// smallest such).
fn split_after_kept(mask: &BooleanArray, kept: usize) -> usize {
    mask.values().set_indices().nth(kept.saturating_sub(1)).map_or(mask.len(), |last| last + 1)
}

/// How much encoding work a column is likely to be: its bytes, plus a fixed cost per column.
fn column_weight(array: &ArrayRef) -> usize {
    array.get_buffer_memory_size() + 4096
}

fn lane_died() -> RuntimeError {
    RuntimeError::Internal("a Parquet encoder thread stopped unexpectedly".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_after_kept_finds_the_prefix() {
        let mask = BooleanArray::from(vec![false, true, false, true, true, false]);
        assert_eq!(split_after_kept(&mask, 1), 2);
        assert_eq!(split_after_kept(&mask, 2), 4);
        assert_eq!(split_after_kept(&mask, 3), 5);
    }
}
