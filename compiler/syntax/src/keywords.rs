//! The keyword table: every word the language spells with, where it is written, and whether it
//! can ever be a name.
//!
//! This is the one list of keywords. The grammar (`etr.pest`) must spell its keyword rules with
//! the same words, and a test reads the grammar to check it, in both directions. Everything else
//! derives its lists from here: the syntax errors ("`and` is a reserved word", "expected an item:
//! ...", and the description of every `kw_*` rule of the grammar), the item cut of `split.rs`, the
//! token stream of [`crate::lexer`], the IDE's completion and colouring, and the fuzzers' words.
//! The VS Code grammar (`editors/vscode`) cannot read Rust, so its keyword patterns are generated
//! from this table by a test, which fails when the committed grammar differs
//! (`UPDATE_EXPECT=1 cargo test -p etr-syntax` rewrites it): a new word is coloured by its class.

/// Where a keyword is written. Completion offers a class at a time, and errors list one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeywordClass {
    /// Starts a top-level item at column 0: `rule`, `map`, `let`, ...
    Item,
    /// Continues an item without starting anything: `contributor X "n" layout 1`, `map to`,
    /// `source delimited`, `quote none`.
    ItemPart,
    /// Starts a setting of the `source` block: `quote`, `encoding`, `header`, `trailer`, `columns`.
    SourceSetting,
    /// The severity of a rule, or of one of its zones: `fatal`, `reject`, `warn`, `info`.
    Severity,
    /// A threshold of a rule or an override: `mostly 0.99`, `fatal above 2%`.
    Threshold,
    /// Starts a statement inside a rule's braces: `when`, `check`, ..., `strictly increasing`.
    RuleStatement,
    /// Continues a rule statement: `check ... on field`, `increasing ... per account_no`.
    StatementPart,
    /// Follows `else` in a handler: `else reject R1`, `else fail F1`.
    Handler,
    /// Starts or continues an expression: `if`, `and`, `null`, ...
    Expression,
}

/// Whether a keyword can also be a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reservation {
    /// Never a name: the statement structure depends on it (`check ... on ...`, `else reject R1`,
    /// `x is not null`). The grammar's `keyword` rule lists exactly these.
    Reserved,
    /// A name wherever the grammar expects a name: item and setting words are also field names
    /// (`header`, `code`, `month`).
    Contextual,
}

/// One keyword of the language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyword {
    pub text: &'static str,
    pub reservation: Reservation,
    /// Where it is written; `reject` is both a severity and a handler.
    pub classes: &'static [KeywordClass],
}

/// Every keyword, grouped by class in the order a spec reads them (completion sorts its own
/// lists; the errors list items and severities in this order).
pub const KEYWORDS: &[Keyword] = &[
    contextual("contributor", &[KeywordClass::Item]),
    contextual("use", &[KeywordClass::Item]),
    contextual("source", &[KeywordClass::Item]),
    contextual("table", &[KeywordClass::Item]),
    contextual("map", &[KeywordClass::Item]),
    contextual("let", &[KeywordClass::Item]),
    contextual("rule", &[KeywordClass::Item]),
    contextual("override", &[KeywordClass::Item]),
    contextual("record", &[KeywordClass::Item]),
    contextual("code", &[KeywordClass::Item]),
    contextual("layout", &[KeywordClass::ItemPart]),
    contextual("to", &[KeywordClass::ItemPart]),
    contextual("delimited", &[KeywordClass::ItemPart]),
    contextual("none", &[KeywordClass::ItemPart]),
    contextual("quote", &[KeywordClass::SourceSetting]),
    contextual("encoding", &[KeywordClass::SourceSetting]),
    contextual("header", &[KeywordClass::SourceSetting]),
    contextual("trailer", &[KeywordClass::SourceSetting]),
    contextual("columns", &[KeywordClass::SourceSetting]),
    contextual("fatal", &[KeywordClass::Severity]),
    reserved("reject", &[KeywordClass::Severity, KeywordClass::Handler]),
    contextual("warn", &[KeywordClass::Severity]),
    contextual("info", &[KeywordClass::Severity]),
    contextual("mostly", &[KeywordClass::Threshold]),
    contextual("above", &[KeywordClass::Threshold]),
    reserved("when", &[KeywordClass::RuleStatement]),
    reserved("check", &[KeywordClass::RuleStatement]),
    reserved("require", &[KeywordClass::RuleStatement]),
    reserved("unique", &[KeywordClass::RuleStatement]),
    contextual("strictly", &[KeywordClass::RuleStatement]),
    contextual("increasing", &[KeywordClass::RuleStatement]),
    contextual("decreasing", &[KeywordClass::RuleStatement]),
    contextual("consistent", &[KeywordClass::RuleStatement]),
    reserved("on", &[KeywordClass::StatementPart]),
    contextual("per", &[KeywordClass::StatementPart]),
    reserved("fail", &[KeywordClass::Handler]),
    reserved("if", &[KeywordClass::Expression]),
    reserved("then", &[KeywordClass::Expression]),
    reserved("else", &[KeywordClass::Expression]),
    reserved("match", &[KeywordClass::Expression]),
    reserved("and", &[KeywordClass::Expression]),
    reserved("or", &[KeywordClass::Expression]),
    reserved("not", &[KeywordClass::Expression]),
    reserved("in", &[KeywordClass::Expression]),
    reserved("is", &[KeywordClass::Expression]),
    reserved("null", &[KeywordClass::Expression]),
    reserved("true", &[KeywordClass::Expression]),
    reserved("false", &[KeywordClass::Expression]),
];

/// The words of [`KEYWORDS`], in the same order, for code that wants a plain list of words.
pub const WORDS: &[&str] = &words();

/// The keyword spelled `word`, if it is one.
pub fn lookup(word: &str) -> Option<&'static Keyword> {
    KEYWORDS.iter().find(|it| it.text == word)
}

/// Whether `word` is a reserved word, which can never be a name.
pub fn is_reserved(word: &str) -> bool {
    lookup(word).is_some_and(|it| it.reservation == Reservation::Reserved)
}

/// The words of one class, in table order.
pub fn of_class(class: KeywordClass) -> impl Iterator<Item = &'static str> {
    KEYWORDS.iter().filter(move |it| it.classes.contains(&class)).map(|it| it.text)
}

const fn reserved(text: &'static str, classes: &'static [KeywordClass]) -> Keyword {
    Keyword { text, reservation: Reservation::Reserved, classes }
}

const fn contextual(text: &'static str, classes: &'static [KeywordClass]) -> Keyword {
    Keyword { text, reservation: Reservation::Contextual, classes }
}

const fn words() -> [&'static str; KEYWORDS.len()] {
    let mut acc = [""; KEYWORDS.len()];
    let mut i = 0;
    while i < KEYWORDS.len() {
        acc[i] = KEYWORDS[i].text;
        i += 1;
    }
    acc
}

#[cfg(test)]
mod tests;
