//! `contributors/jcl.etr` (compiled by the front end, `etr_tests::jcl_program`) over real lines of a
//! W1 file, each defect of the workload's list planted once.

use std::sync::Arc;

use etr_interp::test_support::split_batch;
use etr_interp::{Interpreter, RawRecordLine, Scalar};
use etr_tests::jcl_program;

const A: &str = "JCL0000000000|HAFIZ BINTI ISMAIL|IC|031110129638||10/11/2003|P|MY|14 JLN MAWAR 12|23117|SARAWAK|INDV|TEL|POSTPAID|G|05/11/2021|0.00|30|||IDF|CLE|30/06/2025|11290.94|11093.84|0.00|0.00|0.00|0.00|0.00|0|CURRENT|A|05/11/2021|23/05/2025|1715.18|0.00||202506|U|JCL";
const B: &str = "JCL0000000001|SITI BIN ISMAIL|IC|850818145867||18/08/1985|L|MY|18 JLN MAWAR 19|83805|SABAH|INDV|UTL|BILL|P|27/09/2021|0.00|0|||IDF|CLE|30/06/2025|11935.64|2676.67|965.13|0.00|0.00|0.00|0.00|15|1-30|A|27/09/2021|22/06/2025|855.01|0.00||202506|U|JCL";
const C: &str = "JCL0000000002|NURUL BIN KAUR|IC|881230132465||30/12/1988|L|MY|159 JLN MAWAR 16|45361|MELAKA|INDV|TEL|POSTPAID|P|20/01/2024|0.00|14|||IDF|CLE|30/06/2025|1321.59|140.47|0.00|0.00|0.00|0.00|0.00|0|CURRENT|A|20/01/2024|03/06/2025|993.67|0.00||202506|U|JCL";

/// `line` with field `k` (0-based) replaced.
fn with(line: &str, k: usize, value: &str) -> String {
    let mut fields: Vec<&str> = line.split('|').collect();
    fields[k] = value;
    fields.join("|")
}

