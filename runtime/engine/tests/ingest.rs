//! Reader and splitter on hostile input: every case is a whole file run through the public API
//! (`BlockReader` then `split_block`), at the default block size and at tiny ones, which must all
//! agree.

use arrow::array::{Array, StringViewArray};
use etr_runtime::{
    BlockReader, Encoding, InputFacts, RawBlock, ReaderConfig, RuntimeError, SourceDialect, split_block,
};
use proptest::prelude::*;

/// One data line as the evaluators will see it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    line_no: u64,
    text: String,
    field_count: u32,
    bad_encoding: bool,
    fields: Vec<Option<String>>,
}

/// Everything a run produces, for comparing runs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    raw_lines: Vec<(u64, Vec<u8>)>,
    rows: Vec<Row>,
    facts: InputFacts,
}

fn w1_dialect(columns: usize) -> SourceDialect {
    SourceDialect {
        header_prefix: Some(b"H".to_vec()),
        trailer_prefix: Some(b"T".to_vec()),
        ..SourceDialect::pipe(columns)
    }
}

fn run_with(input: &[u8], dialect: &SourceDialect, config: ReaderConfig) -> Run {
    let mut reader = BlockReader::new(input, dialect, config).expect("valid reader setup");
    let mut raw_lines = Vec::new();
    let mut rows = Vec::new();
    while let Some(block) = reader.next_block().expect("in-memory reads do not fail") {
        assert!(!block.is_empty(), "the reader never hands out an empty block");
        assert_eq!(block.line_offsets().len(), block.len(), "every line has an offset");
        for (i, line) in block.lines().enumerate() {
            // A line of text lies at its offset in the file; only blank and Ctrl-Z lines have none.
            match block.line_offsets()[i] {
                etr_runtime::input::reader::NO_OFFSET => {
                    assert!(line.is_empty() || line == [0x1A], "line {i} has no offset")
                }
                offset => {
                    let at = input.get(offset as usize..offset as usize + line.len());
                    assert_eq!(
                        at,
                        Some(line),
                        "line {} is not at its offset {offset}",
                        block.first_line_no() + i as u64
                    );
                }
            }
            raw_lines.push((block.first_line_no() + i as u64, line.to_vec()));
        }
        rows.extend(rows_of(&block, dialect));
    }
    let facts = reader.finish().expect("the reader is exhausted");
    assert_eq!(facts.data_lines, raw_lines.len() as u64);
    Run { raw_lines, rows, facts }
}

fn run_default(input: &[u8], dialect: &SourceDialect) -> Run {
    run_with(input, dialect, ReaderConfig::default())
}

/// Runs at the default block size and at tiny ones, asserts they agree, returns the default run.
fn run_all_blocks(input: &[u8], dialect: &SourceDialect) -> Run {
    let reference = run_default(input, dialect);
    for block in [1, 2, 3, 7, 64] {
        for max_lines in [1, 3, 1 << 16] {
            let config = ReaderConfig { block_size: block, max_lines_per_block: max_lines, ..ReaderConfig::default() };
            let other = run_with(input, dialect, config);
            assert_eq!(other, reference, "block size {block}, at most {max_lines} lines per block");
        }
    }
    reference
}

fn rows_of(block: &RawBlock, dialect: &SourceDialect) -> Vec<Row> {
    let batch = split_block(block, dialect);
    let n = batch.len();
    assert_eq!(batch.lines.len(), n);
    assert_eq!(batch.field_counts.len(), n);
    assert_eq!(batch.bad_encoding.len(), n);
    assert_eq!(batch.columns.len(), dialect.column_count);
    // The splitter builds its arrays without validation: check everything it promises.
    batch.lines.to_data().validate_full().expect("valid line views");
    assert_eq!(batch.lines.null_count(), 0);
    for column in &batch.columns {
        assert_eq!(column.len(), n);
        column.to_data().validate_full().expect("valid field views");
        for i in 0..n {
            // Null exactly when empty: no empty strings reach the evaluators.
            assert_eq!(column.is_null(i), column.value(i).is_empty());
        }
    }
    (0..n)
        .map(|i| Row {
            line_no: batch.line_nos[i],
            text: batch.lines.value(i).to_owned(),
            field_count: batch.field_counts[i],
            bad_encoding: batch.bad_encoding[i],
            fields: batch.columns.iter().map(|c| value(c, i)).collect(),
        })
        .collect()
}

fn value(column: &StringViewArray, i: usize) -> Option<String> {
    column.is_valid(i).then(|| column.value(i).to_owned())
}

