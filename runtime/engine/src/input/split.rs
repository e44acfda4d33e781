//! Decoding and field splitting: a [`RawBlock`] in, a [`RawBatch`] of string-view columns out.
//!
//! This is the hottest code before evaluation (tens of millions of fields per file), so it is
//! built to copy no field bytes: every field is an Arrow string view pointing into the block's
//! buffer (or inlined in the view when at most 12 bytes long, as the view format requires).
//! [`split_block`] is pure and takes shared references only, so several blocks can be split on
//! worker threads while the reader goes on.
//!
//! Decoding rules:
//! - UTF-8: each line is validated as it is split. The delimiter scan also collects the bytes'
//!   high bits, so a pure-ASCII line (most lines of most files) costs nothing more, and only a line
//!   with non-ASCII bytes is checked with `str::from_utf8` (which is as fast as a whole-block pass
//!   on such text, and avoids a second pass over the block for ASCII text). A line with invalid
//!   UTF-8 gets `bad_encoding = true`, its text is decoded lossily (U+FFFD per bad sequence, stored
//!   in a side buffer) and split over that text, so aggregates still read its fields; its field
//!   count is that of the lossy text.
//! - windows-1252: a block that is pure ASCII is used as is (the two encodings agree on ASCII);
//!   otherwise each line is transcoded into a new UTF-8 buffer, which never fails. The delimiter,
//!   given as cp1252 bytes, is transcoded too and the UTF-8 text is split on its UTF-8 form. This
//!   is exact because cp1252 maps each byte to exactly one character and UTF-8 is
//!   self-synchronising: the decoded delimiter occurs exactly where the raw one did.
//!
//! Splitting rules:
//! - Without a quote byte, a field is the text between two delimiters. With one, a field that
//!   *starts* with the quote is quoted: it runs to the next quote that is not doubled, `""` inside
//!   stands for one quote, and delimiters inside are data. A quote anywhere else is ordinary data.
//!   Text between a closing quote and the next delimiter is appended to the field (lenient, as
//!   Python's csv module does). An opening quote that is never closed makes the rest of the line
//!   the field, delimiters included (with `""` still unescaped): the line is damaged and later
//!   rules will see a short line, which is the most useful signal; it never panics.
//! - Quoted fields that need no unescaping stay views into the block buffer; the others are
//!   copied, unescaped, into a side buffer, the second data buffer of every array in the batch.
//! - Lines are cut before fields are split, so a line terminator inside quotes ends the line:
//!   embedded newlines are not supported in this version.
//! - `field_counts` is the number of fields found (an empty line has one, empty, field). An empty
//!   field is null; a line shorter than `column_count` has nulls for the missing columns; extra
//!   fields are counted but not kept. NUL bytes are ordinary data. A line the reader cut at its
//!   length limit ([`RawBlock::overlong_lines`]) has a field count of 0, which no line has
//!   otherwise: it is malformed, and its text is the part the reader kept.

use std::mem::MaybeUninit;
use std::sync::Arc;

use arrow::array::StringViewArray;
use arrow::buffer::{BooleanBuffer, Buffer, NullBuffer, ScalarBuffer};
use etr_interp::{RawBatch, RawRecordLine};

use crate::input::dialect::{Encoding, PreparedDialect, SourceDialect, decode_lossy};
use crate::input::reader::RawBlock;

/// Splits a block's lines into the dialect's columns (see the module docs for the rules).
pub fn split_block(block: &RawBlock, dialect: &SourceDialect) -> RawBatch {
    split_block_with(block, dialect, Isa::Best, None)
}

/// [`split_block`] for a reader of some columns only: the columns not `wanted` come out all null,
/// which spares building their views (most of a split's cost). The lines, their field counts and
/// encodings are exactly as [`split_block`] gives them.
pub fn split_block_columns(block: &RawBlock, dialect: &SourceDialect, wanted: &[bool]) -> RawBatch {
    split_block_with(block, dialect, Isa::Best, Some(wanted))
}

/// Which instructions the splitting loop may use; tests pin the portable one to check that both
/// give the same batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isa {
    Best,
    #[cfg_attr(not(test), expect(dead_code))]
    Portable,
}

fn split_block_with(block: &RawBlock, dialect: &SourceDialect, isa: Isa, wanted: Option<&[bool]>) -> RawBatch {
    let dialect = PreparedDialect::new(dialect);
    let decoded = decode_block(block, dialect.encoding);
    let mut builder = BatchBuilder::new(&decoded, &dialect, block.len(), wanted);
    match isa {
        Isa::Best => builder.split_all(&decoded),
        Isa::Portable => builder.split_all_impl(&decoded),
    }
    let mut batch = builder.finish(block.first_line_no(), decoded.data.clone());
    // A line the reader cut is malformed whatever its kept part holds: no field count is its own.
    for &(line, _) in block.overlong_lines() {
        if let Some(count) = batch.field_counts.get_mut(line as usize) {
            *count = 0;
        }
    }
    batch
}

/// Splits one line (a header or a trailer) into owned fields, with the same rules as
/// [`split_block`]; invalid bytes are decoded lossily.
pub fn split_record_line(line: &[u8], line_no: u64, dialect: &SourceDialect) -> RawRecordLine {
    split_record_line_prepared(line, line_no, &PreparedDialect::new(dialect))
}

