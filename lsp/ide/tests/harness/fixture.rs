//! Fixture parsing and rendering helpers shared by the harness cases.

use etr_ide::{Analysis, AnalysisHost, Change, FileId, FileInfo, FilePosition, FileRange, SourceChange, TextRange};

/// The cursor marker in fixtures.
const CURSOR: &str = "$0";

/// A workspace built from a fixture, with the cursor if the fixture has one.
pub struct Fixture {
    pub analysis: Analysis,
    /// The workspace files: id, path, text without the marker.
    pub files: Vec<(FileId, String, String)>,
    pub cursor: Option<FilePosition>,
}

/// File ids of workspace files start here; the stdlib takes the ids below.
const FIRST_WORKSPACE_ID: u32 = 100;

pub fn fixture(text: &str) -> Fixture {
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(path) = line.strip_prefix("//- ") {
            sections.push((path.trim().to_string(), String::new()));
        } else {
            if sections.is_empty() {
                sections.push(("/main.etr".to_string(), String::new()));
            }
            sections.last_mut().expect("a section exists").1.push_str(line);
        }
    }
    if sections.is_empty() {
        // An empty fixture is one empty file.
        sections.push(("/main.etr".to_string(), String::new()));
    }
    let mut host = AnalysisHost::new();
    let mut change = Change::new();
    for (i, module) in etr_stdlib::MODULES.iter().enumerate() {
        let info = FileInfo { path: module.path.to_string(), module: Some(module.name.to_string()), read_only: true };
        change.add_file(FileId(i as u32), info, module.text.to_string());
    }
    let mut files = Vec::new();
    let mut cursor = None;
    for (i, (path, text)) in sections.into_iter().enumerate() {
        let file = FileId(FIRST_WORKSPACE_ID + i as u32);
        let text = match text.find(CURSOR) {
            Some(at) => {
                assert!(cursor.is_none(), "a fixture has at most one cursor");
                cursor = Some(FilePosition { file, offset: at as u32 });
                text.replacen(CURSOR, "", 1)
            }
            None => text,
        };
        let module = etr_workspace::module_name_for(path.trim_start_matches('/'));
        change.add_file(file, FileInfo { path: path.clone(), module, read_only: false }, text.clone());
        files.push((file, path, text));
    }
    host.apply_change(change);
    Fixture { analysis: host.analysis(), files, cursor }
}

impl Fixture {
    pub fn cursor(&self) -> FilePosition {
        self.cursor.expect("the fixture has a `$0` cursor")
    }

    /// The first workspace file (the one without a `//-` header, or the first listed).
    pub fn main(&self) -> FileId {
        self.files[0].0
    }

    pub fn path(&self, file: FileId) -> String {
        self.analysis.file_path(file).expect("known file")
    }

    pub fn text(&self, file: FileId) -> String {
        self.analysis.file_text(file).expect("not cancelled").expect("known file").to_string()
    }

    /// `path:line:col "text"` for a range, lines and columns from 1.
    pub fn describe(&self, range: FileRange) -> String {
        let text = self.text(range.file);
        let (line, column) = line_col(&text, range.range.start);
        let slice = &text[range.range.start as usize..range.range.end as usize];
        let shown = slice.lines().next().unwrap_or("");
        let shown = if shown.len() < slice.len() { format!("{shown}…") } else { shown.to_string() };
        format!("{}:{line}:{column} {shown:?}", self.path(range.file))
    }

    /// Every file a change touches, with the edits applied.
    pub fn apply(&self, change: &SourceChange) -> String {
        let mut out = String::new();
        for (file, edits) in &change.edits {
            let mut text = self.text(*file);
            let mut edits = edits.clone();
            edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
            for edit in edits {
                text.replace_range(edit.range.start as usize..edit.range.end as usize, &edit.new_text);
            }
            out.push_str(&format!("//- {}\n{text}", self.path(*file)));
        }
        out
    }

    pub fn slice(&self, file: FileId, range: TextRange) -> String {
        self.text(file)[range.start as usize..range.end as usize].to_string()
    }
}

pub fn line_col(text: &str, offset: u32) -> (usize, usize) {
    let before = &text[..offset as usize];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// A small but complete contributor spec used by many cases; `{}` is replaced by extra items.
pub const SPEC: &str = r#"contributor ACME "Acme" layout 1

use etr.record
use etr.codes

source delimited "|" {
  quote none
  encoding "utf-8" else reject E1
  header "H" { month: text }
  trailer "T" { count: int }
  columns { ACCT, NAME, BAL, STATUS } else reject E1
}

table statuses: text -> AccountStatus { "A" => "ACTIVE", "C" => "CLOSED" }

map to Record {
  account_no = ACCT
  subject_name = NAME.trim()
  outstanding_balance = parse_money(BAL, ringgit) else reject E2
  account_status = statuses[STATUS] else reject E1
}

let balance_or_zero = outstanding_balance ?? RM0

rule E1 reject "bad line"
rule E2 reject "bad amount"
rule C1 warn "credit" { check balance_or_zero >= RM0 on outstanding_balance }
rule F1 fatal "count" { check trailer.count == count() on count }
"#;
