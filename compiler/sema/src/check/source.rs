//! The `source` item: the file's physical format (delimiter, quote, encoding), its columns and
//! its header and trailer lines, checked and lowered to `ir::Source`.
//!
//! Besides its own errors, the source declares the names the rest of the spec reads per line
//! (columns) and per file (header and trailer fields): they are kept in [`SourceNames`] for name
//! resolution. Every dialect problem the runtime would refuse is reported here, at compile time.
//!
//! Boundary: it owns [`SourceNames`], which `expressions` reads to resolve a column or a header
//! or trailer field.

use std::collections::{HashMap, HashSet};

use etr_ir as ir;
use etr_syntax::ast::{self, Span};

use super::Checker;
use super::fallibility::handler_span;
use crate::codes;
use crate::datefmt::{DateFormatUse, parse_date_format};
use crate::diagnostics::Diagnostic;

/// The names the source declares, for name resolution.
#[derive(Debug, Default)]
pub(super) struct SourceNames {
    pub(super) columns: ir::IndexVec<ir::Column, String>,
    pub(super) column_index: HashMap<String, ir::ColumnIdx>,
    pub(super) header: Option<ir::RecordLine>,
    pub(super) trailer: Option<ir::RecordLine>,
}

impl<'a> Checker<'a> {
    pub(super) fn lower_source(&mut self, source: &'a ast::Source) -> Option<ir::Source> {
        let ast::SourceFormat::Delimited { delimiter, .. } = &source.format;
        if delimiter.value.is_empty() || delimiter.value.contains(['\n', '\r']) {
            self.error(
                codes::BAD_SOURCE,
                "the delimiter must be non-empty and not a line break",
                delimiter.span,
                "bad delimiter",
            );
        }
        let mut quote = None;
        let mut encoding = ir::Encoding::Utf8;
        let mut encoding_rule = None;
        let mut encoding_seen = false;
        let mut columns_seen = false;
        let mut field_count_rule = None;
        let mut ok = true;
        for setting in &source.settings {
            match setting {
                ast::SourceSetting::Quote { quote: q, .. } => match q {
                    ast::Quote::None(_) => quote = None,
                    ast::Quote::Char(s) => {
                        if s.value.len() == 1 && s.value.is_ascii() {
                            quote = Some(s.value.as_bytes()[0]);
                        } else {
                            self.error(codes::BAD_SOURCE, "the quote must be one ASCII character", s.span, "bad quote");
                            ok = false;
                        }
                    }
                },
                ast::SourceSetting::Encoding { name, handler, span } => {
                    encoding_seen = true;
                    match name.value.to_ascii_lowercase().as_str() {
                        "utf-8" | "utf8" => encoding = ir::Encoding::Utf8,
                        "windows-1252" | "cp1252" | "latin-1" | "latin1" | "iso-8859-1" => {
                            encoding = ir::Encoding::Windows1252
                        }
                        other => {
                            self.error(
                                codes::BAD_SOURCE,
                                format!("unknown encoding \"{other}\""),
                                name.span,
                                "unknown encoding",
                            )
                            .help = Some("the encodings are \"utf-8\" and \"windows-1252\"".into());
                            ok = false;
                        }
                    }
                    match (encoding, handler) {
                        (ir::Encoding::Utf8, Some(handler)) => {
                            encoding_rule = self.line_handler(handler, "a line that is not valid UTF-8");
                        }
                        (ir::Encoding::Utf8, None) => {
                            self.error(
                                codes::UNHANDLED_FALLIBLE,
                                "a UTF-8 file can hold bytes that are not UTF-8, and the spec does not say what to do with such a line",
                                *span,
                                "decoding can fail",
                            )
                            .help = Some("add `else reject RULE` with a reject rule".into());
                        }
                        (ir::Encoding::Windows1252, Some(handler)) => {
                            let span = handler_span(handler);
                            self.error(
                                codes::NEEDLESS_HANDLER,
                                "windows-1252 decoding cannot fail: every byte is a character",
                                span,
                                "never used",
                            )
                            .help = Some("remove the `else` handler".into());
                        }
                        (ir::Encoding::Windows1252, None) => {}
                    }
                }
                ast::SourceSetting::Header(line) => self.source.header = self.control_line(line),
                ast::SourceSetting::Trailer(line) => self.source.trailer = self.control_line(line),
                ast::SourceSetting::Columns { columns, handler, span } => {
                    if columns_seen {
                        self.error(codes::DUPLICATE_ITEM, "the columns are declared twice", *span, "second list");
                    }
                    columns_seen = true;
                    for column in columns {
                        if self.source.column_index.contains_key(&column.text) {
                            self.error(
                                codes::DUPLICATE,
                                format!("column `{}` is declared twice", column.text),
                                column.span,
                                "repeated column",
                            );
                            continue;
                        }
                        let idx = self.source.columns.push(column.text.clone());
                        self.source.column_index.insert(column.text.clone(), idx);
                    }
                    match handler {
                        Some(handler) => {
                            field_count_rule = self.line_handler(handler, "a line with the wrong number of fields")
                        }
                        None => {
                            self.error(
                                codes::UNHANDLED_FALLIBLE,
                                format!(
                                    "a line can have more or fewer than the {} declared columns, and the spec does not say what to do with it",
                                    columns.len()
                                ),
                                *span,
                                "splitting can fail",
                            )
                            .help = Some("add `else reject RULE` after the column list".into());
                        }
                    }
                }
            }
        }
        if !encoding_seen {
            self.error(codes::BAD_SOURCE, "the source does not say its encoding", source.span, "no encoding").help =
                Some("add `encoding \"utf-8\" else reject RULE` or `encoding \"windows-1252\"`".into());
            ok = false;
        }
        if !columns_seen {
            self.error(codes::BAD_SOURCE, "the source does not list its columns", source.span, "no columns").help =
                Some("add `columns { FIRST, SECOND, ... } else reject RULE`".into());
            ok = false;
        }
        ok &= self.check_dialect(source, encoding, quote);
        let field_count_rule = field_count_rule?;
        if !ok {
            return None;
        }
        Some(ir::Source {
            format: ir::SourceFormat::Delimited { delimiter: delimiter.value.as_bytes().to_vec(), quote },
            encoding,
            encoding_rule,
            header: self.source.header.clone(),
            trailer: self.source.trailer.clone(),
            columns: self.source.columns.clone(),
            field_count_rule,
        })
    }

