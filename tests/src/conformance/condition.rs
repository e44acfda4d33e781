//! GX `row_condition` strings (pandas `DataFrame.query` syntax) translated into an etr condition.
//!
//! Only the simple forms the cases use: comparisons of a column with a literal, joined by `&`, `|`,
//! `and`, `or`, with brackets and `~`/`not`. A comparison whose literal can never equal the column's
//! values (a string against an int column) is constant, as in pandas: `==` is false, `!=` true.

use super::data::{Kind, Table};

/// The etr condition for a pandas query string, and the columns it reads; `Err` when the syntax is
/// beyond this translator.
pub fn translate(query: &str, table: &Table) -> Result<(String, Vec<usize>), String> {
    let tokens = tokenize(query)?;
    let mut parser = Parser { tokens, at: 0, table, uses: Vec::new() };
    let expr = parser.or()?;
    if parser.at != parser.tokens.len() {
        return Err(format!("unexpected token {:?}", parser.tokens[parser.at]));
    }
    Ok((expr, parser.uses))
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Number(String),
    Text(String),
    Op(&'static str),
}

fn tokenize(query: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = query.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '\'' {
            let end = chars[i + 1..].iter().position(|&d| d == c).ok_or("unterminated string")? + i + 1;
            out.push(Token::Text(chars[i + 1..end].iter().collect()));
            i = end + 1;
        } else if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            out.push(Token::Number(chars[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push(match word.as_str() {
                "and" => Token::Op("&"),
                "or" => Token::Op("|"),
                "not" => Token::Op("~"),
                _ => Token::Ident(word),
            });
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let op = ["==", "!=", "<=", ">="].into_iter().find(|o| *o == two);
            if let Some(op) = op {
                out.push(Token::Op(op));
                i += 2;
            } else {
                let op = ["<", ">", "&", "|", "(", ")", "~"]
                    .into_iter()
                    .find(|o| o.starts_with(c))
                    .ok_or_else(|| format!("unsupported character {c:?}"))?;
                out.push(Token::Op(op));
                i += 1;
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    table: &'a Table,
    uses: Vec<usize>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn eat(&mut self, op: &str) -> bool {
        if self.peek() == Some(&Token::Op(leak(op))) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<String, String> {
        let mut left = self.and()?;
        while self.eat("|") {
            left = format!("({left} or {})", self.and()?);
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<String, String> {
        let mut left = self.not()?;
        while self.eat("&") {
            left = format!("({left} and {})", self.not()?);
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<String, String> {
        if self.eat("~") {
            return Ok(format!("(not {})", self.not()?));
        }
        if self.eat("(") {
            let inner = self.or()?;
            if !self.eat(")") {
                return Err("missing `)`".into());
            }
            return Ok(inner);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<String, String> {
        let Some(Token::Ident(name)) = self.peek().cloned() else {
            return Err("expected a column name".into());
        };
        self.at += 1;
        let index = self.table.index_of(&name).ok_or_else(|| format!("no column {name}"))?;
        let op = match self.peek() {
            Some(Token::Op(op)) if ["==", "!=", "<", "<=", ">", ">="].contains(op) => *op,
            _ => return Err("expected a comparison".into()),
        };
        self.at += 1;
        let literal = self.peek().cloned().ok_or("expected a literal")?;
        self.at += 1;
        let column = &self.table.columns[index];
        let rendered = match (&literal, column.kind) {
            (Token::Number(n), Kind::Int) if !n.contains('.') => Some(n.clone()),
            (Token::Number(n), Kind::Number) => Some(if n.contains('.') { n.clone() } else { format!("{n}.0") }),
            (Token::Number(n), Kind::Text) if column.mixed => Some(super::translate::text_literal(n)),
            (Token::Text(s), Kind::Text) => Some(super::translate::text_literal(s)),
            (Token::Ident(b), Kind::Bool) if b == "True" || b == "False" => Some(b.to_lowercase()),
            (Token::Number(_) | Token::Text(_) | Token::Ident(_), _) => None,
            (Token::Op(_), _) => return Err("expected a literal".into()),
        };
        if !self.uses.contains(&index) {
            self.uses.push(index);
        }
        Ok(match rendered {
            Some(value) => format!("{} {op} {value}", column.field),
            // pandas compares values of different types as unequal.
            None if op == "!=" => "true".into(),
            None if op == "==" => "false".into(),
            None => return Err(format!("cannot order {} against {literal:?}", column.name)),
        })
    }
}

fn leak(op: &str) -> &'static str {
    ["==", "!=", "<=", ">=", "<", ">", "&", "|", "(", ")", "~"].into_iter().find(|o| *o == op).unwrap_or("")
}