pub(crate) fn split_record_line_prepared(line: &[u8], line_no: u64, dialect: &PreparedDialect) -> RawRecordLine {
    let text = decode_lossy(line, dialect.encoding).into_owned();
    let mut side = Vec::new();
    let mut pieces = Vec::new();
    split_general(text.as_bytes(), 0, text.len(), &dialect.delimiter, dialect.quote, &mut side, &mut pieces);
    let fields = pieces
        .iter()
        .map(|piece| {
            let bytes = match *piece {
                Piece::Main(s, e) => &text.as_bytes()[s..e],
                Piece::Side(s, e) => &side[s..e],
            };
            (!bytes.is_empty()).then(|| String::from_utf8_lossy(bytes).into_owned())
        })
        .collect();
    RawRecordLine { line_no, text, fields }
}

/// A block's lines as UTF-8, with which of them are valid.
struct Decoded {
    data: Buffer,
    starts: Vec<u32>,
    ends: Vec<u32>,
    /// Lines known to be unusable before splitting (only a transcoding too large to address);
    /// `None` when there is none, the common case. Invalid UTF-8 is found while splitting.
    invalid: Option<Vec<bool>>,
}

fn decode_block(block: &RawBlock, encoding: Encoding) -> Decoded {
    let plain = || Decoded {
        data: block.data().clone(),
        starts: block.starts().to_vec(),
        ends: block.ends().to_vec(),
        invalid: None,
    };
    match encoding {
        // UTF-8 lines are validated one by one as they are split (see `scan_fast`).
        Encoding::Utf8 => plain(),
        Encoding::Windows1252 => {
            // The lines of a block are (nearly) contiguous in its buffer, so one pass over the
            // span they cover tells whether any needs transcoding at all.
            let lo = block.starts().iter().copied().min().unwrap_or(0) as usize;
            let hi = block.ends().iter().copied().max().unwrap_or(0) as usize;
            if block.data().as_slice().get(lo..hi).unwrap_or_default().is_ascii() {
                plain()
            } else {
                transcode_windows_1252(block)
            }
        }
    }
}

fn transcode_windows_1252(block: &RawBlock) -> Decoded {
    let mut out = String::with_capacity(block.data().len() + block.data().len() / 4);
    let mut starts = Vec::with_capacity(block.len());
    let mut ends = Vec::with_capacity(block.len());
    let mut invalid: Option<Vec<bool>> = None;
    for (i, line) in block.lines().enumerate() {
        let text = encoding_rs::WINDOWS_1252.decode_without_bom_handling(line).0;
        let start = out.len();
        if u32::try_from(start + text.len()).is_ok() {
            out.push_str(&text);
        } else {
            // Only a block of well over a gigabyte of non-ASCII text gets here: the line cannot
            // be addressed by a view, so it is handed on as an empty, unusable line.
            invalid.get_or_insert_with(|| vec![false; block.len()])[i] = true;
        }
        // Lossless: `out` stays within u32 offsets (checked just above).
        starts.push(start as u32);
        ends.push(out.len() as u32);
    }
    Decoded { data: Buffer::from_vec(out.into_bytes()), starts, ends, invalid }
}

/// A field's bytes: a range of the block buffer (zero-copy) or of the side buffer (unescaped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    Main(usize, usize),
    Side(usize, usize),
}

/// Arrow buffer indexes of the two data buffers every array of a batch shares.
const MAIN: u32 = 0;
const SIDE: u32 = 1;

/// Lines are split a tile at a time: first the field boundaries of the tile's lines are found
/// (into a small scratch table), then each column's views for those lines are written in one
/// sequential run. Writing a line's fields straight into their columns would scatter stores over
/// `column_count` streams, which the cache handles badly; a tile of 64 lines also makes each
/// column's validity bits for the tile exactly one `u64` word.
const TILE: usize = 64;

struct BatchBuilder<'a> {
    dialect: &'a PreparedDialect,
    /// Per column, its slot among the columns built (`views`), or `None` for a column not wanted
    /// by a projected split, which comes out all null without a view written.
    slots: Vec<Option<usize>>,
    data: &'a [u8],
    ncols: usize,
    /// The number of lines in the block.
    lines: usize,
    /// The views of every built column in one allocation, column-major (the column in slot `j`
    /// is `j * lines..(j + 1) * lines`), written tile by tile into the spare capacity. One
    /// allocation per block instead of one per column keeps the allocator from handing each block
    /// fresh pages, whose faults cost more than the splitting.
    views: Vec<u128>,
    /// Per column, one validity word per tile (bit set = non-empty field).
    validity: Vec<Vec<u64>>,
    null_counts: Vec<usize>,
    line_views: Vec<u128>,
    field_counts: Vec<u32>,
    bad_encoding: Vec<bool>,
    side: Vec<u8>,
    pieces: Vec<Piece>,
    scratch: Scratch,
    /// Lines whose views are written (a prefix of the block).
    built: usize,
}

