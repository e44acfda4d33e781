//! Each parser against the interpreter on random and malformed field texts: digits, signs, dots,
//! slashes, letters, empty, long, non-ASCII, and on boundaries (`i64` limits, leap days).
//!
//! Every program here reads one column `x` four times, with the four handlers (`else null`,
//! `else reject`, `else <literal>`, `else fail`), so that each run also checks the failed rows
//! against the violations the interpreter raises.

use arrow::array::StringViewArray;
use etr_interp::RawBatch;
use etr_interp::test_support::*;
use etr_ir::*;
use proptest::prelude::*;

use crate::{check_both_engines, compile};

/// A date format from a pattern with `%d %m %Y %y %H %M %S` (the test support knows only the
/// first four).
fn format(pattern: &str) -> DateFormat {
    let mut items = Vec::new();
    let mut bytes = pattern.bytes();
    while let Some(b) = bytes.next() {
        items.push(match b {
            b'%' => match bytes.next() {
                Some(b'd') => DateItem::Day2,
                Some(b'm') => DateItem::Month2,
                Some(b'Y') => DateItem::Year4,
                Some(b'y') => DateItem::Year2,
                Some(b'H') => DateItem::Hour2,
                Some(b'M') => DateItem::Minute2,
                Some(b'S') => DateItem::Second2,
                other => DateItem::Literal(other.unwrap_or(b'%')),
            },
            b => DateItem::Literal(b),
        });
    }
    DateFormat { pattern: pattern.to_owned(), items }
}

/// One column `x`, parsed by `function` into `kind` four times, one per handler.
fn program_of(function: Builtin, kind: TypeKind, fallback: Expr) -> Program {
    let mut p = program(&["x"]);
    p.rules.push(rule("BAD", Severity::Reject));
    p.rules.push(rule("FATAL", Severity::Fatal));
    let handlers = [or_default(null_lit(kind)), reject(1, "rejected"), or_default(fallback), fail(2, "failed")];
    for (i, on_failure) in handlers.into_iter().enumerate() {
        let field = p.record.fields.push(field_def(&format!("f{i}"), kind));
        p.bindings.push(Binding {
            target: Slot::Field(field),
            expr: fallible(function.clone(), column(0), kind, on_failure),
        });
    }
    p
}

/// The programs under test: every parser, several date and month formats.
fn programs() -> Vec<Program> {
    let mut programs = vec![
        program_of(Builtin::ParseInt, TypeKind::Int, int_lit(-7)),
        program_of(Builtin::ParseMoney(MoneyUnit::Ringgit), TypeKind::Money, money_lit(-1)),
        program_of(Builtin::ParseMoney(MoneyUnit::Sen), TypeKind::Money, money_lit(12)),
    ];
    for pattern in ["%d/%m/%Y", "%Y%m%d", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y", "%d/%m/%y", "%Yé%m%d"] {
        programs.push(program_of(Builtin::ParseDate(format(pattern)), TypeKind::Date, date_lit(-3)));
    }
    for pattern in ["%Y%m", "%m/%Y", "%Y-%m-%d", "%d/%m"] {
        programs.push(program_of(Builtin::ParseMonth(format(pattern)), TypeKind::Month, date_lit(31)));
    }
    programs
}

fn batch_of(texts: &[Option<String>]) -> RawBatch {
    let refs: Vec<Option<&str>> = texts.iter().map(|t| t.as_deref()).collect();
    one_column(&refs)
}

/// Runs every program over `texts` on both engines.
fn check_all(texts: &[Option<String>]) {
    let batch = batch_of(texts);
    for program in programs() {
        let jit = compile(&program);
        assert_eq!(check_both_engines(&program, &jit, &batch), 4, "all four bindings compiled");
    }
}

/// The date shapes of the formats under test: `D` a digit, anything else itself.
const DATE_SHAPES: &[&str] = &[
    "DD/DD/DDDD",
    "DDDDDDDD",
    "DDDD-DD-DDTDD:DD:DD",
    "DD.DD.DDDD",
    "DDDDDD",
    "DD/DDDD",
    "DDDD-DD-DD",
    "DDDDéDDDD",
    "DD/DD",
];