fn fields(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|v| (!v.is_empty()).then(|| v.to_string())).collect()
}

fn texts(run: &Run) -> Vec<(u64, &str)> {
    run.rows.iter().map(|r| (r.line_no, r.text.as_str())).collect()
}

#[test]
fn empty_file_yields_nothing() {
    let run = run_all_blocks(b"", &w1_dialect(3));
    assert!(run.rows.is_empty());
    assert_eq!(run.facts.header, None);
    assert_eq!(run.facts.trailer, None);
    assert_eq!(run.facts.data_lines, 0);
    assert_eq!(run.facts.physical_lines, 0);
    assert_eq!(run.facts.ignored_trailing_lines, 0);
    assert_eq!(run.facts.bytes, 0);
    assert_eq!(run.facts.input_hash, Some(blake3::hash(b"").to_hex().to_string()));
}

#[test]
fn header_data_and_trailer() {
    let input = b"H|JCL|202506\na|b|c\nd||f\nT|2|10.00\n";
    let run = run_all_blocks(input, &w1_dialect(3));
    let header = run.facts.header.as_ref().expect("header");
    assert_eq!(header.line_no, 1);
    assert_eq!(header.text, "H|JCL|202506");
    assert_eq!(header.fields, fields(&["H", "JCL", "202506"]));
    let trailer = run.facts.trailer.as_ref().expect("trailer");
    assert_eq!(trailer.line_no, 4);
    assert_eq!(trailer.fields, fields(&["T", "2", "10.00"]));
    assert_eq!(texts(&run), [(2, "a|b|c"), (3, "d||f")]);
    assert_eq!(run.rows[1].fields, fields(&["d", "", "f"]));
    assert_eq!(run.facts.data_lines, 2);
    assert_eq!(run.facts.physical_lines, 4);
    assert_eq!(run.facts.bytes, input.len() as u64);
    assert_eq!(run.facts.input_hash, Some(blake3::hash(input).to_hex().to_string()));
}

#[test]
fn the_fingerprint_tells_reads_apart_and_the_content_hash_can_be_skipped() {
    let input = b"H|JCL|202506\na|b|c\nd||f\nT|2|10.00\n";
    let run = run_all_blocks(input, &w1_dialect(3));
    assert_eq!(run.facts.fingerprint, xxhash_rust::xxh3::xxh3_128(input));
    // One byte changed anywhere changes the fingerprint.
    let mut changed = input.to_vec();
    changed[15] = b'x';
    assert_ne!(run_all_blocks(&changed, &w1_dialect(3)).facts.fingerprint, run.facts.fingerprint);
    // A later pass skips the blake3 hash and keeps the fingerprint.
    let light = run_with(input, &w1_dialect(3), ReaderConfig { content_hash: false, ..ReaderConfig::default() });
    assert_eq!(light.facts.input_hash, None);
    assert_eq!(light.facts.fingerprint, run.facts.fingerprint);
}

#[test]
fn missing_trailer_leaves_last_line_as_data() {
    let run = run_all_blocks(b"H|X\na|b\nc|d", &w1_dialect(2));
    assert!(run.facts.header.is_some());
    assert_eq!(run.facts.trailer, None);
    assert_eq!(texts(&run), [(2, "a|b"), (3, "c|d")]);
}

#[test]
fn prefixes_must_match_the_whole_first_field_on_the_right_line() {
    // "HX" is not "H"; a "T" line that is not last is data; an "H" line that is not first is data.
    let run = run_all_blocks(b"HX|1\nH|2\nT|3\nTT|4\n", &w1_dialect(2));
    assert_eq!(run.facts.header, None);
    assert_eq!(run.facts.trailer, None);
    assert_eq!(texts(&run), [(1, "HX|1"), (2, "H|2"), (3, "T|3"), (4, "TT|4")]);
    // Without prefixes in the dialect nothing is a header or trailer.
    let run = run_all_blocks(b"H|1\nT|2\n", &SourceDialect::pipe(2));
    assert_eq!((run.facts.header, run.facts.trailer), (None, None));
    assert_eq!(run.rows.len(), 2);
}

#[test]
fn header_only_and_trailer_only_files() {
    let run = run_all_blocks(b"H|1\n", &w1_dialect(2));
    assert!(run.facts.header.is_some());
    assert_eq!(run.facts.trailer, None);
    assert!(run.rows.is_empty());

    let run = run_all_blocks(b"T|0\n\n", &w1_dialect(2));
    assert_eq!(run.facts.header, None);
    assert_eq!(run.facts.trailer.as_ref().map(|t| t.line_no), Some(1));
    assert_eq!(run.facts.ignored_trailing_lines, 1);
    assert!(run.rows.is_empty());
}

