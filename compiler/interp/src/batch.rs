//! The unit of work between the runtime's reader and the evaluators: a batch of split data lines.
//!
//! The reader decodes and splits the file; everything the spec's mapping and rules may read about a
//! line is here. Text arrays are `StringViewArray`s whose views point into the reader's decoded
//! buffer, so splitting copies no field bytes.

use arrow::array::StringViewArray;

/// A batch of data lines (never the header or trailer), split into the spec's declared columns.
#[derive(Debug, Clone)]
pub struct RawBatch {
    /// The 1-based physical line number of each line in the file (the header, when present, is line 1).
    pub line_nos: Vec<u64>,
    /// The decoded text of each whole line, without its terminator (kept for the rejects output).
    pub lines: StringViewArray,
    /// How many fields the splitter found on each line (an empty line has 1 field).
    pub field_counts: Vec<u32>,
    /// Lines whose bytes are not valid in the declared encoding. Their text in `lines` is decoded
    /// lossily (U+FFFD for each bad sequence) and their columns are all null; the evaluator rejects
    /// them under the spec's encoding rule and evaluates nothing else for them.
    pub bad_encoding: Vec<bool>,
    /// One array per declared column, in declaration order: the field's text, null when the field
    /// is empty or the line is too short to hold it. Fields past the declared columns are ignored.
    pub columns: Vec<StringViewArray>,
}

impl RawBatch {
    /// The number of lines in the batch.
    pub fn len(&self) -> usize {
        self.line_nos.len()
    }

    /// True when the batch holds no line.
    pub fn is_empty(&self) -> bool {
        self.line_nos.is_empty()
    }
}

/// A header or trailer line, split into its fields (the prefix field included, as field 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecordLine {
    /// The 1-based physical line number.
    pub line_no: u64,
    /// The decoded line text without its terminator.
    pub text: String,
    /// The fields, split on the source's delimiter, unquoted; empty fields are `None`.
    pub fields: Vec<Option<String>>,
}
