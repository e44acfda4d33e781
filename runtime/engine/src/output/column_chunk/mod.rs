//! Parquet column chunks encoded from the output's Arrow types, without `ArrowColumnWriter`.
//!
//! Every column of the accepted file has one of a few Arrow types, fixed by the spec's record:
//! codes are `Dictionary(UInt32, Utf8)` over their code type's members, money, counts and line
//! numbers are integers, dates are `Date32`, free text is `Utf8View`. For these, a generic
//! writer does work the type makes needless (docs/notes/0010): it interns every code's text
//! again to build its dictionary and compares texts per row for the statistics, though the
//! member index *is* a dictionary index. A [`ColumnChunkEncoder`] takes the batch's kept rows
//! (filtered by Arrow's kernels, run by run) and encodes each kind directly:
//! - codes: the dictionary page holds the members (remapped once per distinct dictionary, not per
//!   row); the data pages hold the indices (`RLE_DICTIONARY`); the statistics are the least and
//!   greatest member that occurs, found from a bitmap of the members used;
//! - integers and dates: `DELTA_BINARY_PACKED`, with the minimum and maximum as integers;
//! - text: a dictionary (short texts keyed by their Arrow view, see [`values::TextDictionary`])
//!   until its page passes the properties' `dictionary_page_size_limit` or
//!   [`values::MAX_TEXT_MEMBERS`], then `DELTA_BYTE_ARRAY` ([`values::DeltaTexts`]), with
//!   byte-wise statistics unless the column is listed without them.
//!
//! Pages are format v1 data pages, compressed whole (levels and values) with zstd or not at all,
//! their headers written by parquet's own `SerializedPageWriter`. Pages end at
//! [`PAGE_ROWS`] rows or [`PAGE_BYTES`] encoded bytes, whichever comes first. Column chunks carry
//! chunk-level statistics (the null count always), an offset index and no bloom filter, as the
//! accepted file's `ArrowWriter` properties ask for too. The output is read back by parquet's
//! reader in the tests and must equal what `ArrowWriter` writes, value for value.
//!
//! The parts: the values of the open page and the chunk's statistics, by kind ([`values`]), the
//! Parquet encodings of integers and levels ([`encodings`]), and the pages as bytes ([`pages`]).

mod encodings;
mod pages;
mod values;

use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanBufferBuilder};
use arrow::compute::FilterPredicate;
use arrow::datatypes::{DataType, Date32Type, Int32Type, Int64Type, UInt32Type, UInt64Type};
use bytes::Bytes;
use etr_values::views::prefetch_ahead;
use parquet::basic::{Compression, Encoding, EncodingMask, Type as PhysicalType};
use parquet::column::page::{CompressedPage, Page};
use parquet::column::writer::ColumnCloseResult;
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::file::page_index::offset_index::{OffsetIndexMetaData, PageLocation};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::reader::Length;
use parquet::schema::types::ColumnDescPtr;

pub(crate) use pages::ColumnChunkPages;

use crate::error::{Result, RuntimeError};
use encodings::{delta_binary_packed, rle_hybrid, uleb128};
use pages::{compress, serialize_page};
use values::{
    DeltaTexts, Dictionary, MAX_TEXT_MEMBERS, TextDictionary, Values, intern, push_ints, short_view_key,
    update_int_bounds,
};

/// Rows per data page at most (`ArrowWriter`'s default row limit too).
const PAGE_ROWS: usize = 20_000;
/// Encoded bytes per data page at most, before compression (`ArrowWriter`'s default size).
const PAGE_BYTES: usize = 1 << 20;

/// Encodes one column chunk of a row group (see the module docs).
pub(crate) struct ColumnChunkEncoder {
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

impl ColumnChunkEncoder {
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
        Some(ColumnChunkEncoder {
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
                    prefetch_ahead(texts, i);
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
                    prefetch_ahead(texts, i);
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
    pub(crate) fn close(mut self) -> Result<(ColumnChunkPages, ColumnCloseResult)> {
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
        let bytes = ColumnChunkPages { pages };
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

fn wrong_type(data_type: &DataType) -> RuntimeError {
    RuntimeError::Internal(format!("a column of type {data_type} was given to an encoder made for another"))
}
