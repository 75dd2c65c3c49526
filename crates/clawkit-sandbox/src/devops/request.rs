//! Reading requests: JSON bodies checked field by field against the spec's request schemas (every
//! problem becomes one entry of a 422's `details.fields`), query parameters (400 naming the
//! parameter) and the `page`/`pageSize` paging every list shares.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use serde_json::{Map, Number, Value, json};

use super::envelope::{ApiError, FieldError};

/// A JSON object body being checked. Each reader records what is wrong with its field and
/// answers `None` then; [`Body::finish`] turns the record into a 422.
#[derive(Debug)]
pub(super) struct Body {
    map: Map<String, Value>,
    errors: Vec<FieldError>,
}

/// What a field of the wrong JSON type is said to need.
fn type_message(expected: &str) -> String {
    format!("类型错误,应为 {expected}")
}

impl Body {
    /// The body as a JSON object: an empty body, malformed JSON or another JSON value is 400
    /// `INVALID_REQUEST`.
    pub(super) fn parse(bytes: &Bytes) -> Result<Body, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::body("请求体不能为空,应为 JSON 对象"));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Body {
                map,
                errors: Vec::new(),
            }),
            Ok(_) => Err(ApiError::body("请求体应为 JSON 对象")),
            Err(e) => Err(ApiError::body(format!("JSON 格式错误: {e}"))),
        }
    }

    /// Records a problem with `field`.
    pub(super) fn problem(
        &mut self,
        field: impl Into<String>,
        message: impl Into<String>,
        code: &'static str,
    ) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
            code,
        });
    }

    /// Whether a problem was recorded for `field`.
    pub(super) fn failed(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }

    /// The raw value of `name`, or the `required` problem when it must be there.
    fn value(&mut self, name: &str, required: bool) -> Option<Value> {
        match self.map.get(name) {
            Some(v) => Some(v.clone()),
            None => {
                if required {
                    self.problem(name, format!("{name} 为必填字段"), "required");
                }
                None
            }
        }
    }

    /// A string field.
    pub(super) fn string(&mut self, name: &str, required: bool) -> Option<String> {
        match self.value(name, required)? {
            Value::String(s) => Some(s),
            _ => {
                self.problem(name, type_message("string"), "invalid_type");
                None
            }
        }
    }

    /// A string field that must be one of `allowed`.
    pub(super) fn one_of(
        &mut self,
        name: &str,
        allowed: &[&'static str],
        required: bool,
    ) -> Option<&'static str> {
        let s = self.string(name, required)?;
        match allowed.iter().find(|a| **a == s) {
            Some(a) => Some(a),
            None => {
                self.problem(
                    name,
                    format!("取值无效,应为 {} 之一", allowed.join(", ")),
                    "invalid_value",
                );
                None
            }
        }
    }

    /// A boolean field.
    pub(super) fn boolean(&mut self, name: &str) -> Option<bool> {
        match self.value(name, false)? {
            Value::Bool(b) => Some(b),
            _ => {
                self.problem(name, type_message("boolean"), "invalid_type");
                None
            }
        }
    }

    /// An integer field of at least `min`.
    pub(super) fn integer(&mut self, name: &str, min: i64) -> Option<i64> {
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
                self.problem(name, format!("不能小于 {min}"), "min_value");
                None
            }
            None => {
                self.problem(name, type_message("integer"), "invalid_type");
                None
            }
        }
    }

    /// A number field, kept as sent.
    pub(super) fn number(&mut self, name: &str) -> Option<Number> {
        match self.value(name, false)? {
            Value::Number(n) => Some(n),
            _ => {
                self.problem(name, type_message("number"), "invalid_type");
                None
            }
        }
    }

    /// An object field.
    pub(super) fn object(&mut self, name: &str, required: bool) -> Option<Map<String, Value>> {
        match self.value(name, required)? {
            Value::Object(map) => Some(map),
            _ => {
                self.problem(name, type_message("object"), "invalid_type");
                None
            }
        }
    }

    /// An array of strings; each bad item is its own problem (`labels[2]`).
    pub(super) fn strings(&mut self, name: &str, required: bool) -> Option<Vec<String>> {
        let Value::Array(items) = self.value(name, required)? else {
            self.problem(name, type_message("array"), "invalid_type");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.into_iter().enumerate() {
            match item {
                Value::String(s) => out.push(s),
                _ => {
                    ok = false;
                    self.problem(
                        format!("{name}[{i}]"),
                        type_message("string"),
                        "invalid_type",
                    );
                }
            }
        }
        ok.then_some(out)
    }

    /// An object whose values are all strings (environment variables).
    pub(super) fn string_map(&mut self, name: &str) -> Option<Map<String, Value>> {
        let map = self.object(name, false)?;
        let bad: Vec<String> = map
            .iter()
            .filter(|(_, v)| !v.is_string())
            .map(|(k, _)| k.clone())
            .collect();
        for key in &bad {
            self.problem(
                format!("{name}.{key}"),
                type_message("string"),
                "invalid_type",
            );
        }
        bad.is_empty().then_some(map)
    }

    /// 422 with every problem recorded, if any.
    pub(super) fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(&self.errors))
        }
    }
}