#[test]
fn crlf_lone_cr_and_lf_are_all_terminators() {
    let lf = run_all_blocks(b"H|1\na|b\nc|d\nT|2\n", &w1_dialect(2));
    let crlf = run_all_blocks(b"H|1\r\na|b\r\nc|d\r\nT|2\r\n", &w1_dialect(2));
    let cr = run_all_blocks(b"H|1\ra|b\rc|d\rT|2\r", &w1_dialect(2));
    let mixed = run_all_blocks(b"H|1\r\na|b\rc|d\nT|2", &w1_dialect(2));
    for other in [&crlf, &cr, &mixed] {
        assert_eq!(other.rows, lf.rows);
        assert_eq!(other.facts.header, lf.facts.header);
        assert_eq!(other.facts.trailer, lf.facts.trailer);
    }
    // "\r\r\n" is a lone CR then a CRLF: one empty line between.
    let run = run_all_blocks(b"a\r\r\nb\n", &SourceDialect::pipe(1));
    assert_eq!(texts(&run), [(1, "a"), (2, ""), (3, "b")]);
}

#[test]
fn utf8_bom_is_stripped() {
    let run = run_all_blocks(b"\xEF\xBB\xBFH|1\na|b\n", &w1_dialect(2));
    assert!(run.facts.bom);
    assert_eq!(run.facts.header.as_ref().map(|h| h.text.as_str()), Some("H|1"));
    assert_eq!(texts(&run), [(2, "a|b")]);
    assert_eq!(run.facts.bytes, 11);

    // A BOM alone is an empty file.
    let run = run_all_blocks(b"\xEF\xBB\xBF", &w1_dialect(2));
    assert!(run.facts.bom);
    assert_eq!(run.facts.physical_lines, 0);
}

#[test]
fn windows_1252_is_transcoded() {
    let dialect = SourceDialect { encoding: Encoding::Windows1252, ..w1_dialect(3) };
    // 0x80 is the euro sign, 0xA0 a no-break space, 0xE9 an e with an acute accent.
    let run = run_all_blocks(b"H|\x80\nCAF\xC9|\x8012.50|a\xA0b\nT|1\n", &dialect);
    assert_eq!(run.facts.header.as_ref().unwrap().fields[1].as_deref(), Some("€"));
    assert_eq!(run.rows[0].text, "CAFÉ|€12.50|a\u{a0}b");
    assert_eq!(run.rows[0].fields, fields(&["CAFÉ", "€12.50", "a\u{a0}b"]));
    assert!(!run.rows[0].bad_encoding);
}

#[test]
fn windows_1252_delimiter_is_matched_in_decoded_text() {
    // 0xA6 is the broken bar in cp1252 (U+00A6, two bytes in UTF-8).
    let dialect = SourceDialect { delimiter: vec![0xA6], encoding: Encoding::Windows1252, ..w1_dialect(3) };
    let run = run_all_blocks(b"H\xA6x\n\x80\xA6b|c\xA6\xA6\nT\xA61\n", &dialect);
    assert!(run.facts.header.is_some());
    assert!(run.facts.trailer.is_some());
    assert_eq!(run.rows[0].fields, fields(&["€", "b|c", ""]));
    assert_eq!(run.rows[0].field_count, 4);
}

#[test]
fn field_counts_short_and_long_lines() {
    let line = |n: usize| (0..n).map(|i| format!("f{i}")).collect::<Vec<_>>().join("|");
    let input = format!("\n{}\n{}\n{}\n{}\n", line(40), line(41), line(42), line(10_000));
    let dialect = SourceDialect::pipe(41);
    let run = run_all_blocks(input.as_bytes(), &dialect);
    let counts: Vec<u32> = run.rows.iter().map(|r| r.field_count).collect();
    assert_eq!(counts, [1, 40, 41, 42, 10_000]);
    assert!(run.rows[0].fields.iter().all(Option::is_none));
    assert_eq!(run.rows[1].fields[39].as_deref(), Some("f39"));
    assert_eq!(run.rows[1].fields[40], None);
    for row in &run.rows[2..] {
        let expected: Vec<_> = (0..41).map(|i| Some(format!("f{i}"))).collect();
        assert_eq!(row.fields, expected);
    }

    // The same wide line with as many columns as fields.
    let wide = SourceDialect::pipe(10_000);
    let wide_run = run_default(line(10_000).as_bytes(), &wide);
    assert_eq!(wide_run.rows[0].fields[9_999].as_deref(), Some("f9999"));
    assert_eq!(wide_run.rows[0].fields[5_000].as_deref(), Some("f5000"));
}

