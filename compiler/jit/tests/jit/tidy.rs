//! House-style checks on this crate's sources (STYLE points 12 and 21): every module says what it
//! is, every `unsafe` block says why it is sound. The sources are compiled in, so no IO.

const SOURCES: &[(&str, &str)] = &[
    ("lib.rs", include_str!("../../src/lib.rs")),
    ("error.rs", include_str!("../../src/error.rs")),
    ("kernel.rs", include_str!("../../src/kernel.rs")),
    ("plan.rs", include_str!("../../src/plan.rs")),
    ("translate/mod.rs", include_str!("../../src/translate/mod.rs")),
    ("translate/parse.rs", include_str!("../../src/translate/parse.rs")),
];

#[test]
fn every_module_has_a_doc_comment() {
    let missing: Vec<&str> =
        SOURCES.iter().filter(|(_, text)| !text.starts_with("//!")).map(|(name, _)| *name).collect();
    assert!(missing.is_empty(), "modules without a `//!` doc: {missing:?}");
}

#[test]
fn every_unsafe_block_has_a_safety_comment() {
    for (name, text) in SOURCES {
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            if !line.contains("unsafe {") {
                continue;
            }
            // The `// SAFETY:` comment opens the comment block right above the statement.
            let above = lines[..n].iter().rev().take_while(|l| l.trim_start().starts_with("//"));
            let has_safety = above.clone().any(|l| l.trim_start().starts_with("// SAFETY:"));
            assert!(has_safety, "{name}:{}: `unsafe` without a `// SAFETY:` comment", n + 1);
        }
    }
}
