//! Parquet column chunks encoded from the output's Arrow types, without `ArrowColumnWriter`.
//!
//! Every column of the accepted file has one of a few Arrow types, fixed by the spec's record:
//! codes are `Dictionary(UInt32, Utf8)` over their code type's members, money, counts and line
//! numbers are integers, dates are `Date32`, free text is `Utf8View`. For these, a generic
//! writer does work the type makes needless (docs/notes/0010): it interns every code's text
//! again to build its dictionary and compares texts per row for the statistics, though the
//! member index *is* a dictionary index. A [`ChunkEncoder`] takes the batch's kept rows (filtered
//! by Arrow's kernels, run by run) and encodes each kind directly:
//! - codes: the dictionary page holds the members (remapped once per distinct dictionary, not per
//!   row); the data pages hold the indices (`RLE_DICTIONARY`); the statistics are the least and
//!   greatest member that occurs, found from a bitmap of the members used;
//! - integers and dates: `DELTA_BINARY_PACKED`, with the minimum and maximum as integers;
//! - text: a dictionary (short texts keyed by their Arrow view, see [`TextDictionary`]) until its
//!   page passes the properties' `dictionary_page_size_limit` or [`MAX_TEXT_MEMBERS`], then
//!   `DELTA_BYTE_ARRAY` ([`DeltaTexts`]), with byte-wise statistics unless the column is listed
//!   without them.
//!
//! Pages are format v1 data pages, compressed whole (levels and values) with zstd or not at all,
//! their headers written by parquet's own `SerializedPageWriter`. Pages end at
//! [`PAGE_ROWS`] rows or [`PAGE_BYTES`] encoded bytes, whichever comes first. Chunks carry
//! chunk-level statistics (the null count always), an offset index and no bloom filter, as the
//! accepted file's `ArrowWriter` properties ask for too. The output is read back by parquet's
//! reader in the tests and must equal what `ArrowWriter` writes, value for value.

