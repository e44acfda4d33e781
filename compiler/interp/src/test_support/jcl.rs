//! `contributors/jcl.etr` lowered by hand, as the front end is expected to lower it: the program
//! of benchmark workload W1, for this crate's tests and benchmark, which stay free of the front end
//! (`etr-sema` lowers the real spec; `tests/ir_snapshots` pins what it produces).

use etr_ir::*;

use super::*;

/// The sixteen Malaysian states and federal territories, as JCL spells them (codes `01`-`16` in order).
pub const STATE_NAMES: [&str; 16] = [
    "JOHOR",
    "KEDAH",
    "KELANTAN",
    "MELAKA",
    "NEGERI SEMBILAN",
    "PAHANG",
    "PULAU PINANG",
    "PERAK",
    "PERLIS",
    "SELANGOR",
    "TERENGGANU",
    "SABAH",
    "SARAWAK",
    "WP KUALA LUMPUR",
    "WP LABUAN",
    "WP PUTRAJAYA",
];

const COLUMNS: [&str; 41] = [
    "ACCT_NO",
    "CUST_NAME",
    "ID_TYPE",
    "ID_NO",
    "OLD_ID",
    "DOB",
    "SEX",
    "NATIONALITY",
    "ADDR",
    "POSTCODE",
    "STATE",
    "CUST_TYPE",
    "SEGMENT",
    "PRODUCT",
    "CAPACITY",
    "OPEN_DT",
    "LIMIT_RM",
    "TERM_DAYS",
    "INSTAL_RM",
    "TENURE",
    "FREQ",
    "COLLATERAL",
    "ASAT_DT",
    "OS_BAL_RM",
    "AMT_DUE_RM",
    "OD_1_30",
    "OD_31_60",
    "OD_61_90",
    "OD_91_120",
    "OD_120P",
    "DPD",
    "PAY_STATUS",
    "ACCT_STATUS",
    "STATUS_DT",
    "LAST_PAY_DT",
    "LAST_PAY_RM",
    "WO_RM",
    "FLAG",
    "REPORT_MTH",
    "ACTION",
    "CONTRIB",
];

fn col(name: &str) -> Expr {
    column(COLUMNS.iter().position(|c| *c == name).unwrap_or(usize::MAX) as u32)
}

// Code types, in the order `etr.codes` declares the ones JCL uses.
const ACTION: u32 = 0;
const SUBJECT: u32 = 1;
const ID_TYPE: u32 = 2;
const GENDER: u32 = 3;
const STATE: u32 = 4;
const SEGMENT: u32 = 5;
const CAPACITY: u32 = 6;
const PAY_STATUS: u32 = 7;
const ACCT_STATUS: u32 = 8;

// Rules, in the order the spec writes them.
const R0: u32 = 0;
const R1: u32 = 1;
const R2: u32 = 2;
const R3: u32 = 3;
const R4: u32 = 4;
const R5: u32 = 5;
const R6: u32 = 6;
const R7: u32 = 7;
const R8: u32 = 8;
const R9: u32 = 9;
const R10: u32 = 10;
const W1: u32 = 11;
const W2: u32 = 12;
const D1: u32 = 13;
const F1: u32 = 14;
const F2: u32 = 15;
const F3: u32 = 16;
const F4: u32 = 17;