/// Field boundaries of the lines of one tile.
struct Scratch {
    /// Column-major, one column per line of the tile: `bounds[k * TILE + r]` is where field `k`
    /// of line `r` starts, and the field ends one byte before field `k + 1` starts (the delimiter
    /// is one byte in the fast path). Missing fields get consecutive empty ranges past the line.
    /// Column-major, so that building a column reads two contiguous runs.
    bounds: Vec<u32>,
    /// Lines of the tile split by the general splitter, whose fields are explicit
    /// `(start, end, in_side_buffer)` triples in `pieces` (row-major, `column_count` per line).
    general: [bool; TILE],
    any_general: bool,
    pieces: Vec<(u32, u32, bool)>,
}

impl<'a> BatchBuilder<'a> {
    fn new(decoded: &'a Decoded, dialect: &'a PreparedDialect, lines: usize, wanted: Option<&[bool]>) -> Self {
        let ncols = dialect.column_count;
        let mut built = 0;
        let slots = (0..ncols)
            .map(|k| {
                wanted.is_none_or(|w| w.get(k).copied().unwrap_or(true)).then(|| {
                    built += 1;
                    built - 1
                })
            })
            .collect();
        // Room for `ncols + 1` boundaries per line, plus a whole 64-byte span's worth of
        // positions that the fast scanner may write past them unconditionally.
        let height = ncols + 2 + 64;
        BatchBuilder {
            dialect,
            slots,
            data: decoded.data.as_slice(),
            ncols,
            lines,
            views: Vec::with_capacity(built * lines),
            validity: (0..ncols).map(|_| Vec::with_capacity(lines.div_ceil(TILE))).collect(),
            null_counts: vec![0; ncols],
            line_views: Vec::with_capacity(lines),
            field_counts: Vec::with_capacity(lines),
            bad_encoding: Vec::with_capacity(lines),
            side: Vec::new(),
            pieces: Vec::new(),
            scratch: Scratch {
                bounds: vec![0; TILE * height],
                general: [false; TILE],
                any_general: false,
                pieces: vec![(0, 0, false); TILE * ncols],
            },
            built: 0,
        }
    }

