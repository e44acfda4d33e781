//! House-style checks on this crate's sources (STYLE point 21): every module says what it is.
//! The sources are compiled in with `include_str!`, so the check does no IO.

const SOURCES: &[(&str, &str)] = &[
    ("lib.rs", include_str!("../../src/lib.rs")),
    ("aggregate.rs", include_str!("../../src/aggregate.rs")),
    ("batch.rs", include_str!("../../src/batch.rs")),
    ("error.rs", include_str!("../../src/error.rs")),
    ("eval.rs", include_str!("../../src/eval.rs")),
    ("keyhash.rs", include_str!("../../src/keyhash.rs")),
    ("lines.rs", include_str!("../../src/lines.rs")),
    ("output.rs", include_str!("../../src/output.rs")),
    ("value.rs", include_str!("../../src/value.rs")),
    ("views.rs", include_str!("../../src/views.rs")),
    ("kernels/mod.rs", include_str!("../../src/kernels/mod.rs")),
    ("kernels/arith.rs", include_str!("../../src/kernels/arith.rs")),
    ("kernels/boolean.rs", include_str!("../../src/kernels/boolean.rs")),
    ("kernels/compare.rs", include_str!("../../src/kernels/compare.rs")),
    ("kernels/date.rs", include_str!("../../src/kernels/date.rs")),
    ("kernels/lookup.rs", include_str!("../../src/kernels/lookup.rs")),
    ("kernels/nric.rs", include_str!("../../src/kernels/nric.rs")),
    ("kernels/parse.rs", include_str!("../../src/kernels/parse.rs")),
    ("kernels/select.rs", include_str!("../../src/kernels/select.rs")),
    ("kernels/text.rs", include_str!("../../src/kernels/text.rs")),
    ("test_support/mod.rs", include_str!("../../src/test_support/mod.rs")),
    ("test_support/jcl.rs", include_str!("../../src/test_support/jcl.rs")),
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
