//! One GX expectation with its kwargs, translated into an etr rule with the id `X`.
//!
//! Row expectations become `reject` rules over the record's fields, `mostly` becomes the rule
//! option, `row_condition` and null handling become a `when`; column aggregates and table counts
//! become file checks (`fatal`, the only severity that refuses a file); the table-shape expectations
//! read the column names from a header line. Arguments GX refuses (min above max, both bounds
//! null, `mostly` outside 0..=1, an unknown condition parser) are refused here for the same reason,
//! and kwargs or expectations with no etr equivalent are reported as unsupported.

use serde_json::{Map, Value};

use super::data::{Column, Kind, Table, plain};

/// What a case becomes.
#[derive(Debug)]
pub enum Translation {
    /// The rule to run.
    Plan(Plan),
    /// GX rejects these arguments; the text says why.
    Refused(String),
    /// etr cannot express the case (yet); the text is the cause.
    Unsupported(String),
}

/// A rule and how to read its results.
#[derive(Debug)]
pub struct Plan {
    /// The rule item(s), id `X`.
    pub rule: String,
    /// The columns the record declares.
    pub uses: Vec<usize>,
    /// Header fields `h0..hN` to declare (a header line is written when this is `Some`).
    pub header_fields: Option<usize>,
    /// How the unexpected values are shown.
    pub shape: Shape,
}

/// How an unexpected row is rendered in `unexpected_list`.
#[derive(Debug, Clone)]
pub enum Shape {
    /// `rejects.value` of the row.
    Value,
    /// The column's value in the dataset (for `unique`, which shows no value).
    Column(usize),
    /// `[a, b]` from the dataset.
    Pair(usize, usize),
    /// `{column: value}` from the dataset.
    Multi(Vec<usize>),
    /// A file check: no rows.
    File,
}

/// An etr string literal.
pub fn text_literal(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A number literal of the type of `value`: `2`, or `2.5` (always with a fraction).
fn number_literal(value: &Value) -> Option<String> {
    let n = value.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i.to_string());
    }
    let f = n.as_f64()?;
    let text = format!("{f}");
    Some(if text.contains('.') { text } else { format!("{text}.0") })
}

