//! Property tests: parses against independent oracles, three-valued logic laws, key-hash
//! equality exactly for equal keys.

use std::sync::Arc;

use etr_interp::Interpreter;
use etr_interp::test_support::*;
use etr_ir::*;
use proptest::prelude::*;

use crate::{bool_col, days, eval_col};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn ringgit_text_parses_to_exact_sen(amounts in prop::collection::vec((any::<bool>(), 0u64..10_000_000_000, 0u64..100, any::<bool>()), 1..40)) {
        let texts: Vec<String> = amounts
            .iter()
            .map(|(neg, whole, cents, two)| {
                let sign = if *neg { "-" } else { "" };
                if *two || cents % 10 != 0 { format!("{sign}{whole}.{cents:02}") } else { format!("{sign}{whole}.{}", cents / 10) }
            })
            .collect();
        let input: Vec<Option<&str>> = texts.iter().map(|t| Some(t.as_str())).collect();
        let expr = fallible(Builtin::ParseMoney(MoneyUnit::Ringgit), column(0), TypeKind::Money, or_default(null_lit(TypeKind::Money)));
        let (_, got) = eval_col(expr, &input);
        for ((neg, whole, cents, _), got) in amounts.iter().zip(&got) {
            let sen = (whole * 100 + cents) as i64;
            prop_assert_eq!(got, &(if *neg { -sen } else { sen }).to_string());
        }
    }

    #[test]
    fn number_text_round_trips(values in prop::collection::vec(prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO, 1..40)) {
        // Rust's shortest round-trip forms, plain and scientific, parse back to the same bits.
        let texts: Vec<String> = values.iter().flat_map(|v| [format!("{v}"), format!("{v:e}"), format!("{v:E}")]).collect();
        let input: Vec<Option<&str>> = texts.iter().map(|t| Some(t.as_str())).collect();
        let expr = fallible(Builtin::ParseNumber, column(0), TypeKind::Number, or_default(null_lit(TypeKind::Number)));
        let (_, got) = eval_col(expr, &input);
        for (text, got) in texts.iter().zip(&got) {
            let want: f64 = text.parse().expect("Rust parses its own output");
            prop_assert_eq!(got, &format!("{want:?}"), "{}", text);
        }
    }

    #[test]
    fn dmy_dates_parse_to_the_day_count(dates in prop::collection::vec((1900i64..2100, 1u32..13, 1u32..32), 1..40)) {
        let texts: Vec<String> = dates.iter().map(|(y, m, d)| format!("{d:02}/{m:02}/{y}")).collect();
        let input: Vec<Option<&str>> = texts.iter().map(|t| Some(t.as_str())).collect();
        let expr = fallible(Builtin::ParseDate(date_format("%d/%m/%Y")), column(0), TypeKind::Date, or_default(null_lit(TypeKind::Date)));
        let (_, got) = eval_col(expr, &input);
        for ((y, m, d), got) in dates.iter().zip(&got) {
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let dim = match m { 2 if leap => 29, 2 => 28, 4 | 6 | 9 | 11 => 30, _ => 31 };
            let want = if *d <= dim { format!("d{}", days(*y, *m, *d)) } else { "null".to_owned() };
            prop_assert_eq!(got, &want);
        }
    }

    #[test]
    fn kleene_de_morgan(rows in prop::collection::vec((prop::option::of(any::<bool>()), prop::option::of(any::<bool>())), 1..64)) {
        let text = |b: Option<bool>| b.map(|b| if b { "t" } else { "f" });
        let rows: Vec<Vec<Option<&str>>> = rows.iter().map(|(a, b)| vec![text(*a), text(*b)]).collect();
        let b = batch(&rows, 2);
        let run = |expr: Expr| {
            let mut p = program(&["A", "B"]);
            p.record.fields = vec![field_def("out", TypeKind::Bool)].into();
            p.bindings = vec![Binding { target: Slot::Field(idx(0)), expr }];
            Interpreter::new(Arc::new(p)).and_then(|i| i.eval_batch(&b)).map(|r| r.fields[0].clone())
        };
        let lhs = run(not(binary(BinaryOp::And, bool_col(0), bool_col(1)))).expect("evaluates");
        let rhs = run(binary(BinaryOp::Or, not(bool_col(0)), not(bool_col(1)))).expect("evaluates");
        prop_assert_eq!(&lhs, &rhs);
    }

    #[test]
    fn key_hashes_are_equal_exactly_when_keys_are(rows in prop::collection::vec((prop::option::of("[ab]{0,3}"), prop::option::of("[ab]{0,3}")), 2..40)) {
        let rows_ref: Vec<Vec<Option<&str>>> = rows.iter().map(|(a, b)| vec![a.as_deref(), b.as_deref()]).collect();
        let mut p = program(&["A", "B"]);
        p.record.fields = vec![field_def("a", TypeKind::Text), field_def("b", TypeKind::Text)].into();
        p.bindings = vec![
            Binding { target: Slot::Field(idx(0)), expr: column(0) },
            Binding { target: Slot::Field(idx(1)), expr: column(1) },
        ];
        p.unique_checks = vec![UniqueCheck { rule: idx(0), target: "k".into(), key: vec![idx(0), idx(1)], when: None }];
        let r = Interpreter::new(Arc::new(p)).and_then(|i| i.eval_batch(&batch(&rows_ref, 2))).expect("evaluates");
        let h = &r.key_hashes[0];
        for i in 0..rows.len() {
            for j in 0..rows.len() {
                prop_assert_eq!(h[i] == h[j], rows[i] == rows[j], "rows {:?} and {:?}", rows[i], rows[j]);
            }
        }
    }
}