/// A text of a date shape where about one char in ten is a near miss: the bytes around the
/// digits (`/` is `0`-1, `:` to `?` are `9`+1 to `9`+6), a space, a letter, a multi-byte digit.
fn near_date() -> impl Strategy<Value = Option<String>> {
    (prop::sample::select(DATE_SHAPES), prop::collection::vec(any::<u8>(), 24)).prop_map(|(shape, noise)| {
        const NEAR: [&str; 10] = [":", ";", "?", "/", ".", "@", " ", "A", "٣", "0"];
        let text = shape
            .chars()
            .zip(noise.iter().cycle())
            .map(|(c, &r)| match (c, r) {
                (_, r) if r >= 230 => NEAR[usize::from(r) % NEAR.len()].to_owned(),
                ('D', r) => char::from(b'0' + r % 10).to_string(),
                (c, _) => c.to_string(),
            })
            .collect();
        Some(text)
    })
}

/// Field texts: mostly near-misses of the accepted shapes.
fn field() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        6 => near_date(),
        1 => Just(None),
        1 => Just(Some(String::new())),
        4 => "[0-9.+/a-z-]{0,25}".prop_map(Some),
        4 => "[+-]?[0-9]{1,22}(\\.[0-9]{0,3})?".prop_map(Some),
        2 => "-?[0-9]{17,20}\\.[0-9]{2}".prop_map(Some),
        4 => "[0-3][0-9][/.][01][0-9][/.][0-9]{4}".prop_map(Some),
        3 => "[0-9]{4}-[01][0-9]-[0-3][0-9](T[0-2][0-9]:[0-6][0-9]:[0-6][0-9])?".prop_map(Some),
        2 => "[0-9]{4}[01][0-9]([0-3][0-9])?".prop_map(Some),
        1 => "[01][0-9]/[0-9]{4}".prop_map(Some),
        1 => "[0-9]{30,60}".prop_map(Some),
        1 => "\\PC{0,16}".prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parsers_match_the_interpreter(texts in prop::collection::vec(field(), 0..90)) {
        check_all(&texts);
    }
}

#[test]
fn boundaries_match_the_interpreter() {
    let texts: Vec<Option<String>> = [
        "0",
        "-0",
        "+0",
        "007",
        "-",
        "+",
        "--1",
        "+-1",
        " 1",
        "1 ",
        "1.",
        ".5",
        "-.5",
        "1.5",
        "1.05",
        "1.234",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "18446744073709551616",
        "184467440737095516150",
        "99999999999999999999999",
        "92233720368547758.07",
        "92233720368547758.08",
        "-92233720368547758.08",
        "-92233720368547758.09",
        "92233720368547758",
        "92233720368547759",
        "184467440737095516.15",
        "1844674407370955161",
        "0000000000000000000000000001",
        "1,000.00",
        // The short (at most 12 bytes) number parse reads the text from its view as a word.
        "1..",
        "1..5",
        "-.12",
        "12.3.",
        ".12",
        "..",
        "5-",
        "1 .5",
        "1\u{0}2",
        "\u{0}12",
        "12\u{0}",
        "-\u{0}1",
        "123456789012",
        "999999999999",
        "-99999999999",
        "+99999999999",
        "1234567890.1",
        "123456789.12",
        "-12345678.12",
        "-123456789.1",
        "12345678901.",
        "0.00",
        "-0.01",
        "1.2",
        "1.23",
        "12.0",
        "1/2",
        "1:2",
        "RM1",
        "1e3",
        "٣",
        "１",
        "29/02/2000",
        "29/02/1900",
        "29/02/2024",
        "29/02/2025",
        "31/04/2025",
        "00/01/2025",
        "01/13/2025",
        "01/00/2025",
        "01/01/0000",
        "31/12/9999",
        "01/03/0000",
        "29/02/0000",
        "1/01/2025",
        "01/01/20250",
        "20250631",
        "20250229",
        "20240229",
        "00000101",
        "2025-06-30T23:59:60",
        "2025-06-30T24:00:00",
        "2025-06-30T23:60:00",
        "202506",
        "202513",
        "202500",
        "06/2025",
        "2025-02-29",
        "2024-02-29",
        "2025é0630",
        "2025é630",
        "31/12",
    ]
    .iter()
    .map(|t| Some((*t).to_owned()))
    .chain([None, Some(String::new())])
    .collect();
    check_all(&texts);
}

