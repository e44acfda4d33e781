//! `feedback.csv`: the contributor's view of every reject and warning, a line each, in file order.
//!
//! The rejects and warnings files are for the lake; this one is for the people who fix the
//! contributor's data, in a spreadsheet, so it is plain CSV in the contributor's own terms.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::PathBuf;

use super::folder::OutputDir;
use super::violations::ViolationRow;
use crate::error::{Result, RuntimeError};

/// The contributor feedback file's name in the output folder.
pub const FEEDBACK_FILE: &str = "feedback.csv";

/// The header of `feedback.csv`: what a contributor needs to fix a line, in their own terms.
const FEEDBACK_HEADER: &str = "line,rule,severity,field,value,message,raw_line\n";

/// Appends one CSV record (RFC 4180: fields quoted when they hold a comma, quote or line break).
///
/// A contributor opens this file in a spreadsheet, which runs a cell starting with `=`, `+`, `-`,
/// `@`, a tab or a CR as a formula (`=HYPERLINK(...)` in a raw line would become a live link). Such
/// a cell is written with a leading `'`, which spreadsheets show as text and hide; a plain signed
/// number (`-12.50`) is no formula and stays as it is.
pub(crate) fn feedback_row(out: &mut String, row: &ViolationRow<'_>) {
    use std::fmt::Write as _;
    let _ = write!(out, "{},", row.line_no);
    for (i, field) in [row.rule, row.severity.as_str(), row.field, row.value.unwrap_or(""), row.message, row.raw_line]
        .iter()
        .enumerate()
    {
        if i > 0 {
            out.push(',');
        }
        let guard = if spreadsheet_formula(field) { "'" } else { "" };
        if field.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(guard);
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(guard);
            out.push_str(field);
        }
    }
    out.push('\n');
}

/// Whether a spreadsheet would read the cell as a formula (see [`feedback_row`]).
fn spreadsheet_formula(cell: &str) -> bool {
    let Some(first) = cell.chars().next() else { return false };
    match first {
        '=' | '@' | '\t' | '\r' => true,
        '+' | '-' => {
            let rest = &cell[1..];
            !rest.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
        }
        _ => false,
    }
}

/// `feedback.csv` in a staging folder, open for appending rows.
pub(crate) struct FeedbackFile {
    file: BufWriter<File>,
    path: PathBuf,
}

impl FeedbackFile {
    /// Creates the file in `output`'s staging folder, with its header.
    pub(crate) fn create(output: &OutputDir) -> Result<FeedbackFile> {
        let path = output.staging_path().join(FEEDBACK_FILE);
        let file = BufWriter::new(File::create(&path).map_err(|e| RuntimeError::io("create", &path, e))?);
        let mut feedback = FeedbackFile { file, path };
        feedback.write(FEEDBACK_HEADER)?;
        Ok(feedback)
    }

    /// Appends rows made by [`feedback_row`].
    pub(crate) fn write(&mut self, rows: &str) -> Result<()> {
        self.file.write_all(rows.as_bytes()).map_err(|e| RuntimeError::io("write", &self.path, e))
    }

    /// Writes out what is buffered.
    pub(crate) fn finish(mut self) -> Result<()> {
        self.file.flush().map_err(|e| RuntimeError::io("write", &self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Severity;

    /// Finding 20 of issue 13: values such as `=HYPERLINK(...)` reached `feedback.csv` as they
    /// were, a live formula once a contributor opens it in a spreadsheet.
    #[test]
    fn feedback_cells_never_start_a_formula() {
        let row = |value: &'static str, raw_line: &'static str| {
            let mut out = String::new();
            let row = ViolationRow {
                line_no: 7,
                rule: "R2",
                severity: Severity::Reject,
                field: "open_date",
                value: Some(value),
                message: "not a date",
                raw_line,
            };
            feedback_row(&mut out, &row);
            out
        };
        assert_eq!(
            row("=HYPERLINK(\"http://x\",\"y\")", "@SUM(A1)|b"),
            "7,R2,REJECT,open_date,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",not a date,'@SUM(A1)|b\n"
        );
        assert_eq!(row("+1+cmd", "\tx"), "7,R2,REJECT,open_date,'+1+cmd,not a date,'\tx\n");
        assert_eq!(row("-12.50", "-"), "7,R2,REJECT,open_date,-12.50,not a date,-\n");
        assert_eq!(row("-1,000.00", "a=b"), "7,R2,REJECT,open_date,\"-1,000.00\",not a date,a=b\n");
        assert_eq!(row("", "\r=1"), "7,R2,REJECT,open_date,,not a date,\"'\r=1\"\n");
    }
}