/// A literal in the value's own JSON type (the compiler judges whether it fits the column).
fn literal(value: &Value) -> Option<String> {
    match value {
        Value::Number(_) => number_literal(value),
        Value::String(s) => Some(text_literal(s)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A literal that can equal a value of `column`, or `None` when no value of the column can equal
/// it (pandas compares `"1"` and `1` as different; an int never equals 1.5).
fn member_literal(column: &Column, value: &Value) -> Option<String> {
    match (column.kind, value) {
        (Kind::Int, Value::Number(n)) => n
            .as_i64()
            .map(|i| i.to_string())
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e15).map(|f| format!("{}", f as i64))),
        (Kind::Number, Value::Number(n)) => {
            let f = n.as_f64()?;
            let text = format!("{f}");
            Some(if text.contains('.') { text } else { format!("{text}.0") })
        }
        (Kind::Text, Value::String(s)) => Some(text_literal(s)),
        // A mixed column holds numbers as their text.
        (Kind::Text, Value::Number(_)) if column.mixed => Some(text_literal(&plain(value))),
        (Kind::Bool, Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

/// The expression that reads a column's value from the raw source column (for aggregates, which
/// read columns, not mapped fields).
fn source_value(column: &Column) -> String {
    let c = &column.source;
    match column.kind {
        Kind::Int => format!("(parse_int({c}) else null)"),
        Kind::Number => format!("(parse_number({c}) else null)"),
        Kind::Text => c.clone(),
        Kind::Bool => format!("(if {c} == \"true\" then true else if {c} == \"false\" then false else null)"),
    }
}

struct Args<'a> {
    kwargs: &'a Map<String, Value>,
    table: &'a Table,
    used: Vec<&'static str>,
}

impl<'a> Args<'a> {
    fn get(&mut self, key: &'static str) -> Option<&'a Value> {
        self.used.push(key);
        self.kwargs.get(key).filter(|v| !v.is_null())
    }

    fn column(&mut self, key: &'static str) -> Result<usize, Translation> {
        let name =
            self.get(key).and_then(Value::as_str).ok_or_else(|| Translation::Refused(format!("`{key}` is missing")))?;
        self.table.index_of(name).ok_or_else(|| Translation::Refused(format!("no column {name}")))
    }

    fn columns(&mut self, key: &'static str) -> Result<Vec<usize>, Translation> {
        let list = self
            .get(key)
            .and_then(Value::as_array)
            .ok_or_else(|| Translation::Refused(format!("`{key}` is missing")))?;
        list.iter()
            .map(|v| {
                let name = v.as_str().unwrap_or_default();
                self.table.index_of(name).ok_or_else(|| Translation::Refused(format!("no column {name}")))
            })
            .collect()
    }

    /// `mostly`, rendered as the rule option.
    fn mostly(&mut self) -> Result<String, Translation> {
        match self.get("mostly") {
            None => Ok(String::new()),
            Some(Value::Number(n)) if n.as_f64().is_some_and(|m| (0.0..=1.0).contains(&m)) => {
                Ok(format!(" mostly {}", plain(&Value::Number(n.clone()))))
            }
            Some(other) => Err(Translation::Refused(format!("mostly must be between 0 and 1, not {other}"))),
        }
    }

    /// The `row_condition`, as an etr condition.
    fn row_condition(&mut self, uses: &mut Vec<usize>) -> Result<Option<String>, Translation> {
        let parser = self.get("condition_parser").and_then(Value::as_str);
        let Some(query) = self.get("row_condition").and_then(Value::as_str) else { return Ok(None) };
        match parser {
            Some("pandas" | "python") | None => {}
            Some(other) => return Err(Translation::Refused(format!("unknown condition_parser {other}"))),
        }
        let (expr, read) = super::condition::translate(query, self.table)
            .map_err(|e| Translation::Unsupported(format!("row_condition syntax not supported ({e})")))?;
        for i in read {
            if !uses.contains(&i) {
                uses.push(i);
            }
        }
        Ok(Some(expr))
    }

    fn unknown(&self) -> Option<String> {
        const IGNORED: &[&str] = &["result_format", "catch_exceptions", "include_config", "meta"];
        let unknown: Vec<&str> =
            self.kwargs.keys().map(String::as_str).filter(|k| !self.used.contains(k) && !IGNORED.contains(k)).collect();
        if unknown.is_empty() { None } else { Some(unknown.join(", ")) }
    }
}

/// Translates one case. `expectation` is the GX expectation type.
pub fn translate(expectation: &str, kwargs: &Map<String, Value>, table: &Table) -> Translation {
    // Evaluation parameters are only understood as the bounds of a `between` (see `parameter`).
    let between = matches!(
        expectation,
        "expect_column_values_to_be_between"
            | "expect_column_values_to_be_between_tz_naive"
            | "expect_column_min_to_be_between"
            | "expect_column_max_to_be_between"
    );
    let parameters: Vec<&Value> = kwargs.values().filter_map(|v| v.get("$PARAMETER")).collect();
    if !parameters.is_empty() && (!between || parameters.iter().any(|p| p.as_str().and_then(parameter).is_none())) {
        return Translation::Unsupported("$PARAMETER evaluation parameters not supported".into());
    }
    let mut args = Args { kwargs, table, used: Vec::new() };
    let result = translate_with(expectation, &mut args);
    match result {
        Ok(plan) => match args.unknown() {
            Some(keys) => Translation::Unsupported(format!("kwargs not translated: {keys}")),
            None => Translation::Plan(plan),
        },
        Err(t) => t,
    }
}

fn translate_with(expectation: &str, args: &mut Args) -> Result<Plan, Translation> {
    let table = args.table;
    let unsupported = |why: &str| Err(Translation::Unsupported(why.to_string()));
    match expectation {
        "expect_column_values_to_not_be_null" | "expect_column_values_to_be_null" => {
            let c = args.column("column")?;
            let f = &table.columns[c].field;
            let condition =
                if expectation.ends_with("not_be_null") { format!("{f} is not null") } else { format!("{f} is null") };
            row_rule(args, c, None, &condition, false)
        }
        "expect_column_values_to_be_in_set" | "expect_column_values_to_not_be_in_set" => {
            let c = args.column("column")?;
            let column = &table.columns[c];
            let negate = expectation.contains("not_be");
            let condition = match args.get("value_set") {
                // GX raises a TypeError for a null set.
                None => return Err(Translation::Refused("value_set is null".into())),
                Some(set) => {
                    let set = set.as_array().ok_or_else(|| Translation::Refused("value_set is not a list".into()))?;
                    let members: Vec<String> = set.iter().filter_map(|v| member_literal(column, v)).collect();
                    let op = if negate { "not in" } else { "in" };
                    format!("{} {op} [{}]", column.field, members.join(", "))
                }
            };
            row_rule(args, c, None, &condition, true)
        }
        "expect_column_values_to_be_between" | "expect_column_values_to_be_between_tz_naive" => {
            let c = args.column("column")?;
            let field = table.columns[c].field.clone();
            let condition = bounds(args, &field, true, BothNull::Refuse)?;
            row_rule(args, c, None, &condition, true)
        }
        "expect_column_value_lengths_to_be_between" => {
            let c = args.column("column")?;
            for key in ["min_value", "max_value"] {
                if args.get(key).is_some_and(|v| v.as_i64().is_none()) {
                    return Err(Translation::Refused(format!("{key} must be an integer")));
                }
            }
            let length = format!("length({})", table.columns[c].field);
            // Lengths: min above max is no error, it makes every value unexpected.
            let condition = bounds(args, &length, false, BothNull::Refuse)?;
            row_rule(args, c, None, &condition, true)
        }
        "expect_column_value_lengths_to_equal" => {
            let c = args.column("column")?;
            let value = args
                .get("value")
                .and_then(Value::as_i64)
                .ok_or_else(|| Translation::Refused("value must be an integer".into()))?;
            let condition = format!("length({}) == {value}", table.columns[c].field);
            row_rule(args, c, None, &condition, true)
        }
        "expect_column_values_to_match_regex" | "expect_column_values_to_not_match_regex" => {
            let c = args.column("column")?;
            let regex = args
                .get("regex")
                .and_then(Value::as_str)
                .ok_or_else(|| Translation::Refused("regex is missing".into()))?;
            let matches = format!("{}.matches({})", table.columns[c].field, text_literal(regex));
            let condition = if expectation.contains("not_match") { format!("not {matches}") } else { matches };
            row_rule(args, c, None, &condition, true)
        }
        "expect_column_values_to_match_regex_list" | "expect_column_values_to_not_match_regex_list" => {
            let c = args.column("column")?;
            let list = args
                .get("regex_list")
                .and_then(Value::as_array)
                .ok_or_else(|| Translation::Refused("regex_list is missing".into()))?;
            let field = &table.columns[c].field;
            let each: Vec<String> = list
                .iter()
                .map(|r| format!("{field}.matches({})", text_literal(r.as_str().unwrap_or_default())))
                .collect();
            let condition = if expectation.contains("not_match") {
                // Unexpected when any regex matches.
                format!("not ({})", each.join(" or "))
            } else {
                let joiner = match args.get("match_on").and_then(Value::as_str).unwrap_or("any") {
                    "any" => " or ",
                    "all" => " and ",
                    other => return Err(Translation::Refused(format!("match_on {other}"))),
                };
                format!("({})", each.join(joiner))
            };
            row_rule(args, c, None, &condition, true)
        }
        "expect_column_values_to_match_strftime_format" => {
            let c = args.column("column")?;
            let format = args
                .get("strftime_format")
                .and_then(Value::as_str)
                .ok_or_else(|| Translation::Refused("strftime_format is missing".into()))?;
            let condition =
                format!("(parse_date({}, {}) else null) is not null", table.columns[c].field, text_literal(format));
            row_rule(args, c, None, &condition, true)
        }
        "expect_column_values_to_be_unique" => {
            let c = args.column("column")?;
            let mostly = args.mostly()?;
            let mut uses = vec![c];
            let when = args.row_condition(&mut uses)?.map(|w| format!("  when {w}\n")).unwrap_or_default();
            let rule = format!(
                "rule X reject \"the value is not unique\"{mostly} {{\n{when}  unique {} on {}\n}}\n",
                table.columns[c].field, table.columns[c].field
            );
            Ok(Plan { rule, uses, header_fields: None, shape: Shape::Column(c) })
        }
        "expect_compound_columns_to_be_unique" => {
            let cs = args.columns("column_list")?;
            let mostly = args.mostly()?;
            let mut uses = cs.clone();
            let row_condition = args.row_condition(&mut uses)?;
            let fields: Vec<&str> = cs.iter().map(|&i| table.columns[i].field.as_str()).collect();
            // All-null keys never take part (etr's rule); `any_value_is_missing` also drops partial ones.
            let guard = match args.get("ignore_row_if").and_then(Value::as_str).unwrap_or("all_values_are_missing") {
                "all_values_are_missing" | "never" => None,
                "any_value_is_missing" => {
                    Some(fields.iter().map(|f| format!("{f} is not null")).collect::<Vec<_>>().join(" and "))
                }
                other => return Err(Translation::Refused(format!("ignore_row_if {other}"))),
            };
            let when = match (row_condition, guard) {
                (Some(rc), Some(g)) => format!("  when ({rc}) and ({g})\n"),
                (Some(w), None) | (None, Some(w)) => format!("  when {w}\n"),
                (None, None) => String::new(),
            };
            let rule = format!(
                "rule X reject \"the key is not unique\"{mostly} {{\n{when}  unique {} on key\n}}\n",
                fields.join(", ")
            );
            Ok(Plan { rule, uses, header_fields: None, shape: Shape::Multi(cs) })
        }
        "expect_column_pair_values_a_to_be_greater_than_b"
        | "expect_column_pair_values_to_be_equal"
        | "expect_column_pair_values_to_be_in_set" => {
            let a = args.column("column_A")?;
            let b = args.column("column_B")?;
            let (fa, fb) = (&table.columns[a].field, &table.columns[b].field);
            let guard = match args.get("ignore_row_if").and_then(Value::as_str).unwrap_or("both_values_are_missing") {
                "both_values_are_missing" => Some(format!("{fa} is not null or {fb} is not null")),
                "either_value_is_missing" => Some(format!("{fa} is not null and {fb} is not null")),
                "neither" => None,
                other => return Err(Translation::Refused(format!("ignore_row_if {other}"))),
            };
            let comparison = match expectation {
                "expect_column_pair_values_a_to_be_greater_than_b" => {
                    let op = if args.get("or_equal").and_then(Value::as_bool).unwrap_or(false) { ">=" } else { ">" };
                    format!("{fa} {op} {fb}")
                }
                "expect_column_pair_values_to_be_equal" => format!("{fa} == {fb}"),
                _ => {
                    let pairs = args
                        .get("value_pairs_set")
                        .and_then(Value::as_array)
                        .ok_or_else(|| Translation::Refused("value_pairs_set is missing".into()))?;
                    let mut alternatives = Vec::new();
                    for pair in pairs {
                        let pair = pair
                            .as_array()
                            .filter(|p| p.len() == 2)
                            .ok_or_else(|| Translation::Refused("a pair is not [a, b]".into()))?;
                        if let (Some(x), Some(y)) =
                            (member_literal(&table.columns[a], &pair[0]), member_literal(&table.columns[b], &pair[1]))
                        {
                            alternatives.push(format!("({fa} == {x} and {fb} == {y})"));
                        }
                    }
                    if alternatives.is_empty() { "false".to_string() } else { alternatives.join(" or ") }
                }
            };
            // A row kept with one side missing is unexpected in GX.
            let condition = format!("({comparison}) ?? false");
            let mut plan = row_rule(args, a, guard.as_deref(), &condition, false)?;
            if !plan.uses.contains(&b) {
                plan.uses.push(b);
            }
            plan.shape = Shape::Pair(a, b);
            Ok(plan)
        }
        "expect_multicolumn_sum_to_equal" | "expect_select_column_values_to_be_unique_within_record" => {
            let cs = args.columns("column_list")?;
            let fields: Vec<String> = cs.iter().map(|&i| table.columns[i].field.clone()).collect();
            let guard = match args.get("ignore_row_if").and_then(Value::as_str).unwrap_or("all_values_are_missing") {
                "all_values_are_missing" => {
                    Some(fields.iter().map(|f| format!("{f} is not null")).collect::<Vec<_>>().join(" or "))
                }
                "any_value_is_missing" => {
                    Some(fields.iter().map(|f| format!("{f} is not null")).collect::<Vec<_>>().join(" and "))
                }
                "never" => None,
                other => return Err(Translation::Refused(format!("ignore_row_if {other}"))),
            };
            let condition = if expectation == "expect_multicolumn_sum_to_equal" {
                let total = args
                    .get("sum_total")
                    .and_then(literal)
                    .ok_or_else(|| Translation::Refused("sum_total is missing".into()))?;
                format!("({} == {total}) ?? false", fields.join(" + "))
            } else {
                let mut pairs = Vec::new();
                for i in 0..fields.len() {
                    for j in i + 1..fields.len() {
                        pairs.push(format!("{} != {}", fields[i], fields[j]));
                    }
                }
                if pairs.is_empty() { "true".into() } else { format!("({}) ?? true", pairs.join(" and ")) }
            };
            // GX counts an ignored row as missing: an ignored row is a null condition here (not a
            // `when`), so that it lands in `missing_count` rather than nowhere.
            let condition = match guard {
                Some(guard) => format!("if {guard} then ({condition}) else null"),
                None => condition,
            };
            let mut plan = row_rule(args, cs[0], None, &condition, false)?;
            for &i in &cs {
                if !plan.uses.contains(&i) {
                    plan.uses.push(i);
                }
            }
            plan.shape = Shape::Multi(cs);
            Ok(plan)
        }
        "expect_column_distinct_values_to_be_in_set"
        | "expect_column_distinct_values_to_contain_set"
        | "expect_column_distinct_values_to_equal_set"
        | "expect_column_most_common_value_to_be_in_set" => {
            let c = args.column("column")?;
            let column = &table.columns[c];
            let value = source_value(column);
            let set = match args.get("value_set") {
                // A null set is the universal set for `be_in_set` (vacuously true); elsewhere an error.
                None if expectation == "expect_column_distinct_values_to_be_in_set" => {
                    let condition = format!("is_subset(distinct_values({value}), distinct_values({value}))");
                    return Ok(file_rule(&condition, "aggregate", None));
                }
                None => return Err(Translation::Refused("value_set is null".into())),
                Some(set) => set.as_array().ok_or_else(|| Translation::Refused("value_set is not a list".into()))?,
            };
            let members: Vec<String> = set.iter().filter_map(|v| member_literal(column, v)).collect();
            let list = format!("[{}]", members.join(", "));
            let condition = match expectation {
                "expect_column_distinct_values_to_be_in_set" => format!("is_subset(distinct_values({value}), {list})"),
                "expect_column_distinct_values_to_contain_set" => {
                    format!("contains_all(distinct_values({value}), {list})")
                }
                "expect_column_distinct_values_to_equal_set" => format!("same_set(distinct_values({value}), {list})"),
                _ => {
                    let ties_okay = args.get("ties_okay").and_then(Value::as_bool).unwrap_or(false);
                    if ties_okay {
                        format!("overlaps(modes({value}), {list})")
                    } else {
                        format!("overlaps(modes({value}), {list}) and size(modes({value})) == 1")
                    }
                }
            };
            Ok(file_rule(&condition, "aggregate", None))
        }
        "expect_column_min_to_be_between"
        | "expect_column_max_to_be_between"
        | "expect_column_mean_to_be_between"
        | "expect_column_median_to_be_between"
        | "expect_column_stdev_to_be_between"
        | "expect_column_sum_to_be_between"
        | "expect_column_unique_value_count_to_be_between"
        | "expect_column_proportion_of_unique_values_to_be_between" => {
            let c = args.column("column")?;
            let value = source_value(&table.columns[c]);
            let aggregate = match expectation {
                "expect_column_min_to_be_between" => format!("min({value})"),
                "expect_column_max_to_be_between" => format!("max({value})"),
                "expect_column_mean_to_be_between" => format!("mean({value})"),
                "expect_column_median_to_be_between" => format!("median({value})"),
                "expect_column_stdev_to_be_between" => format!("stdev({value})"),
                "expect_column_sum_to_be_between" => format!("sum({value})"),
                "expect_column_unique_value_count_to_be_between" => format!("count_distinct({value})"),
                _ => format!("count_distinct({value}) * 1.0 / count_where({value} is not null)"),
            };
            let both_null = args.get("min_value").is_none() && args.get("max_value").is_none();
            let condition = if both_null {
                if matches!(expectation, "expect_column_min_to_be_between" | "expect_column_sum_to_be_between") {
                    return Err(Translation::Refused("min_value and max_value cannot both be null".into()));
                }
                format!("{aggregate} is not null")
            } else {
                bounds(args, &aggregate, true, BothNull::Refuse)?
            };
            Ok(file_rule(&condition, "aggregate", None))
        }
        "expect_table_row_count_to_be_between" | "expect_table_row_count_to_equal" => {
            let condition = if expectation.ends_with("equal") {
                let value = args
                    .get("value")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| Translation::Refused("value must be an integer".into()))?;
                format!("count() == {value}")
            } else {
                for key in ["min_value", "max_value"] {
                    if args.get(key).is_some_and(|v| v.as_i64().is_none()) {
                        return Err(Translation::Refused(format!("{key} must be an integer")));
                    }
                }
                bounds(args, "count()", true, BothNull::Vacuous)?
            };
            Ok(file_rule(&condition, "count", None))
        }
        "expect_table_column_count_to_be_between" | "expect_table_column_count_to_equal" => {
            // One more header field than the table has: an extra column would fill it.
            let fields = table.columns.len() + 1;
            let count = "size(header_values())".to_string();
            let condition = if expectation.ends_with("equal") {
                let value = args
                    .get("value")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| Translation::Refused("value must be an integer".into()))?;
                format!("{count} == {value}")
            } else {
                for key in ["min_value", "max_value"] {
                    if args.get(key).is_some_and(|v| v.as_i64().is_none()) {
                        return Err(Translation::Refused(format!("{key} must be an integer")));
                    }
                }
                bounds(args, &count, true, BothNull::Vacuous)?
            };
            Ok(file_rule(&condition, "columns", Some(fields)))
        }
        "expect_column_to_exist" => {
            let name = args
                .get("column")
                .and_then(Value::as_str)
                .ok_or_else(|| Translation::Refused("column is missing".into()))?;
            let name = text_literal(name);
            let (condition, fields) = match args.get("column_index") {
                Some(index) => {
                    let i =
                        index.as_u64().ok_or_else(|| Translation::Refused("column_index must be an integer".into()))?
                            as usize;
                    (format!("header.h{i} == {name}"), table.columns.len().max(i + 1))
                }
                None => {
                    let n = table.columns.len();
                    ((0..n).map(|i| format!("header.h{i} == {name}")).collect::<Vec<_>>().join(" or "), n)
                }
            };
            Ok(file_rule(&format!("({condition}) ?? false"), "columns", Some(fields)))
        }
        "expect_table_columns_to_match_ordered_list" => {
            let n = table.columns.len();
            let Some(list) = args.get("column_list") else {
                // Vacuously true; the header's values stay the observed value.
                return Ok(file_rule("is_subset(header_values(), header_values())", "columns", Some(n)));
            };
            let list = list.as_array().ok_or_else(|| Translation::Refused("column_list is not a list".into()))?;
            let fields = n.max(list.len());
            let each: Vec<String> = (0..fields)
                .map(|i| match list.get(i) {
                    Some(name) => format!("header.h{i} == {}", text_literal(name.as_str().unwrap_or_default())),
                    None => format!("header.h{i} is null"),
                })
                .collect();
            Ok(file_rule(&format!("({}) ?? false", each.join(" and ")), "columns", Some(fields)))
        }
        "expect_table_columns_to_match_set" => {
            let n = table.columns.len();
            // A null set is an empty one: vacuously true unless the match is exact.
            let empty = Vec::new();
            let set = args.get("column_set").and_then(Value::as_array).unwrap_or(&empty);
            let exact = args.get("exact_match").and_then(Value::as_bool).unwrap_or(true);
            let names: Vec<String> = set.iter().map(|v| text_literal(v.as_str().unwrap_or_default())).collect();
            let list = format!("[{}]", names.join(", "));
            let condition = if exact {
                format!("same_set(header_values(), {list})")
            } else {
                format!("contains_all(header_values(), {list})")
            };
            Ok(file_rule(&condition, "columns", Some(n)))
        }
        "expect_column_values_to_be_increasing" | "expect_column_values_to_be_decreasing" => {
            let c = args.column("column")?;
            let mostly = args.mostly()?;
            let mut uses = vec![c];
            let when = args.row_condition(&mut uses)?.map(|w| format!("  when {w}\n")).unwrap_or_default();
            let strictly =
                if args.get("strictly").and_then(Value::as_bool).unwrap_or(false) { "strictly " } else { "" };
            let direction = if expectation.ends_with("increasing") { "increasing" } else { "decreasing" };
            let field = &table.columns[c].field;
            let rule = format!(
                "rule X reject \"the values are out of order\"{mostly} {{\n{when}  {strictly}{direction} {field} on {field}\n}}\n"
            );
            Ok(Plan { rule, uses, header_fields: None, shape: Shape::Column(c) })
        }
        "expect_column_quantile_values_to_be_between" => {
            let c = args.column("column")?;
            let ranges =
                args.get("quantile_ranges").ok_or_else(|| Translation::Refused("quantile_ranges is missing".into()))?;
            let quantiles = ranges["quantiles"].as_array().cloned().unwrap_or_default();
            let bounds = ranges["value_ranges"].as_array().cloned().unwrap_or_default();
            if quantiles.len() != bounds.len() {
                return Err(Translation::Refused("quantiles and value_ranges differ in length".into()));
            }
            let value = source_value(&table.columns[c]);
            // One check per quantile, so that each reports its own observed value.
            let mut checks = Vec::new();
            for (i, (q, range)) in quantiles.iter().zip(&bounds).enumerate() {
                let mut parts = Vec::new();
                let q = number_literal(q).ok_or_else(|| Translation::Refused("a quantile is not a number".into()))?;
                let q = if q.contains('.') { q } else { format!("{q}.0") };
                let (lo, hi) = (&range[0], &range[1]);
                if let (Some(l), Some(h)) = (lo.as_f64(), hi.as_f64())
                    && l > h
                {
                    return Err(Translation::Refused("quantile_ranges must consist of ordered pairs".into()));
                }
                let quantile = format!("quantile({value}, {q})");
                if let Some(l) = literal(lo) {
                    parts.push(format!("{quantile} >= {l}"));
                }
                if let Some(h) = literal(hi) {
                    parts.push(format!("{quantile} <= {h}"));
                }
                if lo.is_null() && hi.is_null() {
                    parts.push(format!("({quantile} >= {quantile}) ?? true"));
                }
                checks.push(format!("  check {} on q{i}\n", parts.join(" and ")));
            }
            if checks.is_empty() {
                return Err(Translation::Refused("no quantiles".into()));
            }
            let rule = format!("rule X fatal \"the expectation is not met\" {{\n{}}}\n", checks.concat());
            Ok(Plan { rule, uses: Vec::new(), header_fields: None, shape: Shape::File })
        }
        "expect_column_value_z_scores_to_be_less_than" => {
            let c = args.column("column")?;
            let column = &table.columns[c];
            let threshold = args
                .get("threshold")
                .and_then(Value::as_f64)
                .ok_or_else(|| Translation::Refused("threshold must be a number".into()))?;
            let double_sided = args.get("double_sided").and_then(Value::as_bool).unwrap_or(false);
            let value = source_value(column);
            // The row check reads the file's mean and standard deviation (a first pass computes them).
            let z = format!("(({} - mean({value})) / stdev({value}))", column.field);
            let t = format!("{threshold:?}");
            let condition = if double_sided { format!("{z} < {t} and {z} > -{t}") } else { format!("{z} < {t}") };
            row_rule(args, c, None, &condition, true)
        }
        "expect_column_values_to_be_json_parseable" => {
            let c = args.column("column")?;
            let condition = format!("is_json({})", table.columns[c].field);
            row_rule(args, c, None, &condition, true)
        }
        "expect_column_values_to_match_json_schema" => unsupported("no JSON schema validation"),
        "expect_column_values_to_be_dateutil_parseable" => {
            let c = args.column("column")?;
            let condition = format!("looks_like_date({})", table.columns[c].field);
            row_rule(args, c, None, &condition, true)
        }
        "expect_column_values_to_be_of_type" | "expect_column_values_to_be_in_type_list" => {
            // etr types are declared, so the check is decided at compile time by `type_of`; GX's
            // pandas type names are mapped to etr's.
            let c = args.column("column")?;
            let names: Vec<Value> = if expectation.ends_with("of_type") {
                vec![args.get("type_").cloned().unwrap_or(Value::Null)]
            } else {
                match args.get("type_list") {
                    None => return Ok(file_rule("count() >= 0", "types", None)),
                    Some(list) => list.as_array().cloned().unwrap_or_default(),
                }
            };
            let mut ours: Vec<String> = Vec::new();
            for name in &names {
                let name = name.as_str().unwrap_or_default();
                let etr = match name {
                    "int" | "int64" | "int32" | "Int64Dtype" | "long" => "int",
                    "float" | "float64" | "float32" | "double" => "number",
                    "str" | "string" | "object" | "object_" | "O" => "text",
                    "bool" | "boolean" | "bool_" => "bool",
                    "datetime64" | "datetime" | "Timestamp" | "date" => "date",
                    _ => return Err(Translation::Refused(format!("unknown type name {name}"))),
                };
                ours.push(text_literal(etr));
            }
            let condition = format!("type_of({}) in [{}]", table.columns[c].field, ours.join(", "));
            row_rule(args, c, None, &condition, true)
        }

        other => unsupported(&format!("no translation for {other}")),
    }
}

/// What GX does when both bounds are null.
#[derive(Clone, Copy, PartialEq)]
enum BothNull {
    Refuse,
    /// Vacuously true: the check only reads the value (so that it is still observed).
    Vacuous,
}

/// A bounds condition over `value` from `min_value`, `max_value`, `strict_min`, `strict_max`.
/// With `check_order`, min above max is refused, as GX refuses it.
/// A GX evaluation parameter as an etr expression: `now()` is the run's date (`run_date()`, which
/// the runtime supplies: a spec never reads a clock), `now() - timedelta(weeks=N)` counts back from
/// it, and `datetime(Y, M, D)` is a date constant.
fn parameter(text: &str) -> Option<String> {
    let text = text.trim();
    if text == "now()" {
        return Some("run_date()".into());
    }
    if let Some(rest) = text.strip_prefix("now() - timedelta(weeks=").and_then(|r| r.strip_suffix(')')) {
        let weeks: i64 = rest.split('*').map(|f| f.trim().parse::<i64>().ok()).product::<Option<i64>>()?;
        return Some(format!("add_days(run_date(), -{})", weeks * 7));
    }
    if let Some(rest) = text.strip_prefix("datetime(").and_then(|r| r.strip_suffix(')')) {
        let parts: Vec<u32> = rest.split(',').map(|p| p.trim().parse().ok()).collect::<Option<_>>()?;
        let [y, m, d] = parts.as_slice() else { return None };
        return Some(format!("(parse_date(\"{y:04}-{m:02}-{d:02}\", \"%Y-%m-%d\") else null)"));
    }
    None
}

fn bounds(args: &mut Args, value: &str, check_order: bool, both_null: BothNull) -> Result<String, Translation> {
    let min = args.get("min_value");
    let max = args.get("max_value");
    // Date parameters: compare the column's text read as a date (with or without a time).
    let as_parameter =
        |v: Option<&Value>| v.and_then(|v| v.get("$PARAMETER")).and_then(Value::as_str).and_then(parameter);
    let (min_p, max_p) = (as_parameter(min), as_parameter(max));
    if min_p.is_some() || max_p.is_some() {
        let date = format!(
            "((parse_date({value}, \"%Y-%m-%dT%H:%M:%S\") else null) ?? (parse_date({value}, \"%Y-%m-%d\") else null))"
        );
        let mut parts = Vec::new();
        if let Some(lo) = min_p {
            parts.push(format!("{date} >= {lo}"));
        }
        if let Some(hi) = max_p {
            parts.push(format!("{date} <= {hi}"));
        }
        return Ok(parts.join(" and "));
    }
    let strict_min = args.get("strict_min").and_then(Value::as_bool).unwrap_or(false);
    let strict_max = args.get("strict_max").and_then(Value::as_bool).unwrap_or(false);
    if min.is_none() && max.is_none() {
        return match both_null {
            BothNull::Refuse => Err(Translation::Refused("min_value and max_value cannot both be null".into())),
            // `x >= x` holds for every non-null x and keeps `x` the check's measured side.
            BothNull::Vacuous => Ok(format!("({value} >= {value}) ?? true")),
        };
    }
    if let (true, Some(lo), Some(hi)) = (check_order, min.and_then(Value::as_f64), max.and_then(Value::as_f64))
        && lo > hi
    {
        return Err(Translation::Refused("min_value cannot be greater than max_value".into()));
    }
    let mut parts = Vec::new();
    if let Some(lo) = min {
        let lo = literal(lo).ok_or_else(|| Translation::Refused(format!("min_value {lo} is not a scalar")))?;
        parts.push(format!("{value} {} {lo}", if strict_min { ">" } else { ">=" }));
    }
    if let Some(hi) = max {
        let hi = literal(hi).ok_or_else(|| Translation::Refused(format!("max_value {hi} is not a scalar")))?;
        parts.push(format!("{value} {} {hi}", if strict_max { "<" } else { "<=" }));
    }
    if parts.is_empty() {
        parts.push("true".into());
    }
    Ok(parts.join(" and "))
}

/// A row rule: `when` the row condition, the extra guard and (with `skip_nulls`) a non-null value,
/// `check` the condition, showing column `c`'s raw value.
fn row_rule(
    args: &mut Args,
    c: usize,
    guard: Option<&str>,
    condition: &str,
    skip_nulls: bool,
) -> Result<Plan, Translation> {
    let column = &args.table.columns[c];
    let mostly = args.mostly()?;
    let mut uses = vec![c];
    let mut when = Vec::new();
    if let Some(rc) = args.row_condition(&mut uses)? {
        when.push(rc);
    }
    if let Some(guard) = guard {
        when.push(format!("({guard})"));
    }
    if skip_nulls {
        when.push(format!("{} is not null", column.field));
    }
    let mut rule = format!("rule X reject \"the expectation is not met\"{mostly} {{\n");
    if !when.is_empty() {
        rule.push_str(&format!("  when {}\n", when.join(" and ")));
    }
    rule.push_str(&format!("  check {condition} on {} = {}\n}}\n", column.field, column.source));
    Ok(Plan { rule, uses, header_fields: None, shape: Shape::Value })
}

/// A file check.
fn file_rule(condition: &str, target: &str, header_fields: Option<usize>) -> Plan {
    let rule = format!("rule X fatal \"the expectation is not met\" {{\n  check {condition} on {target}\n}}\n");
    Plan { rule, uses: Vec::new(), header_fields, shape: Shape::File }
}
