//! The key pass ([`key_pass`]) and its key index of `unique` checks: which keys are duplicated
//! among the lines that pass the row rules, known before the writing pass starts.
//!
//! Why it is built this way: a duplicated key rejects every copy, the first one included, so the
//! writing pass must know the duplicated keys before it writes the first line. Evaluating every
//! line fully just to learn which lines are rejected doubled the work of a run. Instead:
//!
//! 1. The key pass's sweep ([`Interpreter::eval_keys`]) evaluates only the bindings the keys need
//!    and counts every key of a well-formed line, rejected or not. A key counted once is unique for
//!    certain: rejected lines can only lower a count. For a key counted twice or more, the index
//!    remembers the line numbers of all its copies (the candidates; a handful of lines in a real
//!    file).
//! 2. The candidates are then read again by line number, evaluated fully, and their keys counted
//!    exactly by the interpreter's [`UniqueKeys`]: only lines that are not rejected, where the
//!    check's `when` holds and whose key is not entirely null. Keys counted more than once there
//!    are the duplicates, and the lines that carry them are the lines the check rejects: the
//!    writing pass's dataset checks know them by number and hash no key.
//!    The key pass notes the file offset of every [`CHECKPOINT_STRIDE`]-th line of text, so each
//!    candidate is read from the checkpoint before it (a few kilobytes), not by reading the file
//!    again (a serial step of the run, as long as a whole read of the file). Every line read again
//!    must have a key the index saw twice; one that does not means the file changed under the run,
//!    which is an error.
//!
//! Memory: the index holds one entry per distinct key (64 bits of its hash, a count and the line of
//! its first copy: 16 bytes, in a table sized once from the first batch), a line number per
//! candidate and 16 bytes per checkpoint (1/32 of the lines); nothing else grows with the file.
//! The summary reports its size (`memory_bytes.key_index`).

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Instant;

use arrow::buffer::Buffer;
use etr_interp::{DuplicateLines, Interpreter, KeyBatch, RawBatch, UniqueKeys};
use etr_ir::Program;

use crate::error::{Result, RuntimeError};
use crate::input::dialect::SourceDialect;
use crate::input::reader::{BlockReader, NO_OFFSET, RawBlock, ReaderConfig};
use crate::input::split::split_block;
use crate::passes::PassContext;
use crate::passes::stream::stream;

/// Pass number `pass`, the key pass: counts the keys of every line over the key `columns` only,
/// then reads again, and evaluates fully, the lines whose key it counted more than once, whose
/// keys the interpreter counts exactly ([`UniqueKeys`]). Returns, per unique check, the lines (by
/// number) it rejects. The index is dropped before this returns,
/// so its peak and the writing pass's never add up.
pub(crate) fn key_pass(
    context: &mut PassContext<'_>,
    pass: u8,
    interpreter: &Interpreter,
    columns: &[bool],
) -> Result<DuplicateLines> {
    let pass_start = Instant::now();
    let input = context.input;
    let input_bytes = std::fs::metadata(input).map_err(|e| RuntimeError::io("read", input, e))?.len();
    let mut index = KeyIndex::new(context.program, input_bytes);
    let evaluate = |batch: &RawBatch| interpreter.eval_keys(batch);
    let facts = stream(
        input,
        context.dialect,
        context.config,
        context.sweep(pass, Some(columns)),
        &evaluate,
        |_, batch, offsets, keys| index.add(batch, offsets, &keys),
    )?;
    context.same_input(facts.fingerprint, facts.input_hash.as_deref())?;
    context.memory.insert("key_index".to_string(), index.allocated_bytes());
    context.time(format!("pass{pass}"), pass_start);
    let resolve_start = Instant::now();
    let resolved = resolve_candidates(input, context.dialect, &context.config.reader, interpreter, &index)?;
    drop(index);
    if let Some(fingerprint) = resolved.fingerprint {
        context.same_input(fingerprint, None)?;
    }
    context.time(format!("pass{pass}_candidates"), resolve_start);
    Ok(resolved.duplicates)
}

/// Where a key was first seen and how often (8 bytes, so an index entry is 16).
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    first_line: u32,
    count: u32,
}