    fn split_all(&mut self, decoded: &Decoded) {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("bmi1")
            && std::is_x86_feature_detected!("bmi2")
            && std::is_x86_feature_detected!("popcnt")
        {
            // SAFETY: benefit: the baseline x86_64 target has no `popcnt` (the per-span
            // `count_ones` becomes a dozen instructions) and no flag-free variable shifts, which
            // the view arithmetic is full of, and splitting is the hottest code before evaluation.
            // Soundness: the function only differs from `split_all_impl` in the instructions it
            // may use, and the CPU was just checked to have every one of them.
            unsafe { self.split_all_x86_64_v3(decoded) };
            return;
        }
        self.split_all_impl(decoded);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,bmi1,bmi2,popcnt")]
    fn split_all_x86_64_v3(&mut self, decoded: &Decoded) {
        self.split_all_impl(decoded);
    }

    /// The splitting loop, inlined into each instruction-set variant of `split_all`.
    #[inline(always)]
    fn split_all_impl(&mut self, decoded: &Decoded) {
        let fast = if self.dialect.sound { self.dialect.single_byte_delimiter() } else { None };
        let quote = self.dialect.quote;
        let n = decoded.starts.len();
        for tile in (0..n).step_by(TILE) {
            let rows = TILE.min(n - tile);
            self.scratch.any_general = false;
            for r in 0..rows {
                let i = tile + r;
                let (s, e) = (decoded.starts[i] as usize, decoded.ends[i] as usize);
                self.scratch.general[r] = false;
                if decoded.invalid.as_ref().is_some_and(|v| v[i]) {
                    self.scan_bad_line(r, s, e);
                    continue;
                }
                let quoted = quote.is_some_and(|q| memchr::memchr(q, &self.data[s..e]).is_some());
                let count = match fast {
                    Some(d) if !quoted => self.scan_fast(r, s, e, d),
                    _ if std::str::from_utf8(&self.data[s..e]).is_ok() => self.scan_checked(r, s, e),
                    _ => None,
                };
                let Some(count) = count else {
                    self.scan_bad_line(r, s, e);
                    continue;
                };
                self.line_views.push(make_view(self.data, MAIN, s, e));
                self.field_counts.push(count);
                self.bad_encoding.push(false);
            }
            self.build_tile(tile, rows);
        }
    }

    /// The hot path: one ASCII delimiter byte and no quote on the line. Fills the line's row of
    /// boundaries and returns its field count, or `None` when the line is not valid UTF-8 (the
    /// scan collects the bytes' high bits on the way, so only lines with non-ASCII bytes pay for
    /// a validation).
    #[inline(always)]
    fn scan_fast(&mut self, r: usize, s: usize, e: usize, delimiter: u8) -> Option<u32> {
        let ncols = self.ncols;
        let bounds = &mut self.scratch.bounds;
        // Lossless casts to u32 here and below: block buffers stay within u32 offsets.
        bounds[r] = s as u32;
        // Delimiters found so far; field `k + 1` starts after delimiter `k`.
        let mut found = 0usize;
        let mut non_ascii = 0u64;
        let mut base = s;
        while base < e {
            let (mut mask, high) = span_masks(self.data, base, e, delimiter);
            non_ascii |= high;
            let count = mask.count_ones() as usize;
            if found <= ncols {
                // Positions are written in batches of eight without looking at how many bits
                // are left (a spent mask writes harmless garbage into slots that later
                // positions or the padding below overwrite, or that lie past the columns): a
                // branch per delimiter would mispredict at every span. The window holds the
                // 64 slots a span can need, so the writes below need no bounds checks.
                let after = base as u32 + 1;
                let window = &mut bounds[(found + 1) * TILE + r..][..63 * TILE + 1];
                let mut write = |from: usize, to: usize| {
                    for j in from..to {
                        window[j * TILE] = after.wrapping_add(mask.trailing_zeros());
                        mask &= mask.wrapping_sub(1);
                    }
                };
                write(0, 8);
                if count > 8 {
                    write(8, 16);
                    if count > 16 {
                        write(16, count);
                    }
                }
            }
            found += count;
            base += 64;
        }
        for j in found + 1..=ncols {
            // The line is short: the last field ends at the line's end, and every missing field
            // is an empty range just past it.
            bounds[j * TILE + r] = (e + j - found) as u32;
        }
        if non_ascii != 0 && std::str::from_utf8(&self.data[s..e]).is_err() {
            return None;
        }
        // Lossless: a line is at most 512 MiB, so it has fewer than 2^32 fields.
        Some(found as u32 + 1)
    }

    /// Quoting, multi-byte delimiters and unvalidated dialects. Returns `None` when a field is not
    /// valid UTF-8, which only an unvalidated dialect can cause (a cut inside a character), or
    /// when the side buffer would outgrow 32-bit offsets.
    fn scan_checked(&mut self, r: usize, s: usize, e: usize) -> Option<u32> {
        let mut pieces = std::mem::take(&mut self.pieces);
        pieces.clear();
        split_general(self.data, s, e, &self.dialect.delimiter, self.dialect.quote, &mut self.side, &mut pieces);
        let addressable = u32::try_from(self.side.len()).is_ok();
        let sound = addressable
            && (self.dialect.sound
                || pieces.iter().all(|piece| {
                    let bytes = match *piece {
                        Piece::Main(s, e) => &self.data[s..e],
                        Piece::Side(s, e) => &self.side[s..e],
                    };
                    std::str::from_utf8(bytes).is_ok()
                }));
        if sound {
            let ncols = self.ncols;
            let row = &mut self.scratch.pieces[r * ncols..(r + 1) * ncols];
            for (k, slot) in row.iter_mut().enumerate() {
                *slot = match pieces.get(k) {
                    Some(Piece::Main(s, e)) => (*s as u32, *e as u32, false),
                    Some(Piece::Side(s, e)) => (*s as u32, *e as u32, true),
                    None => (0, 0, false),
                };
            }
            self.scratch.general[r] = true;
            self.scratch.any_general = true;
        }
        let count = pieces.len() as u32;
        self.pieces = pieces;
        sound.then_some(count)
    }

    /// A line that is not valid text: its lossy text goes to the side buffer, and it is split
    /// over that text, so that file aggregates (control totals) still see its fields; the
    /// evaluator rejects the line under the encoding rule and maps nothing from it.
    fn scan_bad_line(&mut self, r: usize, s: usize, e: usize) {
        let text = String::from_utf8_lossy(&self.data[s..e]).into_owned();
        let start = self.side.len();
        let addressable = u32::try_from(start + 2 * text.len()).is_ok();
        let view = if addressable {
            self.side.extend_from_slice(text.as_bytes());
            make_view(&self.side, SIDE, start, self.side.len())
        } else {
            // Past 4 GiB of side buffer the text cannot be addressed; the line stays flagged.
            0
        };
        let mut unquoted = Vec::new();
        let mut pieces = std::mem::take(&mut self.pieces);
        pieces.clear();
        split_general(
            text.as_bytes(),
            0,
            text.len(),
            &self.dialect.delimiter,
            self.dialect.quote,
            &mut unquoted,
            &mut pieces,
        );
        self.field_counts.push(pieces.len() as u32);
        self.line_views.push(view);
        self.bad_encoding.push(true);
        // Only an unvalidated dialect (a delimiter cutting a character) can make a piece invalid.
        let sound = self.dialect.sound
            || pieces.iter().all(|piece| {
                let bytes = match *piece {
                    Piece::Main(a, b) => &text.as_bytes()[a..b],
                    Piece::Side(a, b) => &unquoted[a..b],
                };
                std::str::from_utf8(bytes).is_ok()
            });
        if addressable && sound {
            // Every field is copied into the side buffer: the lossy text is not in the block.
            let ncols = self.ncols;
            for k in 0..ncols {
                let bytes = match pieces.get(k) {
                    Some(Piece::Main(a, b)) => &text.as_bytes()[*a..*b],
                    Some(Piece::Side(a, b)) => &unquoted[*a..*b],
                    None => &[][..],
                };
                let from = self.side.len();
                self.side.extend_from_slice(bytes);
                self.scratch.pieces[r * ncols + k] = (from as u32, self.side.len() as u32, true);
            }
            self.scratch.general[r] = true;
            self.scratch.any_general = true;
        } else {
            // Consecutive boundaries make every field an empty range, hence null.
            for k in 0..=self.ncols {
                self.scratch.bounds[k * TILE + r] = k as u32;
            }
        }
        self.pieces = pieces;
    }

    /// Writes the views and the validity word of every column for the tile's `rows` lines, which
    /// start at line `tile`.
    #[inline(always)]
    fn build_tile(&mut self, tile: usize, rows: usize) {
        let data = self.data;
        let side = self.side.as_slice();
        let scratch = &self.scratch;
        let spare = self.views.spare_capacity_mut();
        for k in 0..self.ncols {
            let Some(slot) = self.slots[k] else {
                continue;
            };
            let out = &mut spare[slot * self.lines + tile..][..rows];
            let starts = &scratch.bounds[k * TILE..][..rows];
            let nexts = &scratch.bounds[(k + 1) * TILE..][..rows];
            let valid = if scratch.any_general {
                let mut valid = 0u64;
                for (r, slot) in out.iter_mut().enumerate() {
                    let view = if scratch.general[r] {
                        let (s, e, in_side) = scratch.pieces[r * self.ncols + k];
                        if in_side {
                            make_view(side, SIDE, s as usize, e as usize)
                        } else {
                            make_view(data, MAIN, s as usize, e as usize)
                        }
                    } else {
                        make_view(data, MAIN, starts[r] as usize, (nexts[r] as usize).saturating_sub(1))
                    };
                    valid |= u64::from(view as u32 != 0) << r;
                    slot.write(view);
                }
                valid
            } else {
                build_column(data, starts, nexts, out)
            };
            self.null_counts[k] += rows - valid.count_ones() as usize;
            // Arrow bitmaps are little-endian bit order within little-endian bytes.
            self.validity[k].push(valid.to_le());
        }
        self.built = tile + rows;
    }

    fn finish(mut self, first_line_no: u64, data: Buffer) -> RawBatch {
        let n = self.line_views.len();
        let buffers: Arc<[Buffer]> =
            if self.side.is_empty() { Arc::new([data]) } else { Arc::new([data, Buffer::from_vec(self.side)]) };
        let lines = views_to_array(self.line_views, &buffers, None);
        let columns = if n == self.lines && self.built == self.lines {
            let built = self.slots.iter().flatten().count();
            // SAFETY: `build_tile` ran for consecutive tiles covering lines `0..self.lines` and
            // wrote, for every built column in slot `j`, the views
            // `j * lines + tile..j * lines + tile + rows`, so all `built * lines` views of the
            // capacity reserved in `new` are initialised.
            unsafe { self.views.set_len(built * self.lines) };
            let all = Buffer::from_vec(self.views);
            // The columns not built share one all-null array.
            let mut unbuilt: Option<StringViewArray> = None;
            self.validity
                .into_iter()
                .zip(self.null_counts)
                .zip(&self.slots)
                .map(|((validity, null_count), slot)| {
                    let Some(slot) = *slot else {
                        return unbuilt.get_or_insert_with(|| StringViewArray::new_null(n)).clone();
                    };
                    let nulls = (null_count > 0).then(|| {
                        let bits = BooleanBuffer::new(Buffer::from_vec(validity), 0, n);
                        // SAFETY: `null_count` counted the zero bits among exactly these `n` bits
                        // as they were set; recounting would be another pass over every column.
                        unsafe { NullBuffer::new_unchecked(bits, null_count) }
                    });
                    let views = ScalarBuffer::new(all.clone(), slot * n, n);
                    views_to_array(views, &buffers, nulls)
                })
                .collect()
        } else {
            // Unreachable: every line gets exactly one line view and every tile is built. Should
            // it happen, all-null columns are wrong but safe, where a partial table would not be.
            (0..self.ncols).map(|_| StringViewArray::new_null(n)).collect()
        };
        RawBatch {
            line_nos: (first_line_no..first_line_no + n as u64).collect(),
            lines,
            field_counts: self.field_counts,
            bad_encoding: self.bad_encoding,
            columns,
        }
    }
}

/// Writes the views of one column for a tile of fast-path lines (field `r` runs from
/// `starts[r]` to one byte before `nexts[r]`) and returns their validity word.
#[inline(always)]
fn build_column(data: &[u8], starts: &[u32], nexts: &[u32], out: &mut [MaybeUninit<u128>]) -> u64 {
    let mut valid = 0u64;
    for (r, ((slot, &start), &next)) in out.iter_mut().zip(starts).zip(nexts).enumerate() {
        let view = make_view(data, MAIN, start as usize, (next as usize).saturating_sub(1));
        valid |= u64::from(view as u32 != 0) << r;
        slot.write(view);
    }
    valid
}

fn views_to_array(
    views: impl Into<ScalarBuffer<u128>>,
    buffers: &Arc<[Buffer]>,
    nulls: Option<NullBuffer>,
) -> StringViewArray {
    // SAFETY: `new_unchecked` skips a validation pass that would cost as much as splitting
    // itself. What that pass checks holds by construction: every view comes from `make_view`
    // over a range of the buffer it names (index 0 is the block data, 1 the side buffer, present
    // whenever a view points into it), so offsets and prefixes are right and inline views are
    // zero-padded; null slots hold the empty view 0; `nulls` has one bit per view, cleared
    // exactly for the empty views; and each viewed range is valid UTF-8, because the lines were
    // validated (or produced by a decoder), and a validated dialect only cuts lines at ASCII
    // bytes or at whole UTF-8 delimiter matches, which are character boundaries (with an
    // unvalidated dialect every field is checked in `scan_checked`).
    unsafe { StringViewArray::new_unchecked(views.into(), Arc::clone(buffers), nulls) }
}

/// Masks for [`make_view`], by field length (13 stands for every longer field): the bits of the
/// view's low word that hold data bytes (the first four), and of its high word (bytes 5 to 12,
/// inline views only).
const VIEW_MASKS: [(u64, u64); 14] = {
    let mut masks = [(0u64, 0u64); 14];
    let mut len: usize = 0;
    while len < 14 {
        let low_bytes = if len > 4 { 4 } else { len };
        let high_bytes = if len > 12 { 0 } else { len.saturating_sub(4) };
        let low = if low_bytes == 0 { 0 } else { (u64::MAX >> (64 - 8 * low_bytes)) << 32 };
        let high = if high_bytes == 0 { 0 } else { u64::MAX >> (64 - 8 * high_bytes) };
        masks[len] = (low, high);
        len += 1;
    }
    masks
};

/// The Arrow view of `buf[start..end]`, stored in the array's data buffer `buffer_index`.
///
/// An empty (or inverted) range gives the empty view 0. One unaligned 16-byte load serves both
/// view kinds (the inline bytes, masked to the field, or the 4-byte prefix); the arithmetic is
/// on 64-bit halves with table masks, and the choice of kind is a select rather than a branch,
/// since field lengths on either side of 12 bytes alternate unpredictably.
#[inline(always)]
fn make_view(buf: &[u8], buffer_index: u32, start: usize, end: usize) -> u128 {
    let len = end.saturating_sub(start);
    let (w0, w1) = match buf.get(start..).and_then(|b| b.first_chunk::<16>()) {
        Some(word) => {
            let (a, b) = word.split_at(8);
            let half = |h: &[u8]| {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(h);
                u64::from_le_bytes(bytes)
            };
            (half(a), half(b))
        }
        None => {
            let mut word = [0u8; 16];
            let available = buf.len().saturating_sub(start).min(16);
            if let Some(tail) = buf.get(start..start + available) {
                word[..available].copy_from_slice(tail);
            }
            let wide = u128::from_le_bytes(word);
            (wide as u64, (wide >> 64) as u64)
        }
    };
    let (low_mask, high_mask) = VIEW_MASKS[len.min(13)];
    let low = (len as u64) | ((w0 << 32) & low_mask);
    // All ones for a view by reference; `high_mask` is zero then, so the two parts never mix.
    let by_ref = u64::from(len > 12).wrapping_neg();
    let high = ((u64::from(buffer_index) | ((start as u64) << 32)) & by_ref) | (((w0 >> 32) | (w1 << 32)) & high_mask);
    (u128::from(high) << 64) | u128::from(low)
}

/// The delimiter mask and the high-bit (non-ASCII) mask of the 64-byte span at `base`, limited
/// to the line, which ends at `end`.
#[inline(always)]
fn span_masks(data: &[u8], base: usize, end: usize, needle: u8) -> (u64, u64) {
    let (mut eq, mut high) = match data[base..].first_chunk::<64>() {
        Some(span) => masks64(span, needle),
        None => {
            let mut span = [0u8; 64];
            let tail = &data[base..end];
            span[..tail.len()].copy_from_slice(tail);
            masks64(&span, needle)
        }
    };
    let remaining = end - base;
    if remaining < 64 {
        let keep = (1u64 << remaining) - 1;
        eq &= keep;
        high &= keep;
    }
    (eq, high)
}

/// Bit `i` of the first mask is set when `span[i] == needle`, of the second when `span[i]` is
/// not ASCII.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn masks64(span: &[u8; 64], needle: u8) -> (u64, u64) {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    // SAFETY: benefit: the compiler does not turn the portable code into vector compares (it
    // shuffles two bytes at a time), and this is the innermost loop of splitting. Soundness: SSE2
    // is part of the x86_64 baseline, so these instructions always exist; the four unaligned
    // 16-byte loads start at offsets 0, 16, 32 and 48 of the 64-byte `span`, so they stay
    // inside it.
    unsafe {
        let needles = _mm_set1_epi8(needle as i8);
        let lane = |i: usize| -> (u64, u64) {
            let bytes = _mm_loadu_si128(span.as_ptr().add(i).cast::<__m128i>());
            let eq = _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, needles)) as u16;
            let high = _mm_movemask_epi8(bytes) as u16;
            (u64::from(eq) << i, u64::from(high) << i)
        };
        let (a, b, c, d) = (lane(0), lane(16), lane(32), lane(48));
        (a.0 | b.0 | c.0 | d.0, a.1 | b.1 | c.1 | d.1)
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn masks64(span: &[u8; 64], needle: u8) -> (u64, u64) {
    masks64_portable(span, needle)
}