use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use arrow::array::{Array, ArrayData, AsArray, BooleanBufferBuilder};
use arrow::buffer::NullBuffer;
use arrow::compute::FilterPredicate;
use arrow::datatypes::{DataType, Date32Type, Int32Type, Int64Type, UInt32Type, UInt64Type};
use bytes::Bytes;
use parquet::basic::{Compression, Encoding, EncodingMask, Type as PhysicalType};
use parquet::column::page::{CompressedPage, Page, PageWriteSpec, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::data_type::ByteArray;
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::file::page_index::offset_index::{OffsetIndexMetaData, PageLocation};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::reader::{ChunkReader, Length};
use parquet::file::statistics::Statistics;
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;

use crate::error::{Result, RuntimeError};

/// Rows per data page at most (`ArrowWriter`'s default row limit too).
const PAGE_ROWS: usize = 20_000;
/// Encoded bytes per data page at most, before compression (`ArrowWriter`'s default size).
const PAGE_BYTES: usize = 1 << 20;
/// Values per block and per miniblock of `DELTA_BINARY_PACKED` (the usual choice).
const DELTA_BLOCK: usize = 128;
const DELTA_MINIBLOCK: usize = 32;

/// Encodes one column chunk of a row group (see the module docs).
pub(crate) struct ChunkEncoder {
    descr: ColumnDescPtr,
    compression: Compression,
    compressor: Option<zstd::bulk::Compressor<'static>>,
    statistics: bool,
    truncate: Option<usize>,
    /// The dictionary page size past which a text column is written without a dictionary.
    dictionary_limit: usize,
    /// Definition levels of the open page, one bit per row (set: the value is present); `None`
    /// for a required column, which has none.
    levels: Option<BooleanBufferBuilder>,
    values: Values,
    page_rows: usize,
    page_nulls: usize,
    nulls: u64,
    rows: u64,
    /// The chunk's data pages so far, each with its header, in buffers of their own size.
    pages: Vec<Bytes>,
    /// The encodings of the data pages so far.
    encodings: Vec<Encoding>,
    /// Each data page's first row in the chunk, for the offset index (`None` when the
    /// properties disable it).
    page_first_rows: Option<Vec<u64>>,
    uncompressed_bytes: u64,
    /// Reused between pages: the page's encoded values, and their compressed form.
    body: Vec<u8>,
    compressed: Vec<u8>,
}

/// The open page's values and the chunk's statistics, by kind.
enum Values {
    Ints {
        values: Vec<i64>,
        /// 32-bit columns take their deltas in 32-bit arithmetic, as their readers do.
        int32: bool,
        /// Unsigned 64-bit values (stored as their bit patterns) order as unsigned.
        unsigned: bool,
        min: Option<i64>,
        max: Option<i64>,
    },
    Texts {
        /// The open page's values, `DELTA_BYTE_ARRAY`-encoded (once the dictionary has given up).
        deltas: DeltaTexts,
        /// Bounds of the values written without the dictionary.
        min: Option<Vec<u8>>,
        max: Option<Vec<u8>>,
        /// While the column's distinct values are few enough: where each member is.
        members: Option<TextDictionary>,
        dictionary: Dictionary,
    },
    Codes {
        dictionary: Dictionary,
        index_of: hashbrown::HashMap<Vec<u8>, u32>,
        used: Vec<bool>,
        /// The last batch's dictionary and, for each of its keys, the member index.
        last_dictionary: Option<ArrayData>,
        remap: Vec<u32>,
    },
}

/// Dictionary-encoded values: the chunk's members and the open page's indices.
#[derive(Default)]
struct Dictionary {
    members: Vec<Vec<u8>>,
    indices: Vec<u32>,
}

/// The member index of each distinct text of a column. A short text (at most 12 bytes) is
/// inside its Arrow view, so the view, its unused bytes masked, is its key, found without reading
/// any text buffer; a longer one is keyed by its bytes, kept one after the other in `long_bytes`
/// (comparing with members scattered in their own allocations missed the cache on every row).
#[derive(Default)]
struct TextDictionary {
    short: hashbrown::HashMap<u128, u32>,
    /// Per long member: where its bytes start in `long_bytes`, their length, its member index.
    long: hashbrown::HashTable<(u32, u32, u32)>,
    long_bytes: Vec<u8>,
    hashing: hashbrown::DefaultHashBuilder,
    /// The dictionary page's size so far: each member's bytes and its 4-byte length.
    bytes: usize,
}

impl TextDictionary {
    /// The member index of the long text `text`, which becomes a member of `members` if new.
    fn long_index(&mut self, members: &mut Vec<Vec<u8>>, text: &[u8]) -> u32 {
        let TextDictionary { long, long_bytes, hashing, .. } = self;
        let hash = hashing.hash_one(text);
        let span = |&(start, len, _): &(u32, u32, u32)| start as usize..(start + len) as usize;
        if let Some(&(_, _, index)) = long.find(hash, |entry| long_bytes[span(entry)] == *text) {
            return index;
        }
        let entry = (long_bytes.len() as u32, text.len() as u32, members.len() as u32);
        long.insert_unique(hash, entry, |entry| hashing.hash_one(&long_bytes[span(entry)]));
        long_bytes.extend_from_slice(text);
        members.push(text.to_vec());
        self.bytes += 4 + text.len();
        entry.2
    }
}

/// Members a text dictionary may reach before the column goes without one, whatever their size:
/// past that, its hash table no longer fits the caches and a lookup costs more than the bytes it
/// saves (W1's postcodes, 97,000 of them in a million rows, were twice as slow as without).
const MAX_TEXT_MEMBERS: usize = 8192;

/// The view of a short text with the bytes past its length cleared (Arrow does not promise
/// zeros there), or `None` for a text of more than 12 bytes.
fn short_view_key(view: u128) -> Option<u128> {
    (view as u32 <= 12).then(|| etr_interp::canonical_inline(view))
}

impl ChunkEncoder {
    /// An encoder for a column of `data_type`, or `None` when the type, the column or the
    /// properties ask for something this module does not write (the caller keeps
    /// `ArrowColumnWriter` for it).
    pub(crate) fn for_column(data_type: &DataType, descr: ColumnDescPtr, props: &WriterProperties) -> Option<Self> {
        if descr.max_rep_level() > 0 || descr.max_def_level() > 1 {
            return None;
        }
        let path = descr.path();
        let compression = props.compression(path);
        let compressor = match compression {
            Compression::UNCOMPRESSED => None,
            Compression::ZSTD(level) => Some(zstd::bulk::Compressor::new(level.compression_level()).ok()?),
            _ => return None,
        };
        if props.bloom_filter_properties(path).is_some() {
            return None;
        }
        let physical = descr.physical_type();
        let values = match data_type {
            DataType::Int64 | DataType::UInt64 if physical == PhysicalType::INT64 => {
                if props.encoding(path) != Some(Encoding::DELTA_BINARY_PACKED) {
                    return None;
                }
                Values::Ints {
                    values: Vec::new(),
                    int32: false,
                    unsigned: matches!(data_type, DataType::UInt64),
                    min: None,
                    max: None,
                }
            }
            DataType::Int32 | DataType::Date32 if physical == PhysicalType::INT32 => {
                if props.encoding(path) != Some(Encoding::DELTA_BINARY_PACKED) {
                    return None;
                }
                Values::Ints { values: Vec::new(), int32: true, unsigned: false, min: None, max: None }
            }
            DataType::Utf8View if physical == PhysicalType::BYTE_ARRAY => {
                if props.dictionary_enabled(path) || props.encoding(path).is_some_and(|e| e != Encoding::PLAIN) {
                    return None;
                }
                Values::Texts {
                    deltas: DeltaTexts::default(),
                    min: None,
                    max: None,
                    members: Some(TextDictionary::default()),
                    dictionary: Dictionary::default(),
                }
            }
            DataType::Dictionary(key, value)
                if **key == DataType::UInt32 && **value == DataType::Utf8 && physical == PhysicalType::BYTE_ARRAY =>
            {
                Values::Codes {
                    dictionary: Dictionary::default(),
                    index_of: hashbrown::HashMap::new(),
                    used: Vec::new(),
                    last_dictionary: None,
                    remap: Vec::new(),
                }
            }
            _ => return None,
        };
        Some(ChunkEncoder {
            levels: (descr.max_def_level() == 1).then(|| BooleanBufferBuilder::new(PAGE_ROWS)),
            statistics: props.statistics_enabled(path) != EnabledStatistics::None,
            truncate: props.statistics_truncate_length(),
            dictionary_limit: props.dictionary_page_size_limit(),
            descr,
            compression,
            compressor,
            values,
            page_rows: 0,
            page_nulls: 0,
            nulls: 0,
            rows: 0,
            pages: Vec::new(),
            encodings: Vec::new(),
            page_first_rows: (!props.offset_index_disabled()).then(Vec::new),
            uncompressed_bytes: 0,
            body: Vec::new(),
            compressed: Vec::new(),
        })
    }

    /// Appends the rows of `array` (of the type the encoder was made for) that `keep` selects
    /// (all of them without a plan). Filtering first costs one copy of the column's fixed-width
    /// part, done by Arrow's filter kernels run by run, and leaves loops over contiguous values.
    pub(crate) fn write(&mut self, array: &dyn Array, keep: Option<&FilterPredicate>) -> Result<()> {
        let filtered;
        let array = match keep {
            Some(plan) => {
                filtered = plan.filter(array)?;
                filtered.as_ref()
            }
            None => array,
        };
        let rows = array.len();
        let nulls = array.logical_nulls().filter(|n| n.null_count() > 0);
        if let Values::Texts { members: Some(members), dictionary, .. } = &self.values
            && (members.bytes > self.dictionary_limit || dictionary.members.len() > MAX_TEXT_MEMBERS)
        {
            // From here on the column goes without a dictionary; the open page keeps its indices.
            if self.page_rows > 0 {
                self.flush_page()?;
            }
            if let Values::Texts { members, .. } = &mut self.values {
                *members = None;
            }
        }
        match (&mut self.levels, &nulls) {
            (Some(levels), Some(nulls)) => {
                levels.append_buffer(nulls.inner());
                self.page_nulls += nulls.null_count();
            }
            (Some(levels), None) => levels.append_n(rows, true),
            (None, Some(_)) => {
                return Err(RuntimeError::Internal(format!("nulls in the required column {}", self.descr.path())));
            }
            (None, None) => {}
        }
        let nulls = nulls.as_ref();
        match &mut self.values {
            Values::Ints { values, min, max, unsigned, .. } => {
                let start = values.len();
                match array.data_type() {
                    DataType::Int64 => push_ints(array.as_primitive::<Int64Type>().values(), nulls, values, |v| v),
                    DataType::UInt64 => {
                        push_ints(array.as_primitive::<UInt64Type>().values(), nulls, values, |v| v as i64)
                    }
                    DataType::Int32 => push_ints(array.as_primitive::<Int32Type>().values(), nulls, values, i64::from),
                    DataType::Date32 => {
                        push_ints(array.as_primitive::<Date32Type>().values(), nulls, values, i64::from)
                    }
                    other => return Err(wrong_type(other)),
                }
                if self.statistics {
                    update_int_bounds(&values[start..], *unsigned, min, max);
                }
            }
            Values::Texts { members: Some(text_members), dictionary, .. } => {
                let texts = match array.data_type() {
                    DataType::Utf8View => array.as_string_view(),
                    other => return Err(wrong_type(other)),
                };
                let views = texts.views();
                let Dictionary { members, indices } = dictionary;
                let mut last: Option<(u128, u32)> = None;
                let mut index_of = |i: usize| {
                    // Texts are read a line apart, long after the split: see `prefetch_ahead`.
                    etr_interp::prefetch_ahead(texts, i);
                    let view = views[i];
                    let Some(key) = short_view_key(view) else {
                        return text_members.long_index(members, texts.value(i).as_bytes());
                    };
                    if let Some((last_key, index)) = last
                        && last_key == key
                    {
                        return index;
                    }
                    let len = key as u32 as usize;
                    let index = intern(members, &mut text_members.short, key, || {
                        text_members.bytes += 4 + len;
                        key.to_le_bytes()[4..4 + len].to_vec()
                    });
                    last = Some((key, index));
                    index
                };
                match &nulls {
                    None => indices.extend((0..rows).map(&mut index_of)),
                    Some(nulls) => indices.extend(nulls.valid_indices().map(&mut index_of)),
                }
            }
            Values::Texts { deltas, min, max, members: None, .. } => {
                let texts = match array.data_type() {
                    DataType::Utf8View => array.as_string_view(),
                    other => return Err(wrong_type(other)),
                };
                let statistics = self.statistics;
                // The previous text of the page: the last one of the batch before, then each one.
                let carried = std::mem::take(&mut deltas.previous);
                let mut previous: &[u8] = &carried;
                let mut push = |i: usize| {
                    etr_interp::prefetch_ahead(texts, i);
                    let text = texts.value(i).as_bytes();
                    deltas.push(previous, text);
                    previous = text;
                    if statistics {
                        if min.as_deref().is_none_or(|m| text < m) {
                            *min = Some(text.to_vec());
                        }
                        if max.as_deref().is_none_or(|m| text > m) {
                            *max = Some(text.to_vec());
                        }
                    }
                };
                match nulls {
                    None => (0..rows).for_each(&mut push),
                    Some(nulls) => nulls.valid_indices().for_each(&mut push),
                }
                deltas.previous = previous.to_vec();
            }
            Values::Codes { dictionary: Dictionary { indices, members }, index_of, used, last_dictionary, remap } => {
                let codes = array.as_dictionary_opt::<UInt32Type>().ok_or_else(|| wrong_type(array.data_type()))?;
                let dictionary = codes.values().to_data();
                if last_dictionary.as_ref().is_none_or(|last| !last.ptr_eq(&dictionary)) {
                    let texts = codes.values().as_string_opt::<i32>().ok_or_else(|| wrong_type(array.data_type()))?;
                    remap.clear();
                    for text in texts.iter() {
                        let text = text.unwrap_or_default().as_bytes();
                        remap.push(intern(members, index_of, text.to_vec(), || text.to_vec()));
                    }
                    used.resize(members.len(), false);
                    *last_dictionary = Some(dictionary);
                }
                let keys = codes.keys().values();
                let start = indices.len();
                let lookup = |i: usize| remap.get(keys[i] as usize).copied().unwrap_or(u32::MAX);
                match nulls {
                    None => indices.extend((0..rows).map(lookup)),
                    Some(nulls) => indices.extend(nulls.valid_indices().map(lookup)),
                }
                for &index in &indices[start..] {
                    match used.get_mut(index as usize) {
                        Some(used) => *used = true,
                        None => {
                            return Err(RuntimeError::Internal(format!(
                                "a code key outside its dictionary in column {}",
                                self.descr.path()
                            )));
                        }
                    }
                }
            }
        }
        self.page_rows += rows;
        self.rows += rows as u64;
        if self.page_rows >= PAGE_ROWS || self.values.page_bytes() >= PAGE_BYTES {
            self.flush_page()?;
        }
        Ok(())
    }

    /// Ends the chunk: its bytes (the dictionary page first, if any, then the data pages) and
    /// what `SerializedRowGroupWriter::append_column` needs to splice them into a row group.
    pub(crate) fn close(mut self) -> Result<(ChunkPages, ColumnCloseResult)> {
        if self.page_rows > 0 {
            self.flush_page()?;
        }
        let mut pages = Vec::with_capacity(self.pages.len() + 1);
        let mut encodings = self.encodings.clone();
        encodings.push(Encoding::RLE);
        let mut uncompressed = self.uncompressed_bytes;
        let dictionary = match &self.values {
            Values::Codes { dictionary, .. } => Some(dictionary),
            Values::Texts { dictionary, .. } if encodings.contains(&Encoding::RLE_DICTIONARY) => Some(dictionary),
            _ => None,
        };
        let dictionary = if let Some(Dictionary { members, .. }) = dictionary {
            let mut plain = Vec::new();
            for member in members {
                plain.extend_from_slice(&(member.len() as u32).to_le_bytes());
                plain.extend_from_slice(member);
            }
            let page = Page::DictionaryPage {
                buf: compress(self.compressor.as_mut(), &plain, &mut self.compressed)?,
                num_values: members.len() as u32,
                encoding: Encoding::PLAIN,
                is_sorted: false,
            };
            let (bytes, spec) = serialize_page(CompressedPage::new(page, plain.len()))?;
            pages.push(bytes);
            uncompressed += spec.uncompressed_size as u64;
            encodings.push(Encoding::PLAIN);
            Some(0)
        } else {
            None
        };
        let data_page_offset = pages.iter().map(Bytes::len).sum::<usize>() as i64;
        // Where each data page lies in the chunk (`append_column` moves them to the file's offsets).
        let offset_index = self.page_first_rows.as_ref().map(|first_rows| {
            let mut offset = data_page_offset;
            let page_locations = self
                .pages
                .iter()
                .zip(first_rows)
                .map(|(page, &first_row)| {
                    let location = PageLocation {
                        offset,
                        compressed_page_size: page.len() as i32,
                        first_row_index: first_row as i64,
                    };
                    offset += page.len() as i64;
                    location
                })
                .collect();
            OffsetIndexMetaData { page_locations, unencoded_byte_array_data_bytes: None }
        });
        pages.append(&mut self.pages);
        let bytes = ChunkPages { pages };
        let mut metadata = ColumnChunkMetaData::builder(Arc::clone(&self.descr))
            .set_compression(self.compression)
            .set_encodings_mask(EncodingMask::new_from_encodings(encodings.iter()))
            .set_total_compressed_size(bytes.len() as i64)
            .set_total_uncompressed_size(uncompressed as i64)
            .set_num_values(self.rows as i64)
            .set_data_page_offset(data_page_offset)
            .set_dictionary_page_offset(dictionary);
        if self.statistics {
            metadata = metadata.set_statistics(self.values.statistics(self.nulls, self.truncate));
        }
        let close = ColumnCloseResult {
            bytes_written: bytes.len(),
            rows_written: self.rows,
            metadata: metadata.build()?,
            bloom_filter: None,
            column_index: None,
            offset_index,
        };
        Ok((bytes, close))
    }

    fn flush_page(&mut self) -> Result<()> {
        let body = &mut self.body;
        body.clear();
        if let Some(levels) = &mut self.levels {
            let levels = levels.finish();
            body.extend_from_slice(&[0; 4]);
            if self.page_nulls == 0 {
                // Every value present: one run.
                uleb128((levels.len() as u64) << 1, body);
                body.push(1);
            } else {
                let levels: Vec<u8> = levels.iter().map(u8::from).collect();
                rle_hybrid(&levels, 1, body);
            }
            let len = (body.len() - 4) as u32;
            body[..4].copy_from_slice(&len.to_le_bytes());
            self.nulls += self.page_nulls as u64;
            self.page_nulls = 0;
        }
        let encoding = match &mut self.values {
            Values::Ints { values, int32, .. } => {
                delta_binary_packed(values, *int32, body);
                values.clear();
                Encoding::DELTA_BINARY_PACKED
            }
            Values::Texts { deltas, members: None, .. } => {
                deltas.encode_page(body);
                Encoding::DELTA_BYTE_ARRAY
            }
            Values::Texts { dictionary, .. } | Values::Codes { dictionary, .. } => {
                dictionary.encode_page(body);
                Encoding::RLE_DICTIONARY
            }
        };
        if !self.encodings.contains(&encoding) {
            self.encodings.push(encoding);
        }
        let page = Page::DataPage {
            buf: compress(self.compressor.as_mut(), body, &mut self.compressed)?,
            num_values: self.page_rows as u32,
            encoding,
            def_level_encoding: Encoding::RLE,
            rep_level_encoding: Encoding::RLE,
            statistics: None,
        };
        let (bytes, spec) = serialize_page(CompressedPage::new(page, body.len()))?;
        self.pages.push(bytes);
        if let Some(first_rows) = &mut self.page_first_rows {
            first_rows.push(self.rows - self.page_rows as u64);
        }
        self.uncompressed_bytes += spec.uncompressed_size as u64;
        self.page_rows = 0;
        Ok(())
    }
}

impl Dictionary {
    /// Appends the open page's indices (their bit width, then the RLE / bit-packed hybrid) and
    /// empties them.
    fn encode_page(&mut self, body: &mut Vec<u8>) {
        let width = bit_width(self.members.len().saturating_sub(1) as u64);
        body.push(width);
        rle_hybrid(&self.indices, width, body);
        self.indices.clear();
    }
}

impl Values {
    /// The open page's encoded size, near enough to end pages at [`PAGE_BYTES`].
    fn page_bytes(&self) -> usize {
        match self {
            Values::Ints { values, .. } => values.len() * 8,
            Values::Texts { deltas, dictionary, .. } => deltas.page_bytes() + dictionary.indices.len(),
            Values::Codes { dictionary, .. } => dictionary.indices.len(),
        }
    }

    fn statistics(&self, nulls: u64, truncate: Option<usize>) -> Statistics {
        match self {
            Values::Ints { int32: true, min, max, .. } => {
                Statistics::int32(min.map(|v| v as i32), max.map(|v| v as i32), None, Some(nulls), false)
            }
            Values::Ints { min, max, .. } => Statistics::int64(*min, *max, None, Some(nulls), false),
            Values::Texts { min, max, dictionary, .. } => {
                // Every member of a text dictionary occurs in the chunk.
                let members = dictionary.members.iter().map(Vec::as_slice);
                let min = members.clone().chain(min.as_deref()).min();
                let max = members.chain(max.as_deref()).max();
                text_statistics(min, max, nulls, truncate)
            }
            Values::Codes { dictionary, used, .. } => {
                let present = dictionary.members.iter().zip(used).filter(|(_, u)| **u).map(|(m, _)| m.as_slice());
                let min = present.clone().min();
                let max = present.max();
                text_statistics(min, max, nulls, truncate)
            }
        }
    }
}

/// The index of the member `key` stands for in `members`, which gains `text()` if `key` is new.
fn intern<K: Hash + Eq, S: BuildHasher>(
    members: &mut Vec<Vec<u8>>,
    index_of: &mut hashbrown::HashMap<K, u32, S>,
    key: K,
    text: impl FnOnce() -> Vec<u8>,
) -> u32 {
    *index_of.entry(key).or_insert_with(|| {
        members.push(text());
        members.len() as u32 - 1
    })
}

/// Byte-array statistics; bounds longer than the truncation length are left out (statistics are
/// optional, a wrong bound is not).
fn text_statistics(min: Option<&[u8]>, max: Option<&[u8]>, nulls: u64, truncate: Option<usize>) -> Statistics {
    let fits = |v: &&[u8]| truncate.is_none_or(|n| v.len() <= n);
    let (min, max) = match (min.filter(fits), max.filter(fits)) {
        (Some(min), Some(max)) => (Some(ByteArray::from(min.to_vec())), Some(ByteArray::from(max.to_vec()))),
        _ => (None, None),
    };
    Statistics::byte_array(min, max, None, Some(nulls), false)
}

/// Texts in `DELTA_BYTE_ARRAY` encoding: each value as the length of the prefix it shares with the
/// value before it in the page, then the rest of it (lengths `DELTA_BINARY_PACKED`, then the rest
/// of every value, one after the other). Account numbers share all but their last digits, and
/// the lengths pack into a few bits: zstd gets fewer bytes than `PLAIN` gave it (W1's accepted
/// file: 36.2 MB -> 35.2 MB, in the same time).
#[derive(Default)]
struct DeltaTexts {
    prefixes: Vec<i64>,
    suffix_lengths: Vec<i64>,
    suffixes: Vec<u8>,
    /// The page's last text, between batches (the next batch's first text shares a prefix with
    /// it; empty at the start of a page).
    previous: Vec<u8>,
}

impl DeltaTexts {
    #[inline]
    fn push(&mut self, previous: &[u8], text: &[u8]) {
        let shared = common_prefix(previous, text);
        self.prefixes.push(shared as i64);
        self.suffix_lengths.push((text.len() - shared) as i64);
        self.suffixes.extend_from_slice(&text[shared..]);
    }

    fn page_bytes(&self) -> usize {
        self.suffixes.len() + 2 * self.prefixes.len()
    }

    /// Appends the page's values and starts a new page.
    fn encode_page(&mut self, body: &mut Vec<u8>) {
        delta_binary_packed(&self.prefixes, true, body);
        delta_binary_packed(&self.suffix_lengths, true, body);
        body.extend_from_slice(&self.suffixes);
        self.prefixes.clear();
        self.suffix_lengths.clear();
        self.suffixes.clear();
        self.previous.clear();
    }
}

/// The length of the longest common prefix of two byte strings, eight bytes at a time.
#[inline]
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut at = 0;
    while at + 8 <= n {
        let word = |s: &[u8]| {
            u64::from_le_bytes([s[at], s[at + 1], s[at + 2], s[at + 3], s[at + 4], s[at + 5], s[at + 6], s[at + 7]])
        };
        let differ = word(a) ^ word(b);
        if differ != 0 {
            return at + differ.trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    while at < n && a[at] == b[at] {
        at += 1;
    }
    at
}

/// Appends the present values of one batch of a column, widened to `i64`.
fn push_ints<T: Copy>(source: &[T], nulls: Option<&NullBuffer>, values: &mut Vec<i64>, widen: impl Fn(T) -> i64) {
    match nulls {
        None => values.extend(source.iter().map(|&v| widen(v))),
        Some(nulls) => values.extend(nulls.valid_indices().map(|i| widen(source[i]))),
    }
}

fn update_int_bounds(values: &[i64], unsigned: bool, min: &mut Option<i64>, max: &mut Option<i64>) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU was just checked to have AVX2, the only feature the function enables.
        return unsafe { update_int_bounds_avx2(values, unsigned, min, max) };
    }
    update_int_bounds_with(values, unsigned, min, max);
}

