//! The result of rule `X` in GX's terms, and its comparison with a case's `out` (README section 2):
//! numbers compare numerically (`1 == 1.0`), `unexpected_list` as a multiset, `observed_value` with
//! GX's tolerances, and only the keys `out` holds.

use serde_json::{Map, Value, json};

use super::data::{Kind, Table};
use super::run::Actual;
use super::translate::{Plan, Shape};

/// The validation result GX would report, from etr's outputs: `success` and `result`.
pub fn result_of(actual: &Actual, plan: &Plan, table: &Table) -> (Option<bool>, Map<String, Value>) {
    let stats = actual.stats.as_ref();
    let stat = |key: &str| stats.and_then(|s| s.get(key)).filter(|v| !v.is_null()).cloned();
    let success = stat("success").and_then(|v| v.as_bool()).or_else(|| {
        // Before the runtime reports `rules`: a row rule succeeds when nothing was rejected, a file
        // check when it is not among the fatal checks.
        Some(match plan.shape {
            Shape::File => !actual.summary["fatal"]
                .as_array()
                .is_some_and(|f| f.iter().any(|e| e.as_str().is_some_and(|e| e.split(' ').next() == Some("X")))),
            _ => actual.rejects.is_empty(),
        })
    });
    let mut result = Map::new();
    if let Shape::File = plan.shape {
        if let Some(observed) = stats.and_then(|s| s.get("observed_value")) {
            result.insert("observed_value".into(), observed.clone());
        }
        // Several checks (one per quantile): each one's observed value.
        if let Some(values) = stats.and_then(|s| s.get("observed_values")) {
            result.insert("observed_values".into(), values.clone());
        }
        if let Some(counts) = stats.and_then(|s| s.get("value_counts")) {
            result.insert("value_counts".into(), counts.clone());
        }
        return (success, result);
    }
    let mut rows = actual.rejects.clone();
    rows.sort_by_key(|r| r.0);
    let value_at = |column: usize, row: usize| table.columns[column].values.get(row).cloned().unwrap_or(Value::Null);
    let list: Vec<Value> = rows
        .iter()
        .map(|(pk, value)| match &plan.shape {
            Shape::Value => reject_value(value.as_deref(), plan, table),
            Shape::Column(c) => value_at(*c, *pk),
            Shape::Pair(a, b) => json!([value_at(*a, *pk), value_at(*b, *pk)]),
            Shape::Multi(cs) => {
                Value::Object(cs.iter().map(|&c| (table.columns[c].name.clone(), value_at(c, *pk))).collect())
            }
            Shape::File => Value::Null,
        })
        .collect();
    let index: Vec<Value> = rows.iter().map(|(pk, _)| json!({ "pk_index": pk })).collect();
    let elements = table.rows as f64;
    let unexpected = stat("unexpected_count").and_then(|v| v.as_f64()).unwrap_or(rows.len() as f64);
    result.insert("element_count".into(), json!(table.rows));
    result.insert("unexpected_count".into(), json!(unexpected));
    result.insert("partial_unexpected_list".into(), Value::Array(list.iter().take(20).cloned().collect()));
    result.insert("unexpected_list".into(), Value::Array(list));
    result.insert("unexpected_index_list".into(), Value::Array(index));
    if let Some(missing) = stat("missing_count").and_then(|v| v.as_f64()) {
        result.insert("missing_count".into(), json!(missing));
        if elements > 0.0 {
            result.insert("missing_percent".into(), json!(missing / elements * 100.0));
            result.insert("unexpected_percent_total".into(), json!(unexpected / elements * 100.0));
        }
        if elements - missing > 0.0 {
            result.insert("unexpected_percent_nonmissing".into(), json!(unexpected / (elements - missing) * 100.0));
        }
    }
    if let Some(percent) = stat("unexpected_percent") {
        result.insert("unexpected_percent".into(), percent);
    }
    (success, result)
}

/// A `rejects.value` text as the JSON value GX shows: a number for numeric columns.
fn reject_value(value: Option<&str>, plan: &Plan, table: &Table) -> Value {
    let Some(text) = value else { return Value::Null };
    let kind = plan.uses.first().map(|&c| table.columns[c].kind);
    match kind {
        Some(Kind::Int | Kind::Number) => text.parse::<f64>().map(|f| json!(f)).unwrap_or_else(|_| json!(text)),
        Some(Kind::Bool) => text.parse::<bool>().map(Value::Bool).unwrap_or_else(|_| json!(text)),
        _ => json!(text),
    }
}