/// [`masks64`] without vector instructions (SWAR on 64-bit words), for other architectures.
#[cfg_attr(all(target_arch = "x86_64", not(test)), expect(dead_code))]
#[inline(always)]
fn masks64_portable(span: &[u8; 64], needle: u8) -> (u64, u64) {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Gathers the high bit of each byte of a word into one byte, first byte lowest.
    let gather = |bits: u64| (bits >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
    let splat = u64::from(needle) * 0x0101_0101_0101_0101;
    let (mut eq, mut high) = (0u64, 0u64);
    for (i, word) in span.chunks_exact(8).enumerate() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let w = u64::from_le_bytes(bytes);
        let x = w ^ splat;
        // The high bit of each byte is set exactly when that byte of `x` is zero (the addition
        // cannot carry across bytes).
        let zero = !(((x & LOW7) + LOW7) | x | LOW7);
        eq |= gather(zero) << (i * 8);
        high |= gather(w & HIGH) << (i * 8);
    }
    (eq, high)
}

/// The general splitter over `data[s..e]`: any delimiter length, optional quoting. Appends one
/// piece per field to `out`; unescaped quoted text goes to `side`.
fn split_general(
    data: &[u8],
    s: usize,
    e: usize,
    delimiter: &[u8],
    quote: Option<u8>,
    side: &mut Vec<u8>,
    out: &mut Vec<Piece>,
) {
    if delimiter.is_empty() {
        // Only an unvalidated dialect gets here: without a delimiter the line is one field.
        out.push(Piece::Main(s, e));
        return;
    }
    let finder = memchr::memmem::Finder::new(delimiter);
    let find_delimiter = |from: usize| finder.find(&data[from..e]).map(|i| from + i);
    let mut pos = s;
    loop {
        match quote {
            Some(q) if pos < e && data[pos] == q => {
                let (piece, next) = split_quoted(data, pos, e, delimiter, q, side);
                out.push(piece);
                match next {
                    Some(next) => pos = next,
                    None => return,
                }
            }
            _ => match find_delimiter(pos) {
                Some(d) => {
                    out.push(Piece::Main(pos, d));
                    pos = d + delimiter.len();
                }
                None => {
                    out.push(Piece::Main(pos, e));
                    return;
                }
            },
        }
    }
}

