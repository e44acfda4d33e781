//! A GX dataset as a table for our reader: each column's type (from the dataset's pandas schema,
//! then its Spark schema, then the JSON values), its name in the spec, and the pipe-delimited file.
//!
//! The file has no header line unless a case asks for one (the table-shape expectations read the
//! column names from it): data line k (0-based) is physical line k + 1, or k + 2 after a header.

use serde_json::Value;

/// How a column is declared in the spec's record and read from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Number,
    Text,
    Bool,
}

/// One column of a dataset.
#[derive(Debug, Clone)]
pub struct Column {
    /// The name in the dataset.
    pub name: String,
    /// The record field's name in the spec (a sanitised identifier).
    pub field: String,
    /// The source column's name in the spec (`C0`, `C1`, ...).
    pub source: String,
    pub kind: Kind,
    /// The column mixes JSON strings and numbers (a pandas `object` column): it is loaded as text.
    pub mixed: bool,
    pub values: Vec<Value>,
}

/// A dataset's columns in their order.
#[derive(Debug, Clone)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: usize,
}

/// Words the grammar reserves: a field cannot be named after one.
const RESERVED: &[&str] = &[
    "and", "or", "not", "in", "is", "null", "true", "false", "if", "then", "else", "match", "check", "when", "require",
    "unique", "on", "reject", "fail", "mostly",
];

impl Table {
    /// The table of a dataset object (`data`, optional `schemas`), its columns in `order` (the
    /// file's key order; `serde_json` sorts keys), then any others.
    pub fn from_dataset(dataset: &Value, order: &[String]) -> Result<Table, String> {
        let data = dataset.get("data").and_then(Value::as_object).ok_or("the dataset has no `data` object")?;
        let schemas = dataset.get("schemas");
        let schema_of = |backend: &str, column: &str| {
            schemas.and_then(|s| s.get(backend)).and_then(|s| s.get(column)).and_then(Value::as_str).map(str::to_string)
        };
        let mut columns: Vec<Column> = Vec::new();
        let mut rows = None;
        let mut names: Vec<&String> = order.iter().filter(|n| data.contains_key(*n)).collect();
        names.extend(data.keys().filter(|k| !order.contains(k)));
        for (i, name) in names.into_iter().enumerate() {
            let values = &data[name];
            let values = values.as_array().ok_or_else(|| format!("column {name} is not a list"))?.clone();
            if *rows.get_or_insert(values.len()) != values.len() {
                return Err(format!("column {name} has another length"));
            }
            let inferred = infer(&values);
            let declared = schema_of("pandas", name)
                .and_then(|t| pandas_kind(&t))
                .or_else(|| schema_of("spark", name).and_then(|t| spark_kind(&t)));
            let mixed = is_mixed(&values);
            let kind = match declared {
                // A declared type the values cannot have (strings in an int column) is not used.
                Some(kind) if fits(kind, &values) && !mixed => kind,
                _ => inferred,
            };
            let source = format!("C{i}");
            let field = unique_field(&sanitise(name), &columns);
            columns.push(Column { name: name.clone(), field, source, kind, mixed, values });
        }
        Ok(Table { columns, rows: rows.unwrap_or(0) })
    }

    /// The column with this dataset name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The pipe-delimited input: optionally a header line `H|name|...`, then one line per row.
    pub fn psv(&self, header: bool) -> String {
        let mut out = String::new();
        if header {
            out.push('H');
            for c in &self.columns {
                out.push('|');
                out.push_str(&quote(&c.name));
            }
            out.push('\n');
        }
        for row in 0..self.rows {
            let fields: Vec<String> = self.columns.iter().map(|c| cell(c, &c.values[row])).collect();
            out.push_str(&fields.join("|"));
            out.push('\n');
        }
        out
    }
}

/// The text of one cell: an empty field for null, quoted text, plain numbers and booleans.
fn cell(column: &Column, value: &Value) -> String {
    match (column.kind, value) {
        (_, Value::Null) => String::new(),
        (Kind::Text, Value::String(s)) => quote(s),
        (Kind::Text, other) => quote(&plain(other)),
        (_, other) => plain(other),
    }
}

/// A JSON scalar as text: numbers in Rust's shortest round-trip form (never an exponent).
pub fn plain(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) => format!("{f}"),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

fn infer(values: &[Value]) -> Kind {
    let present: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
    if present.is_empty() {
        Kind::Text
    } else if present.iter().all(|v| v.as_i64().is_some()) {
        Kind::Int
    } else if present.iter().all(|v| v.is_number()) {
        Kind::Number
    } else if present.iter().all(|v| v.is_boolean()) {
        Kind::Bool
    } else {
        Kind::Text
    }
}

fn is_mixed(values: &[Value]) -> bool {
    let strings = values.iter().any(Value::is_string);
    let others = values.iter().any(|v| v.is_number() || v.is_boolean());
    strings && others
}

fn fits(kind: Kind, values: &[Value]) -> bool {
    values.iter().filter(|v| !v.is_null()).all(|v| match kind {
        Kind::Int => v.as_i64().is_some() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        Kind::Number => v.is_number(),
        Kind::Bool => v.is_boolean(),
        Kind::Text => v.is_string(),
    })
}

fn pandas_kind(name: &str) -> Option<Kind> {
    Some(match name {
        "int" | "int64" | "int32" | "Int64Dtype" => Kind::Int,
        "float" | "float64" | "float32" => Kind::Number,
        "str" | "object" | "string" => Kind::Text,
        "bool" => Kind::Bool,
        // Dates and timestamps are compared as ISO text.
        n if n.starts_with("datetime") || n == "date" || n == "timestamp" => Kind::Text,
        _ => return None,
    })
}

fn spark_kind(name: &str) -> Option<Kind> {
    Some(match name {
        "IntegerType" | "LongType" | "ShortType" | "ByteType" => Kind::Int,
        "FloatType" | "DoubleType" | "DecimalType" => Kind::Number,
        "StringType" | "NullType" | "TimestampType" | "DateType" => Kind::Text,
        "BooleanType" => Kind::Bool,
        _ => return None,
    })
}

/// An identifier for a dataset column name: other characters become `_`, and a reserved word, a
/// leading digit or a name like a source column (`C0`) gets an `f_` prefix.
fn sanitise(name: &str) -> String {
    let mut ident: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    let looks_like_source = ident.len() > 1 && ident.starts_with('C') && ident[1..].bytes().all(|b| b.is_ascii_digit());
    if ident.is_empty()
        || ident.starts_with(|c: char| c.is_ascii_digit())
        || RESERVED.contains(&ident.as_str())
        || looks_like_source
        || ident == "_"
    {
        ident = format!("f_{ident}");
    }
    ident
}

fn unique_field(base: &str, taken: &[Column]) -> String {
    let mut candidate = base.to_string();
    let mut n = 2;
    while taken.iter().any(|c| c.field == candidate) {
        candidate = format!("{base}_{n}");
        n += 1;
    }
    candidate
}
