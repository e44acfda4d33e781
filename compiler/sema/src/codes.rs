//! The registry of diagnostic codes: every diagnostic the compiler can report, in one place.
//!
//! Codes are stable: once released, a code keeps its meaning and is never reused. They are grouped
//! by phase: 1xx syntax, 2xx names, 3xx types, 4xx fallibility, 5xx spec structure, 6xx rules.
//! Warnings use the same numbering with a `W` prefix.

/// A diagnostic code with its one-line summary (the corpus test names the summary of a code that no
/// case covers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code {
    pub id: &'static str,
    pub summary: &'static str,
}

macro_rules! codes {
    ($($name:ident = $id:literal, $summary:literal;)*) => {
        $(pub const $name: Code = Code { id: $id, summary: $summary };)*
        /// Every code, in registry order.
        pub const ALL: &[Code] = &[$($name),*];
    };
}

codes! {
    SYNTAX = "E100", "the text does not follow the grammar";
    UNKNOWN_NAME = "E200", "a name that is not a column, field, let value or header/trailer field";
    UNKNOWN_FUNCTION = "E201", "a call to a function that does not exist";
    UNKNOWN_TABLE = "E202", "a lookup in a code table that is not declared";
    UNKNOWN_RULE = "E203", "a handler or check refers to a rule that is not declared";
    UNKNOWN_TYPE = "E204", "a type name that is not declared";
    UNKNOWN_MODULE = "E205", "a `use` of a module that does not exist";
    UNKNOWN_FIELD = "E206", "a mapping assigns a field the target record does not have";
    DUPLICATE = "E207", "the same name is declared twice";
    LITERAL_NAME = "E208", "a declared name that reads as a literal wherever it is used (`RM100` is money)";
    TYPE_MISMATCH = "E300", "an operand or argument has the wrong type";
    ARGUMENT_COUNT = "E301", "a function is called with the wrong number of arguments";
    NOT_CONSTANT = "E302", "an argument that must be written as a constant is not";
    BAD_DATE_FORMAT = "E303", "a date format the compiler cannot read";
    BAD_REGEX = "E304", "a regular expression that does not compile";
    NOT_A_MEMBER = "E305", "a string compared with a code is not one of the code's members";
    MONEY_UNIT = "E306", "an integer used where money is expected (write RM1.00)";
    UNHANDLED_FALLIBLE = "E400", "an operation that can fail on data is not handled";
    NEEDLESS_HANDLER = "E401", "an `else` handler on an operation that cannot fail";
    HANDLER_SEVERITY = "E402", "a handler raises a rule of the wrong severity";
    HANDLER_PLACE = "E403", "`else reject` is only allowed where a line is being mapped";
    MISSING_ITEM = "E500", "the spec lacks a required item (contributor, source or map)";
    DUPLICATE_ITEM = "E501", "an item that may appear once appears twice";
    SCOPE = "E502", "an expression mixes per-line and per-file values";
    CYCLE = "E503", "a value depends on itself";
    BAD_SOURCE = "E504", "an invalid source setting (delimiter, quote, encoding, field type)";
    DUPLICATE_RULE = "E600", "two rules have the same id";
    RULE_SEVERITY = "E601", "a check cannot be evaluated at this rule's severity";
    BAD_THRESHOLD = "E602", "a rule threshold (`mostly`) out of range";
    UNUSED_RULE = "W600", "a rule without checks that nothing raises";
    UNMAPPED_FIELD = "W601", "a field of the target record that the mapping leaves null";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for code in ALL {
            assert!(seen.insert(code.id), "duplicate code {}", code.id);
            assert!(code.id.starts_with('E') || code.id.starts_with('W'), "{}", code.id);
            assert_eq!(code.id.len(), 4, "{}", code.id);
            assert!(!code.summary.is_empty());
        }
    }
}
