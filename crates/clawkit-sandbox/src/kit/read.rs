//! Reading requests the way a spec types them, collecting every problem as a [`Problem`] that
//! names its field; the vendor shapes its own error body from them (a 422 listing them all, a
//! 400 naming the first) and words them ([`Wording`]).
//!
//! - [`Fields`]: a JSON object body read field by field; each reader records what is wrong and
//!   answers `None`, and [`Fields::finish`] gives every problem at once.
//! - [`json`]: a body deserialized into a typed request; the problem names the field by its JSON
//!   path (`lines[0].quantity`). A deserializer can give its own code with [`coded`].
//! - [`Query`]: a query string decoded byte for byte (a bare `+` is a space), each parameter
//!   once, the first of a repeated one or a refusal ([`Repeats`]).

use std::collections::HashMap;

pub use super::problem::{English, Problem, Wording, json_type};
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};

/// Why a body is not a JSON object at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Nothing, or only white space.
    Empty,
    /// JSON, but not an object.
    NotObject,
    /// Not JSON: the parser's message.
    Malformed(String),
}

/// A JSON object body being read field by field.
#[derive(Debug)]
pub struct Fields {
    map: Map<String, Value>,
    problems: Vec<Problem>,
    wording: &'static dyn Wording,
}

impl Fields {
    /// The body as a JSON object, its problems worded by `wording`.
    pub fn parse(bytes: &[u8], wording: &'static dyn Wording) -> Result<Fields, BodyError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(BodyError::Empty);
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Fields {
                map,
                problems: Vec::new(),
                wording,
            }),
            Ok(_) => Err(BodyError::NotObject),
            Err(e) => Err(BodyError::Malformed(e.to_string())),
        }
    }

    /// The object itself.
    pub fn map(&self) -> &Map<String, Value> {
        &self.map
    }

    /// Records a problem with `field`.
    pub fn problem(
        &mut self,
        field: impl Into<String>,
        message: impl Into<String>,
        code: &'static str,
    ) {
        self.problems.push(Problem::new(field, message, code));
    }

    /// The problems recorded so far (to stop at the first field that failed, before reading the
    /// next).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Whether a problem was recorded for `field`.
    pub fn failed(&self, field: &str) -> bool {
        self.problems.iter().any(|p| p.field == field)
    }

    /// The raw value of `name`, or the `required` problem when it must be there.
    pub fn value(&mut self, name: &str, required: bool) -> Option<Value> {
        match self.map.get(name) {
            Some(v) => Some(v.clone()),
            None => {
                if required {
                    let message = self.wording.required(name);
                    self.problem(name, message, "required");
                }
                None
            }
        }
    }

    fn wrong_type(&mut self, name: impl Into<String>, expected: &str, got: &Value) {
        let message = self.wording.wrong_type_of(expected, got);
        self.problem(name, message, "invalid_type");
    }

    /// A string field.
    pub fn string(&mut self, name: &str, required: bool) -> Option<String> {
        match self.value(name, required)? {
            Value::String(s) => Some(s),
            other => {
                self.wrong_type(name, "string", &other);
                None
            }
        }
    }

    /// A string field that must be one of `allowed`.
    pub fn one_of(
        &mut self,
        name: &str,
        allowed: &[&'static str],
        required: bool,
    ) -> Option<&'static str> {
        let s = self.string(name, required)?;
        match allowed.iter().find(|a| **a == s) {
            Some(a) => Some(a),
            None => {
                let message = self.wording.not_one_of(&s, allowed);
                self.problem(name, message, "invalid_value");
                None
            }
        }
    }

    /// A boolean field.
    pub fn boolean(&mut self, name: &str) -> Option<bool> {
        match self.value(name, false)? {
            Value::Bool(b) => Some(b),
            other => {
                self.wrong_type(name, "boolean", &other);
                None
            }
        }
    }

    /// An integer field of at least `min` (a number with no fraction counts).
    pub fn integer(&mut self, name: &str, min: i64) -> Option<i64> {
        let value = self.value(name, false)?;
        let n = match &value {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
            _ => None,
        };
        match n {
            Some(n) if n >= min => Some(n),
            Some(_) => {
                let message = self.wording.below(min);
                self.problem(name, message, "min_value");
                None
            }
            None => {
                self.wrong_type(name, "integer", &value);
                None
            }
        }
    }

    /// A number field, kept as sent.
    pub fn number(&mut self, name: &str) -> Option<Number> {
        match self.value(name, false)? {
            Value::Number(n) => Some(n),
            other => {
                self.wrong_type(name, "number", &other);
                None
            }
        }
    }

    /// An object field.
    pub fn object(&mut self, name: &str, required: bool) -> Option<Map<String, Value>> {
        match self.value(name, required)? {
            Value::Object(map) => Some(map),
            other => {
                self.wrong_type(name, "object", &other);
                None
            }
        }
    }

    /// An array of strings; each bad item is its own problem (`labels[2]`).
    pub fn strings(&mut self, name: &str, required: bool) -> Option<Vec<String>> {
        let items = match self.value(name, required)? {
            Value::Array(items) => items,
            other => {
                self.wrong_type(name, "array", &other);
                return None;
            }
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.into_iter().enumerate() {
            match item {
                Value::String(s) => out.push(s),
                other => {
                    ok = false;
                    self.wrong_type(format!("{name}[{i}]"), "string", &other);
                }
            }
        }
        ok.then_some(out)
    }

    /// An object whose values are all strings; each other value is its own problem
    /// (`env.PORT`).
    pub fn string_map(&mut self, name: &str) -> Option<Map<String, Value>> {
        let map = self.object(name, false)?;
        let bad: Vec<(String, Value)> = map
            .iter()
            .filter(|(_, v)| !v.is_string())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (key, value) in &bad {
            self.wrong_type(format!("{name}.{key}"), "string", value);
        }
        bad.is_empty().then_some(map)
    }

    /// Every problem recorded, if any.
    pub fn finish(self) -> Result<(), Vec<Problem>> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(self.problems)
        }
    }
}

