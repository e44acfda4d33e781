//! `etr fmt` over every spec of the repository: formatting is idempotent, keeps every comment and
//! doc line in order, and does not change what a spec means (the compiled program is the same).
//!
//! The specs are only read: they are never rewritten here (other work depends on their exact text
//! and spans).

use std::path::{Path, PathBuf};

use etr_syntax::lexer::TokenKind;
use etr_tests::{compile, workspace_root};

/// A spec of the repository, or a fenced example of the language reference, by name.
struct Spec {
    name: String,
    text: String,
}

fn etr_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            etr_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "etr") {
            out.push(path);
        }
    }
}

/// Every `.etr` file under `contributors/`, `examples/`, `stdlib/` and `tests/corpus/`, and every
/// `etr` code block of `docs/language.md`, whether it parses or not.
fn all_specs() -> Vec<Spec> {
    let root = workspace_root();
    let mut paths = Vec::new();
    for dir in ["contributors", "examples", "stdlib", "tests/corpus"] {
        etr_files(&root.join(dir), &mut paths);
    }
    paths.sort();
    let mut specs: Vec<Spec> = paths
        .iter()
        .map(|path| Spec {
            name: path.strip_prefix(&root).unwrap_or(path).display().to_string(),
            text: std::fs::read_to_string(path).unwrap_or_else(|error| {
                // The corpus holds deliberately broken encodings; read them lossily.
                assert_eq!(error.kind(), std::io::ErrorKind::InvalidData, "{}: {error}", path.display());
                String::from_utf8_lossy(&std::fs::read(path).expect("readable")).into_owned()
            }),
        })
        .collect();
    let language = std::fs::read_to_string(root.join("docs/language.md")).expect("docs/language.md exists");
    let mut lines = language.lines().enumerate();
    while let Some((start, line)) = lines.next() {
        if !line.starts_with("```etr") {
            continue;
        }
        let mut body = String::new();
        for (_, line) in lines.by_ref() {
            if line.starts_with("```") {
                break;
            }
            body.push_str(line);
            body.push('\n');
        }
        specs.push(Spec { name: format!("docs/language.md:{}", start + 1), text: body });
    }
    assert!(specs.len() > 20, "only {} specs found", specs.len());
    specs
}

/// The specs that parse: the formatter refuses the others, which is checked separately.
fn formattable_specs() -> Vec<(Spec, String)> {
    let mut acc = Vec::new();
    let mut refused = Vec::new();
    for spec in all_specs() {
        match etr_fmt::format(&spec.text) {
            Ok(formatted) => acc.push((spec, formatted)),
            Err(etr_fmt::FormatError::Syntax(_)) => refused.push(spec.name),
            Err(error) => panic!("{}: {error}", spec.name),
        }
    }
    // The corpus's syntax-recovery case is the one real spec with syntax errors.
    assert!(refused.iter().any(|name| name.contains("syntax_recovery")), "refused: {refused:?}");
    assert!(acc.len() > 20, "only {} specs format", acc.len());
    acc
}

#[test]
fn formatting_twice_changes_nothing() {
    for (spec, once) in formattable_specs() {
        let twice =
            etr_fmt::format(&once).unwrap_or_else(|error| panic!("{}: formatted text refused: {error}", spec.name));
        if twice != once {
            panic!("{}: not idempotent\n--- once\n{once}\n--- twice\n{twice}", spec.name);
        }
    }
}

#[test]
fn every_comment_and_doc_line_survives_in_order() {
    for (spec, formatted) in formattable_specs() {
        let before = comments_and_doc_lines(&spec.text);
        let after = comments_and_doc_lines(&formatted);
        assert_eq!(before, after, "{}:\n{formatted}", spec.name);
    }
}

#[test]
fn formatted_specs_compile_to_the_same_program() {
    let mut compared = 0;
    for (spec, formatted) in formattable_specs() {
        let (program, diagnostics, _, _) = compile(&spec.name, &spec.text);
        if diagnostics.iter().any(|d| d.is_error()) {
            continue;
        }
        // Warnings are allowed; they must be the same ones (their spans move with the layout).
        let (formatted_program, formatted_diagnostics, _, _) = compile(&spec.name, &formatted);
        let messages = |diagnostics: &[etr_sema::Diagnostic]| -> Vec<(&'static str, String)> {
            diagnostics.iter().map(|d| (d.code.id, d.message.clone())).collect()
        };
        assert_eq!(messages(&diagnostics), messages(&formatted_diagnostics), "{}", spec.name);
        assert_eq!(program, formatted_program, "{}", spec.name);
        if let (Some(before), Some(after)) = (&program, &formatted_program) {
            assert_eq!(before.to_string(), after.to_string(), "{}", spec.name);
            compared += 1;
        }
    }
    assert!(compared >= 10, "only {compared} programs compared");
}

