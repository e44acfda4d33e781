//! The accepted output: the record's fields in their output Arrow types, plus `line_no`.
//!
//! Codes become `Dictionary(UInt32, Utf8)` over their code type's members, so the member indices
//! the evaluator computed are the dictionary keys as they are, with no string copied per row.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, DictionaryArray, StringArray, UInt64Array};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt32Type};
use arrow::record_batch::RecordBatch;
use etr_ir::{CodeType, IndexVec, Program, TypeKind};

use crate::error::InterpError;

/// The output Arrow type of a record field.
pub(crate) fn output_type(kind: TypeKind) -> DataType {
    match kind {
        TypeKind::Text => DataType::Utf8View,
        TypeKind::Int | TypeKind::Money => DataType::Int64,
        TypeKind::Number => DataType::Float64,
        TypeKind::Date | TypeKind::Month => DataType::Date32,
        // A record field is never a list (the compiler refuses it); `Boolean` keeps this total.
        TypeKind::Bool | TypeKind::Null | TypeKind::List(_) => DataType::Boolean,
        TypeKind::Code(_) => DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8)),
    }
}

/// Every field is nullable: a field the mapping leaves unassigned, or that failed under
/// `else null`, is null whatever its declared type says.
pub(crate) fn schema(program: &Program) -> SchemaRef {
    let mut fields: Vec<Field> =
        program.record.fields.iter().map(|f| Field::new(&f.name, output_type(f.ty.kind), true)).collect();
    fields.push(Field::new("line_no", DataType::UInt64, false));
    Arc::new(Schema::new(fields))
}

/// The members of each code type as a string array (the dictionaries of code columns).
pub(crate) fn dictionaries(program: &Program) -> IndexVec<CodeType, ArrayRef> {
    program.code_types.iter().map(|c| Arc::new(StringArray::from_iter_values(c.members.iter())) as ArrayRef).collect()
}

/// Builds the output batch from evaluated fields, keeping the rows where `keep` is true.
pub(crate) fn batch(
    program: &Program,
    schema: &SchemaRef,
    dictionaries: &IndexVec<CodeType, ArrayRef>,
    fields: &[ArrayRef],
    line_nos: &[u64],
    keep: &[bool],
) -> Result<RecordBatch, InterpError> {
    if keep.len() != line_nos.len() {
        return Err(InterpError::InvalidBatch(format!(
            "output of {} lines with {} keep flags",
            line_nos.len(),
            keep.len()
        )));
    }
    let all = record(program, schema, dictionaries, fields, line_nos)?;
    Ok(filter_record_batch(&all, &BooleanArray::from(keep.to_vec()))?)
}

/// Builds the output batch of every line from evaluated fields. The arrays are the evaluated
/// ones, shared, not copied (codes gain their dictionary).
pub(crate) fn record(
    program: &Program,
    schema: &SchemaRef,
    dictionaries: &IndexVec<CodeType, ArrayRef>,
    fields: &[ArrayRef],
    line_nos: &[u64],
) -> Result<RecordBatch, InterpError> {
    let len = line_nos.len();
    if fields.len() != program.record.fields.len() || fields.iter().any(|f| f.len() != len) {
        return Err(InterpError::InvalidBatch(format!("output of {len} lines with {} field arrays", fields.len())));
    }
    let mut columns = Vec::with_capacity(fields.len() + 1);
    for (def, array) in program.record.fields.iter().zip(fields) {
        let array = match def.ty.kind {
            TypeKind::Code(ty) => {
                let values = dictionaries
                    .get(ty)
                    .ok_or_else(|| InterpError::internal(format!("code type {} does not exist", ty.raw())))?;
                let keys = array
                    .as_primitive_opt::<UInt32Type>()
                    .ok_or_else(|| InterpError::internal(format!("field {} is not a code column", def.name)))?;
                Arc::new(DictionaryArray::<UInt32Type>::try_new(keys.clone(), values.clone())?) as ArrayRef
            }
            _ => array.clone(),
        };
        columns.push(array);
    }
    columns.push(Arc::new(UInt64Array::from(line_nos.to_vec())));
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}