/// Separates a code from the message in a deserializer's custom error (see [`coded`]).
const CODE_MARK: char = '\u{1f}';

/// A deserializer's error message that [`json`] reads as a problem with `code` (e.g.
/// `invalid_time_format` for a time field): `E::custom(coded("invalid_time_format", why))`.
pub fn coded(code: &'static str, message: impl std::fmt::Display) -> String {
    format!("{code}{CODE_MARK}{message}")
}

/// Why [`json`] refused a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Not a JSON object (a struct would also read from an array, positionally).
    NotObject,
    /// Not valid JSON: the parser's message.
    Malformed(String),
    /// Valid JSON that does not fit the type: the first problem, naming its field by its path.
    Field(Problem),
}

/// The body as a `T`, or what is wrong with it. A missing field is `required`; a problem a
/// deserializer gave with [`coded`] has that code; any other is `invalid_value`, with serde's
/// message.
pub fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(JsonError::NotObject);
    }
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut reader);
    let value = parsed.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return JsonError::Malformed(inner.to_string());
        }
        let text = inner.to_string();
        let reason = text
            .rfind(" at line ")
            .map_or(text.as_str(), |cut| &text[..cut]);
        let field = |name: Option<&str>| match (path.as_str(), name) {
            (".", Some(name)) => name.to_string(),
            (".", None) => "body".to_string(),
            (parent, Some(name)) => format!("{parent}.{name}"),
            (parent, None) => parent.to_string(),
        };
        if let Some((code, why)) = reason.split_once(CODE_MARK) {
            let code = KNOWN_CODES
                .iter()
                .copied()
                .find(|c| *c == code)
                .unwrap_or("invalid_value");
            return JsonError::Field(Problem::new(field(None), why, code));
        }
        if let Some(name) = reason
            .strip_prefix("missing field `")
            .and_then(|r| r.strip_suffix('`'))
        {
            return JsonError::Field(Problem::new(field(Some(name)), "required", "required"));
        }
        JsonError::Field(Problem::new(field(None), reason, "invalid_value"))
    })?;
    reader
        .end()
        .map_err(|e| JsonError::Malformed(e.to_string()))?;
    Ok(value)
}

/// The codes a deserializer may give with [`coded`] (a code must be `'static` in a
/// [`Problem`]).
const KNOWN_CODES: &[&str] = &[
    "invalid_time_format",
    "invalid_type",
    "invalid_value",
    "min_value",
    "required",
];

/// Percent-decodes `raw` (a `+` is a space when `plus_is_space`, as in query strings); an
/// invalid escape stays as it is.
pub fn percent_decode(raw: &str, plus_is_space: bool) -> Vec<u8> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|c| (*c as char).to_digit(16));
        match bytes[i] {
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    out
}

/// What a query string that gives a parameter twice means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeats {
    /// The first counts.
    First,
    /// The query is refused, naming the parameter.
    Refuse,
}

/// A query string, decoded: each parameter once.
#[derive(Debug, Default, Clone)]
pub struct Query {
    params: HashMap<String, String>,
}

