//! Small constructors for hand-built programs and batches, for this crate's tests and benchmarks
//! and for other crates' tests that want a program without going through the front end (`etr-sema`).
//!
//! Behind the `test-support` cargo feature (and `cfg(test)`), so that none of it ships in the
//! library: the crates whose tests and benches use it enable the feature in their
//! dev-dependencies. A whole spec's program (JCL's, workload W1) is not built here by hand but
//! compiled from `contributors/jcl.etr` by the front end, in `etr-tests` (`etr_tests::jcl_program`),
//! so that no hand lowering can drift from what the compiler produces.
//!
//! The constructors take the positions of columns, fields, rules and tables as plain numbers, as a
//! test writes them (`column(0)`, `reject(1, "x")`), and make them the IR's typed indices.

use arrow::array::StringViewArray;
use etr_ir::*;

use crate::batch::RawBatch;

/// A small deterministic generator (xorshift64) for tests that draw many random inputs without a
/// property-test harness: the same seed gives the same sequence on every run.
pub fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed.max(1);
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// The typed index of position `raw`, of whatever kind the place it goes to wants (`Slot::Field(idx(0))`,
/// `TypeKind::Code(idx(1))`).
pub fn idx<T>(raw: u32) -> Idx<T> {
    Idx::from_raw(raw)
}

/// An expression of type `ty`.
pub fn expr(kind: ExprKind, ty: Type) -> Expr {
    Expr { kind, ty }
}

pub fn text_lit(s: &str) -> Expr {
    expr(ExprKind::Literal(Literal::Text(s.to_owned())), Type::non_null(TypeKind::Text))
}

pub fn int_lit(v: i64) -> Expr {
    expr(ExprKind::Literal(Literal::Int(v)), Type::non_null(TypeKind::Int))
}

pub fn money_lit(sen: i64) -> Expr {
    expr(ExprKind::Literal(Literal::Money(sen)), Type::non_null(TypeKind::Money))
}

pub fn number_lit(v: f64) -> Expr {
    expr(ExprKind::Literal(Literal::Number(F64(v))), Type::non_null(TypeKind::Number))
}

pub fn bool_lit(b: bool) -> Expr {
    expr(ExprKind::Literal(Literal::Bool(b)), Type::non_null(TypeKind::Bool))
}

pub fn date_lit(days: i32) -> Expr {
    expr(ExprKind::Literal(Literal::Date(days)), Type::non_null(TypeKind::Date))
}

pub fn code_lit(ty: u32, idx: u32) -> Expr {
    let ty = Idx::from_raw(ty);
    expr(ExprKind::Literal(Literal::Code(ty, idx)), Type::non_null(TypeKind::Code(ty)))
}

/// The `null` literal, typed as `kind` (as the front end types it after unification).
pub fn null_lit(kind: TypeKind) -> Expr {
    expr(ExprKind::Literal(Literal::Null), Type::nullable(kind))
}

pub fn column(idx: u32) -> Expr {
    expr(ExprKind::Column(Idx::from_raw(idx)), Type::nullable(TypeKind::Text))
}

pub fn field(idx: u32, kind: TypeKind) -> Expr {
    expr(ExprKind::Field(Idx::from_raw(idx)), Type::nullable(kind))
}

pub fn local(idx: u32, kind: TypeKind) -> Expr {
    expr(ExprKind::Local(Idx::from_raw(idx)), Type::nullable(kind))
}

pub fn binary(op: BinaryOp, a: Expr, b: Expr) -> Expr {
    let kind = match op {
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => {
            if a.ty.kind == TypeKind::Null { b.ty.kind } else { a.ty.kind }
        }
        _ => TypeKind::Bool,
    };
    expr(ExprKind::Binary(op, Box::new(a), Box::new(b)), Type::nullable(kind))
}

pub fn not(a: Expr) -> Expr {
    expr(ExprKind::Unary(UnaryOp::Not, Box::new(a)), Type::nullable(TypeKind::Bool))
}

pub fn neg(a: Expr) -> Expr {
    let ty = a.ty;
    expr(ExprKind::Unary(UnaryOp::Neg, Box::new(a)), ty)
}

pub fn is_null(a: Expr, negated: bool) -> Expr {
    expr(ExprKind::IsNull { operand: Box::new(a), negated }, Type::non_null(TypeKind::Bool))
}