/// The query parameters, in order (a parameter sent twice counts the first time).
#[derive(Debug, Default)]
pub(super) struct Params(Vec<(String, String)>);

/// What axum's query extractor gives, before [`Params::of`].
pub(super) type RawParams = Result<Query<Vec<(String, String)>>, QueryRejection>;

impl Params {
    /// The parameters, or 400 for a query string that cannot be read.
    pub(super) fn of(raw: RawParams) -> Result<Params, ApiError> {
        match raw {
            Ok(Query(pairs)) => Ok(Params(pairs)),
            Err(e) => Err(ApiError::parameter("query", e.body_text())),
        }
    }

    /// The value of `name`.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name` as one of `allowed`, or 400.
    pub(super) fn one_of(
        &self,
        name: &str,
        allowed: &[&'static str],
    ) -> Result<Option<&'static str>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match allowed.iter().find(|a| **a == v) {
                Some(a) => Ok(Some(a)),
                None => Err(ApiError::parameter(
                    name,
                    format!("取值无效,应为 {} 之一", allowed.join(", ")),
                )),
            },
        }
    }

    /// `name` as a boolean (`true` or `false`), or 400.
    pub(super) fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::parameter(name, "应为 true 或 false")),
        }
    }

    /// `page` (from 1, default 1) and `pageSize` (1 to 100, default 20), or 400.
    pub(super) fn page(&self) -> Result<Page, ApiError> {
        let page = match self.get("page") {
            None => 1,
            // Larger than any page there is is still a valid page number: an empty page.
            Some(v) => crate::kit::read::positive_integer(v)
                .ok_or_else(|| ApiError::parameter("page", "页码应为从 1 开始的整数"))?,
        };
        let size = match self.get("pageSize") {
            None => 20,
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => {
                    return Err(ApiError::parameter(
                        "pageSize",
                        "每页数量应为 1 到 100 的整数(最大 100)",
                    ));
                }
            },
        };
        Ok(Page { page, size })
    }
}

