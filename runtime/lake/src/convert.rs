//! From the engine's output folder to the lake's columns: the run's constant columns added, money
//! from integer sen to `decimal(18,2)` (the same integers, with a scale: no arithmetic, so no
//! rounding), line numbers from unsigned to signed 64 bits, codes and string views to plain strings.
//!
//! The engine's Parquet is read batch by batch, so a run's size does not bound memory.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Date32Array, Int64Array, RecordBatch, StringArray, new_null_array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Decimal128Type, Int64Type, SchemaRef, UInt64Type};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use crate::error::LakeError;

/// The values every row of a run shares.
#[derive(Debug, Clone)]
pub(crate) struct RunColumns {
    pub run_id: String,
    pub contributor: String,
    /// Days since 1970-01-01 of the month's first day.
    pub month_day: i32,
}

/// Opens one of the engine's output files (`accepted.parquet`, `rejects.parquet`), if it exists.
/// A run refused or with no rejects may have none.
pub(crate) fn open_output(dir: &Path, name: &str) -> Result<Option<ParquetRecordBatchReader>, LakeError> {
    let path = dir.join(name);
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(output_error(&path, e)),
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|builder| builder.with_batch_size(64 * 1024).build())
        .map_err(|e| output_error(&path, e))?;
    Ok(Some(reader))
}

pub(crate) fn output_error(path: &Path, error: impl std::fmt::Display) -> LakeError {
    LakeError::Output { path: path.display().to_string(), message: error.to_string() }
}

/// One batch of the engine's output as a batch of `target` (the table's Arrow schema, field ids
/// included): the run's columns first, then each target column taken by name from `batch`, converted;
/// a target column `batch` lacks (a field the spec's record does not have) is null.
pub(crate) fn to_lake_batch(
    batch: &RecordBatch,
    target: &SchemaRef,
    run: &RunColumns,
) -> Result<RecordBatch, LakeError> {
    let rows = batch.num_rows();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(target.fields().len());
    for field in target.fields() {
        let column: ArrayRef = match field.name().as_str() {
            "run_id" => Arc::new(StringArray::from_iter_values(std::iter::repeat_n(&run.run_id, rows))),
            "contributor" => Arc::new(StringArray::from_iter_values(std::iter::repeat_n(&run.contributor, rows))),
            "month" => Arc::new(Date32Array::from(vec![run.month_day; rows])),
            name => match batch.column_by_name(name) {
                Some(source) => convert(source, field.data_type()).map_err(|message| LakeError::Schema {
                    table: String::new(),
                    message: format!("column `{name}`: {message}"),
                })?,
                None if field.is_nullable() => new_null_array(field.data_type(), rows),
                None => {
                    return Err(LakeError::Schema {
                        table: String::new(),
                        message: format!("the run's output has no column `{name}`, which the table requires"),
                    });
                }
            },
        };
        columns.push(column);
    }
    RecordBatch::try_new(target.clone(), columns)
        .map_err(|e| LakeError::Schema { table: String::new(), message: e.to_string() })
}

/// One column in the lake's type.
fn convert(source: &ArrayRef, target: &DataType) -> Result<ArrayRef, String> {
    match (source.data_type(), target) {
        (DataType::Int64, DataType::Decimal128(precision, scale)) => {
            // Sen are hundredths: the integer is the decimal's unscaled value as it is.
            let sen = source.as_primitive::<Int64Type>();
            let decimal = sen
                .unary::<_, Decimal128Type>(i128::from)
                .with_precision_and_scale(*precision, *scale)
                .map_err(|e| e.to_string())?;
            Ok(Arc::new(decimal))
        }
        (DataType::UInt64, DataType::Int64) => {
            let unsigned = source.as_primitive::<UInt64Type>();
            let signed: Int64Array = unsigned
                .try_unary(|v| {
                    i64::try_from(v).map_err(|_| arrow::error::ArrowError::ComputeError(format!("{v} exceeds a long")))
                })
                .map_err(|e| e.to_string())?;
            Ok(Arc::new(signed))
        }
        (from, to) if from == to => Ok(source.clone()),
        (_, to) => cast(source, to).map_err(|e| e.to_string()),
    }
}

/// A batch of `len` rows of only the run's constant columns (the runs table takes its row from the
/// ledger's facts, not from a file).
pub(crate) fn runs_row(target: &SchemaRef, values: Vec<ArrayRef>) -> Result<RecordBatch, LakeError> {
    RecordBatch::try_new(target.clone(), values)
        .map_err(|e| LakeError::Schema { table: "runs".into(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Decimal128Array, DictionaryArray, UInt64Array};
    use arrow::datatypes::{Field, Schema, UInt32Type};

    #[test]
    fn money_keeps_its_sen_as_the_unscaled_decimal_and_codes_become_strings() {
        let money: ArrayRef = Arc::new(Int64Array::from(vec![Some(123_456), None, Some(-5)]));
        let converted = convert(&money, &DataType::Decimal128(18, 2)).unwrap();
        let decimal = converted.as_any().downcast_ref::<Decimal128Array>().unwrap();
        assert_eq!(decimal.value_as_string(0), "1234.56");
        assert!(decimal.is_null(1));
        assert_eq!(decimal.value_as_string(2), "-0.05");

        let keys = arrow::array::UInt32Array::from(vec![1, 0]);
        let values: ArrayRef = Arc::new(StringArray::from(vec!["A", "C"]));
        let code: ArrayRef = Arc::new(DictionaryArray::<UInt32Type>::try_new(keys, values).unwrap());
        let converted = convert(&code, &DataType::Utf8).unwrap();
        assert_eq!(converted.as_string::<i32>().value(0), "C");
    }

    #[test]
    fn line_numbers_become_signed_and_missing_optional_fields_null() {
        let source = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("line_no", DataType::UInt64, false)])),
            vec![Arc::new(UInt64Array::from(vec![7, 9]))],
        )
        .unwrap();
        let target = Arc::new(Schema::new(vec![
            Field::new("run_id", DataType::Utf8, false),
            Field::new("contributor", DataType::Utf8, false),
            Field::new("month", DataType::Date32, false),
            Field::new("line_no", DataType::Int64, false),
            Field::new("new_field", DataType::Utf8, true),
        ]));
        let run = RunColumns { run_id: "run-1".into(), contributor: "JCL".into(), month_day: 20_000 };
        let batch = to_lake_batch(&source, &target, &run).unwrap();
        assert_eq!(batch.column(3).as_primitive::<Int64Type>().values(), &[7, 9]);
        assert_eq!(batch.column(4).null_count(), 2);
        assert_eq!(batch.column(0).as_string::<i32>().value(1), "run-1");

        let strict = Arc::new(Schema::new(vec![Field::new("required_field", DataType::Utf8, false)]));
        assert!(matches!(to_lake_batch(&source, &strict, &run), Err(LakeError::Schema { .. })));
    }
}