pub fn in_list(a: Expr, list: Vec<Literal>, negated: bool) -> Expr {
    expr(ExprKind::InList { operand: Box::new(a), list, negated }, Type::nullable(TypeKind::Bool))
}

pub fn coalesce(a: Expr, b: Expr) -> Expr {
    let kind = if a.ty.kind == TypeKind::Null { b.ty.kind } else { a.ty.kind };
    let ty = Type::new(kind, b.ty.nullable);
    expr(ExprKind::Coalesce(Box::new(a), Box::new(b)), ty)
}

pub fn if_else(condition: Expr, then_branch: Expr, else_branch: Expr) -> Expr {
    let kind = if then_branch.ty.kind == TypeKind::Null { else_branch.ty.kind } else { then_branch.ty.kind };
    expr(
        ExprKind::If {
            condition: Box::new(condition),
            then_branch: Box::new(then_branch),
            else_branch: Box::new(else_branch),
        },
        Type::nullable(kind),
    )
}

pub fn match_expr(scrutinee: Expr, arms: Vec<(Vec<Pattern>, Expr)>, default: Option<Expr>, kind: TypeKind) -> Expr {
    let arms = arms.into_iter().map(|(patterns, value)| MatchArm { patterns, value }).collect();
    expr(ExprKind::Match { scrutinee: Box::new(scrutinee), arms, default: default.map(Box::new) }, Type::nullable(kind))
}

/// A call of an infallible built-in returning `kind`.
pub fn call(function: Builtin, args: Vec<Expr>, kind: TypeKind) -> Expr {
    expr(ExprKind::Call { function, args }, Type::nullable(kind))
}

/// A fallible built-in call (a parse) with its failure handler.
pub fn fallible(function: Builtin, arg: Expr, kind: TypeKind, on_failure: OnFailure) -> Expr {
    expr(ExprKind::Fallible { op: FallibleOp::Call { function, args: vec![arg] }, on_failure }, Type::nullable(kind))
}

/// `table[key]` with its failure handler.
pub fn lookup(table: u32, key: Expr, kind: TypeKind, on_failure: OnFailure) -> Expr {
    let op = FallibleOp::Lookup { table: Idx::from_raw(table), key: Box::new(key) };
    expr(ExprKind::Fallible { op, on_failure }, Type::nullable(kind))
}

pub fn reject(rule: u32, target: &str) -> OnFailure {
    OnFailure::Reject { rule: Idx::from_raw(rule), target: target.to_owned() }
}

pub fn fail(rule: u32, target: &str) -> OnFailure {
    OnFailure::Fail { rule: Idx::from_raw(rule), target: target.to_owned() }
}

pub fn or_default(value: Expr) -> OnFailure {
    OnFailure::Default(Box::new(value))
}

/// A date format from its strftime-like pattern (`%d`, `%m`, `%Y`, `%y`, literal bytes).
pub fn date_format(pattern: &str) -> DateFormat {
    let mut items = Vec::new();
    let mut bytes = pattern.bytes();
    while let Some(b) = bytes.next() {
        match (b, b == b'%') {
            (_, true) => match bytes.next() {
                Some(b'd') => items.push(DateItem::Day2),
                Some(b'm') => items.push(DateItem::Month2),
                Some(b'Y') => items.push(DateItem::Year4),
                Some(b'y') => items.push(DateItem::Year2),
                Some(other) => items.push(DateItem::Literal(other)),
                None => items.push(DateItem::Literal(b'%')),
            },
            (b, false) => items.push(DateItem::Literal(b)),
        }
    }
    DateFormat { pattern: pattern.to_owned(), items }
}

pub fn rule(id: &str, severity: Severity) -> Rule {
    Rule { id: id.to_owned(), severity, message: format!("rule {id}"), mostly: None }
}

/// A row check of rule 1 that never fails but carries `value`: each row's value shows in the
/// check's statistics, which is how tests see how a value renders.
pub fn value_probe(value: Expr) -> RowCheck {
    RowCheck { rule: Idx::from_raw(1), target: "t".into(), when: None, condition: bool_lit(false), value: Some(value) }
}

