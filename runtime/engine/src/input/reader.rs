//! The streaming reader: raw bytes in, blocks of whole data lines out.
//!
//! Contributor files are large (hundreds of MB) and the runtime must not hold them in memory, so
//! the reader pulls about [`ReaderConfig::block_size`] bytes at a time from any [`Read`] into a
//! read buffer and hands out its whole lines as [`RawBlock`]s, each the shared, immutable read
//! buffer plus the byte ranges of the lines it holds. Splitting into fields happens later, on
//! worker threads ([`crate::input::split::split_block`]), while the reader goes on with the next
//! read.
//!
//! What the reader decides, because it is the only one that sees the file in order:
//! - Line terminators: LF, CRLF and a lone CR each end a line (CRLF is one terminator, even when a
//!   read boundary falls between the CR and the LF). A missing final terminator is fine.
//! - The header is line 1 when its first field equals the header prefix; the trailer is the last
//!   non-empty line when its first field equals the trailer prefix. To recognise the trailer the
//!   reader holds back the last non-empty line (and the blank lines after it) until it knows
//!   whether anything but blank lines follows. Neither ever appears in a block.
//! - Blank lines and lines holding a single Ctrl-Z (0x1A) after the last non-empty line are not
//!   data: they are counted in [`InputFacts::ignored_trailing_lines`]. Elsewhere a blank line is an
//!   ordinary (empty) data line. A 0x1A as the very last byte of the file, after other text on the
//!   same line, is an end-of-file marker and is dropped from that line.
//! - A UTF-8 byte-order mark at the start of the file is detected (and stripped for UTF-8 files).
//! - The length of every raw byte read (BOM and terminators included), their xxh3 fingerprint
//!   and, unless the caller opts out ([`ReaderConfig::content_hash`]), their blake3 hash.
//! - Where each line of text starts in the file ([`RawBlock::line_offsets`]), so that a later
//!   step can read a line again without reading the file again (the key pass's candidates).
//!
//! Memory stays bounded by the block size, a block's worth of line offsets
//! ([`ReaderConfig::max_lines_per_block`]) and [`ReaderConfig::max_line_bytes`], whatever the
//! lines: held-back blank lines are only counted, never buffered. A line longer than one read
//! grows the buffer for that line only (the next read is at least as large as what is carried
//! over, so the copying stays linear). A line longer than `max_line_bytes` is cut: its first
//! `max_line_bytes` bytes are kept, the rest is read (hashed, counted) and dropped, and the block
//! marks the line ([`RawBlock::overlong_lines`]) so that the splitter makes it malformed and the
//! run rejects it. So a block is never larger than one read plus two such lines (the held-back line
//! and the unfinished one), and the blocks in flight cost the same whatever the file holds.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use arrow::buffer::Buffer;
use etr_interp::RawRecordLine;

use crate::error::{Result, RuntimeError};
use crate::input::dialect::{PreparedDialect, SourceDialect};
use crate::input::split::split_record_line_prepared;

/// The end-of-file marker some DOS-era tools still append.
const CTRL_Z: u8 = 0x1A;

/// The largest read or line the reader accepts: keeps every buffer offset within `u32`, which
/// is what Arrow string views store.
const MAX_CONFIGURABLE_BYTES: usize = 512 << 20;

/// Tuning knobs for [`BlockReader`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderConfig {
    /// Bytes requested from the source per read; a block holds about this much. Default 1 MiB:
    /// about 4,000 lines of a 41-field file, small enough that a block's split columns stay in
    /// the caches and the blocks in flight cost little memory (docs/notes/0008).
    pub block_size: usize,
    /// The longest line kept whole, in bytes; a longer one is cut to this length and marked as
    /// overlong (the run rejects it). Default 1 MiB: a contributor line of 41 fields is a few
    /// hundred bytes, and the blocks in flight (two per worker thread, and two) may each hold up
    /// to two lines this long.
    pub max_line_bytes: usize,
    /// The most lines in one block. Bounds a batch's memory when lines are tiny (a run of blank
    /// lines would otherwise make millions of rows). Default 65,536.
    pub max_lines_per_block: usize,
    /// Compute the blake3 hash of the file ([`InputFacts::input_hash`]). A run needs it once, for
    /// its summary; a later pass over the same file only needs to prove it read the same bytes,
    /// which the 128-bit xxh3 fingerprint, always computed, does at several times the speed.
    /// Default true. `pipeline::run` sets it itself, per pass (only a run's first pass hashes).
    pub content_hash: bool,
}