#[test]
fn jcl_defects_and_file_checks() {
    let program = Arc::new(jcl_program());
    let interp = Interpreter::new(program.clone()).expect("prepares");
    let lines: Vec<String> = vec![
        A.into(),
        B.into(),
        C.into(),
        with(B, 3, "850818175867"),
        with(B, 31, "LATE"),
        with(A, 15, "31/02/2021"),
        A[..A.rfind('|').unwrap_or(0)].to_owned(),
        with(C, 23, "-1321.59"),
        with(B, 30, "45"),
        with(B, 3, "850818-14-5867"),
        with(A, 6, "L"),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let batch = split_batch(&refs, 2, 41);
    let r = interp.eval_batch(&batch).expect("evaluates");
    let got: Vec<String> = r
        .violations
        .iter()
        .map(|v| {
            let rule = &program.rules[v.rule].id;
            format!("{} {rule} {} {}", v.row, v.target, v.value.as_deref().unwrap_or("null"))
        })
        .collect();
    assert_eq!(
        got,
        [
            "3 R4 id_number 850818175867",
            "4 R3 payment_status LATE",
            "4 R1 payment_status null",
            "5 R2 open_date 31/02/2021",
            "5 R1 open_date null",
            "6 R0 line null",
            "7 R7 outstanding_balance -1321.59",
            "7 R8 amount_due null",
            "8 R9 payment_status 1-30",
            "10 W1 gender null",
        ]
    );
    assert_eq!(r.rejected, [false, false, false, true, true, true, true, true, true, false, false]);
    assert!(r.fatal.is_empty());
    let keys = &r.key_hashes[0];
    assert_eq!(keys[1], keys[9], "the hyphenated NRIC is the same key");
    assert_ne!(keys[0], keys[1]);

    // The mapped values of line A, in the record's output types.
    let out = interp.output_batch(&batch, &r, &[true; 11]).expect("builds");
    let show = |name: &str| -> String {
        let col = out.column_by_name(name).expect("field exists");
        arrow::util::display::ArrayFormatter::try_new(col.as_ref(), &Default::default())
            .map(|f| f.value(0).to_string())
            .unwrap_or_default()
    };
    let want = [
        ("reporting_month", "2025-06-01"),
        ("action_code", "A"),
        ("id_type", "NRIC"),
        ("gender", "F"),
        ("state_code", "13"),
        ("capacity", "GUA"),
        ("industry_segment", "TELCO"),
        ("birth_or_reg_date", "2003-11-10"),
        ("outstanding_balance", "1129094"),
        ("payment_status", "0"),
        ("account_status", "ACTIVE"),
        ("payment_term_days", "30"),
        ("instalment_amount", ""),
        ("line_no", "2"),
    ];
    for (name, value) in want {
        assert_eq!(show(name), value, "{name}");
    }

    // The file checks, with the trailer's totals computed from the same lines as written.
    let line = |text: &str| RawRecordLine {
        line_no: 1,
        text: text.into(),
        fields: text.split('|').map(|f| (!f.is_empty()).then(|| f.to_owned())).collect(),
    };
    let header = line("H|JCL|202506|1|1|2025-06-28T02:00:00|JCL-3|full");
    let values = r.aggregates.values();
    assert_eq!(values[0], Scalar::Int(11));
    let (Scalar::Int(bal), Scalar::Int(od)) = (&values[1], &values[2]) else { panic!("sums are ints: {values:?}") };
    let money = |sen: i64| format!("{}{}.{:02}", if sen < 0 { "-" } else { "" }, sen.abs() / 100, sen.abs() % 100);
    let broken = |trailer: &str| -> Vec<String> {
        let lines = interp.line_values(Some(&header), Some(&line(trailer)));
        interp
            .finish_file(&r.aggregates, &lines)
            .iter()
            .map(|v| format!("{} {}", program.rules[v.rule].id, v.target))
            .collect()
    };
    // One short line (R0) and one unknown code (R3) in eleven are above the spec's zones: those
    // hold whatever the trailer says.
    let zones = ["R0 above 1%", "R0 above 5%", "R3 above 2%"];
    assert_eq!(broken(&format!("T|11|{}|{}", money(*bal), money(*od))), zones);
    let wrong = broken(&format!("T|12|{}|{}", money(*bal + 1), money(*od)));
    assert_eq!(wrong, [&["F2 count", "F3 sum bal"][..], &zones].concat());
}

/// The key pass agrees with the full evaluation: every row `eval_batch` would count for the D1
/// key (not rejected, key not all null) is counted by `eval_keys`, with the same hash; rows the key
/// pass counts beyond those are rejected ones (it cannot know), never accepted ones it missed.
#[test]
fn key_pass_counts_a_superset_with_the_same_hashes() {
    let program = Arc::new(jcl_program());
    let interp = Interpreter::new(program.clone()).expect("prepares");
    let lines: Vec<String> = vec![
        A.into(),
        A.into(),
        with(A, 15, "31/02/2021"),                 // rejected (R2), same key as A
        with(A, 14, "Z"),                          // capacity fails to map: rejected, a null key part
        A[..A.rfind('|').unwrap_or(0)].to_owned(), // malformed: not counted by either
        with(B, 3, "850818-14-5867"),              // the id number normalised: the same key as B
        B.into(),
        [0, 2, 3, 14, 40].iter().fold(C.to_owned(), |line, &k| with(&line, k, "")), // every key part null
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let batch = split_batch(&refs, 2, 41);
    let full = interp.eval_batch(&batch).expect("evaluates");
    let keys = interp.eval_keys(&batch).expect("evaluates keys");
    assert_eq!(program.unique_checks.len(), 1);
    let counted_by_full: Vec<bool> = (0..batch.len())
        .map(|row| {
            let key_null = program.unique_checks[0].key.iter().all(|&f| full.fields[f.index()].is_null(row));
            !full.rejected[row] && !key_null
        })
        .collect();
    let counted_by_keys: Vec<bool> = (0..batch.len()).map(|row| keys.counted[0].value(row)).collect();
    assert_eq!(counted_by_full, [true, true, false, false, false, true, true, false]);
    assert_eq!(counted_by_keys, [true, true, true, true, false, true, true, false]);
    for row in (0..batch.len()).filter(|&row| counted_by_full[row]) {
        assert_eq!(keys.key_hashes[0][row], full.key_hashes[0][row], "row {row}");
    }
    assert_eq!(keys.key_hashes[0][0], keys.key_hashes[0][2], "a rejected copy keeps its key");
    assert_eq!(keys.key_hashes[0][5], keys.key_hashes[0][6], "keys compare after the mapping");
    assert_ne!(keys.key_hashes[0][0], keys.key_hashes[0][3]);
    let read: Vec<usize> = interp.key_columns().iter().enumerate().filter(|(_, w)| **w).map(|(c, _)| c).collect();
    assert_eq!(read, [0, 2, 3, 14, 40], "ACCT_NO, ID_TYPE, ID_NO, CAPACITY, CONTRIB");
}