/// The key pass's table from 64 bits of a key's hash to where the key was seen: open addressing
/// with linear probing, 16 bytes a slot, at most 7/8 full. The hashes are uniform already, so
/// their top bits are the slot, and the slot of a key a few rows ahead can be prefetched while
/// the current one is counted: the table is tens of megabytes, and a cache miss per key was most
/// of the counting's cost. Sized once from an estimate; it doubles if the estimate was short.
#[derive(Debug, Default)]
struct SeenTable {
    /// A slot whose key is 0 is free; a hash of 0 is stored as 1 (the two share an entry, which
    /// at worst makes their lines candidates: the candidates' evaluation compares full hashes).
    slots: Vec<(u64, Seen)>,
    len: usize,
    shift: u32,
}

impl SeenTable {
    fn with_capacity(keys: usize) -> SeenTable {
        let slots = (keys.max(8) * 8 / 7 + 1).next_power_of_two();
        SeenTable { slots: vec![(0, Seen::default()); slots], len: 0, shift: 64 - slots.trailing_zeros() }
    }

    /// The most keys the table holds before it doubles.
    fn capacity(&self) -> usize {
        self.slots.len() / 8 * 7
    }

    fn home(&self, key: u64) -> usize {
        // `shift` is at most 61 (eight slots at least), so the shift never overflows.
        (key >> self.shift) as usize
    }

    /// Hints the processor to load the slot where `key`'s search starts.
    fn prefetch(&self, key: u64) {
        #[cfg(target_arch = "x86_64")]
        if let Some(slot) = self.slots.get(self.home(key.max(1))) {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            // SAFETY: a prefetch is a hint with no effect on memory or on the program's state,
            // and the pointer is to a live slot anyway.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(slot).cast()) };
        }
    }

    /// The entry of `key`, inserted with `first_line` and a count of 0 if new.
    fn entry(&mut self, key: u64, first_line: u32) -> &mut Seen {
        if self.len + 1 > self.capacity() {
            self.grow();
        }
        let key = key.max(1);
        let mask = self.slots.len() - 1;
        let mut at = self.home(key);
        loop {
            let slot_key = self.slots[at].0;
            if slot_key == key {
                return &mut self.slots[at].1;
            }
            if slot_key == 0 {
                self.len += 1;
                self.slots[at] = (key, Seen { first_line, count: 0 });
                return &mut self.slots[at].1;
            }
            at = (at + 1) & mask;
        }
    }

    fn get(&self, key: u64) -> Option<&Seen> {
        if self.slots.is_empty() {
            return None;
        }
        let key = key.max(1);
        let mask = self.slots.len() - 1;
        let mut at = self.home(key);
        loop {
            match &self.slots[at] {
                (0, _) => return None,
                (k, seen) if *k == key => return Some(seen),
                _ => at = (at + 1) & mask,
            }
        }
    }

    fn grow(&mut self) {
        let keys = (self.capacity() + 1) * 2;
        let old = std::mem::take(&mut self.slots);
        *self = SeenTable::with_capacity(keys);
        for (key, seen) in old.into_iter().filter(|(k, _)| *k != 0) {
            *self.entry(key, seen.first_line) = seen;
        }
    }

    fn allocated_bytes(&self) -> u64 {
        (self.slots.capacity() * std::mem::size_of::<(u64, Seen)>()) as u64
    }
}

/// The keys counted by the key pass, per unique check, and the lines whose key was seen twice.
///
/// The index keeps 64 of the key hash's 128 bits: two keys that share them only make both
/// candidates, and the full evaluation of the candidates compares all 128 bits.
#[derive(Debug)]
struct KeyIndex {
    seen: Vec<SeenTable>,
    candidate_lines: Vec<u64>,
    /// `(line, file offset)` of a line of text every [`CHECKPOINT_STRIDE`] lines or so, in order.
    checkpoints: Vec<(u64, u64)>,
    next_checkpoint: u64,
    /// The input's size, to size the maps once from the first batch (see [`KeyIndex::add`]).
    input_bytes: u64,
}

impl KeyIndex {
    pub(crate) fn new(program: &Program, input_bytes: u64) -> KeyIndex {
        KeyIndex {
            seen: (0..program.unique_checks.len()).map(|_| SeenTable::default()).collect(),
            candidate_lines: Vec::new(),
            checkpoints: Vec::new(),
            next_checkpoint: 0,
            input_bytes,
        }
    }