#[test]
fn every_day_of_every_year_matches_the_interpreter() {
    // Years 0000-9999, months 00-03 and 12-13, days 00, 01, 28-32: every leap rule and every
    // month-length edge, 420,000 texts per format.
    let mut texts = Vec::new();
    for year in 0..10_000 {
        for month in [0, 1, 2, 3, 12, 13] {
            for day in [0, 1, 28, 29, 30, 31, 32] {
                texts.push(Some(format!("{day:02}/{month:02}/{year:04}")));
            }
        }
    }
    let program = program_of(Builtin::ParseDate(format("%d/%m/%Y")), TypeKind::Date, date_lit(0));
    let jit = compile(&program);
    check_both_engines(&program, &jit, &batch_of(&texts));
    let program = program_of(Builtin::ParseMonth(format("%d/%m/%Y")), TypeKind::Month, date_lit(0));
    let jit = compile(&program);
    check_both_engines(&program, &jit, &batch_of(&texts));
}

#[test]
fn long_fields_are_read_from_the_data_buffers() {
    // Texts over 12 bytes live in the data buffers, not the view; several buffers when large.
    let mut texts: Vec<Option<String>> = (0..40_000).map(|i| Some(format!("{i:0>15}.{:02}", i % 100))).collect();
    texts.push(Some("00000000000000000000000000000000000012.34".to_owned()));
    let array = StringViewArray::from(texts.iter().map(|t| t.as_deref()).collect::<Vec<_>>());
    assert!(!array.data_buffers().is_empty());
    check_all(&texts);
}

#[test]
fn a_view_outside_the_buffers_is_an_error_not_a_read() {
    use arrow::buffer::{Buffer, ScalarBuffer};
    let program = program_of(Builtin::ParseMoney(MoneyUnit::Ringgit), TypeKind::Money, money_lit(0));
    let jit = compile(&program);
    let data = Buffer::from_vec(b"12345678901234567890".to_vec());
    let view = |len: u128, buffer: u128, offset: u128| {
        len | (u128::from(u32::from_le_bytes(*b"1234")) << 32) | (buffer << 64) | (offset << 96)
    };
    for bad in [view(20, 1, 0), view(20, 0, 1), view(u32::MAX.into(), 0, u32::MAX.into())] {
        let views = ScalarBuffer::from(vec![view(20, 0, 0), bad]);
        // SAFETY: the array breaks Arrow's view invariant on purpose, to show that the kernel
        // checks long views itself; nothing but the kernel reads the array.
        let column = unsafe { StringViewArray::new_unchecked(views, vec![data.clone()], None) };
        let mut batch = one_column(&[Some("1"), Some("2")]);
        batch.columns = vec![column];
        let err = jit.eval_binding(0, &batch).expect_err("the bad view is caught");
        assert!(matches!(err, etr_jit::JitError::InvalidView { binding: 0, column } if column.raw() == 0), "{err}");
    }
}

/// Keys of every length a compiled lookup distinguishes: empty, inline (up to 12 bytes, through
/// the 4-byte boundary of the view's first word), long (13 to 16 bytes), keys that share a
/// prefix or a length, a repeated key (the first entry wins) and a multi-byte one.
const LOOKUP_KEYS: &[&str] = &[
    "",
    "A",
    "AB",
    "ABCD",
    "ABCDE",
    "ABCDEFGH",
    "ABCDEFGHIJKL",
    "ABCDEFGHIJKLM",
    "ABCDEFGHIJKLMNOP",
    "ABCDXFGHIJKLMNOP",
    "ABCDEFGHIJKLMNOQ",
    "NEGERI SEMBILAN",
    "WP KUALA LUMPUR",
    "AB",
    "é1",
];