/// The stdlib modules are not contributor specs: compile the JCL spec against formatted modules.
#[test]
fn formatted_stdlib_modules_give_the_same_program() {
    let jcl = std::fs::read_to_string(workspace_root().join("contributors/jcl.etr")).expect("jcl.etr");
    let (original, diagnostics, _, _) = compile("contributors/jcl.etr", &jcl);
    assert!(diagnostics.is_empty() && original.is_some(), "{diagnostics:?}");

    let formatted: Vec<(&str, &str, String)> = etr_stdlib::MODULES
        .iter()
        .map(|m| (m.name, m.path, etr_fmt::format(m.text).unwrap_or_else(|error| panic!("{}: {error}", m.path))))
        .collect();
    let mut db = etr_sema::Database::new();
    db.set_modules(formatted.iter().map(|(name, path, text)| (*name, *path, text.as_str())));
    let file = db.add_file("contributors/jcl.etr", &jcl);
    let diagnostics = etr_sema::check(&db, file).diagnostics.clone();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let program = etr_sema::lower(&db, file);
    assert_eq!(program, original);
}

#[test]
fn specs_with_syntax_errors_are_refused() {
    let text = std::fs::read_to_string(workspace_root().join("tests/corpus/diagnostics/syntax_recovery/spec.etr"))
        .expect("the syntax recovery case exists");
    let Err(etr_fmt::FormatError::Syntax(problems)) = etr_fmt::format(&text) else {
        panic!("a spec with syntax errors must be refused");
    };
    assert!(problems.len() >= 2, "{problems:?}");
    assert!(problems.iter().all(|p| p.line > 0 && p.column > 0 && !p.message.is_empty()), "{problems:?}");
}

/// The `//` comments and `///` doc lines of a text, without trailing blanks, in order, as
/// `etr_syntax`'s token stream reads them: the one reading of comments, which its own tests hold
/// to the grammar (a `//` in a string is not a comment; `\n`, `\r\n` and a lone `\r` end one).
fn comments_and_doc_lines(text: &str) -> Vec<String> {
    etr_syntax::lexer::tokenize(text)
        .filter(|it| matches!(it.kind, TokenKind::Comment | TokenKind::DocComment))
        .map(|it| text[it.span.start as usize..it.span.end as usize].trim_end().to_owned())
        .collect()
}

/// The oracle finds the comments the grammar skips, and only those.
#[test]
fn the_comment_finder_reads_comments_as_the_grammar_does() {
    let text = "let a = 1 // x \rlet b = \"// no \\\" // no\" // y\n/// d\n//// e\nlet c = \"ab // no\n";
    assert_eq!(comments_and_doc_lines(text), ["// x", "// y", "/// d", "//// e"]);
}

/// The example in the language reference's "Formatting" section is what `etr fmt` prints.
#[test]
fn the_formatting_section_example_is_formatted() {
    let language = std::fs::read_to_string(workspace_root().join("docs/language.md")).expect("docs/language.md exists");
    let section = language.split("\n## Formatting\n").nth(1).expect("a Formatting section");
    let example = section.split("```etr\n").nth(1).and_then(|it| it.split("```").next()).expect("an etr example");
    assert_eq!(etr_fmt::format(example).as_deref(), Ok(example));
}

/// The byte offsets between two tokens of `text` outside strings and comments: after each run of
/// name characters, each punctuation character and each string, where the next character starts
/// something else. An oracle written without the grammar, so it may offer a few offsets a comment
/// cannot go to (the caller skips the texts that no longer parse).
fn token_boundaries(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b >= 0x80;
    let mut acc = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let end = if b == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' && bytes[j] != b'\n' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            (j + 1).min(bytes.len())
        } else if is_word(b) {
            let mut j = i;
            while j < bytes.len() && is_word(bytes[j]) {
                j += 1;
            }
            j
        } else {
            i + 1
        };
        acc.push(end);
        i = end;
    }
    acc
}

