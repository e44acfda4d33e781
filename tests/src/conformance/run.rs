//! Running a translated case: the whole spec text, the input file, one `pipeline::run`, and the
//! outputs read back (`summary.json`, and the `X` rows of `rejects.parquet`).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, StringArray, UInt64Array};
use etr_runtime::pipeline::{self, RunConfig};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

use super::data::{Kind, Table};
use super::translate::Plan;

/// What a run of rule `X` produced.
#[derive(Debug)]
pub struct Actual {
    /// `rules.X` from `summary.json`, when the runtime writes it.
    pub stats: Option<Value>,
    /// The whole summary.
    pub summary: Value,
    /// `(pk_index, rejects.value)` of every `X` reject row.
    pub rejects: Vec<(usize, Option<String>)>,
}

/// The result of compiling and running a case's spec.
#[derive(Debug)]
pub enum Run {
    Ran(Actual),
    /// The spec does not compile: `(code, message)` of every error.
    DoesNotCompile(Vec<(String, String)>),
    /// The run failed, or its outputs could not be read.
    Failed(String),
}

/// The spec text for a plan over a table.
pub fn spec(table: &Table, plan: &Plan) -> String {
    let mut out = String::from("contributor GX \"Great Expectations conformance case\" layout 1\n\n");
    out.push_str("source delimited \"|\" {\n  quote \"\\\"\"\n  encoding \"utf-8\" else reject E0\n");
    if let Some(n) = plan.header_fields {
        let fields: Vec<String> = (0..n).map(|i| format!("h{i}: text")).collect();
        out.push_str(&format!("  header \"H\" {{ {} }}\n", fields.join(", ")));
    }
    let sources: Vec<&str> = table.columns.iter().map(|c| c.source.as_str()).collect();
    out.push_str(&format!("  columns {{ {} }} else reject E0\n}}\n\n", sources.join(", ")));
    let mut uses = plan.uses.clone();
    uses.sort_unstable();
    out.push_str("record Data {\n");
    for &i in &uses {
        let c = &table.columns[i];
        let ty = match c.kind {
            Kind::Int => "int",
            Kind::Number => "number",
            Kind::Text => "text",
            Kind::Bool => "bool",
        };
        out.push_str(&format!("  {}: {ty}\n", c.field));
    }
    out.push_str("}\n\nmap to Data {\n");
    for &i in &uses {
        let c = &table.columns[i];
        let s = &c.source;
        let value = match c.kind {
            Kind::Int => format!("parse_int({s}) else reject E0"),
            Kind::Number => format!("parse_number({s}) else reject E0"),
            Kind::Text => s.clone(),
            Kind::Bool => format!("if {s} == \"true\" then true else if {s} == \"false\" then false else null"),
        };
        out.push_str(&format!("  {} = {value}\n", c.field));
    }
    out.push_str("}\n\nrule E0 reject \"the line does not fit the dataset's columns\"\n");
    out.push_str(&plan.rule);
    out
}

/// Compiles and runs `spec_text` on `input`.
pub fn run(spec_text: &str, input: &str, header: bool) -> Run {
    let (program, diagnostics, _db, _file) = crate::compile("conformance.etr", spec_text);
    let errors: Vec<(String, String)> = diagnostics
        .iter()
        .filter(|d| d.severity == etr_sema::DiagnosticSeverity::Error)
        .map(|d| (d.code.id.to_string(), d.message.clone()))
        .collect();
    let Some(program) = program.filter(|_| errors.is_empty()) else {
        return Run::DoesNotCompile(errors);
    };
    match execute(program, input, header) {
        Ok(actual) => Run::Ran(actual),
        Err(e) => Run::Failed(e),
    }
}

fn execute(program: Arc<etr_ir::Program>, input: &str, header: bool) -> Result<Actual, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let input_path = dir.path().join("input.psv");
    std::fs::write(&input_path, input).map_err(|e| e.to_string())?;
    let out = dir.path().join("out");
    let config = RunConfig { threads: 1, ..RunConfig::default() };
    pipeline::run(program, &input_path, &out, &config).map_err(|e| format!("the run failed: {e}"))?;
    let text = std::fs::read_to_string(out.join("summary.json")).map_err(|e| e.to_string())?;
    let summary: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let stats = summary.get("rules").and_then(|r| r.get("X")).cloned();
    let first_data_line = if header { 2 } else { 1 };
    let rejects = rejects_of(&out.join("rejects.parquet"), "X", first_data_line)?;
    Ok(Actual { stats, summary, rejects })
}

fn rejects_of(path: &Path, rule: &str, first_data_line: u64) -> Result<Vec<(usize, Option<String>)>, String> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| e.to_string())?
        .build()
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        let column = |name: &str| batch.column_by_name(name).ok_or_else(|| format!("rejects.parquet has no {name}"));
        let line_no = column("line_no")?.as_any().downcast_ref::<UInt64Array>().ok_or("line_no is not u64")?.clone();
        let rules = column("rule")?.as_any().downcast_ref::<StringArray>().ok_or("rule is not text")?.clone();
        let values = column("value")?.as_any().downcast_ref::<StringArray>().ok_or("value is not text")?.clone();
        for row in 0..batch.num_rows() {
            if rules.value(row) != rule {
                continue;
            }
            let pk = line_no.value(row).checked_sub(first_data_line).ok_or("a reject before the first data line")?;
            let value = (!values.is_null(row)).then(|| values.value(row).to_string());
            out.push((pk as usize, value));
        }
    }
    Ok(out)
}