/// Reads the quoted field opening at `data[open]`. Returns the field and where the next field
/// starts (`None` when the field ends the line).
fn split_quoted(
    data: &[u8],
    open: usize,
    e: usize,
    delimiter: &[u8],
    q: u8,
    side: &mut Vec<u8>,
) -> (Piece, Option<usize>) {
    let content = open + 1;
    // Where the unescaped text started in `side`, once the field needed copying.
    let mut copied: Option<usize> = None;
    let mut segment = content;
    let mut search = content;
    let close = loop {
        match memchr::memchr(q, &data[search..e]).map(|i| search + i) {
            Some(j) if j + 1 < e && data[j + 1] == q => {
                copied.get_or_insert(side.len());
                side.extend_from_slice(&data[segment..=j]);
                segment = j + 2;
                search = j + 2;
            }
            Some(j) => break Some(j),
            None => break None,
        }
    };
    let Some(close) = close else {
        // Unbalanced quote: the rest of the line is the field.
        return (finish_piece(data, segment, e, copied, side), None);
    };
    let after = close + 1;
    if after == e {
        return (finish_piece(data, segment, close, copied, side), None);
    }
    if data[after..e].starts_with(delimiter) {
        let piece = finish_piece(data, segment, close, copied, side);
        return (piece, Some(after + delimiter.len()));
    }
    // Text after the closing quote: appended to the field up to the next delimiter.
    let next = memchr::memmem::find(&data[after..e], delimiter).map(|i| after + i);
    let junk_end = next.unwrap_or(e);
    let start = *copied.get_or_insert(side.len());
    side.extend_from_slice(&data[segment..close]);
    side.extend_from_slice(&data[after..junk_end]);
    (Piece::Side(start, side.len()), next.map(|d| d + delimiter.len()))
}