/// A `// c` on its own line at every token boundary of the repository's contributor specs and
/// stdlib modules, wherever the spec still parses with it: formatting succeeds (issue 13,
/// finding 11: 80 of jcl.etr's positions inside item headers were refused), is idempotent, keeps
/// every comment, and compiles to the same program as the text it formatted.
#[test]
fn a_comment_on_its_own_line_at_any_token_boundary_is_formatted() {
    let root = workspace_root();
    let mut paths = Vec::new();
    for dir in ["contributors", "stdlib"] {
        etr_files(&root.join(dir), &mut paths);
    }
    paths.sort();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut tried = 0;
    let mut failures = Vec::new();
    for path in &paths {
        let name = path.strip_prefix(&root).unwrap_or(path).display().to_string();
        let text = std::fs::read_to_string(path).expect("readable");
        let boundaries = token_boundaries(&text);
        // Each position costs a few parses and two checks: spread them over the cores.
        let chunk = boundaries.len().div_ceil(threads).max(1);
        let results: Vec<(usize, Vec<String>)> = std::thread::scope(|scope| {
            let workers: Vec<_> = boundaries
                .chunks(chunk)
                .map(|positions| scope.spawn(|| comment_at_positions(&name, &text, positions)))
                .collect();
            workers.into_iter().map(|w| w.join().expect("a worker panicked")).collect()
        });
        for (count, mut failed) in results {
            tried += count;
            failures.append(&mut failed);
        }
    }
    assert!(tried > 1000, "only {tried} positions tried");
    assert!(failures.is_empty(), "{} of {tried} positions fail:\n{}", failures.len(), failures.join("\n"));
}

/// Inserts a `// c` line at each of `positions` of `text` in turn; for each variant that parses,
/// checks `etr fmt`'s guarantees. Returns how many variants parsed, and what failed.
fn comment_at_positions(name: &str, text: &str, positions: &[usize]) -> (usize, Vec<String>) {
    let mut compiled = Recompiler::new(name);
    let mut tried = 0;
    let mut failures = Vec::new();
    for &at in positions {
        let mut with_comment = text.to_owned();
        // Indented after the comment, so that the next token never lands at column 0.
        with_comment.insert_str(at, "\n// c\n  ");
        if !etr_syntax_parses(&with_comment) {
            continue;
        }
        tried += 1;
        let line = text[..at].matches('\n').count() + 1;
        let formatted = match etr_fmt::format(&with_comment) {
            Ok(formatted) => formatted,
            Err(error) => {
                failures.push(format!("{name}:{line} (byte {at}): {error}"));
                continue;
            }
        };
        if etr_fmt::format(&formatted).as_deref() != Ok(formatted.as_str()) {
            failures.push(format!("{name}:{line} (byte {at}): not idempotent"));
        }
        if comments_and_doc_lines(&with_comment) != comments_and_doc_lines(&formatted) {
            failures.push(format!("{name}:{line} (byte {at}): comments changed\n{formatted}"));
        }
        if compiled.meaning_of(&with_comment) != compiled.meaning_of(&formatted) {
            failures.push(format!("{name}:{line} (byte {at}): the formatted spec means something else"));
        }
    }
    (tried, failures)
}

/// One database with the stdlib, whose one file's text is replaced for each variant: salsa
/// keeps the stdlib's analysis, so a spec compiles thousands of times in seconds.
struct Recompiler {
    db: etr_sema::Database,
    file: etr_sema::SourceFile,
}

impl Recompiler {
    fn new(name: &str) -> Recompiler {
        let mut db = etr_tests::database();
        let file = db.add_file(name, "");
        Recompiler { db, file }
    }

    /// What a text means: its program, and the codes of its diagnostics (spans move with layout).
    fn meaning_of(&mut self, text: &str) -> (Option<std::sync::Arc<etr_ir::Program>>, Vec<&'static str>) {
        self.db.set_file_text(self.file, text);
        let codes = etr_sema::check(&self.db, self.file).diagnostics.iter().map(|d| d.code.id).collect();
        (etr_sema::lower(&self.db, self.file), codes)
    }
}

/// Whether `text` parses without a syntax error (through the compiler, as `etr fmt` does).
fn etr_syntax_parses(text: &str) -> bool {
    let mut db = etr_sema::Database::new();
    let file = db.add_file("probe.etr", text);
    etr_sema::parse(&db, file).errors.is_empty()
}