#[test]
fn delimiters_only_and_empty_fields() {
    let run = run_all_blocks(b"|\n||||\n|x|\n", &SourceDialect::pipe(3));
    assert_eq!(
        run.rows.iter().map(|r| (r.field_count, r.fields.clone())).collect::<Vec<_>>(),
        [(2, fields(&["", "", ""])), (5, fields(&["", "", ""])), (3, fields(&["", "x", ""])),]
    );
}

#[test]
fn nul_bytes_are_data() {
    let run = run_all_blocks(b"a\0b|\0\n\0\n", &SourceDialect::pipe(2));
    assert_eq!(run.rows[0].fields, fields(&["a\0b", "\0"]));
    assert_eq!(run.rows[1].fields, fields(&["\0", ""]));
}

#[test]
fn field_lengths_around_the_inline_limit() {
    // Views inline up to 12 bytes and point into the buffer beyond: test both sides, at the
    // start, middle and end of lines, including multi-byte characters.
    let values: Vec<String> = (0..=20).map(|n| "é".repeat(n / 2) + &"x".repeat(n % 2)).collect();
    let input: String = values.iter().map(|v| format!("{v}|{v}|{v}\n")).collect();
    let run = run_all_blocks(input.as_bytes(), &SourceDialect::pipe(3));
    for (row, v) in run.rows.iter().zip(&values) {
        let expected = (!v.is_empty()).then(|| v.clone());
        assert_eq!(row.fields, vec![expected; 3]);
    }
}

#[test]
fn a_ten_megabyte_line() {
    let long: String = (0..1_000_000).map(|i| format!("{:09}|", i % 1000)).collect();
    assert!(long.len() >= 10_000_000);
    let input = format!("H|1\nshort|x\n{long}end\nT|3\n");
    let dialect = w1_dialect(3);
    for block in [4 << 20, 64 << 10, 1000] {
        let config = ReaderConfig { max_line_bytes: 16 << 20, ..ReaderConfig::with_block_size(block) };
        let run = run_with(input.as_bytes(), &dialect, config);
        assert_eq!(run.rows.len(), 2);
        let row = &run.rows[1];
        assert_eq!(row.line_no, 3);
        assert_eq!(row.text.len(), long.len() + 3);
        assert_eq!(row.field_count, 1_000_001);
        assert_eq!(row.fields, fields(&["000000000", "000000001", "000000002"]));
        assert_eq!(run.facts.trailer.as_ref().map(|t| t.line_no), Some(4));
    }
}

/// Finding 10 of issue 13: every block in flight was as large as its longest line, so memory grew
/// with line length times threads. A line over the limit is
/// now cut to the limit and made malformed; every byte is still read, counted and hashed, the
/// lines after it keep their numbers and file offsets, and the trailer is still found.
#[test]
fn lines_over_the_limit_are_cut_and_made_malformed() {
    let limit = 50;
    let dialect = w1_dialect(3);
    let long = |n: usize, c: char| -> String { (0..n).map(|i| if i % 7 == 3 { '|' } else { c }).collect() };
    let endings = ["\n", "\r\n", "\r"];
    let mut cases = Vec::new();
    for (k, len) in [limit - 1, limit, limit + 1, 3 * limit, 1000, 10_000].into_iter().enumerate() {
        let end = endings[k % 3];
        cases.push(format!("H|1{end}a|b|c{end}{}{end}x|y|z{end}{}{end}T|4{end}", long(len, 'a'), long(len, 'b')));
        // The long line last, without a terminator (no trailer then), and right before the trailer.
        cases.push(format!("a|b|c{end}{}", long(len, 'c')));
        cases.push(format!("{}{end}{}{end}T|2", long(len, 'd'), long(len, 'e')));
    }
    for input in &cases {
        let whole =
            run_with(input.as_bytes(), &dialect, ReaderConfig { max_line_bytes: 1 << 20, ..Default::default() });
        for block in [1, 7, 16, 64, 1 << 20] {
            let config = ReaderConfig { block_size: block, max_line_bytes: limit, ..ReaderConfig::default() };
            let cut = run_with(input.as_bytes(), &dialect, config);
            assert_eq!(cut.facts, whole.facts, "block {block}: the same bytes read, counted, hashed: {input:?}");
            assert_eq!(cut.rows.len(), whole.rows.len());
            for (c, w) in cut.rows.iter().zip(&whole.rows) {
                assert_eq!(c.line_no, w.line_no);
                if w.text.len() > limit {
                    assert_eq!(c.text, w.text[..limit], "block {block}: the kept part of line {}", w.line_no);
                    assert_eq!(c.field_count, 0, "block {block}: line {} is malformed", w.line_no);
                } else {
                    assert_eq!(c, w, "block {block}: a line within the limit is untouched");
                }
            }
        }
    }
}

