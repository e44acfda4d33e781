//! How a contributor writes its files: delimiter, quoting, encoding, header and trailer markers.
//!
//! A contributor spec declares its dialect; the reader and the splitter only ever see this value.
//! The delimiter and the prefixes are given as bytes *in the file's encoding*, because that is how
//! the contributor's documentation states them (a windows-1252 file delimited by `¦` uses the
//! single byte `0xA6`). [`SourceDialect::validate`] refuses dialects that cannot work (an empty
//! delimiter, a non-ASCII quote, ...); the splitter still stays sound and panic-free if handed an
//! unvalidated one, it just takes a slower checked path.
//!
//! Header and trailer recognition is deliberately narrow so that a data line is never swallowed:
//! a line is the header only if it is the *first* line of the file and its first field equals the
//! header prefix exactly; it is the trailer only if it is the *last non-empty* line and its first
//! field equals the trailer prefix. Nothing else is ever a header or a trailer.

use std::borrow::Cow;

use etr_ir::Program;

use crate::error::RuntimeError;

/// The character encoding of a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// UTF-8. Lines with invalid sequences are flagged `bad_encoding`, not fatal.
    #[default]
    Utf8,
    /// Windows code page 1252 (WHATWG mapping: every byte decodes, so no line is ever flagged).
    Windows1252,
}

/// The physical format of one contributor's files.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceDialect {
    /// The field separator: one or more bytes in the file's encoding (`b"|"` for most contributors).
    pub delimiter: Vec<u8>,
    /// The quote byte, when the contributor quotes fields. Must be ASCII.
    pub quote: Option<u8>,
    /// The file's character encoding.
    pub encoding: Encoding,
    /// The first field of the header line (`b"H"`), when the format has a header.
    pub header_prefix: Option<Vec<u8>>,
    /// The first field of the trailer line (`b"T"`), when the format has a trailer.
    pub trailer_prefix: Option<Vec<u8>>,
    /// The number of declared columns; a batch has exactly this many column arrays.
    pub column_count: usize,
}

/// Why a [`SourceDialect`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialectError {
    /// The delimiter has no bytes.
    #[error("the delimiter is empty")]
    EmptyDelimiter,
    /// Lines are cut before fields are split, so a delimiter can never contain CR or LF.
    #[error("the delimiter contains a line terminator (CR or LF)")]
    DelimiterHasTerminator,
    /// In a UTF-8 file the delimiter must be whole characters, or splitting could cut one in two.
    #[error("the delimiter is not valid UTF-8")]
    DelimiterNotUtf8,
    /// The quote must be one ASCII byte (not CR, LF or part of the delimiter).
    #[error("the quote byte {0:#04x} is not usable: it must be ASCII, not CR/LF, and not in the delimiter")]
    BadQuote(u8),
    /// A header or trailer prefix that no first field could ever equal.
    #[error("the {which} prefix can never match a first field: {why}")]
    BadPrefix {
        /// `"header"` or `"trailer"`.
        which: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
}

impl SourceDialect {
    /// A UTF-8 dialect with a `|` delimiter, no quoting, no header and no trailer.
    pub fn pipe(column_count: usize) -> Self {
        SourceDialect {
            delimiter: b"|".to_vec(),
            quote: None,
            encoding: Encoding::Utf8,
            header_prefix: None,
            trailer_prefix: None,
            column_count,
        }
    }

    /// Checks that the dialect can split and recognise lines as specified.
    pub fn validate(&self) -> Result<(), DialectError> {
        let delim = &self.delimiter;
        if delim.is_empty() {
            return Err(DialectError::EmptyDelimiter);
        }
        if delim.iter().any(|&b| b == b'\n' || b == b'\r') {
            return Err(DialectError::DelimiterHasTerminator);
        }
        if self.encoding == Encoding::Utf8 && std::str::from_utf8(delim).is_err() {
            return Err(DialectError::DelimiterNotUtf8);
        }
        if let Some(q) = self.quote
            && (!q.is_ascii() || q == b'\n' || q == b'\r' || delim.contains(&q))
        {
            return Err(DialectError::BadQuote(q));
        }
        for (which, prefix) in [("header", &self.header_prefix), ("trailer", &self.trailer_prefix)] {
            let Some(prefix) = prefix else { continue };
            if prefix.iter().any(|&b| b == b'\n' || b == b'\r') {
                return Err(DialectError::BadPrefix { which, why: "it contains a line terminator" });
            }
            if memchr::memmem::find(prefix, delim).is_some() {
                return Err(DialectError::BadPrefix { which, why: "it contains the delimiter" });
            }
            if self.encoding == Encoding::Utf8 && std::str::from_utf8(prefix).is_err() {
                return Err(DialectError::BadPrefix { which, why: "it is not valid UTF-8" });
            }
        }
        Ok(())
    }
}

