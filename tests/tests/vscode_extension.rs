//! The VS Code extension (`editors/vscode/`) stays in step with the language: every keyword of the
//! pest grammar is coloured by the TextMate grammar, and the extension's manifest and language
//! configuration are valid JSON with the fields VS Code needs.

use std::collections::BTreeSet;

use etr_tests::workspace_root;
use serde_json::Value;

fn read(path: &str) -> String {
    std::fs::read_to_string(workspace_root().join(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn read_json(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|error| panic!("{path} is not valid JSON: {error}"))
}

/// Every keyword of `etr.pest`: the lowercase words written as string literals (`"check"`,
/// `"fatal"`, `"strictly"`), comments aside. Punctuation literals and single letters (the `e` of
/// an exponent) are not words.
fn grammar_keywords() -> BTreeSet<String> {
    let mut acc = BTreeSet::new();
    for line in read("compiler/syntax/src/etr.pest").lines() {
        let code = line.split("//").next().unwrap_or("");
        for (i, literal) in code.split('"').enumerate() {
            let inside_quotes = i % 2 == 1;
            if inside_quotes && literal.len() >= 2 && literal.bytes().all(|b| b.is_ascii_lowercase()) {
                acc.insert(literal.to_owned());
            }
        }
    }
    acc
}

/// The words that the `match` regexes of the TextMate grammar name.
fn textmate_words(node: &Value, acc: &mut BTreeSet<String>) {
    match node {
        Value::Object(fields) => {
            for (key, value) in fields {
                if key == "match" || key == "begin" {
                    let regex = value.as_str().unwrap_or("");
                    acc.extend(
                        regex.split(|c: char| !c.is_ascii_lowercase()).filter(|w| !w.is_empty()).map(str::to_owned),
                    );
                }
                textmate_words(value, acc);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| textmate_words(item, acc)),
        _ => {}
    }
}

#[test]
fn every_keyword_of_the_grammar_is_highlighted() {
    let keywords = grammar_keywords();
    for sample in ["check", "contributor", "fatal", "strictly", "increasing", "mostly", "above", "delimited"] {
        assert!(keywords.contains(sample), "keyword extraction from etr.pest is broken: no `{sample}` in {keywords:?}");
    }
    let grammar = read_json("editors/vscode/syntaxes/etr.tmLanguage.json");
    assert_eq!(grammar["scopeName"], "source.etr");
    let mut words = BTreeSet::new();
    textmate_words(&grammar, &mut words);
    let missing: Vec<&String> = keywords.difference(&words).collect();
    assert!(missing.is_empty(), "keywords of etr.pest missing from etr.tmLanguage.json: {missing:?}");
}

#[test]
fn the_manifest_declares_the_language_grammar_and_server_setting() {
    let manifest = read_json("editors/vscode/package.json");
    let language = &manifest["contributes"]["languages"][0];
    assert_eq!(language["id"], "etr");
    assert_eq!(language["extensions"][0], ".etr");
    assert_eq!(language["configuration"], "./language-configuration.json");
    let grammar = &manifest["contributes"]["grammars"][0];
    assert_eq!(grammar["language"], "etr");
    assert_eq!(grammar["scopeName"], "source.etr");
    assert_eq!(grammar["path"], "./syntaxes/etr.tmLanguage.json");
    let settings = &manifest["contributes"]["configuration"]["properties"];
    assert_eq!(settings["etr.server.path"]["default"], "etr");
    assert_eq!(settings["etr.server.extraArgs"]["default"], serde_json::json!(["lsp"]));
    assert!(manifest["dependencies"]["vscode-languageclient"].is_string());
    assert!(manifest["scripts"]["package"].as_str().is_some_and(|it| it.contains("vsce package")));
    assert!(manifest["engines"]["vscode"].is_string());
}

#[test]
fn the_language_configuration_has_comments_brackets_and_indentation() {
    let config = read_json("editors/vscode/language-configuration.json");
    assert_eq!(config["comments"]["lineComment"], "//");
    let brackets: Vec<String> = config["brackets"]
        .as_array()
        .expect("brackets")
        .iter()
        .map(|pair| format!("{}{}", pair[0].as_str().unwrap_or(""), pair[1].as_str().unwrap_or("")))
        .collect();
    assert_eq!(brackets, ["{}", "[]", "()"]);
    let pairs = config["autoClosingPairs"].as_array().expect("autoClosingPairs");
    assert!(pairs.iter().any(|pair| pair["open"] == "\""), "strings auto-close");
    assert!(config["indentationRules"]["increaseIndentPattern"].is_string());
    assert!(config["indentationRules"]["decreaseIndentPattern"].is_string());
}