/// The one path parameter of a route (an id, or the agent type). A parameter axum cannot read
/// (not UTF-8 once decoded) names nothing: 404 `NOT_FOUND` for the resource the path is about,
/// 400 naming `agentType` for an agent type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PathId(pub(super) String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(PathId(id)),
            Err(_) => {
                let segments: Vec<&str> = parts.uri.path().split('/').skip(1).collect();
                let raw = segments.get(1).copied().unwrap_or_default();
                let resource = match segments.as_slice() {
                    ["users", ..] => "user",
                    ["projects", ..] => "project",
                    ["tasks", ..] => "task",
                    ["agents", "activations", ..] => "activation",
                    ["agents", ..] => {
                        return Err(ApiError::parameter("agentType", "Agent 类型无效"));
                    }
                    ["pipelines", ..] => "pipeline",
                    ["builds", ..] => "build",
                    ["deployments", ..] => "deployment",
                    ["tests", "suites", ..] => "suite",
                    ["tests", ..] => "run",
                    ["webhooks", ..] => "webhook",
                    _ => "resource",
                };
                let raw = match segments.as_slice() {
                    ["agents", "activations", id, ..] | ["tests", _, id, ..] => id,
                    _ => raw,
                };
                Err(ApiError::not_found(resource, raw))
            }
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Page {
    /// From 1.
    pub(super) page: u64,
    /// 1 to 100.
    pub(super) size: u64,
}

impl Page {
    /// This page of `items` and the `pagination` object of the seed.
    pub(super) fn cut<T>(self, items: Vec<T>) -> (Vec<T>, Value) {
        let total = items.len() as u64;
        let pages = total.div_ceil(self.size);
        let skip = (self.page - 1).saturating_mul(self.size);
        let data: Vec<T> = items
            .into_iter()
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            .take(self.size as usize)
            .collect();
        let pagination = json!({
            "page": self.page,
            "pageSize": self.size,
            "totalItems": total,
            "totalPages": pages,
            "hasNextPage": self.page < pages,
            "hasPrevPage": self.page > 1,
        });
        (data, pagination)
    }
}

/// What a spec pattern anchored with `^…$` is matched against: the value without one final line
/// feed, since `$` also matches just before it (as the contract tests' regular expressions read
/// it; `abc\n` matches `^[a-z]+$`).
pub(super) fn pattern_subject(value: &str) -> &str {
    value.strip_suffix('\n').unwrap_or(value)
}

/// Whether `email` looks like an address: one `@`, a non-empty local part without spaces, and a
/// domain of dot-separated labels of letters, digits and hyphens.
pub(super) fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_and_fields() {
        assert_eq!(
            Body::parse(&Bytes::from_static(b"")).unwrap_err().status,
            400
        );
        assert_eq!(
            Body::parse(&Bytes::from_static(b"{nope"))
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            Body::parse(&Bytes::from_static(b"[1]")).unwrap_err().status,
            400
        );
        let mut body =
            Body::parse(&Bytes::from_static(br#"{"a": 1, "labels": ["x", 2]}"#)).unwrap();
        assert_eq!(body.string("a", true), None);
        assert_eq!(body.string("b", true), None);
        assert_eq!(body.strings("labels", false), None);
        let error = body.finish().unwrap_err();
        assert_eq!(error.status, 422);
        let fields = &error.details["fields"];
        assert_eq!(fields[0]["code"], "invalid_type");
        assert_eq!(
            fields[1],
            json!({"field": "b", "message": "b 为必填字段", "code": "required"})
        );
        assert_eq!(fields[2]["field"], "labels[1]");
    }

    #[test]
    fn pages() {
        let (data, p) = Page { page: 2, size: 3 }.cut((0..7).collect::<Vec<_>>());
        assert_eq!(data, [3, 4, 5]);
        assert_eq!(
            p,
            json!({"page": 2, "pageSize": 3, "totalItems": 7, "totalPages": 3, "hasNextPage": true, "hasPrevPage": true})
        );
        let (data, _) = Page {
            page: u64::MAX,
            size: 100,
        }
        .cut((0..7).collect::<Vec<_>>());
        assert!(data.is_empty());
    }

    #[test]
    fn emails() {
        for ok in [
            "zhangsan@example.com",
            "a.b+c@x-y.io",
            "0@A.com",
            "!#$%&'*+-/=?^_`{|}~@a.bc",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "",
            "zhangsan",
            "a@b",
            "a b@c.com",
            "@c.com",
            "a@-c.com",
            "a@c..com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