    /// Counts one batch of the key pass, in file order; `offsets` are its lines' file offsets
    /// (empty when unknown: the candidates are then found by reading the file again).
    pub(crate) fn add(&mut self, batch: &RawBatch, offsets: &[u64], keys: &KeyBatch) -> Result<()> {
        if offsets.len() == batch.line_nos.len() {
            for (&line, &offset) in batch.line_nos.iter().zip(offsets) {
                if line >= self.next_checkpoint && offset != NO_OFFSET {
                    self.checkpoints.push((line, offset));
                    self.next_checkpoint = line + CHECKPOINT_STRIDE;
                }
            }
        } else {
            // Lines without offsets: no checkpoint may span them.
            self.next_checkpoint = u64::MAX;
        }
        for (check, seen) in self.seen.iter_mut().enumerate() {
            let (Some(hashes), Some(counted)) = (keys.key_hashes.get(check), keys.counted.get(check)) else {
                return Err(RuntimeError::Internal(format!("the key pass returned no keys for unique check {check}")));
            };
            if seen.slots.is_empty() {
                // Sized once, from the keys per byte of the first batch: growing a table of millions of
                // entries would hold the old and the new table at once, doubling the index's peak.
                let batch_bytes: u64 = batch.lines.views().iter().map(|v| u64::from(*v as u32) + 1).sum();
                let per_byte = counted.count_set_bits() as f64 / batch_bytes.max(1) as f64;
                *seen = SeenTable::with_capacity((per_byte * self.input_bytes as f64 * 1.05) as usize);
            }
            let rows: Vec<usize> = counted.set_indices().collect();
            for (i, &row) in rows.iter().enumerate() {
                if let Some(&hash) = rows.get(i + PREFETCH_DISTANCE).and_then(|&ahead| hashes.get(ahead)) {
                    seen.prefetch(hash as u64);
                }
                let (Some(&hash), Some(&line)) = (hashes.get(row), batch.line_nos.get(row)) else {
                    return Err(RuntimeError::Internal(format!("key row {row} is outside its batch")));
                };
                let first_line = u32::try_from(line).map_err(|_| {
                    RuntimeError::Config(format!(
                        "line {line}: files of more than {} lines are not supported with unique checks",
                        u32::MAX
                    ))
                })?;
                let entry = seen.entry(hash as u64, first_line);
                match entry.count {
                    0 => {}
                    1 => self.candidate_lines.extend([u64::from(entry.first_line), line]),
                    _ => self.candidate_lines.push(line),
                }
                entry.count = entry.count.saturating_add(1);
            }
        }
        Ok(())
    }

    /// The memory the index holds, in bytes (its maps' tables and the candidate list).
    pub(crate) fn allocated_bytes(&self) -> u64 {
        let tables: u64 = self.seen.iter().map(SeenTable::allocated_bytes).sum();
        tables + self.candidate_lines.capacity() as u64 * 8 + self.checkpoints.capacity() as u64 * 16
    }

    /// The lines to evaluate fully, in file order, each once.
    pub(crate) fn candidate_lines(&self) -> Vec<u64> {
        let mut lines = self.candidate_lines.clone();
        lines.sort_unstable();
        lines.dedup();
        lines
    }

    /// Whether the key pass counted `hash` (a full 128-bit key hash) at least twice for `check`.
    fn counted_twice(&self, check: usize, hash: u128) -> bool {
        self.seen.get(check).and_then(|seen| seen.get(hash as u64)).is_some_and(|entry| entry.count >= 2)
    }

    /// The last checkpoint at or before `line`.
    fn checkpoint_for(&self, line: u64) -> Option<(u64, u64)> {
        let after = self.checkpoints.partition_point(|&(l, _)| l <= line);
        after.checked_sub(1).map(|i| self.checkpoints[i])
    }
}

/// How many counted keys ahead the key pass prefetches a table slot: enough to cover a miss.
const PREFETCH_DISTANCE: usize = 8;

/// Lines between two checkpoints of the key pass (see the module docs): 1 MB of checkpoints per
/// 2 million lines, and about 8 KB to read per candidate on W1.
const CHECKPOINT_STRIDE: u64 = 32;

/// What the candidates' full evaluation found.
#[derive(Debug)]
struct Resolved {
    /// Per unique check, the lines (by line number) whose key is duplicated among the lines that
    /// take part: the writing pass rejects them without hashing any key again.
    pub(crate) duplicates: DuplicateLines,
    /// The fingerprint of the file as this read saw it (`None` when there was nothing to read),
    /// so that the caller can check the file did not change since the key pass.
    pub(crate) fingerprint: Option<u128>,
}