/// One column `x` looked up in a table of [`LOOKUP_KEYS`] three times (`else null`,
/// `else reject`, `else fail`); the values are codes, or money when `money` is set.
fn lookup_program(money: bool) -> Program {
    let mut p = program(&["x"]);
    p.rules.push(rule("BAD", Severity::Reject));
    p.rules.push(rule("FATAL", Severity::Fatal));
    let members: Vec<String> = (0..LOOKUP_KEYS.len()).map(|i| format!("M{i}")).collect();
    let member_refs: Vec<&str> = members.iter().map(String::as_str).collect();
    p.code_types.push(code_type("Member", &member_refs));
    let entries: Vec<(&str, &str)> = LOOKUP_KEYS.iter().zip(&member_refs).map(|(k, m)| (*k, *m)).collect();
    let mut table = code_table("keys", 0, &p.code_types, &entries);
    let kind = if money {
        table.value_type = Type::non_null(TypeKind::Money);
        for (i, (_, value)) in table.entries.iter_mut().enumerate() {
            *value = Literal::Money(i as i64 * 1_000_003 - 7);
        }
        TypeKind::Money
    } else {
        TypeKind::Code(idx(0))
    };
    p.tables.push(table);
    for (i, on_failure) in
        [or_default(null_lit(kind)), reject(1, "rejected"), fail(2, "failed")].into_iter().enumerate()
    {
        let field = p.record.fields.push(field_def(&format!("f{i}"), kind));
        p.bindings.push(Binding { target: Slot::Field(field), expr: lookup(0, column(0), kind, on_failure) });
    }
    p
}

/// Texts near the keys: a key as it is, cut short, one byte longer or changed, with a trailing
/// space; or random texts over the keys' alphabet.
fn near_key() -> impl Strategy<Value = Option<String>> {
    let edited = (prop::sample::select(LOOKUP_KEYS), 0u8..6, any::<u8>()).prop_map(|(key, edit, at)| {
        let mut text = key.to_owned();
        let at = if text.is_empty() { 0 } else { usize::from(at) % text.len() };
        match edit {
            0 | 1 => {}
            2 if text.is_char_boundary(at) => text.truncate(at),
            3 => text.push('P'),
            4 if text.is_char_boundary(at) && text.is_char_boundary(at + 1) => {
                text.replace_range(at..at + 1, "Q");
            }
            _ => text.push(' '),
        }
        Some(text)
    });
    prop_oneof![
        8 => edited,
        1 => Just(None),
        3 => "[A-Q ]{0,18}".prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn lookups_match_the_interpreter(texts in prop::collection::vec(near_key(), 0..90)) {
        let batch = batch_of(&texts);
        for money in [false, true] {
            let program = lookup_program(money);
            let jit = compile(&program);
            prop_assert_eq!(check_both_engines(&program, &jit, &batch), 3, "all three lookups compiled");
        }
    }
}

/// Year 0 is neither a date nor a month on either engine (Python's dates start at year 1, so
/// pyarrow's `to_pandas()` failed on a column holding one); year 1 still is.
#[test]
fn year_zero_is_not_a_date_on_either_engine() {
    let cases = [
        (Builtin::ParseDate(format("%d/%m/%Y")), TypeKind::Date, "01/01/0000", "01/01/0001"),
        (Builtin::ParseDate(format("%d/%m/%Y")), TypeKind::Date, "29/02/0000", "28/02/0001"),
        (Builtin::ParseDate(format("%Y%m%d")), TypeKind::Date, "00001231", "00011231"),
        (Builtin::ParseDate(format("%Y-%m-%dT%H:%M:%S")), TypeKind::Date, "0000-06-30T12:00:00", "0001-06-30T12:00:00"),
        (Builtin::ParseMonth(format("%Y%m")), TypeKind::Month, "000001", "000101"),
        (Builtin::ParseMonth(format("%m/%Y")), TypeKind::Month, "12/0000", "12/0001"),
        (Builtin::ParseMonth(format("%Y-%m-%d")), TypeKind::Month, "0000-02-29", "0001-02-28"),
    ];
    for (function, kind, year_zero, year_one) in cases {
        let program = program_of(function, kind, date_lit(0));
        let jit = compile(&program);
        let batch = batch_of(&[Some(year_zero.to_owned()), Some(year_one.to_owned())]);
        assert_eq!(check_both_engines(&program, &jit, &batch), 4, "{year_zero}: every binding compiled");
        // Binding 0 is `else null`: the parse's own result.
        let out = jit.eval_binding(0, &batch).expect("runs").expect("compiled");
        assert!(out.values.is_null(0), "{year_zero} parsed");
        assert!(out.values.is_valid(1), "{year_one} did not parse");
    }
}