fn record() -> Vec<FieldDef> {
    use TypeKind::*;
    [
        ("contributor_code", Text),
        ("reporting_month", Month),
        ("action_code", Code(ACTION)),
        ("subject_type", Code(SUBJECT)),
        ("id_type", Code(ID_TYPE)),
        ("id_number", Text),
        ("old_id_number", Text),
        ("subject_name", Text),
        ("birth_or_reg_date", Date),
        ("gender", Code(GENDER)),
        ("nationality", Text),
        ("address", Text),
        ("postcode", Text),
        ("state_code", Code(STATE)),
        ("account_no", Text),
        ("industry_segment", Code(SEGMENT)),
        ("product_type", Text),
        ("capacity", Code(CAPACITY)),
        ("open_date", Date),
        ("credit_limit", Money),
        ("payment_term_days", Int),
        ("instalment_amount", Money),
        ("tenure_months", Int),
        ("repayment_freq", Text),
        ("collateral_type", Text),
        ("as_at_date", Date),
        ("outstanding_balance", Money),
        ("amount_due", Money),
        ("overdue_1_30", Money),
        ("overdue_31_60", Money),
        ("overdue_61_90", Money),
        ("overdue_91_120", Money),
        ("overdue_120_plus", Money),
        ("days_past_due", Int),
        ("payment_status", Code(PAY_STATUS)),
        ("account_status", Code(ACCT_STATUS)),
        ("status_date", Date),
        ("last_payment_date", Date),
        ("last_payment_amount", Money),
        ("written_off_amount", Money),
        ("special_flag", Text),
    ]
    .iter()
    .map(|(name, kind)| field_def(name, *kind))
    .collect()
}