/// Reads the candidate lines again, evaluates them fully in batches, and returns the keys
/// duplicated among the lines that take part. Each line is read from the checkpoint before it;
/// without checkpoints (the key pass saw no offsets), by reading the whole file again.
fn resolve_candidates(
    input: &Path,
    dialect: &SourceDialect,
    reader_config: &ReaderConfig,
    interpreter: &Interpreter,
    index: &KeyIndex,
) -> Result<Resolved> {
    let candidate_lines = index.candidate_lines();
    let mut counts = UniqueKeys::new(interpreter.program());
    if candidate_lines.is_empty() {
        return Ok(Resolved { duplicates: counts.duplicates(), fingerprint: None });
    }
    let located: Option<Vec<(u64, (u64, u64))>> =
        candidate_lines.iter().map(|&line| Some((line, index.checkpoint_for(line)?))).collect();
    if let Some(located) = located {
        let mut file = std::fs::File::open(input).map_err(|e| RuntimeError::io("open", input, e))?;
        let file_len = file.metadata().map_err(|e| RuntimeError::io("read", input, e))?.len();
        let mut picked = Picked::default();
        let mut segment: Option<Segment> = None;
        for (line, (first, offset)) in located {
            let segment = match &mut segment {
                Some(open) if open.first_line == first => open,
                _ => {
                    let mut fresh = Segment::new(first, offset);
                    fresh.read_more(&mut file, file_len).map_err(|e| RuntimeError::io("read", input, e))?;
                    segment.insert(fresh)
                }
            };
            let bytes = loop {
                match segment.find_line(line - first, reader_config.max_line_bytes) {
                    Found::Line(start, end) => break &segment.bytes[start..end],
                    Found::NeedMore => {
                        segment.read_more(&mut file, file_len).map_err(|e| RuntimeError::io("read", input, e))?
                    }
                    Found::Missing => return Err(changed_under_the_run(line)),
                }
            };
            picked.push(bytes, line);
            if picked.is_full(reader_config) {
                picked.evaluate(dialect, interpreter, index, &mut counts)?;
            }
        }
        picked.evaluate(dialect, interpreter, index, &mut counts)?;
        return Ok(Resolved { duplicates: counts.duplicates(), fingerprint: None });
    }
    reread_candidates(input, dialect, reader_config, interpreter, index, &candidate_lines, counts)
}

/// Reads the candidate lines by line number in one sequential read of the file.
fn reread_candidates(
    input: &Path,
    dialect: &SourceDialect,
    reader_config: &ReaderConfig,
    interpreter: &Interpreter,
    index: &KeyIndex,
    candidate_lines: &[u64],
    mut counts: UniqueKeys,
) -> Result<Resolved> {
    let file = std::fs::File::open(input).map_err(|e| RuntimeError::io("open", input, e))?;
    let config = ReaderConfig { content_hash: false, ..reader_config.clone() };
    let mut reader = BlockReader::new(file, dialect, config)?.with_source_name(input);
    let mut picked = Picked::default();
    let mut next = 0;
    while let Some(block) = reader.next_block()? {
        let first = block.first_line_no();
        let end = first + block.len() as u64;
        while let Some(&line_no) = candidate_lines.get(next)
            && line_no < end
        {
            let bytes = line_no.checked_sub(first).and_then(|i| block.line(i as usize)).ok_or_else(|| {
                RuntimeError::Internal(format!("candidate line {line_no} was not found on re-reading"))
            })?;
            picked.push(bytes, line_no);
            next += 1;
        }
        if picked.is_full(reader_config) {
            picked.evaluate(dialect, interpreter, index, &mut counts)?;
        }
    }
    let facts = reader.finish()?;
    if next != candidate_lines.len() {
        return Err(RuntimeError::Internal(format!(
            "{} candidate lines lie past the end of the file on re-reading: did it change during the run?",
            candidate_lines.len() - next
        )));
    }
    picked.evaluate(dialect, interpreter, index, &mut counts)?;
    Ok(Resolved { duplicates: counts.duplicates(), fingerprint: Some(facts.fingerprint) })
}

fn changed_under_the_run(line: u64) -> RuntimeError {
    RuntimeError::Internal(format!(
        "line {line}, read again for the unique checks, is not the line the key pass read: did the file change during the run?"
    ))
}

