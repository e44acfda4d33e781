//! The rows of `rejects.parquet` and `warnings.parquet`: one per finding on a line, in the fixed
//! violation schema both files share.

use std::sync::Arc;

use arrow::array::{ArrayBuilder, ArrayRef, RecordBatch, StringBuilder, UInt64Builder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::error::Result;

/// How serious a violation is, as written in the `severity` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The whole file is refused.
    Fatal,
    /// The line is rejected.
    Reject,
    /// The line is loaded; the finding is kept.
    Warn,
}

impl Severity {
    /// The text stored in the `severity` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Fatal => "FATAL",
            Severity::Reject => "REJECT",
            Severity::Warn => "WARN",
        }
    }
}

/// One row of `rejects.parquet` or `warnings.parquet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViolationRow<'a> {
    /// The physical line number.
    pub line_no: u64,
    /// The rule id (`"R2"`).
    pub rule: &'a str,
    /// How serious it is.
    pub severity: Severity,
    /// The canonical field concerned, or a pseudo-field such as `line` or `record_key`.
    pub field: &'a str,
    /// The raw text of the offending source field, when there is one.
    pub value: Option<&'a str>,
    /// A human-readable explanation.
    pub message: &'a str,
    /// The whole decoded line.
    pub raw_line: &'a str,
}

/// The schema of `rejects.parquet` and `warnings.parquet`.
pub fn violation_schema() -> SchemaRef {
    let text = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        Field::new("line_no", DataType::UInt64, false),
        text("rule", false),
        text("severity", false),
        text("field", false),
        text("value", true),
        text("message", false),
        text("raw_line", false),
    ]))
}

/// Accumulates violation rows and turns them into record batches of [`violation_schema`].
#[derive(Debug)]
pub struct ViolationRowsBuilder {
    schema: SchemaRef,
    line_no: UInt64Builder,
    rule: StringBuilder,
    severity: StringBuilder,
    field: StringBuilder,
    value: StringBuilder,
    message: StringBuilder,
    raw_line: StringBuilder,
}

impl Default for ViolationRowsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ViolationRowsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        ViolationRowsBuilder {
            schema: violation_schema(),
            line_no: UInt64Builder::new(),
            rule: StringBuilder::new(),
            severity: StringBuilder::new(),
            field: StringBuilder::new(),
            value: StringBuilder::new(),
            message: StringBuilder::new(),
            raw_line: StringBuilder::new(),
        }
    }

    /// Adds one row.
    pub fn append(&mut self, row: ViolationRow<'_>) {
        self.line_no.append_value(row.line_no);
        self.rule.append_value(row.rule);
        self.severity.append_value(row.severity.as_str());
        self.field.append_value(row.field);
        self.value.append_option(row.value);
        self.message.append_value(row.message);
        self.raw_line.append_value(row.raw_line);
    }

    /// Rows added since the last [`Self::finish`].
    pub fn len(&self) -> usize {
        self.line_no.len()
    }

    /// True when no row was added since the last [`Self::finish`].
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the rows added so far as one batch and empties the builder.
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.line_no.finish()),
            Arc::new(self.rule.finish()),
            Arc::new(self.severity.finish()),
            Arc::new(self.field.finish()),
            Arc::new(self.value.finish()),
            Arc::new(self.message.finish()),
            Arc::new(self.raw_line.finish()),
        ];
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}