impl Default for ReaderConfig {
    fn default() -> Self {
        ReaderConfig { block_size: 1 << 20, max_line_bytes: 1 << 20, max_lines_per_block: 1 << 16, content_hash: true }
    }
}

impl ReaderConfig {
    /// The default configuration with another block size (tests use tiny ones).
    pub fn with_block_size(block_size: usize) -> Self {
        ReaderConfig { block_size, ..ReaderConfig::default() }
    }

    fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(RuntimeError::Config(what.to_owned()));
        if self.block_size == 0 || self.block_size > MAX_CONFIGURABLE_BYTES {
            return bad("block_size must be between 1 byte and 512 MiB");
        }
        if self.max_line_bytes == 0 || self.max_line_bytes > MAX_CONFIGURABLE_BYTES {
            return bad("max_line_bytes must be between 1 byte and 512 MiB");
        }
        if self.max_lines_per_block == 0 {
            return bad("max_lines_per_block must be at least 1");
        }
        Ok(())
    }
}

/// A run of consecutive whole data lines, as raw bytes in the file's encoding.
///
/// The buffer is shared (reference-counted) and may hold bytes that belong to no line of this
/// block (terminators, the header, lines of a neighbouring block cut from the same read); only
/// the line ranges say what the block is. Line `i` has the physical line number
/// `first_line_no + i`.
#[derive(Debug, Clone)]
pub struct RawBlock {
    data: Buffer,
    starts: Vec<u32>,
    ends: Vec<u32>,
    first_line_no: u64,
    /// Where each line starts in the file ([`NO_OFFSET`] for a blank or Ctrl-Z line); empty when
    /// the block was not cut from a file by [`BlockReader`].
    offsets: Vec<u64>,
    /// The lines cut at [`ReaderConfig::max_line_bytes`]: their index in the block and their whole
    /// length in bytes.
    overlong: Vec<(u32, u64)>,
}

/// The file offset of a line that is not text of the file (a blank or Ctrl-Z line).
pub const NO_OFFSET: u64 = u64::MAX;

impl RawBlock {
    /// Builds a block from a buffer and line ranges, checking that every range lies in the buffer.
    pub fn new(data: Buffer, ranges: &[(u32, u32)], first_line_no: u64) -> Result<Self> {
        if u32::try_from(data.len()).is_err() {
            return Err(RuntimeError::Internal(format!(
                "a block buffer of {} bytes does not fit 32-bit offsets",
                data.len()
            )));
        }
        if let Some(&(s, e)) = ranges.iter().find(|&&(s, e)| s > e || e as usize > data.len()) {
            return Err(RuntimeError::Internal(format!(
                "line range {s}..{e} lies outside a block buffer of {} bytes",
                data.len()
            )));
        }
        Ok(RawBlock {
            data,
            starts: ranges.iter().map(|r| r.0).collect(),
            ends: ranges.iter().map(|r| r.1).collect(),
            first_line_no,
            offsets: Vec::new(),
            overlong: Vec::new(),
        })
    }

    /// The number of lines.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// True when the block holds no line.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The physical line number of the first line (1-based; the header, when present, is 1).
    pub fn first_line_no(&self) -> u64 {
        self.first_line_no
    }