/// Compares a case's `out` with the result; `Err` names the first key that differs.
pub fn compare(
    out: &Map<String, Value>,
    exact: bool,
    tolerance: Option<f64>,
    success: Option<bool>,
    result: &Map<String, Value>,
    map_category: bool,
) -> Result<(), String> {
    if exact {
        if let Some(expected) = out.get("success") {
            check_success(expected, success)?;
        }
        let Some(expected) = out.get("result").and_then(Value::as_object) else { return Ok(()) };
        // GX compares only the keys both results hold.
        for (key, value) in expected {
            if let Some(actual) = result.get(key) {
                compare_key(key, value, actual, tolerance, map_category)?;
            }
        }
        return Ok(());
    }
    for (key, expected) in out {
        match key.as_str() {
            "success" => check_success(expected, success)?,
            "traceback_substring" => {}
            "observed_value_list" => {
                let actual = result.get("observed_value").ok_or("no observed_value")?;
                let options = expected.as_array().cloned().unwrap_or_default();
                if !options.iter().any(|o| observed_equal(o, actual, tolerance)) {
                    return Err(format!("observed_value {actual} is not one of {expected}"));
                }
            }
            // Quantiles: GX reports the values of the quantiles asked for, together.
            "observed_value" if expected.get("quantiles").is_some() => {
                let values = result.get("observed_values").ok_or("no observed values per quantile")?;
                let want = expected.get("values").cloned().unwrap_or(Value::Null);
                if !observed_equal(&json!({ "values": want }), &json!({ "values": values }), tolerance) {
                    return Err(format!("quantile values: expected {want}, got {values}"));
                }
            }
            "value_counts" => {
                // Each expected {value, count} must be among ours.
                let actual =
                    result.get("value_counts").and_then(Value::as_array).ok_or("`value_counts` is not produced")?;
                for item in expected.as_array().cloned().unwrap_or_default() {
                    let found = actual.iter().any(|a| {
                        a.get("count") == item.get("count")
                            && observed_equal(
                                item.get("value").unwrap_or(&Value::Null),
                                a.get("value").unwrap_or(&Value::Null),
                                None,
                            )
                    });
                    if !found {
                        return Err(format!("value_counts: {item} is missing from {}", Value::Array(actual.clone())));
                    }
                }
            }
            "details" => return Err(format!("`{key}` is not produced")),
            _ => {
                let actual = result.get(key).ok_or_else(|| format!("`{key}` is not produced"))?;
                compare_key(key, expected, actual, tolerance, map_category)?;
            }
        }
    }
    Ok(())
}

fn check_success(expected: &Value, actual: Option<bool>) -> Result<(), String> {
    match actual {
        Some(a) if Some(a) == expected.as_bool() => Ok(()),
        Some(a) => Err(format!("success: expected {expected}, got {a}")),
        None => Err("no success reported".into()),
    }
}

fn compare_key(key: &str, expected: &Value, actual: &Value, tolerance: Option<f64>, map: bool) -> Result<(), String> {
    let same = match key {
        "observed_value" => observed_equal(expected, actual, tolerance),
        "unexpected_list" | "partial_unexpected_list" => multiset_equal(expected, actual),
        "unexpected_index_list" => {
            // GX checks the index list only in the map categories; the row numbers are what matter.
            if !map {
                return Ok(());
            }
            let pks = |v: &Value| {
                let mut pks: Vec<i64> = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.get("pk_index").and_then(Value::as_i64))
                    .collect();
                pks.sort_unstable();
                pks
            };
            pks(expected) == pks(actual)
        }
        _ => scalar_equal(expected, actual, 1e-9, 1e-9),
    };
    if same { Ok(()) } else { Err(format!("{key}: expected {}, got {}", short(expected), short(actual))) }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 { format!("{}…", text.chars().take(80).collect::<String>()) } else { text }
}

/// GX's `observed_value` rules: `tolerance` as rtol; else rtol 1e-7, atol 0.05 when the expected
/// value shows a decimal number; else exact (with `5 == 5.0`).
fn observed_equal(expected: &Value, actual: &Value, tolerance: Option<f64>) -> bool {
    let (rtol, atol) = match tolerance {
        Some(t) => (t, 1e-8),
        None if has_decimal(expected) => (1e-7, 5e-2),
        None => (0.0, 0.0),
    };
    let expected = expected.get("values").unwrap_or(expected);
    let actual = actual.get("values").unwrap_or(actual);
    scalar_equal(expected, actual, rtol, atol)
}

fn has_decimal(value: &Value) -> bool {
    let text = value.to_string();
    let bytes = text.as_bytes();
    bytes.windows(3).any(|w| w[0].is_ascii_digit() && w[1] == b'.' && w[2].is_ascii_digit())
}

/// Equality with numbers compared numerically; lists in order; objects by key.
fn scalar_equal(expected: &Value, actual: &Value, rtol: f64, atol: f64) -> bool {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            let (e, a) = (e.as_f64().unwrap_or(f64::NAN), a.as_f64().unwrap_or(f64::NAN));
            e == a || (a - e).abs() <= atol + rtol * e.abs()
        }
        (Value::Number(_), Value::String(s)) | (Value::String(s), Value::Number(_)) => {
            let other = if expected.is_number() { expected } else { actual };
            s.parse::<f64>().is_ok_and(|f| other.as_f64() == Some(f))
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| scalar_equal(e, a, rtol, atol))
        }
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len() && e.iter().all(|(k, v)| a.get(k).is_some_and(|w| scalar_equal(v, w, rtol, atol)))
        }
        _ => expected == actual,
    }
}

fn multiset_equal(expected: &Value, actual: &Value) -> bool {
    let (Some(expected), Some(actual)) = (expected.as_array(), actual.as_array()) else { return false };
    if expected.len() != actual.len() {
        return false;
    }
    let mut left: Vec<&Value> = actual.iter().collect();
    for e in expected {
        match left.iter().position(|a| scalar_equal(e, a, 1e-9, 1e-12)) {
            Some(i) => {
                left.swap_remove(i);
            }
            None => return false,
        }
    }
    true
}