/// A fatal file check of rule 1 on `target`.
/// A file check of rule 1 (fatal) that measures nothing (see [`measuring`]).
pub fn fatal_file_check(target: &str, condition: Expr) -> FileCheck {
    let rule = Idx::from_raw(1);
    FileCheck { rule, target: target.into(), condition, severity: Severity::Fatal, zone: None, observed: None }
}

/// `check`, measuring `observed` (what the front end decides from the condition).
pub fn measuring(check: FileCheck, observed: Expr) -> FileCheck {
    FileCheck { observed: Some(observed), ..check }
}

pub fn field_def(name: &str, kind: TypeKind) -> FieldDef {
    FieldDef { name: name.to_owned(), ty: Type::nullable(kind), doc: String::new() }
}

pub fn code_type(name: &str, members: &[&str]) -> CodeType {
    CodeType { name: name.to_owned(), members: members.iter().map(|m| (*m).to_owned()).collect() }
}

/// A text-keyed table onto code type `ty`, whose values are given as member names.
pub fn code_table(name: &str, ty: u32, types: &[CodeType], entries: &[(&str, &str)]) -> CodeTable {
    let members = &types[ty as usize].members;
    let ty = Idx::from_raw(ty);
    CodeTable {
        name: name.to_owned(),
        key_type: Type::non_null(TypeKind::Text),
        value_type: Type::non_null(TypeKind::Code(ty)),
        entries: entries
            .iter()
            .map(|(k, v)| {
                let idx = members.iter().position(|m| m == v).unwrap_or(u32::MAX as usize) as u32;
                (Literal::Text((*k).to_owned()), Literal::Code(ty, idx))
            })
            .collect(),
    }
}

/// An empty program over `columns` (rule 0 is `R0`, the field-count and encoding rule).
pub fn program(columns: &[&str]) -> Program {
    Program {
        contributor: Contributor { code: "TST".to_owned(), name: "Test".to_owned(), layout: 1 },
        source: Source {
            format: SourceFormat::Delimited { delimiter: b"|".to_vec(), quote: None },
            encoding: Encoding::Utf8,
            encoding_rule: Some(Idx::from_raw(0)),
            header: None,
            trailer: None,
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            field_count_rule: Idx::from_raw(0),
        },
        code_types: IndexVec::new(),
        tables: IndexVec::new(),
        record: RecordType { name: "Record".to_owned(), fields: IndexVec::new() },
        locals: IndexVec::new(),
        rules: IndexVec::from(vec![rule("R0", Severity::Reject)]),
        bindings: Vec::new(),
        row_checks: Vec::new(),
        aggregates: IndexVec::new(),
        file_checks: Vec::new(),
        unique_checks: Vec::new(),
        order_checks: Vec::new(),
    }
}

/// A batch of well-formed lines from rows of optional field texts (`None` = empty field).
pub fn batch(rows: &[Vec<Option<&str>>], columns: usize) -> RawBatch {
    let len = rows.len();
    let cols = (0..columns)
        .map(|c| StringViewArray::from(rows.iter().map(|r| r.get(c).copied().flatten()).collect::<Vec<_>>()))
        .collect();
    let lines = StringViewArray::from(
        rows.iter().map(|r| r.iter().map(|f| f.unwrap_or("")).collect::<Vec<_>>().join("|")).collect::<Vec<_>>(),
    );
    RawBatch {
        line_nos: (2..2 + len as u64).collect(),
        lines,
        field_counts: rows.iter().map(|r| r.len() as u32).collect(),
        bad_encoding: vec![false; len],
        columns: cols,
    }
}

/// A batch with one column, from optional texts.
pub fn one_column(values: &[Option<&str>]) -> RawBatch {
    batch(&values.iter().map(|v| vec![*v]).collect::<Vec<_>>(), 1)
}

/// Splits `|`-delimited data lines into a batch of `columns` columns (empty fields are null), the
/// way the runtime's splitter does; lines numbered from `first_line_no`.
pub fn split_batch(lines: &[&str], first_line_no: u64, columns: usize) -> RawBatch {
    let mut cols: Vec<Vec<Option<&str>>> = vec![Vec::with_capacity(lines.len()); columns];
    let mut field_counts = Vec::with_capacity(lines.len());
    for line in lines {
        let mut count = 0u32;
        for (k, part) in line.split('|').enumerate() {
            count += 1;
            if let Some(col) = cols.get_mut(k) {
                col.push((!part.is_empty()).then_some(part));
            }
        }
        for col in cols.iter_mut().skip(count as usize) {
            col.push(None);
        }
        field_counts.push(count);
    }
    RawBatch {
        line_nos: (first_line_no..first_line_no + lines.len() as u64).collect(),
        lines: StringViewArray::from(lines.to_vec()),
        field_counts,
        bad_encoding: vec![false; lines.len()],
        columns: cols.into_iter().map(StringViewArray::from).collect(),
    }
}

