//! A contributor's file-name pattern, and the reporting month it names.
//!
//! A pattern is the file's name with placeholders: `{YYYY}` (four-digit year), `{YY}` (two-digit
//! year, 2000-2099), `{MM}` (two-digit month) and `*` (any text, possibly empty). Everything else is
//! literal and compared exactly, case included. Every pattern names a month: `{MM}` and one of the
//! year placeholders are required, which is what lets the platform file a run under its reporting
//! month without reading the file.

use etr_lake::Month;

/// One piece of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Year4,
    Year2,
    Month2,
    Any,
}

/// A compiled file-name pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePattern {
    text: String,
    pieces: Vec<Piece>,
}

impl FilePattern {
    /// Compiles a pattern, or says what is wrong with it.
    pub fn parse(text: &str) -> Result<FilePattern, String> {
        if text.contains('/') || text.contains('\\') {
            return Err("a file-name pattern names a file, not a path: it cannot contain `/` or `\\`".into());
        }
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if c == '*' {
                flush(&mut literal, &mut pieces);
                if matches!(pieces.last(), Some(Piece::Any)) {
                    return Err("`**` is the same as `*`: write one".into());
                }
                pieces.push(Piece::Any);
                rest = &rest[1..];
            } else if c == '{' {
                let end = rest.find('}').ok_or("a `{` without its `}`")?;
                let piece = match &rest[1..end] {
                    "YYYY" => Piece::Year4,
                    "YY" => Piece::Year2,
                    "MM" => Piece::Month2,
                    other => {
                        return Err(format!(
                            "unknown placeholder `{{{other}}}`: the placeholders are {{YYYY}}, {{YY}} and {{MM}}"
                        ));
                    }
                };
                flush(&mut literal, &mut pieces);
                pieces.push(piece);
                rest = &rest[end + 1..];
            } else {
                literal.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        flush(&mut literal, &mut pieces);
        let years = pieces.iter().filter(|p| matches!(p, Piece::Year4 | Piece::Year2)).count();
        let months = pieces.iter().filter(|p| matches!(p, Piece::Month2)).count();
        if years != 1 || months != 1 {
            return Err("a pattern names the reporting month: it needs {MM} once and {YYYY} or {YY} once".into());
        }
        Ok(FilePattern { text: text.to_owned(), pieces })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The reporting month a file's name gives, or `None` when the name does not match.
    pub fn month_of(&self, name: &str) -> Option<Month> {
        let mut found = (None, None);
        matches(&self.pieces, name, &mut found).then_some(())?;
        let (year, month) = (found.0?, found.1?);
        Month::parse(&format!("{year:04}-{month:02}"))
    }
}

fn flush(literal: &mut String, pieces: &mut Vec<Piece>) {
    if !literal.is_empty() {
        pieces.push(Piece::Literal(std::mem::take(literal)));
    }
}

/// Whether `name` matches `pieces`, recording the year and month. `*` tries every split (names are
/// short, patterns have a few pieces).
fn matches(pieces: &[Piece], name: &str, found: &mut (Option<i32>, Option<u32>)) -> bool {
    let Some((first, rest)) = pieces.split_first() else { return name.is_empty() };
    match first {
        Piece::Literal(text) => name.strip_prefix(text.as_str()).is_some_and(|tail| matches(rest, tail, found)),
        Piece::Year4 => digits(name, 4).is_some_and(|(v, tail)| {
            let saved = *found;
            found.0 = Some(v as i32);
            matches(rest, tail, found) || {
                *found = saved;
                false
            }
        }),
        Piece::Year2 => digits(name, 2).is_some_and(|(v, tail)| {
            let saved = *found;
            found.0 = Some(2000 + v as i32);
            matches(rest, tail, found) || {
                *found = saved;
                false
            }
        }),
        Piece::Month2 => digits(name, 2).is_some_and(|(v, tail)| {
            let saved = *found;
            found.1 = Some(v);
            matches(rest, tail, found) || {
                *found = saved;
                false
            }
        }),
        Piece::Any => {
            name.char_indices().map(|(i, _)| i).chain([name.len()]).any(|cut| matches(rest, &name[cut..], found))
        }
    }
}

/// `n` ASCII digits at the start of `text`, as a number, and what follows.
fn digits(text: &str, n: usize) -> Option<(u32, &str)> {
    let head = text.get(..n)?;
    head.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| (head.parse().ok(), &text[n..]))
        .and_then(|(v, tail)| Some((v?, tail)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(text: &str) -> Option<Month> {
        Month::parse(text)
    }

    #[test]
    fn a_pattern_reads_the_month_from_a_name() {
        let pattern = FilePattern::parse("JCL_{YYYY}{MM}.psv").unwrap();
        assert_eq!(pattern.month_of("JCL_202506.psv"), month("2025-06"));
        assert_eq!(pattern.month_of("JCL_202513.psv"), None, "month 13");
        assert_eq!(pattern.month_of("JCL_202506.psv.part"), None, "an upload in progress");
        assert_eq!(pattern.month_of("jcl_202506.psv"), None, "case matters");
        let loose = FilePattern::parse("TELCOX_*_{MM}{YY}*.csv").unwrap();
        assert_eq!(loose.month_of("TELCOX_north_0625.csv"), month("2025-06"));
        assert_eq!(loose.month_of("TELCOX_a_b_0625_part2.csv"), month("2025-06"));
        assert_eq!(loose.month_of("TELCOX_0625.csv"), None, "the literal `_` after `*` is missing");
    }

    #[test]
    fn a_pattern_must_name_a_month_and_a_file() {
        assert!(FilePattern::parse("JCL_{YYYY}.psv").unwrap_err().contains("{MM}"));
        assert!(FilePattern::parse("JCL_{YYYY}{MM}{MM}.psv").is_err());
        assert!(FilePattern::parse("in/JCL_{YYYY}{MM}.psv").unwrap_err().contains("path"));
        assert!(FilePattern::parse("JCL_{DD}{MM}{YYYY}").unwrap_err().contains("{DD}"));
        assert!(FilePattern::parse("JCL_{YYYY{MM}").is_err());
    }
}
