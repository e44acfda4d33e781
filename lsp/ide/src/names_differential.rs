//! Migration check for issue 14, item 6: the compiler's name map (`etr_sema::names`) against
//! the editor's own resolver (`index::file_index`'s `Walker`), over the repository's specs and
//! mangled copies of them (cut short, their `map` or `use` lines removed), before the editor
//! reads the compiler's map. Every difference is a place where the editor and the compiler
//! disagree on what a name means; the known ones are listed in `known_difference`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use etr_sema::{NameMap, Resolution};

use crate::index::{FileIndex, Target, file_index};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn etr_files(dir: &Path, acc: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            etr_files(&path, acc);
        } else if path.extension().is_some_and(|e| e == "etr") {
            acc.push(path);
        }
    }
}

/// The test reads files the way the server does (`etr_workspace`): the crate itself does no IO.
/// The specs of the repository, (name, text): contributors, examples, the stdlib, the corpus's
/// specs and the fenced examples of the language reference.
fn specs() -> Vec<(String, String)> {
    let root = root();
    let mut files = Vec::new();
    for dir in ["contributors", "examples", "stdlib", "tests/corpus"] {
        etr_files(&root.join(dir), &mut files);
    }
    let mut specs: Vec<(String, String)> = files
        .iter()
        .map(|p| (p.strip_prefix(&root).unwrap_or(p).display().to_string(), etr_workspace::read_spec(p).unwrap()))
        .collect();
    let language = etr_workspace::read_spec(&root.join("docs/language.md")).unwrap();
    let mut block: Option<String> = None;
    for line in language.lines() {
        match &mut block {
            None if line.trim_start().starts_with("```etr") => block = Some(String::new()),
            Some(text) if line.trim_start().starts_with("```") => {
                specs.push((format!("docs/language.md#{}", specs.len()), std::mem::take(text)));
                block = None;
            }
            Some(text) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    specs
}

/// Half-written and broken copies of a spec.
fn mangled(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut acc = Vec::new();
    for cut in 1..4 {
        acc.push(lines[..lines.len() * cut / 4].join("\n"));
    }
    for dropped in ["map ", "use ", "contributor ", "record "] {
        acc.push(lines.iter().filter(|l| !l.trim_start().starts_with(dropped)).copied().collect::<Vec<_>>().join("\n"));
    }
    acc
}

/// What the walker resolves: non-declaration references, by span.
fn walker_refs(index: &FileIndex) -> BTreeMap<(u32, u32), Target> {
    index.references.iter().filter(|r| !r.is_def).map(|r| ((r.span.start, r.span.end), r.target.clone())).collect()
}

/// The name map's resolved references, in the walker's terms.
fn map_refs(map: &NameMap) -> BTreeMap<(u32, u32), Target> {
    let mut acc = BTreeMap::new();
    for name in &map.refs {
        let target = match &name.resolution {
            Resolution::Decl { id, .. } => {
                let decl = map.decl(id).expect("a resolution names a declaration of the map");
                let kind = crate::index::def_kind(decl.kind);
                Target::Def { kind, path: id.file.clone(), name_span: id.name_span }
            }
            Resolution::Builtin(name) => Target::Builtin(name),
            Resolution::Module { name, .. } => Target::Module(name.clone()),
            Resolution::Unresolved => continue,
        };
        acc.insert((name.span.start, name.span.end), target);
    }
    acc
}

/// A difference between the two that is known and explained (see `docs/notes/0021-name-map.md`):
/// the walker looked names up in the file's own declarations first, the checker takes the
/// imported ones first and reports the file's as declared twice (E-duplicate). So where the
/// walker names a declaration the map does not hold (a second declaration, or a field or member
/// of one), the map follows the checker: the imported declaration, or nothing when the imported
/// record or code has no such field or member.
fn known_difference(map: &NameMap, walker: Option<&Target>) -> bool {
    let Some(Target::Def { path, name_span, .. }) = walker else { return false };
    !map.decls.iter().any(|d| d.id.file == *path && d.id.name_span == *name_span)
}

/// Compares the two over one file; returns the differences, one line each, and how many
/// references were compared.
fn differences(name: &str, text: &str) -> (Vec<String>, usize) {
    let mut db = etr_sema::Database::new();
    db.set_modules(etr_stdlib::MODULES.iter().map(|m| (m.name, m.path, m.text)));
    let path = format!("/{name}");
    let file = db.module_file(name).unwrap_or_else(|| db.add_file(&path, text));
    let walker = walker_refs(&file_index(&db, file));
    let name_map = etr_sema::names(&db, file);
    let map = map_refs(&name_map);
    let file_text = file.text(&db).clone();
    let mut spans: Vec<&(u32, u32)> = walker.keys().chain(map.keys()).collect();
    spans.sort();
    spans.dedup();
    let compared = spans.len();
    let mut acc = Vec::new();
    for span in spans {
        let (w, m) = (walker.get(span), map.get(span));
        if w != m && !known_difference(&name_map, w) {
            let written = file_text.get(span.0 as usize..span.1 as usize).unwrap_or("?");
            acc.push(format!("{name} {span:?} `{written}`: walker {w:?}, names {m:?}"));
        }
    }
    (acc, compared)
}

/// Specs written to meet the cases where a name has two declarations, or is out of scope.
const DUPLICATES: &[(&str, &str)] = &[
    (
        "own_record_and_imported",
        "use etr.record\nrecord Record { a: text }\nmap Record { a = \"x\" }\nrule R1 warn \"r\" { check a is null on a }\n",
    ),
    (
        "own_rule_and_imported",
        "use etr.rules.standard\nrule Q09 warn \"mine\"\noverride Q09 warn\nsource delimited \"|\" { columns { A } else reject Q09 }\n",
    ),
    (
        "own_code_and_imported",
        "use etr.codes\ncode Gender { \"X\" }\ntable g: text -> Gender { \"L\" => \"M\", \"P\" => \"X\" }\nrecord R { g: Gender }\n",
    ),
    ("code_and_record_of_one_name", "code R { \"A\" }\nrecord R { a: R }\nmap R { a = \"A\" }\n"),
    (
        "twice_in_the_file",
        "let a = 1\nlet a = 2\ntable t: text -> text { \"k\" => \"v\" }\ntable t: text -> int { \"k\" => 1 }\nrecord R { f: int, f: text }\nmap R { f = a + t[\"k\"] }\nrule X warn \"x\"\nrule X fatal \"y\" { check f > 0 on f }\n",
    ),
    (
        "mapped_value_in_an_aggregate",
        "record R { f: int }\nlet l = 1\nsource delimited \"|\" { columns { C } }\nmap R { f = 1 }\nrule F fatal \"f\" { check sum(f) + sum(l) + count() > 0 on file }\n",
    ),
];

#[test]
fn the_name_map_resolves_as_the_editor_did() {
    let mut found = Vec::new();
    let mut specs = specs();
    specs.extend(DUPLICATES.iter().map(|(name, text)| (name.to_string(), text.to_string())));
    let compared: usize = specs.iter().map(|(name, text)| differences(name, text).1).sum();
    // The walk found names at all: an empty comparison would pass whatever the map says.
    assert!(compared > 1000, "only {compared} references compared");
    assert!(specs.len() > 40, "the repository's specs were not found ({})", specs.len());
    for (name, text) in &specs {
        found.extend(differences(name, text).0);
        for (i, text) in mangled(text).iter().enumerate() {
            found.extend(differences(&format!("{name}~{i}"), text).0);
        }
    }
    assert!(found.is_empty(), "{} differences:\n{}", found.len(), found.join("\n"));
}