    /// Where each line starts in the file: the byte offset of its first byte ([`NO_OFFSET`] for a
    /// blank or Ctrl-Z line); empty for a block made with [`RawBlock::new`].
    pub fn line_offsets(&self) -> &[u64] {
        &self.offsets
    }

    /// The lines longer than [`ReaderConfig::max_line_bytes`], cut to that length: each line's index
    /// in the block and its whole length in bytes (without the terminator).
    pub fn overlong_lines(&self) -> &[(u32, u64)] {
        &self.overlong
    }

    /// Takes the lines' file offsets out of the block (leaving none).
    pub fn take_line_offsets(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.offsets)
    }

    /// The shared buffer the line ranges point into.
    pub fn data(&self) -> &Buffer {
        &self.data
    }

    /// The byte range of line `i` in [`RawBlock::data`], without its terminator.
    pub fn line_range(&self, i: usize) -> Option<std::ops::Range<usize>> {
        Some(*self.starts.get(i)? as usize..*self.ends.get(i)? as usize)
    }

    /// The raw bytes of line `i`, without its terminator.
    pub fn line(&self, i: usize) -> Option<&[u8]> {
        self.data.as_slice().get(self.line_range(i)?)
    }

    /// The raw bytes of every line, in order.
    pub fn lines(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        let data = self.data.as_slice();
        self.starts.iter().zip(&self.ends).map(move |(&s, &e)| data.get(s as usize..e as usize).unwrap_or_default())
    }

    pub(crate) fn starts(&self) -> &[u32] {
        &self.starts
    }

    pub(crate) fn ends(&self) -> &[u32] {
        &self.ends
    }
}

/// What the reader learnt about the whole file, available once it is exhausted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFacts {
    /// The header line, when line 1 carries the header prefix.
    pub header: Option<RawRecordLine>,
    /// The trailer line, when the last non-empty line carries the trailer prefix.
    pub trailer: Option<RawRecordLine>,
    /// Lines handed out in blocks.
    pub data_lines: u64,
    /// Blank and Ctrl-Z lines after the last non-empty line.
    pub ignored_trailing_lines: u64,
    /// Every physical line: header + data + trailer + ignored trailing lines.
    pub physical_lines: u64,
    /// Raw bytes read, BOM included.
    pub bytes: u64,
    /// The blake3 hash of the raw bytes, lowercase hex (`None` when the reader was configured
    /// without it).
    pub input_hash: Option<String>,
    /// The xxh3-128 fingerprint of the raw bytes: equal fingerprints mean two reads saw the same
    /// file (it is not a cryptographic hash; it guards against a file changing during a run).
    pub fingerprint: u128,
    /// The file starts with a UTF-8 byte-order mark (stripped for UTF-8 files, kept as text
    /// otherwise, where it most likely means the declared encoding is wrong).
    pub bom: bool,
    /// The file's last byte is a Ctrl-Z end-of-file marker.
    pub eof_marker: bool,
}

/// Opens a file and reads it with [`BlockReader`].
pub fn open(path: impl AsRef<Path>, dialect: &SourceDialect, config: ReaderConfig) -> Result<BlockReader<File>> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| RuntimeError::io("open", path, e))?;
    Ok(BlockReader::new(file, dialect, config)?.with_source_name(path))
}