/// [`update_int_bounds`] where AVX2 may be used (see [`delta_binary_packed_avx2`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn update_int_bounds_avx2(values: &[i64], unsigned: bool, min: &mut Option<i64>, max: &mut Option<i64>) {
    update_int_bounds_with(values, unsigned, min, max);
}

#[inline(always)]
fn update_int_bounds_with(values: &[i64], unsigned: bool, min: &mut Option<i64>, max: &mut Option<i64>) {
    if values.is_empty() {
        return;
    }
    // One pass for both bounds, four values at a time on independent accumulators (the baseline
    // x86-64 target has no 64-bit vector minimum; `Iterator::min` and `max` took two passes with
    // a comparison function per value).
    fn bounds<T: Ord + Copy>(values: &[i64], key: impl Fn(i64) -> T) -> (T, T) {
        let first = key(values[0]);
        let (mut lo, mut hi) = ([first; 4], [first; 4]);
        let chunks = values.chunks_exact(4);
        for &v in chunks.remainder() {
            lo[0] = lo[0].min(key(v));
            hi[0] = hi[0].max(key(v));
        }
        for chunk in chunks {
            for k in 0..4 {
                lo[k] = lo[k].min(key(chunk[k]));
                hi[k] = hi[k].max(key(chunk[k]));
            }
        }
        (lo.into_iter().fold(first, T::min), hi.into_iter().fold(first, T::max))
    }
    if unsigned {
        let (lo, hi) = bounds(values, |v| v as u64);
        *min = Some(min.map_or(lo, |m| (m as u64).min(lo)) as i64);
        *max = Some(max.map_or(hi, |m| (m as u64).max(hi)) as i64);
    } else {
        let (lo, hi) = bounds(values, |v| v);
        *min = Some(min.map_or(lo, |m| m.min(lo)));
        *max = Some(max.map_or(hi, |m| m.max(hi)));
    }
}

