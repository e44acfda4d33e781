//! Generated corpus inputs: a case's `input.gen` is a recipe, so that inputs too big or too binary
//! to commit (a 10 MB line, invalid bytes) are built at test time.
//!
//! One directive per line; `#` starts a comment line:
//! - `line TEXT`: TEXT and a `\n` (escapes below apply);
//! - `raw TEXT`: TEXT with no line ending added;
//! - `repeat N TEXT`: N lines, `{i}` replaced by the 0-based index;
//! - `fields N TEXT`: one line of N copies of TEXT joined by `|`;
//! - `long N TEXT`: one line made of TEXT repeated until it is N bytes long.
//!
//! Escapes: `\n`, `\r`, `\t`, `\\`, `\xNN` (any byte, so invalid UTF-8 can be written).

use crate::corpus::CaseError;

pub fn generate(recipe: &str) -> Result<Vec<u8>, CaseError> {
    let mut out = Vec::new();
    for (number, line) in recipe.lines().enumerate() {
        let at = |e: String| format!("input.gen line {}: {e}", number + 1);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (directive, rest) = line.split_once(' ').unwrap_or((line, ""));
        match directive {
            "line" => {
                out.extend(unescape(rest).map_err(at)?);
                out.push(b'\n');
            }
            "raw" => out.extend(unescape(rest).map_err(at)?),
            "repeat" | "fields" | "long" => {
                let (count, text) = rest.split_once(' ').unwrap_or((rest, ""));
                let count: usize = count.parse().map_err(|_| at(format!("`{count}` is not a count")))?;
                let text = unescape(text).map_err(at)?;
                match directive {
                    "repeat" => {
                        for i in 0..count {
                            let templated = String::from_utf8_lossy(&text).replace("{i}", &i.to_string());
                            if templated.len() == text.len() && !text.windows(3).any(|w| w == b"{i}") {
                                out.extend(&text);
                            } else {
                                out.extend(templated.as_bytes());
                            }
                            out.push(b'\n');
                        }
                    }
                    "fields" => {
                        for i in 0..count {
                            if i > 0 {
                                out.push(b'|');
                            }
                            out.extend(&text);
                        }
                        out.push(b'\n');
                    }
                    _ => {
                        if text.is_empty() {
                            return Err(at("`long` needs a text to repeat".into()));
                        }
                        let start = out.len();
                        while out.len() - start < count {
                            out.extend(&text);
                        }
                        out.truncate(start + count);
                        out.push(b'\n');
                    }
                }
            }
            other => return Err(at(format!("unknown directive `{other}`"))),
        }
    }
    Ok(out)
}

/// The bytes a `raw` line's text stands for, with the escapes `\n`, `\r`, `\t`, `\\` and `\xHH`
/// (also what the fuzzers' saved cases use).
pub fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'n') => out.push(b'\n'),
            Some(b'r') => out.push(b'\r'),
            Some(b't') => out.push(b'\t'),
            Some(b'\\') => out.push(b'\\'),
            Some(b'x') => {
                let hex = text.get(i + 2..i + 4).ok_or("`\\x` needs two hex digits")?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("`\\x{hex}` is not a byte"))?);
                i += 2;
            }
            _ => return Err("a lone `\\`: write `\\\\`".into()),
        }
        i += 2;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipes_build_the_bytes_they_describe() {
        let bytes = generate("line H|X\nraw a\\x80\\r\\n\nfields 3 ab\nlong 5 xy\nrepeat 2 r{i}\n").unwrap();
        assert_eq!(bytes, b"H|X\na\x80\r\nab|ab|ab\nxyxyx\nr0\nr1\n");
        assert!(generate("bogus 1").is_err());
        assert!(generate("raw \\x8").is_err());
    }
}