/// Cuts a byte stream into [`RawBlock`]s of whole data lines; see the module docs.
#[derive(Debug)]
pub struct BlockReader<R> {
    src: R,
    source_name: PathBuf,
    dialect: PreparedDialect,
    config: ReaderConfig,
    /// The read buffer: bytes carried over from the previous one, then freshly read bytes.
    cur: Buffer,
    /// Where the line being scanned starts in `cur`.
    line_start: usize,
    /// The file offset of `cur[0]` for the positions from the unfinished line on (the held line
    /// and a Ctrl-Z marker copied before it come from elsewhere in the file): a line starting at
    /// `p` starts at `cur_base + p` in the file.
    cur_base: u64,
    /// Where the terminator search resumes; everything in `line_start..scan_pos` has no terminator.
    scan_pos: usize,
    /// The source is exhausted: `cur` holds the end of the file.
    src_eof: bool,
    /// The header, trailer and trailing lines have been settled.
    finalized: bool,
    next_line_no: u64,
    /// The last non-empty line seen: the trailer, unless a non-empty line follows.
    held: Option<Held>,
    /// Blank and Ctrl-Z lines after `held`: trailing, unless a non-empty line follows.
    pending: Pending,
    /// Lines known to be data but not yet placed in a block (only more than a few when a long
    /// run of blank lines turns out not to be trailing).
    backlog: Backlog,
    emit: Emit,
    hasher: Option<blake3::Hasher>,
    fingerprint: Fingerprint,
    bytes: u64,
    last_byte: Option<u8>,
    data_lines: u64,
    ignored_trailing_lines: u64,
    header: Option<RawRecordLine>,
    trailer: Option<RawRecordLine>,
    bom_checked: bool,
    bom: bool,
    /// An error was returned: the reader's state is no longer meaningful, so it yields nothing.
    failed: bool,
    /// The unfinished line is longer than [`ReaderConfig::max_line_bytes`]: its kept part is in
    /// `cur`, the rest was dropped.
    overlong: Option<Overlong>,
}

/// A line being cut at [`ReaderConfig::max_line_bytes`].
#[derive(Debug, Clone, Copy)]
struct Overlong {
    /// Where the line starts in the file (`cur_base` no longer says: bytes were dropped after it).
    offset: u64,
    /// Its length so far, in bytes.
    length: u64,
}

#[derive(Debug, Clone, Copy)]
struct Held {
    start: usize,
    end: usize,
    line_no: u64,
    /// Where the line starts in the file (it moves in `cur` when carried over, not in the file).
    offset: u64,
    /// The line's whole length when it was cut at [`ReaderConfig::max_line_bytes`].
    overlong: Option<u64>,
}

/// Consecutive blank or Ctrl-Z lines, kept as a count so a long run costs no memory.
#[derive(Debug, Default)]
struct Pending {
    count: u64,
    /// Indexes (within the run) of the Ctrl-Z lines, which are not empty text.
    ctrl_z: Vec<u64>,
    /// Position in `cur` of a 0x1A byte the Ctrl-Z lines can point at.
    marker: usize,
}

#[derive(Debug, Default)]
struct Backlog {
    held: Option<Held>,
    pending: Pending,
    first_pending_line_no: u64,
    pending_done: u64,
    next_ctrl_z: usize,
}

#[derive(Debug, Default)]
struct Emit {
    starts: Vec<u32>,
    ends: Vec<u32>,
    offsets: Vec<u64>,
    overlong: Vec<(u32, u64)>,
    first_line_no: u64,
}

/// The running xxh3 state (a newtype: the hasher has no `Debug`).
struct Fingerprint(xxhash_rust::xxh3::Xxh3);

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprint")
    }
}

enum Step {
    Line(usize, usize),
    NeedInput,
    End,
}

impl<R: Read> BlockReader<R> {
    /// Reads `src` in `dialect`, refusing an invalid dialect or configuration up front.
    pub fn new(src: R, dialect: &SourceDialect, config: ReaderConfig) -> Result<Self> {
        dialect.validate()?;
        config.validate()?;
        let content_hash = config.content_hash;
        Ok(BlockReader {
            src,
            source_name: PathBuf::from("<input stream>"),
            dialect: PreparedDialect::new(dialect),
            config,
            cur: Buffer::from_vec(Vec::<u8>::new()),
            line_start: 0,
            cur_base: 0,
            scan_pos: 0,
            src_eof: false,
            finalized: false,
            next_line_no: 1,
            held: None,
            pending: Pending::default(),
            backlog: Backlog::default(),
            emit: Emit::default(),
            hasher: content_hash.then(blake3::Hasher::new),
            fingerprint: Fingerprint(xxhash_rust::xxh3::Xxh3::new()),
            bytes: 0,
            last_byte: None,
            data_lines: 0,
            ignored_trailing_lines: 0,
            header: None,
            trailer: None,
            bom_checked: false,
            bom: false,
            failed: false,
            overlong: None,
        })
    }