    /// Reports, at compile time, every dialect the runtime would refuse when the run starts
    /// (`etr_runtime::input::dialect::SourceDialect::validate` and the encoding of the delimiter and
    /// prefixes into the file's bytes), and the prefixes that could never be told apart: so that
    /// a spec `etr check` accepts is one `etr run` can read. True when the dialect is usable.
    fn check_dialect(&mut self, source: &ast::Source, encoding: ir::Encoding, quote: Option<u8>) -> bool {
        let ast::SourceFormat::Delimited { delimiter, .. } = &source.format;
        let mut ok = true;
        let mut bad = |checker: &mut Self, span: Span, message: String, label: &str, help: &str| {
            checker.error(codes::BAD_SOURCE, message, span, label).help = Some(help.to_owned());
            ok = false;
        };
        let encoding_name = match encoding {
            ir::Encoding::Utf8 => "utf-8",
            ir::Encoding::Windows1252 => "windows-1252",
        };
        let unencodable =
            |text: &str| encoding == ir::Encoding::Windows1252 && encoding_rs::WINDOWS_1252.encode(text).2;
        if unencodable(&delimiter.value) {
            bad(
                self,
                delimiter.span,
                format!("the delimiter cannot be written in {encoding_name}, the file's encoding"),
                "not in the encoding",
                "use a character of the file's encoding",
            );
        }
        let quote_setting = source.settings.iter().rev().find_map(|s| match s {
            ast::SourceSetting::Quote { quote: ast::Quote::Char(q), .. } => Some(q),
            _ => None,
        });
        if let (Some(q), Some(lit)) = (quote, quote_setting)
            && (q == b'\n' || q == b'\r' || delimiter.value.as_bytes().contains(&q))
        {
            bad(
                self,
                lit.span,
                "the quote must not be a line break or part of the delimiter".to_owned(),
                "bad quote",
                "pick a quote character the delimiter does not use, or `quote none`",
            );
        }
        let mut prefixes: Vec<(&str, &ast::StringLit)> = Vec::new();
        for setting in &source.settings {
            match setting {
                ast::SourceSetting::Header(line) => prefixes.push(("header", &line.prefix)),
                ast::SourceSetting::Trailer(line) => prefixes.push(("trailer", &line.prefix)),
                _ => {}
            }
        }
        for (which, prefix) in &prefixes {
            let value = &prefix.value;
            let problem = if value.is_empty() {
                Some(("it is empty", "a data line can begin with an empty field; give the marker text"))
            } else if value.contains(['\n', '\r']) {
                Some(("it contains a line break", "a line never contains a line break; remove it"))
            } else if !delimiter.value.is_empty() && value.contains(delimiter.value.as_str()) {
                Some((
                    "it contains the delimiter",
                    "the prefix is the line's first field, which never holds the delimiter",
                ))
            } else if unencodable(value) {
                Some(("it cannot be written in the file's encoding", "use characters of the file's encoding"))
            } else {
                None
            };
            if let Some((why, help)) = problem {
                bad(
                    self,
                    prefix.span,
                    format!("the {which} prefix can never match a line's first field: {why}"),
                    "bad prefix",
                    help,
                );
            }
        }
        if let [("header", header), ("trailer", trailer)] | [("trailer", trailer), ("header", header)] =
            prefixes.as_slice()
            && header.value == trailer.value
            && !header.value.is_empty()
        {
            let d = Diagnostic::error(
                codes::BAD_SOURCE,
                "the header and the trailer have the same prefix",
                self.report.file,
                trailer.span,
                "same prefix as the header",
            )
            .with_secondary(self.report.file, header.span, "header prefix")
            .with_help("give the trailer a prefix of its own, so that a one-line file is not both");
            self.report.push(d);
            ok = false;
        }
        ok
    }

