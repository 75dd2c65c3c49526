//! Reading requests the DevOps way, over [`crate::kit::read`]: JSON bodies checked field by field
//! against the spec's request schemas, every problem worded in the seed's Chinese and listed in
//! one 422 (`details.fields`); query parameters, a bad one a 400 naming it; the `page` /
//! `pageSize` paging every list shares; and the one path parameter of a route.

use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use openclaw_devops_api::types::Pagination;

use super::error::ApiError;
use crate::kit::pages::numbered;
use crate::kit::read::{BodyError, Fields, Query, Wording};

/// The seed's wording of the problems the kit's readers find.
#[derive(Debug, Clone, Copy)]
struct Chinese;

impl Wording for Chinese {
    fn required(&self, field: &str) -> String {
        format!("{field} 为必填字段")
    }

    fn wrong_type(&self, expected: &str) -> String {
        format!("类型错误,应为 {expected}")
    }

    fn not_one_of(&self, _value: &str, allowed: &[&str]) -> String {
        format!("取值无效,应为 {} 之一", allowed.join(", "))
    }

    fn below(&self, min: i64) -> String {
        format!("不能小于 {min}")
    }
}

/// The body as a JSON object to read field by field: an empty body, malformed JSON or another
/// JSON value is 400 `INVALID_REQUEST`.
pub(crate) fn body(bytes: &Bytes) -> Result<Fields, ApiError> {
    Fields::parse(bytes, &Chinese).map_err(|e| {
        ApiError::body(match e {
            BodyError::Empty => "请求体不能为空,应为 JSON 对象".to_string(),
            BodyError::NotObject => "请求体应为 JSON 对象".to_string(),
            BodyError::Malformed(why) => format!("JSON 格式错误: {why}"),
        })
    })
}

/// 422 with every problem recorded in `body`, if any.
pub(crate) fn finish(body: Fields) -> Result<(), ApiError> {
    body.finish()
        .map_err(|problems| ApiError::validation(&problems))
}

/// A string field that must be one of the spec's enum values, as the generated enum `T` (whose
/// wire names are `names`).
pub(crate) fn choice<T: FromStr>(
    body: &mut Fields,
    name: &str,
    names: &[&'static str],
    required: bool,
) -> Option<T> {
    body.one_of(name, names, required)
        .and_then(|value| value.parse().ok())
}

/// What axum's query extractor gives, before [`Params::of`] (a parameter sent twice counts the
/// first time).
pub(crate) type RawParams = Result<axum::extract::Query<Vec<(String, String)>>, QueryRejection>;

/// The query parameters of a request.
#[derive(Debug, Default)]
pub(crate) struct Params(Query);

impl Params {
    /// The parameters, or 400 for a query string that cannot be read.
    pub(crate) fn of(raw: RawParams) -> Result<Params, ApiError> {
        match raw {
            Ok(axum::extract::Query(pairs)) => Ok(Params(Query::from_pairs(pairs))),
            Err(e) => Err(ApiError::parameter("query", e.body_text())),
        }
    }

    /// The value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.text(name)
    }

    /// `name` as one of `allowed`, or 400.
    pub(crate) fn one_of(
        &self,
        name: &str,
        allowed: &[&'static str],
    ) -> Result<Option<&'static str>, ApiError> {
        self.0
            .one_of(name, allowed, &Chinese)
            .map_err(|p| ApiError::parameter(&p.field, p.message))
    }

    /// `name` as one of the spec's enum values (see [`choice`]), or 400.
    pub(crate) fn choice<T: FromStr>(
        &self,
        name: &str,
        names: &[&'static str],
    ) -> Result<Option<T>, ApiError> {
        Ok(self.one_of(name, names)?.and_then(|v| v.parse().ok()))
    }

    /// `name` as a boolean (`true` or `false`), or 400.
    pub(crate) fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::parameter(name, "应为 true 或 false")),
        }
    }

    /// `page` (from 1, default 1; larger than any page there is, an empty page) and `pageSize`
    /// (1 to 100, default 20), or 400.
    pub(crate) fn page(&self) -> Result<Page, ApiError> {
        let page = match self.0.positive("page", u64::MAX) {
            None => 1,
            Some(Ok(n)) => n,
            Some(Err(_)) => {
                return Err(ApiError::parameter("page", "页码应为从 1 开始的整数"));
            }
        };
        let size = match self.0.positive("pageSize", 100) {
            None => 20,
            Some(Ok(n)) => n,
            Some(Err(_)) => {
                return Err(ApiError::parameter(
                    "pageSize",
                    "每页数量应为 1 到 100 的整数(最大 100)",
                ));
            }
        };
        Ok(Page { page, size })
    }
}