fn finish_piece(data: &[u8], segment: usize, end: usize, copied: Option<usize>, side: &mut Vec<u8>) -> Piece {
    match copied {
        None => Piece::Main(segment, end),
        Some(start) => {
            side.extend_from_slice(&data[segment..end]);
            Piece::Side(start, side.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Array as _;
    use proptest::prelude::*;

    fn block_of(input: &[u8]) -> RawBlock {
        // Lines cut on LF only: enough to feed the splitter, whose input is lines.
        let mut ranges = Vec::new();
        let mut start = 0u32;
        for (i, &b) in input.iter().enumerate() {
            if b == b'\n' {
                ranges.push((start, i as u32));
                start = i as u32 + 1;
            }
        }
        ranges.push((start, input.len() as u32));
        RawBlock::new(Buffer::from_vec(input.to_vec()), &ranges, 1).expect("ranges inside the buffer")
    }

    fn assert_same(a: &RawBatch, b: &RawBatch) {
        assert_eq!(a.line_nos, b.line_nos);
        assert_eq!(a.lines, b.lines);
        assert_eq!(a.field_counts, b.field_counts);
        assert_eq!(a.bad_encoding, b.bad_encoding);
        assert_eq!(a.columns, b.columns);
    }

    #[test]
    fn portable_masks_match_the_vector_ones() {
        let mut span = [0u8; 64];
        for seed in 0u64..200 {
            let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            for b in &mut span {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = [b'|', b'a', 0x80, 0xFF, 0, b'|', 0x7F, 0xC3][(x % 8) as usize];
            }
            let expected = span.iter().enumerate().fold((0u64, 0u64), |(eq, high), (i, &b)| {
                (eq | (u64::from(b == b'|') << i), high | (u64::from(b >= 0x80) << i))
            });
            assert_eq!(masks64(&span, b'|'), expected);
            assert_eq!(masks64_portable(&span, b'|'), expected);
        }
    }

    #[test]
    fn view_masks_cover_the_inline_bytes() {
        assert_eq!(VIEW_MASKS[0], (0, 0));
        assert_eq!(VIEW_MASKS[1], (0xFF << 32, 0));
        assert_eq!(VIEW_MASKS[4], (0xFFFF_FFFF << 32, 0));
        assert_eq!(VIEW_MASKS[5], (0xFFFF_FFFF << 32, 0xFF));
        assert_eq!(VIEW_MASKS[12], (0xFFFF_FFFF << 32, u64::MAX));
        assert_eq!(VIEW_MASKS[13], (0xFFFF_FFFF << 32, 0));
    }

    #[test]
    fn views_match_arrow() {
        let buf: Vec<u8> = (0u8..64).collect();
        for start in [0usize, 3, 40, 50, 60, 64] {
            for len in 0..=(64 - start).min(20) {
                let ours = make_view(&buf, 1, start, start + len);
                let arrow = if len == 0 {
                    0
                } else {
                    arrow::array::builder::make_view(&buf[start..start + len], 1, start as u32)
                };
                assert_eq!(ours, arrow, "start {start}, len {len}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn every_instruction_set_splits_alike(
            input in prop::collection::vec(
                prop::sample::select(vec![b'a', b'|', b'|', b'"', b'\n', 0xC3, 0xA9, 0xFF, b'x']),
                0..600,
            ),
            columns in 0usize..70,
            quote in any::<bool>(),
        ) {
            let block = block_of(&input);
            let dialect = SourceDialect { quote: quote.then_some(b'"'), ..SourceDialect::pipe(columns) };
            let best = split_block_with(&block, &dialect, Isa::Best, None);
            let portable = split_block_with(&block, &dialect, Isa::Portable, None);
            assert_same(&best, &portable);
        }

        #[test]
        fn a_projected_split_keeps_the_wanted_columns_and_every_line_fact(
            input in prop::collection::vec(
                prop::sample::select(vec![b'a', b'|', b'|', b'"', b'\n', 0xC3, 0xA9, 0xFF, b'x']),
                0..600,
            ),
            wanted in prop::collection::vec(any::<bool>(), 0..12),
            quote in any::<bool>(),
        ) {
            let block = block_of(&input);
            let dialect = SourceDialect { quote: quote.then_some(b'"'), ..SourceDialect::pipe(wanted.len()) };
            let full = split_block(&block, &dialect);
            let projected = split_block_columns(&block, &dialect, &wanted);
            prop_assert_eq!(&full.line_nos, &projected.line_nos);
            prop_assert_eq!(&full.lines, &projected.lines);
            prop_assert_eq!(&full.field_counts, &projected.field_counts);
            prop_assert_eq!(&full.bad_encoding, &projected.bad_encoding);
            for (k, &want) in wanted.iter().enumerate() {
                if want {
                    prop_assert_eq!(&full.columns[k], &projected.columns[k], "column {}", k);
                } else {
                    prop_assert_eq!(projected.columns[k].null_count(), projected.columns[k].len(), "column {}", k);
                }
            }
        }

        /// Lines of W1's shape (tens of fields over several 64-byte spans, some lines a field
        /// short or long): a projected split gives the wanted columns of the full split.
        #[test]
        fn a_projected_split_of_long_lines_keeps_the_wanted_columns(
            lines in prop::collection::vec(
                prop::collection::vec(prop::sample::select(vec!["", "a", "ab", "0123456789", "é", "x y z", "JALAN AMPANG 50450 KUALA LUMPUR"]), 38..44),
                1..40,
            ),
            wanted in prop::collection::vec(prop::sample::select(vec![false, false, false, true]), 41),
        ) {
            let text: String = lines.iter().map(|fields| fields.join("|") + "\n").collect();
            let block = block_of(text.as_bytes());
            let dialect = SourceDialect::pipe(wanted.len());
            let full = split_block(&block, &dialect);
            let projected = split_block_columns(&block, &dialect, &wanted);
            prop_assert_eq!(&full.field_counts, &projected.field_counts);
            for (k, &want) in wanted.iter().enumerate() {
                if want {
                    prop_assert_eq!(&full.columns[k], &projected.columns[k], "column {}", k);
                }
            }
        }
    }
}