/// The page's bytes, compressed, in a buffer of their size: a page stays in memory until its row
/// group ends, so the compressor's worst-case room is left in `scratch`.
fn compress(
    compressor: Option<&mut zstd::bulk::Compressor<'static>>,
    body: &[u8],
    scratch: &mut Vec<u8>,
) -> Result<Bytes> {
    match compressor {
        None => Ok(Bytes::copy_from_slice(body)),
        Some(zstd) => {
            scratch.clear();
            scratch.reserve(zstd::zstd_safe::compress_bound(body.len()));
            zstd.compress_to_buffer(body, scratch)
                .map_err(|e| RuntimeError::Internal(format!("zstd could not compress a page: {e}")))?;
            Ok(Bytes::copy_from_slice(scratch))
        }
    }
}

/// A page with its header, as the file will hold it.
fn serialize_page(page: CompressedPage) -> Result<(Bytes, PageWriteSpec)> {
    let mut sink = TrackedWrite::new(Vec::with_capacity(page.compressed_size() + 64));
    let spec = SerializedPageWriter::new(&mut sink).write_page(page)?;
    Ok((Bytes::from(sink.into_inner()?), spec))
}

/// A column chunk's pages, in order, as `append_column` reads them (from the start).
pub(crate) struct ChunkPages {
    pages: Vec<Bytes>,
}