    /// Names the source in error messages (a path, usually).
    pub fn with_source_name(mut self, name: impl Into<PathBuf>) -> Self {
        self.source_name = name.into();
        self
    }

    /// The header line. Known once the first block has been returned (or the file is exhausted).
    pub fn header(&self) -> Option<&RawRecordLine> {
        self.header.as_ref()
    }

    /// Returns the next block of data lines, or `None` once the file is exhausted.
    ///
    /// After an error the reader is spent: later calls return `None` (and [`Self::finish`] fails).
    pub fn next_block(&mut self) -> Result<Option<RawBlock>> {
        if self.failed {
            return Ok(None);
        }
        let res = self.advance();
        self.failed = res.is_err();
        res
    }

    fn advance(&mut self) -> Result<Option<RawBlock>> {
        loop {
            self.drain_backlog();
            if self.emit.starts.len() >= self.config.max_lines_per_block {
                return Ok(Some(self.cut()));
            }
            match self.next_line() {
                Step::Line(start, end) => self.on_line(start, end),
                Step::NeedInput => {
                    // Hand out what this read produced before reading the next one, so the
                    // splitter works on it while the reader waits for IO.
                    if !self.emit.starts.is_empty() {
                        return Ok(Some(self.cut()));
                    }
                    self.refill()?;
                }
                Step::End => {
                    if !self.finalized {
                        self.finalize();
                        continue;
                    }
                    if !self.emit.starts.is_empty() {
                        return Ok(Some(self.cut()));
                    }
                    return Ok(None);
                }
            }
        }
    }

    /// The facts about the whole file. Fails if blocks remain: facts about a partly read file
    /// (a hash of half the bytes, say) would be wrong, not just incomplete.
    pub fn finish(self) -> Result<InputFacts> {
        let exhausted = !self.failed
            && self.finalized
            && self.emit.starts.is_empty()
            && self.backlog.held.is_none()
            && self.backlog.pending_done >= self.backlog.pending.count;
        if !exhausted {
            return Err(RuntimeError::Internal(format!(
                "BlockReader::finish called on {} before next_block returned None",
                self.source_name.display()
            )));
        }
        Ok(InputFacts {
            header: self.header,
            trailer: self.trailer,
            data_lines: self.data_lines,
            ignored_trailing_lines: self.ignored_trailing_lines,
            physical_lines: self.next_line_no - 1,
            bytes: self.bytes,
            input_hash: self.hasher.map(|h| h.finalize().to_hex().to_string()),
            fingerprint: self.fingerprint.0.digest128(),
            bom: self.bom,
            eof_marker: self.last_byte == Some(CTRL_Z),
        })
    }

    /// Finds the next complete line in `cur`.
    fn next_line(&mut self) -> Step {
        let data = self.cur.as_slice();
        let len = data.len();
        let rest = data.get(self.scan_pos..).unwrap_or_default();
        match memchr::memchr2(b'\n', b'\r', rest) {
            Some(i) => {
                let t = self.scan_pos + i;
                let terminator_len = if data[t] == b'\n' {
                    1
                } else if t + 1 < len {
                    if data[t + 1] == b'\n' { 2 } else { 1 }
                } else if self.src_eof {
                    1
                } else {
                    // A CR that ends the read buffer may be the first half of a CRLF: decide
                    // once the next read shows what follows.
                    self.scan_pos = t;
                    return Step::NeedInput;
                };
                let start = self.line_start;
                self.line_start = t + terminator_len;
                self.scan_pos = self.line_start;
                Step::Line(start, t)
            }
            None => {
                self.scan_pos = len;
                if !self.src_eof {
                    Step::NeedInput
                } else if self.line_start < len {
                    let start = self.line_start;
                    let mut end = len;
                    if end - start > 1 && data[end - 1] == CTRL_Z {
                        end -= 1;
                    }
                    self.line_start = len;
                    Step::Line(start, end)
                } else {
                    Step::End
                }
            }
        }
    }