    /// The rule a structural handler (`encoding ... else reject R`, `columns {...} else reject R`) raises.
    fn line_handler(&mut self, handler: &ast::Handler, what: &str) -> Option<ir::RuleIdx> {
        match handler {
            ast::Handler::Reject { rule, .. } => self.handler_rule(rule, ir::Severity::Reject),
            ast::Handler::Fail { rule, .. } => self.handler_rule(rule, ir::Severity::Fatal),
            ast::Handler::Value(expr) => {
                self.error(
                    codes::HANDLER_PLACE,
                    format!("{what} cannot be given a default value"),
                    expr.span,
                    "a value is not allowed here",
                )
                .help = Some("use `else reject RULE` (or `else fail RULE` to refuse the file)".into());
                None
            }
        }
    }

    fn control_line(&mut self, line: &ast::ControlLine) -> Option<ir::RecordLine> {
        let mut fields: Vec<ir::LineField> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for field in &line.fields {
            if !seen.insert(&field.name.text) {
                self.error(
                    codes::DUPLICATE,
                    format!("field `{}` is declared twice", field.name.text),
                    field.name.span,
                    "repeated field",
                );
                continue;
            }
            let ty = &field.ty;
            let string_arg = |args: &[ast::TypeArg]| match args {
                [ast::TypeArg::String(s)] => Some(s.clone()),
                _ => None,
            };
            let lowered = match (ty.name.text.as_str(), ty.args.as_slice()) {
                ("text", []) => Some(ir::LineFieldType::Text),
                ("int", []) => Some(ir::LineFieldType::Int),
                ("money", [ast::TypeArg::Ident(unit)]) => match unit.text.as_str() {
                    "ringgit" => Some(ir::LineFieldType::Money(ir::MoneyUnit::Ringgit)),
                    "sen" => Some(ir::LineFieldType::Money(ir::MoneyUnit::Sen)),
                    _ => None,
                },
                ("date", args) | ("month", args) if string_arg(args).is_some() => {
                    let pattern = string_arg(args).expect("checked by the guard");
                    let usage =
                        if ty.name.text == "date" { DateFormatUse::ParseDate } else { DateFormatUse::ParseMonth };
                    match parse_date_format(&pattern.value, usage) {
                        Ok(format) if usage == DateFormatUse::ParseDate => Some(ir::LineFieldType::Date(format)),
                        Ok(format) => Some(ir::LineFieldType::Month(format)),
                        Err(why) => {
                            self.error(codes::BAD_DATE_FORMAT, why, pattern.span, "bad format");
                            continue;
                        }
                    }
                }
                _ => None,
            };
            match lowered {
                Some(ty) => fields.push(ir::LineField { name: field.name.text.clone(), ty }),
                None => {
                    self.error(codes::BAD_SOURCE, format!("`{ty}` is not a header or trailer field type"), ty.span, "unknown field type")
                        .help = Some("the field types are text, int, money(ringgit), money(sen), date(\"%d/%m/%Y\") and month(\"%Y%m\")".into());
                }
            }
        }
        Some(ir::RecordLine { prefix: line.prefix.value.clone(), fields })
    }
}