impl Query {
    /// Decodes the raw query string; a value that is not UTF-8 once decoded is a problem naming
    /// its parameter, as is a repeated one under [`Repeats::Refuse`].
    pub fn parse(raw: Option<&str>, repeats: Repeats) -> Result<Query, Problem> {
        let mut params = HashMap::new();
        for part in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let name = String::from_utf8_lossy(&percent_decode(name, true)).into_owned();
            let value = String::from_utf8(percent_decode(value, true))
                .map_err(|_| Problem::new(&name, "not UTF-8 once decoded", "invalid_value"))?;
            if params.contains_key(&name) {
                match repeats {
                    Repeats::First => continue,
                    Repeats::Refuse => {
                        return Err(Problem::new(&name, "given more than once", "invalid_value"));
                    }
                }
            }
            params.insert(name, value);
        }
        Ok(Query { params })
    }

    /// Parameters already decoded (axum's), the first of a repeated one counting.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Query {
        let mut params = HashMap::new();
        for (name, value) in pairs {
            params.entry(name).or_insert(value);
        }
        Query { params }
    }

    /// The value of `name`, if given.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// `name` as one of `allowed`, if given.
    pub fn one_of(
        &self,
        name: &str,
        allowed: &[&'static str],
        wording: &dyn Wording,
    ) -> Result<Option<&'static str>, Problem> {
        self.text(name)
            .map(|value| {
                allowed
                    .iter()
                    .copied()
                    .find(|a| *a == value)
                    .ok_or_else(|| {
                        Problem::new(name, wording.not_one_of(value, allowed), "invalid_value")
                    })
            })
            .transpose()
    }

    /// `name` as an integer of at least 1 ([`positive_integer`]) and at most `max`, if given.
    pub fn positive(&self, name: &str, max: u64) -> Option<Result<u64, String>> {
        self.text(name).map(|v| match positive_integer(v) {
            Some(n) if n <= max => Ok(n),
            _ => Err(v.to_string()),
        })
    }
}