/// The `Program` `etr-sema` should produce for `contributors/jcl.etr`.
pub fn jcl_program() -> Program {
    let mut p = program(&COLUMNS);
    p.contributor = Contributor { code: "JCL".into(), name: "JCL Credit Sdn Bhd".into(), layout: 3 };
    let text = |name: &str| LineField { name: name.into(), ty: LineFieldType::Text };
    let int = |name: &str| LineField { name: name.into(), ty: LineFieldType::Int };
    let money = |name: &str| LineField { name: name.into(), ty: LineFieldType::Money(MoneyUnit::Ringgit) };
    p.source.header = Some(RecordLine {
        prefix: "H".into(),
        fields: vec![
            text("contributor"),
            text("month"),
            int("part"),
            int("parts"),
            text("created"),
            text("layout"),
            text("kind"),
        ],
    });
    p.source.trailer =
        Some(RecordLine { prefix: "T".into(), fields: vec![int("count"), money("sum_balance"), money("sum_overdue")] });
    p.code_types = vec![
        code_type("ActionCode", &["A", "C", "D", "X"]),
        code_type("SubjectType", &["I", "B", "C", "O"]),
        code_type("IdType", &["NRIC", "OLDIC", "PASSPORT", "ARMY", "POLICE", "SSM", "SSM_OLD", "OTHER"]),
        code_type("Gender", &["M", "F"]),
        code_type(
            "StateCode",
            &["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16"],
        ),
        code_type(
            "IndustrySegment",
            &[
                "TELCO",
                "UTIL",
                "BNPL",
                "LEASE",
                "P2P",
                "COOP",
                "MONEYLEND",
                "PAWN",
                "FACTOR",
                "INSUR",
                "RENTAL",
                "TRADE",
                "OTHER",
            ],
        ),
        code_type("Capacity", &["OWN", "JNT", "GUA", "SOL", "PTR"]),
        code_type("PaymentStatus", &["0", "1", "2", "3", "4", "5", "6", "6+", "S", "W"]),
        code_type(
            "AccountStatus",
            &["ACTIVE", "CLOSED", "SETTLED", "WRITTEN_OFF", "LEGAL", "NPL", "SUSPENDED", "TRANSFERRED"],
        ),
    ];
    let types = p.code_types.clone();
    let state_codes: Vec<String> = (1..=16).map(|n| format!("{n:02}")).collect();
    let state_entries: Vec<(&str, &str)> =
        STATE_NAMES.iter().copied().zip(state_codes.iter().map(String::as_str)).collect();
    p.tables = vec![
        code_table("actions", ACTION, &types, &[("N", "A"), ("U", "A"), ("C", "C"), ("D", "D")]),
        code_table("subject_types", SUBJECT, &types, &[("INDV", "I"), ("CORP", "C"), ("BUSN", "B")]),
        code_table(
            "id_types",
            ID_TYPE,
            &types,
            &[("IC", "NRIC"), ("OIC", "OLDIC"), ("PP", "PASSPORT"), ("ROC", "SSM"), ("BRN", "SSM")],
        ),
        code_table("genders", GENDER, &types, &[("L", "M"), ("P", "F")]),
        code_table("states", STATE, &types, &state_entries),
        code_table(
            "segments",
            SEGMENT,
            &types,
            &[
                ("TEL", "TELCO"),
                ("UTL", "UTIL"),
                ("BNPL", "BNPL"),
                ("LSE", "LEASE"),
                ("COOP", "COOP"),
                ("P2P", "P2P"),
                ("TRD", "TRADE"),
            ],
        ),
        code_table("capacities", CAPACITY, &types, &[("P", "OWN"), ("J", "JNT"), ("G", "GUA")]),
        code_table(
            "payment_statuses",
            PAY_STATUS,
            &types,
            &[
                ("CURRENT", "0"),
                ("1-30", "1"),
                ("31-60", "2"),
                ("61-90", "3"),
                ("91-120", "4"),
                ("121-150", "5"),
                ("151-180", "6"),
                (">180", "6+"),
                ("SETTLED", "S"),
                ("WO", "W"),
            ],
        ),
        code_table(
            "account_statuses",
            ACCT_STATUS,
            &types,
            &[
                ("A", "ACTIVE"),
                ("C", "CLOSED"),
                ("S", "SETTLED"),
                ("W", "WRITTEN_OFF"),
                ("L", "LEGAL"),
                ("N", "NPL"),
                ("X", "SUSPENDED"),
                ("T", "TRANSFERRED"),
            ],
        ),
    ];
    p.record = RecordType { name: "Record".into(), fields: record() };
    p.locals = vec![
        LocalDef { name: "total_overdue".into(), ty: Type::non_null(TypeKind::Money) },
        LocalDef { name: "status_for_dpd".into(), ty: Type::nullable(TypeKind::Code(PAY_STATUS)) },
    ];
    p.rules = [
        ("R0", Severity::Reject),
        ("R1", Severity::Reject),
        ("R2", Severity::Reject),
        ("R3", Severity::Reject),
        ("R4", Severity::Reject),
        ("R5", Severity::Reject),
        ("R6", Severity::Reject),
        ("R7", Severity::Reject),
        ("R8", Severity::Reject),
        ("R9", Severity::Reject),
        ("R10", Severity::Reject),
        ("W1", Severity::Warn),
        ("W2", Severity::Warn),
        ("D1", Severity::Reject),
        ("F1", Severity::Fatal),
        ("F2", Severity::Fatal),
        ("F3", Severity::Fatal),
        ("F4", Severity::Fatal),
    ]
    .iter()
    .map(|(id, s)| rule(id, *s))
    .collect();

    let fields = p.record.fields.clone();
    let fidx = |name: &str| fields.iter().position(|f| f.name == name).unwrap_or(usize::MAX) as u32;
    let f = |name: &str| field(fidx(name), fields[fidx(name) as usize].ty.kind);
    let dmy = date_format("%d/%m/%Y");
    let date =
        |c: &str, target: &str| fallible(Builtin::ParseDate(dmy.clone()), col(c), TypeKind::Date, reject(R2, target));
    let ringgit = |c: &str| {
        fallible(
            Builtin::ParseMoney(MoneyUnit::Ringgit),
            col(c),
            TypeKind::Money,
            or_default(null_lit(TypeKind::Money)),
        )
    };
    let int = |c: &str| fallible(Builtin::ParseInt, col(c), TypeKind::Int, or_default(null_lit(TypeKind::Int)));
    let code = |table: u32, c: &str, target: &str| {
        let kind = p.tables[table as usize].value_type.kind;
        lookup(table, col(c), kind, reject(R3, target))
    };

    let mut bindings: Vec<(Slot, Expr)> = Vec::new();
    let mut bind = |name: &str, expr: Expr| bindings.push((Slot::Field(fidx(name)), expr));
    bind("contributor_code", col("CONTRIB"));
    bind(
        "reporting_month",
        fallible(
            Builtin::ParseMonth(date_format("%Y%m")),
            col("REPORT_MTH"),
            TypeKind::Month,
            or_default(null_lit(TypeKind::Month)),
        ),
    );
    bind("action_code", code(0, "ACTION", "action_code"));
    bind("subject_type", code(1, "CUST_TYPE", "subject_type"));
    bind("id_type", code(2, "ID_TYPE", "id_type"));
    bind(
        "id_number",
        call(
            Builtin::Upper,
            vec![call(Builtin::RemoveChars("- ".into()), vec![col("ID_NO")], TypeKind::Text)],
            TypeKind::Text,
        ),
    );
    bind("old_id_number", col("OLD_ID"));
    bind(
        "subject_name",
        call(Builtin::NullIfEmpty, vec![call(Builtin::Trim, vec![col("CUST_NAME")], TypeKind::Text)], TypeKind::Text),
    );
    bind("birth_or_reg_date", date("DOB", "birth_or_reg_date"));
    bind("gender", code(3, "SEX", "gender"));
    bind("nationality", col("NATIONALITY"));
    bind("address", col("ADDR"));
    bind("postcode", col("POSTCODE"));
    bind("state_code", code(4, "STATE", "state_code"));
    bind("account_no", col("ACCT_NO"));
    bind("industry_segment", code(5, "SEGMENT", "industry_segment"));
    bind("product_type", col("PRODUCT"));
    bind("capacity", code(6, "CAPACITY", "capacity"));
    bind("open_date", date("OPEN_DT", "open_date"));
    bind("credit_limit", ringgit("LIMIT_RM"));
    bind("payment_term_days", int("TERM_DAYS"));
    bind("instalment_amount", ringgit("INSTAL_RM"));
    bind("tenure_months", int("TENURE"));
    bind("repayment_freq", col("FREQ"));
    bind("collateral_type", col("COLLATERAL"));
    bind("as_at_date", date("ASAT_DT", "as_at_date"));
    bind("outstanding_balance", ringgit("OS_BAL_RM"));
    bind("amount_due", ringgit("AMT_DUE_RM"));
    bind("overdue_1_30", ringgit("OD_1_30"));
    bind("overdue_31_60", ringgit("OD_31_60"));
    bind("overdue_61_90", ringgit("OD_61_90"));
    bind("overdue_91_120", ringgit("OD_91_120"));
    bind("overdue_120_plus", ringgit("OD_120P"));
    bind("days_past_due", int("DPD"));
    bind("payment_status", code(7, "PAY_STATUS", "payment_status"));
    bind("account_status", code(8, "ACCT_STATUS", "account_status"));
    bind("status_date", date("STATUS_DT", "status_date"));
    bind("last_payment_date", date("LAST_PAY_DT", "last_payment_date"));
    bind("last_payment_amount", ringgit("LAST_PAY_RM"));
    bind("written_off_amount", ringgit("WO_RM"));
    bind("special_flag", col("FLAG"));

    let overdue = ["overdue_1_30", "overdue_31_60", "overdue_61_90", "overdue_91_120", "overdue_120_plus"];
    let total_overdue = overdue
        .iter()
        .map(|name| coalesce(f(name), money_lit(0)))
        .reduce(|a, b| binary(BinaryOp::Add, a, b))
        .unwrap_or_else(|| money_lit(0));
    bindings.push((Slot::Local(0), total_overdue));
    let ps = |idx: u32| code_lit(PAY_STATUS, idx);
    let range = |lo: i64, hi: i64| vec![Pattern::Range(Literal::Int(lo), Literal::Int(hi))];
    let status_for_dpd = match_expr(
        f("days_past_due"),
        vec![
            (vec![Pattern::Literal(Literal::Int(0))], ps(0)),
            (range(1, 30), ps(1)),
            (range(31, 60), ps(2)),
            (range(61, 90), ps(3)),
            (range(91, 120), ps(4)),
            (range(121, 150), ps(5)),
            (range(151, 180), ps(6)),
        ],
        Some(ps(7)),
        TypeKind::Code(PAY_STATUS),
    );
    bindings.push((Slot::Local(1), status_for_dpd));
    p.bindings = bindings.into_iter().map(|(target, expr)| Binding { target, expr }).collect();

    let check = |rule: u32, target: &str, when: Option<Expr>, condition: Expr, value: Option<Expr>| RowCheck {
        rule,
        target: target.into(),
        when,
        condition,
        value,
    };
    let mut checks = Vec::new();
    for name in [
        "account_no",
        "subject_name",
        "id_number",
        "as_at_date",
        "open_date",
        "outstanding_balance",
        "payment_status",
        "account_status",
    ] {
        checks.push(check(R1, name, None, is_null(f(name), true), None));
    }
    let is_nric = || binary(BinaryOp::Eq, f("id_type"), code_lit(ID_TYPE, 0));
    checks.push(check(
        R4,
        "id_number",
        Some(is_nric()),
        call(Builtin::IsValidNric, vec![f("id_number")], TypeKind::Bool),
        Some(col("ID_NO")),
    ));
    checks.push(check(
        R5,
        "id_number",
        Some(binary(BinaryOp::Eq, f("id_type"), code_lit(ID_TYPE, 5))),
        call(Builtin::Matches("^(19|20)[0-9]{2}0[1-6][0-9]{6}$".into()), vec![f("id_number")], TypeKind::Bool),
        Some(col("ID_NO")),
    ));
    for name in ["open_date", "status_date", "last_payment_date"] {
        checks.push(check(R6, name, None, binary(BinaryOp::Le, f(name), f("as_at_date")), None));
    }
    checks.push(check(
        R7,
        "outstanding_balance",
        None,
        binary(BinaryOp::Ge, f("outstanding_balance"), money_lit(0)),
        Some(col("OS_BAL_RM")),
    ));
    checks.push(check(
        R8,
        "overdue",
        None,
        binary(BinaryOp::Le, local(0, TypeKind::Money), binary(BinaryOp::Add, f("amount_due"), money_lit(100))),
        None,
    ));
    checks.push(check(
        R8,
        "amount_due",
        None,
        binary(BinaryOp::Le, f("amount_due"), binary(BinaryOp::Add, f("outstanding_balance"), money_lit(100))),
        None,
    ));
    checks.push(check(
        R9,
        "payment_status",
        Some(in_list(f("payment_status"), (0..8).map(|i| Literal::Code(PAY_STATUS, i)).collect(), false)),
        binary(BinaryOp::Eq, f("payment_status"), local(1, TypeKind::Code(PAY_STATUS))),
        Some(col("PAY_STATUS")),
    ));
    let written_off = coalesce(
        binary(
            BinaryOp::Or,
            binary(BinaryOp::Eq, f("payment_status"), code_lit(PAY_STATUS, 9)),
            binary(BinaryOp::Eq, f("account_status"), code_lit(ACCT_STATUS, 3)),
        ),
        bool_lit(false),
    );
    let has_amount = coalesce(binary(BinaryOp::Gt, f("written_off_amount"), money_lit(0)), bool_lit(false));
    checks.push(check(
        R10,
        "written_off_amount",
        None,
        binary(BinaryOp::Eq, written_off, has_amount),
        Some(col("WO_RM")),
    ));
    checks.push(check(
        W1,
        "gender",
        Some(binary(BinaryOp::And, is_nric(), is_null(f("gender"), true))),
        binary(
            BinaryOp::Eq,
            call(
                Builtin::NricGender { code_type: GENDER, male: 0, female: 1 },
                vec![f("id_number")],
                TypeKind::Code(GENDER),
            ),
            f("gender"),
        ),
        None,
    ));
    checks.push(check(
        W2,
        "birth_or_reg_date",
        Some(binary(BinaryOp::And, is_nric(), is_null(f("birth_or_reg_date"), true))),
        binary(
            BinaryOp::Eq,
            call(Builtin::FormatDate(date_format("%y%m%d")), vec![f("birth_or_reg_date")], TypeKind::Text),
            call(Builtin::Substring, vec![f("id_number"), int_lit(0), int_lit(6)], TypeKind::Text),
        ),
        None,
    ));
    p.row_checks = checks;

    p.unique_checks = vec![UniqueCheck {
        rule: D1,
        target: "record_key".into(),
        key: ["contributor_code", "account_no", "capacity", "id_type", "id_number"].iter().map(|n| fidx(n)).collect(),
        when: None,
    }];

    let od_cols = ["OD_1_30", "OD_31_60", "OD_61_90", "OD_91_120", "OD_120P"];
    let od_sum = od_cols
        .iter()
        .map(|c| coalesce(ringgit(c), money_lit(0)))
        .reduce(|a, b| binary(BinaryOp::Add, a, b))
        .unwrap_or_else(|| money_lit(0));
    p.aggregates = vec![
        Aggregate { function: AggregateFunction::Count, argument: None },
        Aggregate { function: AggregateFunction::Sum, argument: Some(ringgit("OS_BAL_RM")) },
        Aggregate { function: AggregateFunction::Sum, argument: Some(od_sum) },
    ];
    let header = |i: u32, kind: TypeKind| expr(ExprKind::HeaderField(i), Type::nullable(kind));
    let trailer = |i: u32, kind: TypeKind| expr(ExprKind::TrailerField(i), Type::nullable(kind));
    let agg = |i: u32, kind: TypeKind| expr(ExprKind::Aggregate(i), Type::nullable(kind));
    let file = |rule: u32, target: &str, condition: Expr| FileCheck {
        rule,
        target: target.into(),
        condition,
        severity: etr_ir::Severity::Fatal,
        zone: None,
    };
    p.file_checks = vec![
        file(F1, "header", binary(BinaryOp::Eq, header(0, TypeKind::Text), text_lit("JCL"))),
        file(F1, "trailer", is_null(trailer(0, TypeKind::Int), true)),
        file(F2, "count", binary(BinaryOp::Eq, trailer(0, TypeKind::Int), agg(0, TypeKind::Int))),
        file(F3, "sum bal", binary(BinaryOp::Eq, trailer(1, TypeKind::Money), agg(1, TypeKind::Money))),
        file(F3, "sum od", binary(BinaryOp::Eq, trailer(2, TypeKind::Money), agg(2, TypeKind::Money))),
        file(
            F4,
            "count",
            binary(
                BinaryOp::And,
                binary(BinaryOp::Ge, agg(0, TypeKind::Int), int_lit(1)),
                binary(BinaryOp::Le, agg(0, TypeKind::Int), int_lit(5_000_000)),
            ),
        ),
    ];
    let _ = R0;
    p
}

/// A program over one column `x` whose only binding maps it through JCL's table `table` (with
/// JCL's code types), failing as `on_failure` says; rule 1 is a reject rule `R3`. What the lookup
/// benches of both engines measure.
pub fn jcl_one_lookup(table: &str, on_failure: OnFailure) -> Program {
    let jcl = jcl_program();
    let mut p = program(&["x"]);
    p.code_types = jcl.code_types;
    p.tables = jcl.tables;
    let idx =
        p.tables.iter().position(|t| t.name == table).unwrap_or_else(|| panic!("JCL has no table {table}")) as u32;
    let kind = p.tables[idx as usize].value_type.kind;
    p.rules.push(rule("R3", Severity::Reject));
    p.record.fields.push(field_def("code", kind));
    p.bindings.push(Binding { target: Slot::Field(0), expr: lookup(idx, column(0), kind, on_failure) });
    p
}
