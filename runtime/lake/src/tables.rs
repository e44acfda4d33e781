//! The three tables' schemas and partitioning, and how the records table follows the canonical
//! record as it gains fields.
//!
//! Field ids are the contract with every reader (Iceberg matches columns by id, not by name), so they
//! are assigned once and never reused: the lake's own columns take 1-4, the record's fields follow
//! in the record's order at creation, and a field the record gains later takes the next free id
//! (schema evolution, `evolved_records_schema`). A field the record drops stays in the table and is
//! null in later files.

use iceberg_rust::spec::partition::{PartitionField, PartitionSpec, Transform};
use iceberg_rust::spec::schema::Schema;
use iceberg_rust::spec::types::{PrimitiveType, StructField, Type};

use crate::error::LakeError;

/// The lake's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableName {
    Records,
    Rejects,
    Runs,
}

impl TableName {
    pub const ALL: [TableName; 3] = [TableName::Records, TableName::Rejects, TableName::Runs];

    pub fn as_str(self) -> &'static str {
        match self {
            TableName::Records => "records",
            TableName::Rejects => "rejects",
            TableName::Runs => "runs",
        }
    }

    /// Whether a run's files replace the previous run's of the same contributor-month (records and
    /// rejects), or are appended to the history (runs).
    pub(crate) fn replaces_month(self) -> bool {
        !matches!(self, TableName::Runs)
    }
}

/// A column type of the lake, as SQL engines read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LakeType {
    Text,
    Long,
    /// `decimal(18,2)`: money, exact, from the engine's integer sen.
    Money,
    Double,
    Date,
    Bool,
    /// A timestamp with time zone, in microseconds.
    Timestamp,
}

impl LakeType {
    fn iceberg(self) -> Type {
        Type::Primitive(match self {
            LakeType::Text => PrimitiveType::String,
            LakeType::Long => PrimitiveType::Long,
            LakeType::Money => PrimitiveType::Decimal { precision: 18, scale: 2 },
            LakeType::Double => PrimitiveType::Double,
            LakeType::Date => PrimitiveType::Date,
            LakeType::Bool => PrimitiveType::Boolean,
            LakeType::Timestamp => PrimitiveType::Timestamptz,
        })
    }
}

/// A field of the canonical record, as the records table stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordField {
    pub name: String,
    pub ty: LakeType,
    pub doc: Option<String>,
}

/// The lake's own columns at the head of `records` and `rejects`: which run, whose, which month,
/// which line of the file.
const RUN_ID: &str = "run_id";
const CONTRIBUTOR: &str = "contributor";
pub(crate) const MONTH: &str = "month";
const LINE_NO: &str = "line_no";

fn lake_columns() -> Vec<StructField> {
    vec![
        field(
            1,
            RUN_ID,
            true,
            LakeType::Text,
            "The run that published this row (its data file carries it in its name).",
        ),
        field(2, CONTRIBUTOR, true, LakeType::Text, "The contributor the file came from, as the workspace names it."),
        field(3, MONTH, true, LakeType::Date, "The reporting month of the file, as its first day."),
        field(4, LINE_NO, true, LakeType::Long, "The line of the contributor's file, from 1."),
    ]
}

fn field(id: i32, name: &str, required: bool, ty: LakeType, doc: &str) -> StructField {
    StructField::new(id, name, required, ty.iceberg(), Some(doc.to_owned()))
}

fn schema(fields: Vec<StructField>) -> Result<Schema, LakeError> {
    let mut builder = Schema::builder();
    for f in fields {
        builder.with_struct_field(f);
    }
    builder.build().map_err(|e| LakeError::Schema { table: String::new(), message: e.to_string() })
}

/// The records table's schema for a new table.
pub(crate) fn records_schema(record: &[RecordField]) -> Result<Schema, LakeError> {
    let mut fields = lake_columns();
    for (offset, f) in record.iter().enumerate() {
        if fields.iter().any(|existing| existing.name == f.name) {
            return Err(LakeError::Schema {
                table: "records".into(),
                message: format!("the record's field `{}` has the name of a column of the lake's own", f.name),
            });
        }
        let id = 5 + i32::try_from(offset).map_err(|_| LakeError::Config("a record of too many fields".into()))?;
        fields.push(StructField::new(id, &f.name, false, f.ty.iceberg(), f.doc.clone()));
    }
    schema(fields)
}

