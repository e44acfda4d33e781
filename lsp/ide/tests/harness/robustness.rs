//! Broken specs are the normal case in an editor: every feature must answer, never panic, at any
//! cursor position of any prefix of a spec (what the file looks like while it is being typed),
//! including text with multi-byte characters.

use etr_ide::{FilePosition, FileRange, TextRange};

use crate::fixture::{Fixture, SPEC, fixture};

/// Runs every feature at `offset` and returns how many answers were non-empty.
fn exercise(fixture: &Fixture, offset: u32) -> usize {
    let file = fixture.main();
    let analysis = &fixture.analysis;
    let position = FilePosition { file, offset };
    let around = FileRange { file, range: TextRange::new(offset.saturating_sub(5), offset) };
    let mut answers = 0;
    answers += usize::from(analysis.hover(position).expect("not cancelled").is_some());
    answers += analysis.completions(position).expect("not cancelled").len().min(1);
    answers += analysis.goto_definition(position).expect("not cancelled").len().min(1);
    answers += analysis.references(position, true).expect("not cancelled").len().min(1);
    answers += usize::from(analysis.rename(position, "renamed").expect("not cancelled").is_ok());
    answers += analysis.code_actions(around).expect("not cancelled").len().min(1);
    answers += analysis.inlay_hints(around).expect("not cancelled").len().min(1);
    answers
}

#[test]
fn every_feature_answers_on_every_prefix_of_a_spec() {
    // A message and a comment with characters of two, three and four bytes.
    let text = format!("{SPEC}// note: é ✓ 𝄞\nrule N1 warn \"naïve ✓\" {{ check outstanding_balance > RM0 on x }}\n");
    let mut answered = 0;
    let mut cuts: Vec<usize> = (0..text.len()).step_by(29).collect();
    cuts.push(text.len());
    for cut in cuts {
        if !text.is_char_boundary(cut) {
            continue;
        }
        let prefix = &text[..cut];
        let fixture = fixture(prefix);
        let file = fixture.main();
        // Whole-file features once per prefix.
        fixture.analysis.diagnostics(file).expect("not cancelled");
        fixture.analysis.document_symbols(file).expect("not cancelled");
        fixture.analysis.semantic_tokens(file).expect("not cancelled");
        let _ = fixture.analysis.format(file).expect("not cancelled");
        // Cursor features at positions spread over the prefix, inside characters too.
        for offset in (0..=cut as u32).step_by(41) {
            answered += exercise(&fixture, offset);
        }
    }
    // Far from all positions are empty: the features do answer on partial text.
    assert!(answered > 200, "only {answered} answers");
}

#[test]
fn offsets_past_the_end_are_clamped() {
    assert!(exercise(&fixture(SPEC), SPEC.len() as u32 + 1_000) > 0);
}