    fn on_line(&mut self, start: usize, end: usize) {
        let line_no = self.next_line_no;
        self.next_line_no += 1;
        // A line over the limit was cut while it was read (`refill_past_overlong_line`), or is cut
        // here when it arrived whole within one read.
        let (end, offset, overlong) = match self.overlong.take() {
            Some(cut) => (end, cut.offset, Some(cut.length)),
            None if end - start > self.config.max_line_bytes => (
                start + self.config.max_line_bytes,
                self.cur_base.wrapping_add(start as u64),
                Some((end - start) as u64),
            ),
            None => (end, self.cur_base.wrapping_add(start as u64), None),
        };
        let data = self.cur.as_slice();
        let bytes = &data[start..end];
        if line_no == 1
            && let Some(prefix) = &self.dialect.header_prefix
        {
            let record = split_record_line_prepared(bytes, line_no, &self.dialect);
            if first_field_is(&record, prefix) {
                self.header = Some(record);
                return;
            }
        }
        if bytes.is_empty() || bytes == [CTRL_Z] {
            if !bytes.is_empty() {
                if self.pending.ctrl_z.is_empty() {
                    self.pending.marker = start;
                }
                self.pending.ctrl_z.push(self.pending.count);
            }
            self.pending.count += 1;
            return;
        }
        // A non-empty line: whatever was held back is data after all.
        let pending = std::mem::take(&mut self.pending);
        self.backlog = Backlog {
            held: self.held.take(),
            first_pending_line_no: line_no - pending.count,
            pending,
            pending_done: 0,
            next_ctrl_z: 0,
        };
        self.held = Some(Held { start, end, line_no, offset, overlong });
    }

    fn drain_backlog(&mut self) {
        let cap = self.config.max_lines_per_block;
        let backlog = &mut self.backlog;
        let emit = &mut self.emit;
        if let Some(held) = backlog.held
            && emit.starts.len() < cap
        {
            backlog.held = None;
            if let Some(length) = held.overlong {
                emit.overlong.push((emit.starts.len() as u32, length));
            }
            emit.push(held.start, held.end, held.line_no, held.offset);
        }
        while backlog.pending_done < backlog.pending.count && emit.starts.len() < cap {
            let index = backlog.pending_done;
            let line_no = backlog.first_pending_line_no + index;
            if backlog.pending.ctrl_z.get(backlog.next_ctrl_z) == Some(&index) {
                backlog.next_ctrl_z += 1;
                let marker = backlog.pending.marker;
                emit.push(marker, marker + 1, line_no, NO_OFFSET);
            } else {
                emit.push(0, 0, line_no, NO_OFFSET);
            }
            backlog.pending_done += 1;
        }
    }

    /// Settles the end of the file: the held line is the trailer or data, pending lines are
    /// ignored trailing lines.
    fn finalize(&mut self) {
        if let Some(held) = self.held.take() {
            let mut is_trailer = false;
            if let Some(prefix) = &self.dialect.trailer_prefix {
                let bytes = &self.cur.as_slice()[held.start..held.end];
                let record = split_record_line_prepared(bytes, held.line_no, &self.dialect);
                if first_field_is(&record, prefix) {
                    self.trailer = Some(record);
                    is_trailer = true;
                }
            }
            if !is_trailer {
                self.backlog.held = Some(held);
            }
        }
        self.ignored_trailing_lines = std::mem::take(&mut self.pending).count;
        self.finalized = true;
    }