/// The records table's schema with the fields `record` has and `current` lacks appended under new
/// ids, or `None` when `current` already has them all. A field whose type changed is an error: the
/// files already written would no longer read as that type.
pub(crate) fn evolved_records_schema(current: &Schema, record: &[RecordField]) -> Result<Option<Schema>, LakeError> {
    let mut fields: Vec<StructField> = current.fields().iter().cloned().collect();
    let mut next_id = fields.iter().map(|f| f.id).max().unwrap_or(0) + 1;
    let mut changed = false;
    for f in record {
        match fields.iter().find(|existing| existing.name == f.name) {
            Some(existing) if existing.field_type == f.ty.iceberg() => {}
            Some(existing) => {
                return Err(LakeError::Schema {
                    table: "records".into(),
                    message: format!(
                        "the record's field `{}` is {} in the lake and {} in the spec; a field's type cannot change",
                        f.name,
                        existing.field_type,
                        f.ty.iceberg()
                    ),
                });
            }
            None => {
                fields.push(StructField::new(next_id, &f.name, false, f.ty.iceberg(), f.doc.clone()));
                next_id += 1;
                changed = true;
            }
        }
    }
    if !changed {
        return Ok(None);
    }
    let mut builder = Schema::builder();
    builder.with_schema_id(current.schema_id() + 1);
    for f in fields {
        builder.with_struct_field(f);
    }
    builder.build().map(Some).map_err(|e| LakeError::Schema { table: "records".into(), message: e.to_string() })
}

/// The rejects table: one row per rejected line and reason.
pub(crate) fn rejects_schema() -> Result<Schema, LakeError> {
    let mut fields = lake_columns();
    fields.extend([
        field(5, "rule", true, LakeType::Text, "The rule the line broke."),
        field(6, "severity", true, LakeType::Text, "What the rule does to a line: reject."),
        field(7, "field", true, LakeType::Text, "The contributor's column or the record's field the rule judged."),
        field(8, "value", false, LakeType::Text, "The offending value as the contributor sent it."),
        field(9, "message", true, LakeType::Text, "The rule's message."),
        field(10, "raw_line", true, LakeType::Text, "The whole line as received."),
    ]);
    schema(fields)
}

/// The runs table: one row per published run.
pub(crate) fn runs_schema() -> Result<Schema, LakeError> {
    schema(vec![
        field(1, RUN_ID, true, LakeType::Text, "The run, as the ledger names it."),
        field(2, CONTRIBUTOR, true, LakeType::Text, "The contributor the file came from."),
        field(3, MONTH, true, LakeType::Date, "The reporting month of the file, as its first day."),
        field(4, "file_name", true, LakeType::Text, "The file's name as received."),
        field(5, "content_hash", true, LakeType::Text, "SHA-256 of the file's bytes, hex."),
        field(6, "size_bytes", true, LakeType::Long, "The file's size."),
        field(7, "lines_read", true, LakeType::Long, "Lines of the file the engine read."),
        field(8, "accepted", true, LakeType::Long, "Records published to `records`."),
        field(9, "rejected", true, LakeType::Long, "Lines published to `rejects`."),
        field(10, "warnings", true, LakeType::Long, "Lines with warnings."),
        field(11, "spec_hash", true, LakeType::Text, "The hash of the spec and stdlib texts the run used."),
        field(12, "published_at", true, LakeType::Timestamp, "When the run was committed to the lake."),
        field(13, "replaced_run_id", false, LakeType::Text, "The run whose records this one replaced, if any."),
    ])
}

/// `records` and `rejects` by month (identity: the value is read from each file's statistics,
/// where the column is constant); `runs` unpartitioned. The files still lie in
/// `month=.../contributor=.../` folders, and each file's bounds on `contributor` are exact (it is
/// one value per file), so readers skip other contributors' files by those. The contributor is
/// not a partition field because iceberg-rust 0.10 writes a manifest list's bounds of a string
/// partition field as the first value added to the manifest, and readers that trust them (pyiceberg,
/// Spark, Trino) then miss the other contributors' rows (docs/notes/0027).
pub(crate) fn partition_spec(table: TableName) -> Result<PartitionSpec, LakeError> {
    let mut builder = PartitionSpec::builder();
    if table.replaces_month() {
        builder.with_partition_field(PartitionField::new(3, 1000, MONTH, Transform::Identity));
    } else {
        builder.with_fields(Vec::new());
    }
    builder.build().map_err(|e| LakeError::Schema { table: table.as_str().into(), message: e.to_string() })
}

impl RecordField {
    /// The fields of a spec's record, in the lake's types.
    pub fn of_record(record: &etr_ir::RecordType) -> Vec<RecordField> {
        use etr_ir::TypeKind;
        record
            .fields
            .iter()
            .map(|f| RecordField {
                name: f.name.clone(),
                ty: match f.ty.kind {
                    TypeKind::Text | TypeKind::Code(_) => LakeType::Text,
                    TypeKind::Int => LakeType::Long,
                    TypeKind::Money => LakeType::Money,
                    TypeKind::Number => LakeType::Double,
                    TypeKind::Date | TypeKind::Month => LakeType::Date,
                    // A record field is never null-typed or a list (the compiler refuses it).
                    TypeKind::Bool | TypeKind::Null | TypeKind::List(_) => LakeType::Bool,
                },
                doc: (!f.doc.is_empty()).then(|| f.doc.clone()),
            })
            .collect()
    }
}