/// The bytes of the file from a checkpoint on, read as far as the lines looked for need. Lines
/// before the one looked for are dropped as they are passed, so a long line between a checkpoint
/// and a candidate costs reads, not memory: the segment holds at most the line looked for (up to
/// the reader's line limit) and one read.
#[derive(Debug)]
struct Segment {
    first_line: u64,
    /// The file offset of `bytes[0]`.
    offset: u64,
    bytes: Vec<u8>,
    /// Where line `line` (counted from the checkpoint's) starts in `bytes`.
    start: usize,
    line: u64,
    /// `bytes` runs to the end of the file.
    at_end: bool,
}

/// Where line `k` of a segment is.
enum Found {
    Line(usize, usize),
    NeedMore,
    Missing,
}

/// The most a segment reads at once.
const SEGMENT_READ_BYTES: usize = 1 << 20;

impl Segment {
    fn new(first_line: u64, offset: u64) -> Self {
        Segment { first_line, offset, bytes: Vec::new(), start: 0, line: 0, at_end: false }
    }

    /// Reads about as many bytes again as the segment holds (8 KiB at first, 1 MiB at most), or up
    /// to the file's end, after dropping the lines already passed.
    fn read_more(&mut self, file: &mut std::fs::File, file_len: u64) -> std::io::Result<()> {
        if self.start > 0 {
            self.bytes.drain(..self.start);
            self.offset += self.start as u64;
            self.start = 0;
        }
        let from = self.offset + self.bytes.len() as u64;
        let want = self.bytes.len().clamp(8 << 10, SEGMENT_READ_BYTES) as u64;
        let want = want.min(file_len.saturating_sub(from));
        file.seek(SeekFrom::Start(from))?;
        let got = file.take(want).read_to_end(&mut self.bytes)?;
        self.at_end = got as u64 == want && from + want == file_len || got == 0;
        Ok(())
    }

    /// Line `k` after the checkpoint's line, cut by the reader's rules (LF, CRLF and a lone CR end
    /// a line; at the end of the file a final Ctrl-Z after other text is not part of the line).
    /// `k` never decreases from one call to the next. A line longer than `max_line` is not one a
    /// key pass counted (the reader cut it, which made it malformed): `Missing`.
    fn find_line(&mut self, k: u64, max_line: usize) -> Found {
        if k < self.line {
            return Found::Missing;
        }
        loop {
            let bytes = self.bytes.as_slice();
            let start = self.start;
            let Some(found) = memchr::memchr2(b'\n', b'\r', &bytes[start..]) else {
                if self.line < k {
                    // Inside a line that is passed: nothing of it is needed.
                    self.start = bytes.len();
                }
                if !self.at_end {
                    if self.line == k && bytes.len() - start > max_line {
                        return Found::Missing;
                    }
                    return Found::NeedMore;
                }
                if self.line != k || start == bytes.len() {
                    return Found::Missing;
                }
                let mut end = bytes.len();
                if end - start > 1 && bytes[end - 1] == 0x1A {
                    end -= 1;
                }
                return Found::Line(start, end);
            };
            let t = start + found;
            let terminator = match (bytes[t], bytes.get(t + 1)) {
                (b'\r', Some(b'\n')) => 2,
                (b'\r', None) if !self.at_end => return Found::NeedMore,
                _ => 1,
            };
            if self.line == k {
                return if t - start > max_line { Found::Missing } else { Found::Line(start, t) };
            }
            self.line += 1;
            self.start = t + terminator;
        }
    }
}

/// Candidate lines copied out of their blocks, to be split and evaluated as one batch.
#[derive(Debug, Default)]
struct Picked {
    data: Vec<u8>,
    ranges: Vec<(u32, u32)>,
    line_nos: Vec<u64>,
}

impl Picked {
    fn push(&mut self, line: &[u8], line_no: u64) {
        let start = self.data.len() as u32;
        self.data.extend_from_slice(line);
        self.ranges.push((start, self.data.len() as u32));
        self.line_nos.push(line_no);
    }

    fn is_full(&self, config: &ReaderConfig) -> bool {
        self.ranges.len() >= config.max_lines_per_block || self.data.len() >= config.block_size
    }