impl Length for ChunkPages {
    fn len(&self) -> u64 {
        self.pages.iter().map(|p| p.len() as u64).sum()
    }
}

impl ChunkReader for ChunkPages {
    type T = PagesReader;

    fn get_read(&self, start: u64) -> parquet::errors::Result<PagesReader> {
        let mut reader = PagesReader { pages: self.pages.clone().into(), skip: start };
        reader.skip_to_start();
        Ok(reader)
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        let mut bytes = Vec::with_capacity(length);
        std::io::Read::read_to_end(&mut std::io::Read::take(self.get_read(start)?, length as u64), &mut bytes)?;
        if bytes.len() != length {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "{length} bytes at {start} past a column chunk's end"
            )));
        }
        Ok(Bytes::from(bytes))
    }
}

/// Reads [`ChunkPages`] as one run of bytes.
pub(crate) struct PagesReader {
    pages: std::collections::VecDeque<Bytes>,
    skip: u64,
}

impl PagesReader {
    fn skip_to_start(&mut self) {
        while let Some(page) = self.pages.front_mut() {
            if self.skip < page.len() as u64 {
                let _ = page.split_to(self.skip as usize);
                self.skip = 0;
                return;
            }
            self.skip -= page.len() as u64;
            self.pages.pop_front();
        }
    }
}

