//! House rules that no compiler checks: every source file starts with a `//!` doc saying what the
//! module is and why it exists, and every `unsafe` block says why it is sound.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<PathBuf> {
    let root = etr_tests::workspace_root();
    let mut files = Vec::new();
    for dir in ["compiler", "runtime", "stdlib", "lsp", "tests/src", "tests/tests", "tests/kit"] {
        rust_files(&root.join(dir), &mut files);
    }
    files.sort();
    assert!(files.len() > 30, "only {} Rust files found", files.len());
    files
}

#[test]
fn every_module_starts_with_a_doc_comment() {
    let mut missing = Vec::new();
    for file in sources() {
        let text = std::fs::read_to_string(&file).expect("readable");
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        if !first.starts_with("//!") {
            missing.push(file.display().to_string());
        }
    }
    assert!(missing.is_empty(), "files without a leading `//!` module doc:\n{}", missing.join("\n"));
}

#[test]
fn every_unsafe_block_says_why_it_is_sound() {
    let mut bare = Vec::new();
    for file in sources() {
        let text = std::fs::read_to_string(&file).expect("readable");
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let is_unsafe = (has_keyword(code, "unsafe {") || has_keyword(code, "unsafe impl")) && !code.contains('"');
            if !is_unsafe {
                continue;
            }
            // The `// SAFETY:` comment is the comment block right above the line, or above the
            // statement the block starts in (one code line up).
            let mut above = i;
            let mut code_lines_allowed = 1;
            while above > 0 {
                let previous = lines[above - 1].trim_start();
                if previous.starts_with("//") {
                    above -= 1;
                } else if code_lines_allowed > 0 && !previous.is_empty() {
                    code_lines_allowed -= 1;
                    above -= 1;
                } else {
                    break;
                }
            }
            if !lines[above..=i].iter().any(|l| l.contains("SAFETY:")) {
                bare.push(format!("{}:{}", file.display(), i + 1));
            }
        }
    }
    assert!(bare.is_empty(), "`unsafe` without a `// SAFETY:` comment:\n{}", bare.join("\n"));
}

/// `word` in `code`, not as the tail of a longer identifier (`is_unsafe {` is not `unsafe {`).
fn has_keyword(code: &str, word: &str) -> bool {
    code.match_indices(word)
        .any(|(at, _)| code[..at].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_')))
}