#[test]
fn invalid_utf8_flags_only_its_line() {
    let input = b"H|1\nok|1\nbad\xFF|2\xC3\nok|\xC3\xA9\nT|3\n";
    let run = run_all_blocks(input, &w1_dialect(2));
    let flags: Vec<bool> = run.rows.iter().map(|r| r.bad_encoding).collect();
    assert_eq!(flags, [false, true, false]);
    assert_eq!(run.rows[1].text, "bad\u{FFFD}|2\u{FFFD}");
    // Split over the lossy text, so that file aggregates still see the line's fields.
    assert_eq!(run.rows[1].fields, fields(&["bad\u{FFFD}", "2\u{FFFD}"]));
    assert_eq!(run.rows[1].field_count, 2);
    assert_eq!(run.rows[2].fields, fields(&["ok", "é"]));
}

#[test]
fn invalid_utf8_in_header_or_trailer_is_decoded_lossily() {
    let run = run_all_blocks(b"H|\xFF\na\nT|\xFE\n", &w1_dialect(1));
    assert_eq!(texts(&run), [(2, "a")]);
    assert_eq!(run.facts.header.unwrap().fields[1].as_deref(), Some("\u{FFFD}"));
    assert_eq!(run.facts.trailer.unwrap().text, "T|\u{FFFD}");
}

#[test]
fn trailing_blank_lines_and_ctrl_z_are_ignored() {
    let run = run_all_blocks(b"H|1\na\n\nb\nT|2\n\n\r\n\n\x1A", &w1_dialect(1));
    // The blank line between a and b is data; the four after the trailer are not.
    assert_eq!(texts(&run), [(2, "a"), (3, ""), (4, "b")]);
    assert_eq!(run.facts.trailer.as_ref().map(|t| t.line_no), Some(5));
    assert_eq!(run.facts.ignored_trailing_lines, 4);
    assert_eq!(run.facts.physical_lines, 9);
    assert!(run.facts.eof_marker);

    // A Ctrl-Z glued to the trailer is dropped from it.
    let run = run_all_blocks(b"H|1\na\nT|1\x1A", &w1_dialect(1));
    assert_eq!(run.facts.trailer.unwrap().fields, fields(&["T", "1"]));
    assert_eq!(run.facts.ignored_trailing_lines, 0);
    assert!(run.facts.eof_marker);

    // Blank and Ctrl-Z lines followed by data are data.
    let run = run_all_blocks(b"a\n\n\x1A\n\nb\n", &SourceDialect::pipe(1));
    assert_eq!(texts(&run), [(1, "a"), (2, ""), (3, "\u{1A}"), (4, ""), (5, "b")]);

    // Only blank lines: nothing is data.
    let run = run_all_blocks(b"\n\n\r\n", &w1_dialect(1));
    assert!(run.rows.is_empty());
    assert_eq!(run.facts.ignored_trailing_lines, 3);
}

#[test]
fn long_blank_runs_are_counted_not_buffered() {
    let mut input = b"a\n".to_vec();
    input.extend(std::iter::repeat_n(b'\n', 100_000));
    input.extend(b"b\n");
    input.extend(std::iter::repeat_n(b'\n', 100_000));
    let config = ReaderConfig { block_size: 1024, max_lines_per_block: 1000, ..ReaderConfig::default() };
    let mut reader = BlockReader::new(&input[..], &SourceDialect::pipe(1), config).expect("valid setup");
    let mut data_lines = 0;
    let mut next_line_no = 1;
    while let Some(block) = reader.next_block().expect("reads") {
        assert!(block.len() <= 1000);
        assert_eq!(block.first_line_no(), next_line_no);
        // The buffer behind a block is about one read, not the whole run of blank lines.
        assert!(block.data().len() < 4096, "{}", block.data().len());
        next_line_no += block.len() as u64;
        data_lines += block.len();
    }
    let facts = reader.finish().expect("exhausted");
    assert_eq!(data_lines, 100_002);
    assert_eq!(facts.ignored_trailing_lines, 100_000);
}

