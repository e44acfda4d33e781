//! A rough lexer over spec text, for mutating and minimising specs by token, and for finding
//! their comments. It only needs to agree with the grammar on where comments and strings are
//! (`compiler/syntax/src/etr.pest`: a comment runs from `//` to the end of its line, a string from
//! `"` to the next unescaped `"` on the same line, and `\n`, `\r\n` and a lone `\r` each end a
//! line); everything else is words, blanks and single characters.

/// Byte ranges covering the whole text, in order.
pub fn tokens(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let first = rest.chars().next().expect("not at the end");
        let len = if rest.starts_with("//") {
            rest.find(['\n', '\r']).unwrap_or(rest.len())
        } else if first == '"' {
            let mut end = 1;
            let mut escaped = false;
            for (i, c) in rest.char_indices().skip(1) {
                end = i + c.len_utf8();
                if c == '\n' || c == '\r' {
                    end = i;
                    break;
                }
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    break;
                }
            }
            end.max(1)
        } else if is_word(first) {
            rest.char_indices().find(|(_, c)| !is_word(*c)).map_or(rest.len(), |(i, _)| i)
        } else if first.is_whitespace() {
            rest.char_indices().find(|(_, c)| !c.is_whitespace()).map_or(rest.len(), |(i, _)| i)
        } else {
            first.len_utf8()
        };
        out.push(at..at + len);
        at += len;
        debug_assert!(text.is_char_boundary(at) || at == bytes.len());
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The comments of a text (doc comments included), each without trailing blanks: `etr fmt` must
/// keep every one of them.
pub fn comments(text: &str) -> Vec<String> {
    let mut found: Vec<String> = tokens(text)
        .into_iter()
        .map(|r| &text[r])
        .filter(|t| t.starts_with("//"))
        .map(|t| t.trim_end().to_string())
        .collect();
    found.sort();
    found
}

/// The largest char boundary at or before `offset` (clamped to the text).
pub fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_cover_the_text() {
        let text = "let x = \"a \\\" // b\" // c ✓\nrule R1 é(1)";
        let pieces: Vec<&str> = tokens(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(pieces.concat(), text);
        assert!(pieces.contains(&"\"a \\\" // b\""));
        assert!(pieces.contains(&"// c ✓"));
        assert_eq!(comments(text), vec!["// c ✓".to_string()]);
    }

    #[test]
    fn an_unterminated_string_stops_at_the_line_end() {
        let text = "\"abc\nx";
        let pieces: Vec<&str> = tokens(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(pieces, vec!["\"abc", "\n", "x"]);
    }

    /// The grammar ends a line, a comment and an unterminated string at a lone CR too; an oracle
    /// that did not saw `//\r}` as one comment and called the formatter's output a lost comment.
    #[test]
    fn a_lone_cr_ends_a_comment_and_a_string() {
        let text = "rule Q warn\"\"{//\r}\"ab\rc";
        let pieces: Vec<&str> = tokens(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(pieces.concat(), text);
        assert!(pieces.contains(&"//") && pieces.contains(&"\"ab"), "{pieces:?}");
        assert_eq!(comments(text), vec!["//".to_string()]);
    }

    #[test]
    fn floors_to_a_char_boundary() {
        assert_eq!(floor_boundary("é", 1), 0);
        assert_eq!(floor_boundary("é", 9), 2);
    }
}
