//! The column order of each dataset, read from the JSON text: `serde_json::Value` sorts object
//! keys (the workspace does not enable `preserve_order`), but the order of `data`'s keys is the
//! table's column order, which `expect_table_columns_to_match_ordered_list` and `column_index`
//! depend on.

/// For each dataset of an expectation file, the keys of its `data` object in file order (empty for
/// a dataset whose `data` is not an object).
pub fn data_key_orders(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut scanner = Scanner { bytes: text.as_bytes(), at: 0 };
    let root = scanner.value()?;
    let datasets = match field(&root, "datasets") {
        Some(Json::Array(items)) => items,
        _ => return Ok(Vec::new()),
    };
    Ok(datasets
        .iter()
        .map(|d| match field(d, "data") {
            Some(Json::Object(entries)) => entries.iter().map(|(k, _)| k.clone()).collect(),
            _ => Vec::new(),
        })
        .collect())
}

/// Just enough structure to find keys: objects keep their key order, scalars are dropped.
enum Json {
    Object(Vec<(String, Json)>),
    Array(Vec<Json>),
    Scalar,
}

fn field<'a>(json: &'a Json, key: &str) -> Option<&'a Json> {
    match json {
        Json::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Scanner<'_> {
    fn skip_space(&mut self) {
        while self.at < self.bytes.len() && self.bytes[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        self.skip_space();
        if self.bytes.get(self.at) == Some(&byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected `{}` at byte {}", byte as char, self.at))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.skip_space();
        match self.bytes.get(self.at) {
            Some(b'{') => {
                self.at += 1;
                let mut entries = Vec::new();
                self.skip_space();
                if self.bytes.get(self.at) == Some(&b'}') {
                    self.at += 1;
                    return Ok(Json::Object(entries));
                }
                loop {
                    self.skip_space();
                    let key = self.string()?;
                    self.expect(b':')?;
                    entries.push((key, self.value()?));
                    self.skip_space();
                    match self.bytes.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b'}') => {
                            self.at += 1;
                            return Ok(Json::Object(entries));
                        }
                        _ => return Err(format!("expected `,` or `}}` at byte {}", self.at)),
                    }
                }
            }
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                self.skip_space();
                if self.bytes.get(self.at) == Some(&b']') {
                    self.at += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    self.skip_space();
                    match self.bytes.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b']') => {
                            self.at += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return Err(format!("expected `,` or `]` at byte {}", self.at)),
                    }
                }
            }
            Some(b'"') => self.string().map(|_| Json::Scalar),
            Some(_) => {
                while self.at < self.bytes.len() && !matches!(self.bytes[self.at], b',' | b'}' | b']') {
                    self.at += 1;
                }
                Ok(Json::Scalar)
            }
            None => Err("unexpected end of JSON".into()),
        }
    }

    /// A JSON string, decoded with serde_json so that escapes are exact.
    fn string(&mut self) -> Result<String, String> {
        let start = self.at;
        if self.bytes.get(self.at) != Some(&b'"') {
            return Err(format!("expected a string at byte {start}"));
        }
        self.at += 1;
        while self.at < self.bytes.len() {
            match self.bytes[self.at] {
                b'\\' => self.at += 2,
                b'"' => {
                    self.at += 1;
                    let raw = std::str::from_utf8(&self.bytes[start..self.at]).map_err(|e| e.to_string())?;
                    return serde_json::from_str(raw).map_err(|e| e.to_string());
                }
                _ => self.at += 1,
            }
        }
        Err("unterminated string".into())
    }
}
