//! Writing a result for people and for tools: an aligned table, CSV with a header, or JSON lines.
//!
//! Every format writes values as Arrow's display does, which is exact for the lake's types: money,
//! `decimal(18,2)`, as its digits with two decimals (`1234.50`, never a float's `1234.5`), dates as
//! `2025-06-01`, timestamps in RFC 3339. JSON writes a decimal as a bare number with its two
//! decimals, and every key on every line (`null` included), so each line has the same shape.
//!
//! CSV and JSON are written batch by batch as the query produces them, so a result of millions of
//! rows streams through. A table must know every value to align its columns, so it holds its rows,
//! which is why `etr sql` bounds it by default.

use std::io::Write;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use futures::StreamExt;

use crate::error::SqlError;
use crate::query::QueryStream;

/// How a result is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Columns aligned in a box, for a terminal.
    Table,
    /// Comma-separated, a header line first, RFC 4180 quoting.
    Csv,
    /// One JSON object per row.
    JsonLines,
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub rows: usize,
    /// The result had more rows than the most asked for.
    pub truncated: bool,
}

impl QueryStream {
    /// Writes the result to `out` in `format`, at most `max_rows` rows. For `truncated` to be
    /// known, the query should have been run with a limit of one more row than `max_rows`.
    pub async fn write(
        mut self,
        format: OutputFormat,
        max_rows: Option<usize>,
        out: &mut dyn Write,
    ) -> Result<Written, SqlError> {
        let schema = self.schema();
        let mut sink = Sink::new(format, schema.clone(), out)?;
        let mut written = Written { rows: 0, truncated: false };
        while let Some(batch) = self.next().await {
            let batch = batch?;
            let room = max_rows.map_or(usize::MAX, |max| max - written.rows);
            let batch = if batch.num_rows() > room {
                written.truncated = true;
                batch.slice(0, room)
            } else {
                batch
            };
            written.rows += batch.num_rows();
            sink.write(&batch)?;
            if written.truncated {
                break;
            }
        }
        sink.finish()?;
        Ok(written)
    }
}

enum Sink<'a> {
    Table { schema: SchemaRef, batches: Vec<RecordBatch>, out: &'a mut dyn Write },
    // Boxed: the CSV writer's buffers make it several times the other variants' size.
    Csv(Box<arrow::csv::Writer<&'a mut dyn Write>>),
    Json(arrow::json::LineDelimitedWriter<&'a mut dyn Write>),
}

impl<'a> Sink<'a> {
    fn new(format: OutputFormat, schema: SchemaRef, out: &'a mut dyn Write) -> Result<Sink<'a>, SqlError> {
        Ok(match format {
            OutputFormat::Table => Sink::Table { schema, batches: Vec::new(), out },
            OutputFormat::Csv => {
                let mut writer = arrow::csv::WriterBuilder::new().with_header(true).build(out);
                // The header comes with the first batch written: an empty one gives a result of no
                // rows its header too.
                writer.write(&RecordBatch::new_empty(schema)).map_err(write_error)?;
                Sink::Csv(Box::new(writer))
            }
            OutputFormat::JsonLines => {
                Sink::Json(arrow::json::WriterBuilder::new().with_explicit_nulls(true).build(out))
            }
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<(), SqlError> {
        match self {
            Sink::Table { batches, .. } => {
                batches.push(batch.clone());
                Ok(())
            }
            Sink::Csv(writer) => writer.write(batch).map_err(write_error),
            Sink::Json(writer) => writer.write(batch).map_err(write_error),
        }
    }

    fn finish(self) -> Result<(), SqlError> {
        match self {
            Sink::Table { schema, batches, out } => {
                let table =
                    arrow::util::pretty::pretty_format_batches_with_schema(schema, &batches).map_err(write_error)?;
                writeln!(out, "{table}").map_err(write_error)?;
                out.flush().map_err(write_error)
            }
            Sink::Csv(writer) => writer.into_inner().flush().map_err(write_error),
            Sink::Json(mut writer) => {
                writer.finish().map_err(write_error)?;
                writer.into_inner().flush().map_err(write_error)
            }
        }
    }
}

fn write_error(error: impl std::fmt::Display) -> SqlError {
    SqlError::Write(error.to_string())
}
