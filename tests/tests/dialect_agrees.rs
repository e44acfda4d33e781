//! `etr check` and `etr run` agree on dialects (issue 13, finding 18): every source declaration
//! the compiler accepts gives a dialect the runtime takes (`pipeline::dialect_of` and
//! `SourceDialect::validate`), so a run never refuses at start what the check passed.

use proptest::prelude::*;

/// Texts for the delimiter, the quote and the prefixes: ordinary ones and every kind the runtime
/// refuses somewhere (empty, line breaks, the delimiter inside, a quote in the delimiter, characters
/// windows-1252 cannot write). Written as spec string contents.
const PIECES: &[&str] =
    &["|", "||", ";", "T", "H", "T|X", "", "\\u{d}", "\\n", "X\\u{d}", "é", "→", "¦", "\\\"", "'", "€", "\\u{81}"];

fn spec(delimiter: &str, quote: Option<&str>, encoding: &str, header: Option<&str>, trailer: Option<&str>) -> String {
    let mut text = format!("contributor X \"X\" layout 1\nuse etr.record\nsource delimited \"{delimiter}\" {{\n");
    match quote {
        Some(q) => text.push_str(&format!("  quote \"{q}\"\n")),
        None => text.push_str("  quote none\n"),
    }
    match encoding {
        "utf-8" => text.push_str("  encoding \"utf-8\" else reject R0\n"),
        _ => text.push_str("  encoding \"windows-1252\"\n"),
    }
    if let Some(h) = header {
        text.push_str(&format!("  header \"{h}\" {{ n: text }}\n"));
    }
    if let Some(t) = trailer {
        text.push_str(&format!("  trailer \"{t}\" {{ count: int }}\n"));
    }
    text.push_str(
        "  columns { ACCT } else reject R0\n}\nmap to Record { account_no = ACCT }\nrule R0 reject \"bad\"\n",
    );
    text
}

fn check_agreement(text: &str) -> Result<(), TestCaseError> {
    let (program, diagnostics, _, _) = etr_tests::compile("spec.etr", text);
    let source_errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error() && d.code.id == "E504").collect();
    let Some(program) = program else {
        // Refused at compile time: the refusal must be located in the source declaration.
        for d in source_errors {
            prop_assert!(d.primary.span.start < d.primary.span.end, "{d:?}");
        }
        return Ok(());
    };
    let dialect = etr_runtime::pipeline::dialect_of(&program);
    prop_assert!(dialect.is_ok(), "etr check accepts, the run refuses: {:?}\n{text}", dialect.err());
    let dialect = dialect.unwrap();
    prop_assert_eq!(dialect.validate(), Ok(()), "etr check accepts, the run refuses:\n{}", text);
    if let (Some(h), Some(t)) = (&dialect.header_prefix, &dialect.trailer_prefix) {
        prop_assert_ne!(h, t, "the same prefix for the header and the trailer:\n{}", text);
    }
    for prefix in dialect.header_prefix.iter().chain(&dialect.trailer_prefix) {
        prop_assert!(!prefix.is_empty(), "an empty prefix:\n{}", text);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn a_dialect_the_compiler_accepts_is_one_the_runtime_takes(
        delimiter in prop::sample::select(PIECES),
        quote in prop::option::of(prop::sample::select(PIECES)),
        encoding in prop::sample::select(&["utf-8", "windows-1252"][..]),
        header in prop::option::of(prop::sample::select(PIECES)),
        trailer in prop::option::of(prop::sample::select(PIECES)),
    ) {
        check_agreement(&spec(delimiter, quote, encoding, header, trailer))?;
    }
}

/// The finding's own example: `trailer "T|X"` with the delimiter `|` passed the check.
#[test]
fn a_trailer_prefix_holding_the_delimiter_is_a_compile_error() {
    let text = spec("|", None, "utf-8", Some("H"), Some("T|X"));
    let (program, diagnostics, _, _) = etr_tests::compile("spec.etr", &text);
    assert!(program.is_none());
    let d = diagnostics.iter().find(|d| d.code.id == "E504").expect("an E504");
    assert_eq!(&text[d.primary.span.start as usize..d.primary.span.end as usize], "\"T|X\"");
    assert!(d.message.contains("contains the delimiter"), "{}", d.message);
}

/// The property above is not vacuous: an ordinary declaration compiles.
#[test]
fn an_ordinary_dialect_compiles() {
    for encoding in ["utf-8", "windows-1252"] {
        let text = spec("|", Some("\\\""), encoding, Some("H"), Some("T"));
        let (program, diagnostics, _, _) = etr_tests::compile("spec.etr", &text);
        assert!(program.is_some(), "{diagnostics:#?}");
    }
}