impl std::io::Read for PagesReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while let Some(page) = self.pages.front_mut() {
            if page.is_empty() {
                self.pages.pop_front();
                continue;
            }
            let n = page.len().min(out.len());
            out[..n].copy_from_slice(&page.split_to(n));
            return Ok(n);
        }
        Ok(0)
    }
}

fn wrong_type(data_type: &DataType) -> RuntimeError {
    RuntimeError::Internal(format!("a column of type {data_type} was given to an encoder made for another"))
}

/// The bits needed to write `max`.
fn bit_width(max: u64) -> u8 {
    (64 - max.leading_zeros()) as u8
}

/// Appends `value` as an unsigned LEB128 varint.
fn uleb128(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// Appends `values` packed `width` bits each, least significant bit first (Parquet's order).
/// Callers pass a multiple of eight values, so the bits fill whole bytes.
fn bit_pack(values: impl Iterator<Item = u64>, width: u8, out: &mut Vec<u8>) {
    if width == 0 {
        return;
    }
    let width = u32::from(width);
    let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
    out.reserve(values.size_hint().0 * width as usize / 8 + 8);
    // `acc` holds the `bits` low bits not yet written; a value that does not fit whole is split
    // between the word it completes and the next.
    let mut acc = 0u64;
    let mut bits = 0u32;
    for value in values {
        let value = value & mask;
        acc |= value << bits;
        let total = bits + width;
        if total >= 64 {
            out.extend_from_slice(&acc.to_le_bytes());
            acc = if bits == 0 { 0 } else { value >> (64 - bits) };
            bits = total - 64;
        } else {
            bits = total;
        }
    }
    out.extend_from_slice(&acc.to_le_bytes()[..bits.div_ceil(8) as usize]);
}

/// Appends `values` in Parquet's RLE / bit-packing hybrid encoding, `width` bits each: runs of
/// at least eight equal values as RLE runs, the rest bit-packed in groups of eight (at most 63
/// groups per run, which every reader accepts).
fn rle_hybrid<T: Copy + Into<u64> + PartialEq>(values: &[T], width: u8, out: &mut Vec<u8>) {
    let value_bytes = usize::from(width).div_ceil(8);
    let run_at = |i: usize| values[i..].iter().take_while(|&&v| v == values[i]).count();
    let mut i = 0;
    while i < values.len() {
        let run = run_at(i);
        if run >= 8 {
            uleb128((run as u64) << 1, out);
            out.extend_from_slice(&values[i].into().to_le_bytes()[..value_bytes]);
            i += run;
            continue;
        }
        // Bit-packed groups until a run of eight starts at a group's boundary.
        let start = i;
        let mut groups = 0u64;
        loop {
            groups += 1;
            i += 8;
            if i >= values.len() || groups == 63 || run_at(i) >= 8 {
                break;
            }
        }
        uleb128((groups << 1) | 1, out);
        let end = i.min(values.len());
        let padding = (groups as usize * 8) - (end - start);
        bit_pack(values[start..end].iter().map(|&v| v.into()).chain(std::iter::repeat_n(0, padding)), width, out);
    }
}

/// Appends `values` in `DELTA_BINARY_PACKED` encoding: blocks of [`DELTA_BLOCK`] deltas, each
/// with its least delta and [`DELTA_MINIBLOCK`]-value miniblocks of their own bit width. 32-bit
/// columns take deltas in 32-bit wrapping arithmetic, so that no width exceeds 32 bits.
fn delta_binary_packed(values: &[i64], int32: bool, out: &mut Vec<u8>) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU was just checked to have AVX2, the only feature the function enables.
        return unsafe { delta_binary_packed_avx2(values, int32, out) };
    }
    delta_binary_packed_with(values, int32, out);
}