/// The data lines of a W1-style file's text: the header (`H|...`) and the trailer (`T|...`) left out.
pub fn data_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.starts_with("H|") && !l.starts_with("T|")).collect()
}

/// Fields `columns` (0-based) of every data line of `text`, in line order and repeated until there
/// are `count` of them, cut into one-column batches of `batch_len` lines (empty fields are null):
/// one kernel's input in the shape the runtime hands it over, for benchmarks. A line too short to
/// have one of the columns contributes nothing for it.
pub fn column_batches(text: &str, columns: &[usize], count: usize, batch_len: usize) -> Vec<RawBatch> {
    let fields: Vec<&str> = data_lines(text)
        .into_iter()
        .flat_map(|line| {
            let parts: Vec<&str> = line.split('|').collect();
            columns.iter().filter_map(move |&k| parts.get(k).copied()).collect::<Vec<_>>()
        })
        .collect();
    let values: Vec<Option<&str>> = fields.iter().cycle().take(count).map(|f| (!f.is_empty()).then_some(*f)).collect();
    values.chunks(batch_len.max(1)).map(one_column).collect()
}

/// A program over one column `x` whose only binding maps it through `from`'s table `table` (with
/// `from`'s code types), failing as `on_failure` says; rule 1 is a reject rule `R3`. What the
/// lookup benches of both engines measure, on JCL's tables.
pub fn one_lookup(from: &Program, table: &str, on_failure: OnFailure) -> Program {
    let mut p = program(&["x"]);
    p.code_types = from.code_types.clone();
    p.tables = from.tables.clone();
    let (idx, found) =
        p.tables.iter_enumerated().find(|(_, t)| t.name == table).unwrap_or_else(|| panic!("no table {table}"));
    let kind = found.value_type.kind;
    p.rules.push(rule("R3", Severity::Reject));
    let code = p.record.fields.push(field_def("code", kind));
    p.bindings.push(Binding { target: Slot::Field(code), expr: lookup(idx.raw(), column(0), kind, on_failure) });
    p
}

#[cfg(test)]
mod tests {
    use arrow::array::Array;

    use super::*;

    #[test]
    fn column_batches_cycle_the_chosen_fields_of_data_lines_only() {
        let text = "H|X|1\na|1|\nb|2|z\nT|2\n";
        let batches = column_batches(text, &[1, 2], 7, 3);
        let values: Vec<Option<&str>> = batches
            .iter()
            .flat_map(|b| {
                assert_eq!(b.columns.len(), 1);
                (0..b.len()).map(|i| b.columns[0].is_valid(i).then(|| b.columns[0].value(i))).collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(batches.iter().map(RawBatch::len).collect::<Vec<_>>(), [3, 3, 1]);
        assert_eq!(values, [Some("1"), None, Some("2"), Some("z"), Some("1"), None, Some("2")]);
    }

    #[test]
    fn one_lookup_maps_its_column_through_the_named_table_only() {
        let mut from = program(&["a", "b"]);
        from.code_types = vec![code_type("Gender", &["M", "F"])].into();
        from.tables = vec![
            code_table("sexes", 0, &from.code_types, &[("L", "M"), ("P", "F")]),
            code_table("others", 0, &from.code_types, &[("X", "M")]),
        ]
        .into();
        let p = one_lookup(&from, "others", reject(1, "code"));
        assert_eq!(*p.source.columns, ["x"]);
        assert_eq!(p.tables, from.tables);
        assert_eq!(p.rules.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["R0", "R3"]);
        assert_eq!(p.bindings.len(), 1);
        assert_eq!(p.bindings[0].expr, lookup(1, column(0), TypeKind::Code(Idx::from_raw(0)), reject(1, "code")));
    }
}