    fn evaluate(
        &mut self,
        dialect: &SourceDialect,
        interpreter: &Interpreter,
        index: &KeyIndex,
        counts: &mut UniqueKeys,
    ) -> Result<()> {
        if self.ranges.is_empty() {
            return Ok(());
        }
        let taken = std::mem::take(self);
        let block = RawBlock::new(Buffer::from_vec(taken.data), &taken.ranges, 1)?;
        let mut batch = split_block(&block, dialect);
        // The lines are not consecutive: give each its own number (used only in messages here).
        batch.line_nos = taken.line_nos;
        let result = interpreter
            .eval_batch(&batch)
            .map_err(|e| RuntimeError::Internal(format!("evaluating the candidate lines of unique checks: {e}")))?;
        // Every line read again was a candidate because a key of it was counted twice.
        for (row, &line) in batch.line_nos.iter().enumerate() {
            let counted_twice = result
                .key_hashes
                .iter()
                .enumerate()
                .any(|(check, hashes)| hashes.get(row).is_some_and(|&hash| index.counted_twice(check, hash)));
            if !counted_twice {
                return Err(changed_under_the_run(line));
            }
        }
        counts
            .add(interpreter.program(), &batch, &result)
            .map_err(|e| RuntimeError::Internal(format!("counting the candidate lines' keys: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding 10 of issue 13, the candidates' side: a segment read every line from its checkpoint
    /// into one buffer, so a 200 MB line between a checkpoint and a candidate was held whole. Lines
    /// passed are dropped now; the lines found are the reader's, with every terminator, and a line
    /// over the limit is not a line a key pass counted.
    #[test]
    fn segments_pass_long_lines_without_holding_them() {
        let long = "x".repeat(5 << 20);
        let text = format!("a|1\r\n{long}\rb|2\n\nc|3\r{long}\nd|4\x1A");
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("input.psv");
        std::fs::write(&path, &text).expect("write");
        let mut file = std::fs::File::open(&path).expect("open");
        let len = text.len() as u64;
        let mut segment = Segment::new(0, 0);
        let mut most_held = 0;
        let mut lines = Vec::new();
        for k in [0u64, 2, 3, 4, 6] {
            let found = loop {
                most_held = most_held.max(segment.bytes.len());
                match segment.find_line(k, 1 << 20) {
                    Found::NeedMore => segment.read_more(&mut file, len).expect("read"),
                    Found::Line(start, end) => break Some(segment.bytes[start..end].to_vec()),
                    Found::Missing => break None,
                }
            };
            lines.push(found.map(|l| String::from_utf8(l).expect("utf-8")));
        }
        let expected = [Some("a|1"), Some("b|2"), Some(""), Some("c|3"), Some("d|4")];
        assert_eq!(lines, expected.map(|l| l.map(str::to_owned)));
        assert!(most_held <= 2 * SEGMENT_READ_BYTES, "the segment held {most_held} bytes");

        let mut segment = Segment::new(0, 0);
        let mut file = std::fs::File::open(&path).expect("open");
        let found = loop {
            match segment.find_line(1, 1 << 20) {
                Found::NeedMore => segment.read_more(&mut file, len).expect("read"),
                Found::Line(..) => break true,
                Found::Missing => break false,
            }
        };
        assert!(!found, "a line over the limit is not a candidate");
    }

    /// The table counts like a map, through growth from a short estimate, for every key,
    /// 0 included, and keys that share their top bits (the same home slot).
    #[test]
    fn the_seen_table_counts_like_a_map() {
        let mut table = SeenTable::with_capacity(3);
        let mut model: std::collections::HashMap<u64, (u32, u32)> = std::collections::HashMap::new();
        for i in 0..20_000u64 {
            let key = match i % 5 {
                0 => 0,
                1 => i.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                2 => (i % 97) << 40,
                _ => (i % 1_000).wrapping_mul(0xBF58_476D_1CE4_E5B9),
            };
            let line = i as u32;
            let entry = table.entry(key, line);
            entry.count += 1;
            // Keys 0 and 1 share an entry by design.
            let slot = model.entry(key.max(1)).or_insert((line, 0));
            slot.1 += 1;
        }
        assert_eq!(table.len, model.len());
        for (&key, &(first_line, count)) in &model {
            let seen = table.get(key).expect("a counted key is found");
            assert_eq!((seen.first_line, seen.count), (first_line, count), "key {key:#x}");
        }
        assert!(table.get(0x1234_5678_9ABC_DEF1).is_none());
        assert!(table.len <= table.capacity());
    }
}