    fn cut(&mut self) -> RawBlock {
        let emit = std::mem::take(&mut self.emit);
        self.data_lines += emit.starts.len() as u64;
        RawBlock {
            data: self.cur.clone(),
            starts: emit.starts,
            ends: emit.ends,
            first_line_no: emit.first_line_no,
            offsets: emit.offsets,
            overlong: emit.overlong,
        }
    }

    /// Starts a new read buffer: the held line, a Ctrl-Z marker and the unfinished line are carried
    /// over from the current one, then at least one block size is read (more when the carried bytes
    /// are larger, so a long line is copied a logarithmic number of times, not once per read).
    fn refill(&mut self) -> Result<()> {
        // Bytes of the unfinished line so far (a CR at the read buffer's end, which may start a
        // CRLF, is past `scan_pos` and not counted).
        let scanned = self.scan_pos - self.line_start;
        if self.overlong.is_none() && scanned > self.config.max_line_bytes {
            return self.refill_past_overlong_line();
        }
        // A handle on the read buffer (a reference count): the carry-over below may borrow `self`.
        let cur = self.cur.clone();
        let old = cur.as_slice();
        let tail = &old[self.line_start..];
        let held_len = self.held.map_or(0, |h| h.end - h.start);
        let needs_marker = !self.pending.ctrl_z.is_empty();
        let carried = held_len + usize::from(needs_marker) + tail.len();
        let read_size = self.config.block_size.max(carried);
        let capacity = carried + read_size;
        if u32::try_from(capacity).is_err() {
            return Err(RuntimeError::Internal(format!(
                "a read buffer of {capacity} bytes would not fit 32-bit offsets"
            )));
        }

        let mut buffer = Vec::with_capacity(capacity);
        self.carry_held_and_marker(&mut buffer);
        let line_start = buffer.len();
        buffer.extend_from_slice(tail);
        let scan_pos = line_start + (self.scan_pos - self.line_start);
        // The unfinished line keeps its place in the file; the fresh bytes follow it there too,
        // anchored at the scan position, not the line's start: after a cut line the mapping holds
        // from its terminator on, and the scan position is never before that. (Wrapping: the base
        // may lie before the file's start when carried bytes precede the tail; only `base +
        // position` for positions from the tail on is ever used.)
        let scan_offset = self.cur_base.wrapping_add(self.scan_pos as u64);
        self.cur_base = scan_offset.wrapping_sub(scan_pos as u64);

        self.read_into(&mut buffer, read_size)?;
        if !self.bom_checked {
            // The BOM decision needs three bytes; tiny blocks may need a few reads for that.
            while buffer.len() < 3 && !self.src_eof {
                self.read_into(&mut buffer, read_size)?;
            }
            self.bom_checked = true;
            if buffer.starts_with(&[0xEF, 0xBB, 0xBF]) {
                self.bom = true;
                if self.dialect.encoding == crate::input::dialect::Encoding::Utf8 {
                    self.cur = Buffer::from_vec(buffer);
                    self.line_start = 3;
                    self.scan_pos = 3;
                    return Ok(());
                }
            }
        }
        self.cur = Buffer::from_vec(buffer);
        self.line_start = line_start;
        self.scan_pos = scan_pos;
        Ok(())
    }