/// A dialect translated to the decoded (UTF-8) side, computed once per block or per file.
///
/// Everything downstream of decoding works on UTF-8, so the delimiter and prefixes are decoded
/// with the file's encoding. For windows-1252 this is exact: the code page maps each byte to one
/// character and UTF-8 is self-synchronising, so the decoded delimiter occurs in the decoded
/// line exactly where the raw delimiter occurred in the raw line.
#[derive(Debug, Clone)]
pub(crate) struct PreparedDialect {
    pub(crate) delimiter: Vec<u8>,
    pub(crate) quote: Option<u8>,
    pub(crate) encoding: Encoding,
    pub(crate) header_prefix: Option<String>,
    pub(crate) trailer_prefix: Option<String>,
    pub(crate) column_count: usize,
    /// True when [`SourceDialect::validate`] passed. Only then may the splitter assume that every
    /// cut it makes falls on a character boundary; otherwise each field is checked.
    pub(crate) sound: bool,
}

impl PreparedDialect {
    pub(crate) fn new(dialect: &SourceDialect) -> Self {
        let decode = |bytes: &[u8]| -> String { decode_lossy(bytes, dialect.encoding).into_owned() };
        PreparedDialect {
            delimiter: decode(&dialect.delimiter).into_bytes(),
            quote: dialect.quote,
            encoding: dialect.encoding,
            header_prefix: dialect.header_prefix.as_deref().map(decode),
            trailer_prefix: dialect.trailer_prefix.as_deref().map(decode),
            column_count: dialect.column_count,
            sound: dialect.validate().is_ok(),
        }
    }

    /// The single delimiter byte when the fast scanner applies: one ASCII byte.
    pub(crate) fn single_byte_delimiter(&self) -> Option<u8> {
        match self.delimiter.as_slice() {
            [d] if d.is_ascii() => Some(*d),
            _ => None,
        }
    }
}

/// Decodes bytes of the given encoding, replacing invalid UTF-8 sequences with U+FFFD.
pub(crate) fn decode_lossy(bytes: &[u8], encoding: Encoding) -> Cow<'_, str> {
    match encoding {
        Encoding::Utf8 => String::from_utf8_lossy(bytes),
        Encoding::Windows1252 => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
    }
}

/// The dialect the reader needs, from the spec's source declaration.
pub fn dialect_of(program: &Program) -> crate::Result<SourceDialect> {
    let source = &program.source;
    let encoding = match source.encoding {
        etr_ir::Encoding::Utf8 => Encoding::Utf8,
        etr_ir::Encoding::Windows1252 => Encoding::Windows1252,
    };
    // The spec writes the delimiter and prefixes as text; the reader wants them in the file's bytes.
    let in_file_bytes = |text: &str| -> crate::Result<Vec<u8>> {
        match encoding {
            Encoding::Utf8 => Ok(text.as_bytes().to_vec()),
            Encoding::Windows1252 => {
                let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
                if unmappable {
                    return Err(RuntimeError::Config(format!("`{text}` cannot be written in windows-1252")));
                }
                Ok(bytes.into_owned())
            }
        }
    };
    let etr_ir::SourceFormat::Delimited { delimiter, quote } = &source.format;
    let delimiter = in_file_bytes(std::str::from_utf8(delimiter).map_err(|e| RuntimeError::Config(e.to_string()))?)?;
    Ok(SourceDialect {
        delimiter,
        quote: *quote,
        encoding,
        header_prefix: source.header.as_ref().map(|h| in_file_bytes(&h.prefix)).transpose()?,
        trailer_prefix: source.trailer.as_ref().map(|t| in_file_bytes(&t.prefix)).transpose()?,
        column_count: source.columns.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_dialect_is_valid() {
        assert_eq!(SourceDialect::pipe(41).validate(), Ok(()));
    }

    #[test]
    fn unusable_dialects_are_refused() {
        let base = SourceDialect::pipe(3);
        let with = |f: &dyn Fn(&mut SourceDialect)| {
            let mut d = base.clone();
            f(&mut d);
            d.validate()
        };
        assert_eq!(with(&|d| d.delimiter.clear()), Err(DialectError::EmptyDelimiter));
        assert_eq!(with(&|d| d.delimiter = b"|\n".to_vec()), Err(DialectError::DelimiterHasTerminator));
        assert_eq!(with(&|d| d.delimiter = vec![0xA6]), Err(DialectError::DelimiterNotUtf8));
        assert_eq!(with(&|d| d.quote = Some(b'|')), Err(DialectError::BadQuote(b'|')));
        assert_eq!(with(&|d| d.quote = Some(0x93)), Err(DialectError::BadQuote(0x93)));
        assert!(matches!(
            with(&|d| d.header_prefix = Some(b"H|X".to_vec())),
            Err(DialectError::BadPrefix { which: "header", .. })
        ));
    }

    #[test]
    fn windows_1252_delimiter_is_translated() {
        let dialect =
            SourceDialect { delimiter: vec![0xA6], encoding: Encoding::Windows1252, ..SourceDialect::pipe(2) };
        assert_eq!(dialect.validate(), Ok(()));
        let prepared = PreparedDialect::new(&dialect);
        assert_eq!(prepared.delimiter, "¦".as_bytes());
        assert_eq!(prepared.single_byte_delimiter(), None);
    }
}