/// [`delta_binary_packed`] where AVX2 may be used: the blocks' least deltas, offsets and widths
/// are folds over 64-bit values, which the baseline x86-64 target cannot vectorise (it has no
/// 64-bit comparison); a third of the page encoding's time went there.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn delta_binary_packed_avx2(values: &[i64], int32: bool, out: &mut Vec<u8>) {
    delta_binary_packed_with(values, int32, out);
}

#[inline(always)]
fn delta_binary_packed_with(values: &[i64], int32: bool, out: &mut Vec<u8>) {
    uleb128(DELTA_BLOCK as u64, out);
    uleb128((DELTA_BLOCK / DELTA_MINIBLOCK) as u64, out);
    uleb128(values.len() as u64, out);
    uleb128(zigzag(values.first().copied().unwrap_or(0)), out);
    let mut deltas = [0i64; DELTA_BLOCK];
    let mut rest = values.get(1..).unwrap_or_default();
    let mut previous = values.first().copied().unwrap_or(0);
    while !rest.is_empty() {
        let n = rest.len().min(DELTA_BLOCK);
        for (delta, &value) in deltas.iter_mut().zip(&rest[..n]) {
            *delta = if int32 {
                i64::from((value as i32).wrapping_sub(previous as i32))
            } else {
                value.wrapping_sub(previous)
            };
            previous = value;
        }
        rest = &rest[n..];
        let block = &deltas[..n];
        // A fold on the values vectorises; `Iterator::min` compares through a function per value.
        let min = block.iter().fold(i64::MAX, |a, &d| a.min(d));
        uleb128(zigzag(min), out);
        let offset = |d: i64| -> u64 {
            if int32 { u64::from((d as i32).wrapping_sub(min as i32) as u32) } else { d.wrapping_sub(min) as u64 }
        };
        // Padding past the block's last delta packs as zeros.
        let mut offsets = [0u64; DELTA_BLOCK];
        for (o, &d) in offsets.iter_mut().zip(block) {
            *o = offset(d);
        }
        let used = n.div_ceil(DELTA_MINIBLOCK);
        let mut widths = [0u8; DELTA_BLOCK / DELTA_MINIBLOCK];
        for (width, miniblock) in widths.iter_mut().zip(offsets.chunks(DELTA_MINIBLOCK)).take(used) {
            *width = bit_width(miniblock.iter().fold(0, |a, &b| a | b));
        }
        out.extend_from_slice(&widths);
        for (miniblock, &width) in offsets.chunks(DELTA_MINIBLOCK).zip(&widths).take(used) {
            bit_pack(miniblock.iter().copied(), width, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_width_counts_bits() {
        assert_eq!(bit_width(0), 0);
        assert_eq!(bit_width(1), 1);
        assert_eq!(bit_width(15), 4);
        assert_eq!(bit_width(16), 5);
        assert_eq!(bit_width(u64::MAX), 64);
    }

    #[test]
    fn rle_hybrid_uses_runs_and_groups() {
        let mut out = Vec::new();
        rle_hybrid(&[1u8; 10], 1, &mut out);
        // One RLE run of ten: header 10 << 1, then the value in one byte.
        assert_eq!(out, [20, 1]);
        out.clear();
        rle_hybrid(&[1u8, 0, 1, 0], 1, &mut out);
        // One bit-packed group (header 1 << 1 | 1), values LSB first, zero padding.
        assert_eq!(out, [3, 0b0101]);
    }

    #[test]
    fn bit_pack_matches_a_bit_by_bit_packing_at_every_width() {
        let mut next = etr_interp::test_support::xorshift(0x9E37_79B9_7F4A_7C15u64);
        for width in 1..=64u8 {
            let values: Vec<u64> = (0..40).map(|_| next()).collect();
            let mut expected = vec![0u8; (values.len() * usize::from(width)).div_ceil(8)];
            for (i, value) in values.iter().enumerate() {
                for bit in 0..usize::from(width) {
                    if value >> bit & 1 == 1 {
                        let at = i * usize::from(width) + bit;
                        expected[at / 8] |= 1 << (at % 8);
                    }
                }
            }
            let mut out = Vec::new();
            bit_pack(values.iter().copied(), width, &mut out);
            assert_eq!(out, expected, "width {width}");
        }
    }

    #[test]
    fn common_prefixes_are_counted_bytewise() {
        let texts: [&[u8]; 8] =
            [b"", b"a", b"ab", b"abcdefgh", b"abcdefghi", b"abcdefghij", b"abcdefgx", b"JCL0000000001"];
        for a in texts {
            for b in texts {
                let expected = a.iter().zip(b).take_while(|(x, y)| x == y).count();
                assert_eq!(common_prefix(a, b), expected, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn bit_pack_is_lsb_first() {
        let mut out = Vec::new();
        bit_pack([1u64, 2, 3, 4, 5, 6, 7, 0].into_iter(), 3, &mut out);
        // 1 | 2<<3 | 3<<6 | 4<<9 | 5<<12 | 6<<15 | 7<<18 | 0<<21, over three bytes.
        let packed: u32 = 1 | 2 << 3 | 3 << 6 | 4 << 9 | 5 << 12 | 6 << 15 | 7 << 18;
        assert_eq!(out, packed.to_le_bytes()[..3]);
    }
}