/// An integer of at least 1, as a spec's `type: integer, minimum: 1` allows it: a string of
/// digits that is not all zeros. One too large for `u64` is still valid (it means "more than
/// there is") and reads as `u64::MAX`. Anything else is `None`.
pub fn positive_integer(value: &str) -> Option<u64> {
    match value.parse::<u64>() {
        Ok(n) if n >= 1 => Some(n),
        _ if !value.is_empty()
            && value.bytes().all(|b| b.is_ascii_digit())
            && !value.trim_start_matches('0').is_empty() =>
        {
            Some(u64::MAX)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde::de::{self, Deserializer};
    use serde_json::json;

    use super::*;

    struct Chinese;
    impl Wording for Chinese {
        fn required(&self, field: &str) -> String {
            format!("{field} 为必填字段")
        }
    }

    #[test]
    fn fields_collect_every_problem() {
        let body =
            br#"{"name": 3, "tags": ["a", 1], "env": {"A": "x", "B": 2}, "n": -1, "kind": "z"}"#;
        let mut fields = Fields::parse(body, &Chinese).unwrap();
        assert_eq!(fields.string("name", true), None);
        assert_eq!(fields.string("missing", true), None);
        assert_eq!(fields.strings("tags", false), None);
        assert_eq!(fields.string_map("env"), None);
        assert_eq!(fields.integer("n", 0), None);
        assert_eq!(fields.one_of("kind", &["a", "b"], false), None);
        assert!(fields.failed("tags[1]"));
        let problems = fields.finish().unwrap_err();
        let seen: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.field.as_str(), p.code))
            .collect();
        assert_eq!(
            seen,
            [
                ("name", "invalid_type"),
                ("missing", "required"),
                ("tags[1]", "invalid_type"),
                ("env.B", "invalid_type"),
                ("n", "min_value"),
                ("kind", "invalid_value"),
            ]
        );
        assert_eq!(problems[1].message, "missing 为必填字段");
        assert_eq!(problems[5].message, "\"z\" is not one of a, b");
        assert_eq!(Fields::parse(b" ", &English).unwrap_err(), BodyError::Empty);
        assert_eq!(
            Fields::parse(b"[1]", &English).unwrap_err(),
            BodyError::NotObject
        );
        assert!(matches!(
            Fields::parse(b"{", &English),
            Err(BodyError::Malformed(_))
        ));
    }

    /// Words that name what was sent.
    struct Naming;
    impl Wording for Naming {
        fn wrong_type_of(&self, expected: &str, got: &Value) -> String {
            format!("expected {expected}, got {}", json_type(got))
        }
    }

    #[test]
    fn a_wording_can_name_what_was_sent_and_the_problems_show_as_they_come() {
        let body = br#"{"slug": 7, "tags": ["a", null], "env": {"A": []}, "n": 1.5}"#;
        let mut fields = Fields::parse(body, &Naming).unwrap();
        assert_eq!(fields.string("slug", true), None);
        assert_eq!(fields.problems().len(), 1);
        assert_eq!(fields.problems()[0].message, "expected string, got integer");
        assert_eq!(fields.strings("tags", false), None);
        assert_eq!(fields.string_map("env"), None);
        assert_eq!(fields.integer("n", 0), None);
        let messages: Vec<String> = fields
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect();
        assert_eq!(
            messages,
            [
                "slug: expected string, got integer",
                "tags[1]: expected string, got null",
                "env.A: expected string, got array",
                "n: expected integer, got number",
            ]
        );
        // The default words do not name it.
        let mut fields = Fields::parse(br#"{"slug": 7}"#, &English).unwrap();
        fields.string("slug", true);
        assert_eq!(fields.problems()[0].message, "expected string");
    }

    #[test]
    fn json_types_as_a_schema_names_them() {
        let types: Vec<&str> = [
            json!(null),
            json!(true),
            json!(3),
            json!(u64::MAX),
            json!(1.5),
            json!("x"),
            json!([]),
            json!({}),
        ]
        .iter()
        .map(json_type)
        .collect();
        assert_eq!(
            types,
            [
                "null", "boolean", "integer", "integer", "number", "string", "array", "object"
            ]
        );
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Line {
        sku: String,
        #[serde(deserialize_with = "odd")]
        quantity: i64,
    }

    fn odd<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let n = i64::deserialize(d)?;
        if n % 2 == 1 {
            Ok(n)
        } else {
            Err(de::Error::custom(coded(
                "min_value",
                format!("{n} is even"),
            )))
        }
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Order {
        lines: Vec<Line>,
    }

    #[test]
    fn typed_bodies_name_the_field_by_its_path() {
        let problem = |body: &str| match json::<Order>(body.as_bytes()) {
            Err(JsonError::Field(p)) => (p.field, p.code, p.message),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            problem(r#"{"lines": [{"sku": "a", "quantity": 2}]}"#),
            ("lines[0].quantity".into(), "min_value", "2 is even".into())
        );
        assert_eq!(
            problem(r#"{"lines": [{"quantity": 1}]}"#),
            ("lines[0].sku".into(), "required", "required".into())
        );
        assert_eq!(problem(r#"{}"#).0, "lines");
        assert_eq!(problem(r#"{"lines": 3}"#).1, "invalid_value");
        assert_eq!(json::<Order>(b"[]").unwrap_err(), JsonError::NotObject);
        assert!(matches!(
            json::<Order>(b"{\"lines\": [}"),
            Err(JsonError::Malformed(_))
        ));
        assert!(json::<Order>(br#"{"lines": [{"sku": "a", "quantity": 1}]}"#).is_ok());
    }

    #[test]
    fn queries_decode_and_count_each_parameter_once() {
        let q = Query::parse(Some("a=%231001%26A&b=x+y&a=2&c"), Repeats::First).unwrap();
        assert_eq!(q.text("a"), Some("#1001&A"));
        assert_eq!(q.text("b"), Some("x y"));
        assert_eq!(q.text("c"), Some(""));
        let refused = Query::parse(Some("a=1&a=2"), Repeats::Refuse).unwrap_err();
        assert_eq!(refused.field, "a");
        assert_eq!(
            Query::parse(Some("t=%FF"), Repeats::First)
                .unwrap_err()
                .field,
            "t"
        );
        let q = Query::from_pairs(vec![("k".into(), "1".into()), ("k".into(), "2".into())]);
        assert_eq!(q.text("k"), Some("1"));
        assert_eq!(
            q.one_of("k", &["2"], &English).unwrap_err().message,
            "\"1\" is not one of 2"
        );
        assert_eq!(q.positive("k", 10), Some(Ok(1)));
        assert_eq!(q.positive("none", 10), None);
        assert_eq!(percent_decode("%zz+", false), b"%zz+");
    }

    #[test]
    fn digits_of_at_least_one_saturating() {
        use super::positive_integer as p;
        assert_eq!(p("7"), Some(7));
        assert_eq!(p("007"), Some(7));
        assert_eq!(p("99999999999999999999999"), Some(u64::MAX));
        for bad in ["0", "000", "", "-1", "1.5", "x", " 1"] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }
}