    /// Starts a new read buffer once the unfinished line is too long: the held line, a Ctrl-Z
    /// marker and the line's first `max_line_bytes` bytes are carried over, then the source is
    /// read, hashed and dropped up to the line's terminator (or the end of the file), which is
    /// placed right after the kept bytes with everything read after it. The cut is recorded in
    /// `overlong` until the line is taken by `on_line`; further refills before that (a CR that may
    /// start a CRLF at the end of the buffer) are ordinary ones.
    fn refill_past_overlong_line(&mut self) -> Result<()> {
        let limit = self.config.max_line_bytes;
        // A handle on the read buffer (a reference count): the carry-over below may borrow `self`.
        let cur = self.cur.clone();
        let old = cur.as_slice();
        let scanned = self.scan_pos - self.line_start;
        let offset = self.cur_base.wrapping_add(self.line_start as u64);
        let held_len = self.held.map_or(0, |h| h.end - h.start);
        let kept = scanned.min(limit);
        let mut buffer = Vec::with_capacity(held_len + 1 + kept + self.config.block_size);
        self.carry_held_and_marker(&mut buffer);
        let line_start = buffer.len();
        buffer.extend_from_slice(&old[self.line_start..self.line_start + kept]);
        // The terminator lands here in the buffer; it is at `offset + length` in the file.
        let terminator_at = buffer.len();
        let mut length = scanned as u64;
        // A CR that ended the old buffer (it may start a CRLF) is the terminator already.
        buffer.extend_from_slice(&old[self.scan_pos..]);
        let mut placed = buffer.len() > terminator_at;
        let mut scratch = Vec::new();
        while !placed && !self.src_eof {
            scratch.clear();
            self.read_into(&mut scratch, self.config.block_size)?;
            match memchr::memchr2(b'\n', b'\r', &scratch) {
                Some(i) => {
                    length += i as u64;
                    buffer.extend_from_slice(&scratch[i..]);
                    placed = true;
                }
                None => length += scratch.len() as u64,
            }
        }
        self.cur_base = offset.wrapping_add(length).wrapping_sub(terminator_at as u64);
        self.overlong = Some(Overlong { offset, length });
        self.cur = Buffer::from_vec(buffer);
        self.line_start = line_start;
        self.scan_pos = terminator_at;
        Ok(())
    }

    /// Starts a new read buffer with what must survive the current one before the unfinished line:
    /// the held line (moved to the buffer's start) and the Ctrl-Z byte pending lines point at.
    fn carry_held_and_marker(&mut self, buffer: &mut Vec<u8>) {
        let old = self.cur.as_slice();
        if let Some(held) = &mut self.held {
            let len = held.end - held.start;
            buffer.extend_from_slice(&old[held.start..held.end]);
            held.start = 0;
            held.end = len;
        }
        if !self.pending.ctrl_z.is_empty() {
            self.pending.marker = buffer.len();
            buffer.push(CTRL_Z);
        }
    }

    fn read_into(&mut self, buffer: &mut Vec<u8>, want: usize) -> Result<()> {
        let before = buffer.len();
        // `take(..).read_to_end` reads into the vector's spare capacity without zeroing it first
        // (for sources that support it, such as files), which a plain `read` into a slice cannot.
        let got = (&mut self.src)
            .take(want as u64)
            .read_to_end(buffer)
            .map_err(|e| RuntimeError::io("read", &self.source_name, e))?;
        let fresh = &buffer[before..];
        if let Some(hasher) = &mut self.hasher {
            hasher.update(fresh);
        }
        self.fingerprint.0.update(fresh);
        self.bytes += got as u64;
        if let Some(&last) = fresh.last() {
            self.last_byte = Some(last);
        }
        if got < want {
            self.src_eof = true;
        }
        Ok(())
    }
}

impl<R: Read> Iterator for BlockReader<R> {
    type Item = Result<RawBlock>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_block().transpose()
    }
}

impl Emit {
    fn push(&mut self, start: usize, end: usize, line_no: u64, offset: u64) {
        if self.starts.is_empty() {
            self.first_line_no = line_no;
        }
        debug_assert_eq!(line_no, self.first_line_no + self.starts.len() as u64);
        // Lossless: `refill` keeps every read buffer within u32 offsets.
        self.starts.push(start as u32);
        self.ends.push(end as u32);
        self.offsets.push(offset);
    }
}

fn first_field_is(record: &RawRecordLine, prefix: &str) -> bool {
    match record.fields.first() {
        Some(field) => field.as_deref().unwrap_or("") == prefix,
        None => prefix.is_empty(),
    }
}