/// The one path parameter of a route (an id, or the agent type). A parameter axum cannot read
/// (not UTF-8 once decoded) names nothing: 404 `NOT_FOUND` for the resource the path is about,
/// 400 naming `agentType` for an agent type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathId(pub(crate) String);

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
pub(crate) struct Page {
    /// From 1.
    pub(crate) page: u64,
    /// 1 to 100.
    pub(crate) size: u64,
}

impl Page {
    /// This page of `items` and the seed's `pagination` object.
    pub(crate) fn cut<T>(self, items: Vec<T>) -> (Vec<T>, Pagination) {
        let cut = numbered(items, self.page, self.size);
        let pagination = Pagination {
            page: nonzero(self.page),
            page_size: nonzero(self.size),
            total_items: cut.total,
            total_pages: cut.pages,
            has_next_page: self.page < cut.pages,
            has_prev_page: self.page > 1,
        };
        (cut.items, pagination)
    }
}

/// `n` (at least 1) as the spec's page numbers and sizes are typed.
fn nonzero(n: u64) -> std::num::NonZeroU64 {
    std::num::NonZeroU64::new(n).unwrap_or(std::num::NonZeroU64::MIN)
}

/// What a spec pattern anchored with `^…$` is matched against: the value without one final line
/// feed, since `$` also matches just before it (as the contract tests' regular expressions read
/// it; `abc\n` matches `^[a-z]+$`).
pub(crate) fn pattern_subject(value: &str) -> &str {
    value.strip_suffix('\n').unwrap_or(value)
}

/// Whether `email` looks like an address: one `@`, a non-empty local part without spaces, and a
/// domain of dot-separated labels of letters, digits and hyphens.
pub(crate) fn is_email(email: &str) -> bool {
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
    use serde_json::json;

    use super::*;

    #[test]
    fn bodies_and_fields() {
        assert_eq!(body(&Bytes::from_static(b"")).unwrap_err().status, 400);
        assert_eq!(body(&Bytes::from_static(b"{nope")).unwrap_err().status, 400);
        assert_eq!(body(&Bytes::from_static(b"[1]")).unwrap_err().status, 400);
        let mut fields = body(&Bytes::from_static(br#"{"a": 1, "labels": ["x", 2]}"#)).unwrap();
        assert_eq!(fields.string("a", true), None);
        assert_eq!(fields.string("b", true), None);
        assert_eq!(fields.strings("labels", false), None);
        let error = finish(fields).unwrap_err();
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
    fn the_seeds_wording() {
        let mut fields = body(&Bytes::from_static(
            br#"{"t": 1, "k": "x", "n": -1, "e": {"A": 2}}"#,
        ))
        .unwrap();
        fields.string("t", false);
        fields.one_of("k", &["a", "b"], false);
        fields.integer("n", 1);
        fields.string_map("e");
        let messages: Vec<String> = finish(fields).unwrap_err().details["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            messages,
            [
                "类型错误,应为 string",
                "取值无效,应为 a, b 之一",
                "不能小于 1",
                "类型错误,应为 string"
            ]
        );
    }

    #[test]
    fn pages() {
        let (data, p) = Page { page: 2, size: 3 }.cut((0..7).collect::<Vec<_>>());
        assert_eq!(data, [3, 4, 5]);
        assert_eq!(
            serde_json::to_value(p).unwrap(),
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