#[test]
fn block_boundaries_anywhere_give_identical_results() {
    let files: [&[u8]; 6] = [
        b"H|JCL|1\r\nab|cd|ef\r\n\r\ngh||\r\nT|3|x\r\n\r\n",
        b"\xEF\xBB\xBFH|1\ra|b\r\rc\rT|9\r\r",
        b"a|\xC3\xA9\xC3\xA9\xC3\xA9|b\nx\xFF|y\n\xE2\x82\xAC|z",
        b"\r\n\r\n|\r\r\n\n|||\r\n",
        b"H|1\n\x1A\n\x1A",
        b"\"q|1\"|2\n\"a\"\"b\"|\"c\n",
    ];
    for input in files {
        run_all_blocks(input, &w1_dialect(3));
        let quoted = SourceDialect { quote: Some(b'"'), ..w1_dialect(3) };
        run_all_blocks(input, &quoted);
    }
}

#[test]
fn quoted_fields() {
    let dialect = SourceDialect { quote: Some(b'"'), ..SourceDialect::pipe(3) };
    let cases: [(&str, u32, [&str; 3]); 9] = [
        // The delimiter inside quotes is data.
        (r#""a|b"|c|d"#, 3, ["a|b", "c", "d"]),
        // A doubled quote is one quote.
        (r#""say ""hi"""|x|"#, 3, [r#"say "hi""#, "x", ""]),
        // An empty quoted field is null like any empty field.
        (r#"""|"x"|"""#, 3, ["", "x", ""]),
        // A quote not at the start of a field is ordinary data.
        (r#"ab"c|d"e|f"#, 3, [r#"ab"c"#, r#"d"e"#, "f"]),
        // Text after the closing quote is appended to the field.
        (r#""ab"cd|x|y"#, 3, ["abcd", "x", "y"]),
        // An unbalanced quote makes the rest of the line the field.
        (r#"x|"abc|def"#, 2, ["x", "abc|def", ""]),
        (r#"x|"a""b|c"#, 2, ["x", r#"a"b|c"#, ""]),
        // A quote alone.
        (r#"""#, 1, ["", "", ""]),
        // Long quoted fields point into the block; long unescaped ones into the side buffer.
        (r#""0123456789abcdef"|"0123456789""abcdef"|z"#, 3, ["0123456789abcdef", r#"0123456789"abcdef"#, "z"]),
    ];
    let input: String = cases.iter().map(|(line, _, _)| format!("{line}\n")).collect();
    let run = run_all_blocks(input.as_bytes(), &dialect);
    for ((line, count, expected), row) in cases.iter().zip(&run.rows) {
        assert_eq!(row.text, *line);
        assert_eq!(row.field_count, *count, "{line}");
        assert_eq!(row.fields, fields(expected), "{line}");
    }
}

#[test]
fn quoted_header_and_trailer() {
    let dialect = SourceDialect { quote: Some(b'"'), ..w1_dialect(2) };
    let run = run_all_blocks(b"\"H\"|\"a|b\"\nx|y\n\"T\"|1\n", &dialect);
    assert_eq!(run.facts.header.unwrap().fields, fields(&["H", "a|b"]));
    assert_eq!(run.facts.trailer.unwrap().fields, fields(&["T", "1"]));
}

#[test]
fn multi_byte_delimiter() {
    let dialect = SourceDialect { delimiter: b"~|".to_vec(), ..SourceDialect::pipe(3) };
    let run = run_all_blocks(b"a~|b|c~|~d\n~|\n", &dialect);
    assert_eq!(run.rows[0].fields, fields(&["a", "b|c", "~d"]));
    assert_eq!(run.rows[1].field_count, 2);
}

#[test]
fn invalid_dialect_is_refused_by_the_reader() {
    let dialect = SourceDialect { delimiter: Vec::new(), ..SourceDialect::pipe(1) };
    let err = BlockReader::new(&b""[..], &dialect, ReaderConfig::default()).unwrap_err();
    assert!(matches!(err, RuntimeError::Dialect(_)), "{err}");
}

#[test]
fn unvalidated_dialect_still_yields_valid_arrays() {
    // The splitter never panics or builds invalid UTF-8 views, whatever dialect it is handed: a
    // non-ASCII "quote" byte could cut a character in two, so such lines are flagged instead.
    let data: &[u8] = "aé|b\n\u{e9}x|y\n".as_bytes();
    let block = RawBlock::new(arrow::buffer::Buffer::from_vec(data.to_vec()), &[(0, 5), (6, 11)], 1)
        .expect("ranges inside the buffer");
    for dialect in [
        SourceDialect { quote: Some(0xC3), ..SourceDialect::pipe(2) },
        SourceDialect { delimiter: vec![0xA9], ..SourceDialect::pipe(2) },
        SourceDialect { delimiter: Vec::new(), ..SourceDialect::pipe(2) },
    ] {
        assert!(dialect.validate().is_err());
        let rows = rows_of(&block, &dialect);
        assert_eq!(rows.len(), 2);
    }
}

#[test]
fn adjacent_lines_in_a_hand_made_block_are_validated_one_by_one() {
    // Together the bytes are valid UTF-8 ("aé"), apart neither line is.
    let data = arrow::buffer::Buffer::from_vec(b"a\xC3\xA9".to_vec());
    let block = RawBlock::new(data, &[(0, 2), (2, 3)], 1).expect("ranges inside the buffer");
    let rows = rows_of(&block, &SourceDialect::pipe(1));
    assert!(rows.iter().all(|r| r.bad_encoding));
}

#[test]
fn raw_block_rejects_ranges_outside_its_buffer() {
    let data = arrow::buffer::Buffer::from_vec(b"abc".to_vec());
    assert!(RawBlock::new(data.clone(), &[(0, 4)], 1).is_err());
    assert!(RawBlock::new(data.clone(), &[(2, 1)], 1).is_err());
    assert!(RawBlock::new(data, &[(0, 3), (3, 3)], 1).is_ok());
}

#[test]
fn finish_before_the_end_is_an_error() {
    let config = ReaderConfig { max_lines_per_block: 1, ..ReaderConfig::default() };
    let mut reader = BlockReader::new(&b"a\nb\nc\n"[..], &SourceDialect::pipe(1), config).expect("valid setup");
    assert!(reader.next_block().expect("reads").is_some());
    assert!(matches!(reader.finish(), Err(RuntimeError::Internal(_))));
}

#[test]
fn reads_a_file_from_disk() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("in.psv");
    std::fs::write(&path, b"H|1\na|b\nT|1\n").expect("write");
    let dialect = w1_dialect(2);
    let mut reader = etr_runtime::open(&path, &dialect, ReaderConfig::default()).expect("open");
    let block = reader.next_block().expect("read").expect("a block");
    assert_eq!(block.line(0), Some(&b"a|b"[..]));
    assert!(reader.next_block().expect("read").is_none());
    assert_eq!(reader.finish().expect("facts").data_lines, 1);

    let missing = etr_runtime::open(dir.path().join("nope"), &dialect, ReaderConfig::default());
    let err = missing.unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn blocks_split_on_worker_threads_while_the_reader_goes_on() {
    let input: String = (0..5_000).map(|i| format!("{i}|x{i}|{}\n", "é".repeat(i % 7))).collect();
    let dialect = SourceDialect::pipe(3);
    let expected = run_default(input.as_bytes(), &dialect).rows;
    let config = ReaderConfig { block_size: 4096, ..ReaderConfig::default() };
    let mut reader = BlockReader::new(input.as_bytes(), &dialect, config).expect("valid setup");
    let (to_workers, from_reader) = std::sync::mpsc::sync_channel::<(usize, RawBlock)>(4);
    let from_reader = std::sync::Mutex::new(from_reader);
    let mut batches: Vec<(usize, Vec<Row>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let next = from_reader.lock().expect("unpoisoned").recv();
                        let Ok((index, block)) = next else { break done };
                        done.push((index, rows_of(&block, &dialect)));
                    }
                })
            })
            .collect();
        let mut index = 0;
        while let Some(block) = reader.next_block().expect("reads") {
            to_workers.send((index, block)).expect("workers alive");
            index += 1;
        }
        drop(to_workers);
        workers.into_iter().flat_map(|w| w.join().expect("worker")).collect()
    });
    assert!(batches.len() > 10, "the input spans many blocks");
    batches.sort_by_key(|(index, _)| *index);
    let rows: Vec<Row> = batches.into_iter().flat_map(|(_, rows)| rows).collect();
    assert_eq!(rows, expected);
}

/// Counts physical lines the obvious way: LF, CRLF and lone CR end a line; a final segment
/// without terminator is a line if it is not empty; a leading UTF-8 BOM is not part of any line.
fn reference_line_count(input: &[u8]) -> u64 {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut lines = 0;
    let mut i = 0;
    let mut start = 0;
    while i < input.len() {
        match input[i] {
            b'\n' => {
                lines += 1;
                start = i + 1;
            }
            b'\r' => {
                lines += 1;
                if input.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    lines + u64::from(start < input.len())
}

/// Splits a (valid UTF-8) line without quoting, the obvious way.
fn reference_fields(text: &str, columns: usize) -> (u32, Vec<Option<String>>) {
    let parts: Vec<&str> = text.split('|').collect();
    let mut fields: Vec<Option<String>> =
        parts.iter().take(columns).map(|p| (!p.is_empty()).then(|| p.to_string())).collect();
    fields.resize(columns, None);
    (parts.len() as u32, fields)
}

/// Splits a (valid UTF-8) line with `"` quoting, byte by byte, following the documented rules.
fn reference_quoted_fields(text: &str, columns: usize) -> (u32, Vec<Option<String>>) {
    let b = text.as_bytes();
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let mut i = 0;
    loop {
        let mut field = Vec::new();
        if b.get(i) == Some(&b'"') {
            i += 1;
            let mut closed = false;
            while i < b.len() {
                if b[i] == b'"' {
                    if b.get(i + 1) == Some(&b'"') {
                        field.push(b'"');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    closed = true;
                    break;
                }
                field.push(b[i]);
                i += 1;
            }
            if !closed {
                parts.push(field);
                break;
            }
        }
        while i < b.len() && b[i] != b'|' {
            field.push(b[i]);
            i += 1;
        }
        parts.push(field);
        if i >= b.len() {
            break;
        }
        i += 1;
    }
    let count = parts.len() as u32;
    let mut fields: Vec<Option<String>> = parts
        .into_iter()
        .take(columns)
        .map(|p| (!p.is_empty()).then(|| String::from_utf8(p).expect("cut at ASCII bytes")))
        .collect();
    fields.resize(columns, None);
    (count, fields)
}

fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop::sample::select(vec![
        b'a', b'b', b'H', b'T', b'|', b'|', b'|', b'"', b'\r', b'\n', b'\n', 0x1A, 0, b' ', 0xC3, 0xA9, 0xFF, 0xEF,
        0xBB, 0xBF,
    ]);
    prop::collection::vec(byte, 0..400)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn lines_are_conserved_and_block_size_does_not_matter(
        input in hostile_bytes(),
        block in 1usize..80,
        max_lines in 1usize..6,
        quote in any::<bool>(),
        columns in 0usize..5,
    ) {
        let dialect = SourceDialect {
            quote: quote.then_some(b'"'),
            ..w1_dialect(columns)
        };
        let reference = run_default(&input, &dialect);
        let facts = &reference.facts;
        let counted = u64::from(facts.header.is_some())
            + u64::from(facts.trailer.is_some())
            + facts.data_lines
            + facts.ignored_trailing_lines;
        prop_assert_eq!(counted, reference_line_count(&input));
        prop_assert_eq!(facts.physical_lines, counted);
        prop_assert_eq!(facts.bytes, input.len() as u64);

        let config = ReaderConfig { block_size: block, max_lines_per_block: max_lines, ..ReaderConfig::default() };
        let other = run_with(&input, &dialect, config);
        prop_assert_eq!(&other, &reference);

        // Line numbers are consecutive after the header.
        let first = 1 + u64::from(facts.header.is_some());
        for (i, row) in reference.rows.iter().enumerate() {
            prop_assert_eq!(row.line_no, first + i as u64);
            prop_assert!(!row.text.contains(['\r', '\n']));
        }

        // Fields are exactly what a naive splitter gives.
        for (row, (_, raw)) in reference.rows.iter().zip(&reference.raw_lines) {
            let valid = std::str::from_utf8(raw).is_ok();
            prop_assert_eq!(row.bad_encoding, !valid);
            // A badly encoded line is split over its lossy text, like any other line.
            let (count, expected) = if quote {
                reference_quoted_fields(&row.text, columns)
            } else {
                reference_fields(&row.text, columns)
            };
            prop_assert_eq!(row.field_count, count);
            prop_assert_eq!(&row.fields, &expected);
            if !valid {
                prop_assert_eq!(&row.text, &String::from_utf8_lossy(raw));
            }
        }
    }
}
