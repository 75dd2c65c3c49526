//! Reading requests the way the spec types them.
//!
//! - JSON bodies are deserialized into typed requests; every problem is a 400 naming the field
//!   by its JSON path (`lines[0].quantity`): `invalid_time_format` for a time field, else
//!   `invalid_request`. Optional fields are absent or of their type (`null` is not a string).
//! - Query strings are decoded here, byte for byte (a bare `+` is a space, so a time whose `+`
//!   was not sent as `%2B` fails, naming the parameter).
//! - Lists read their update window, cursor and page size once ([`Listing`]) and page with an
//!   opaque cursor: the last row's (update time, key), base64url JSON, in the spec's page bodies.
//! - A path segment that cannot be decoded is a 404 of what it names.
//!
//! The reading is the kit's (`kit::read`, `kit::pages`); the vendor keeps its error bodies.

use std::num::NonZeroU64;
use std::str::FromStr;

use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use openclaw_fulfillment_api::types;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};
use serde_json::Value;

use super::clock::{Stamp, TIME_FORMAT};
use super::error::ApiError;
use crate::kit::pages::{self, Cursor};
use crate::kit::read::{self, English, JsonError, Problem, Repeats};

/// The body as a `T`, or a 400 naming the first field that does not fit.
pub(crate) fn json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    read::json(bytes).map_err(|e| match e {
        // A struct would also read from an array (positionally): only objects are bodies.
        JsonError::NotObject => ApiError::invalid("body", "a JSON object is required"),
        JsonError::Malformed(why) => ApiError::invalid("body", format!("not valid JSON ({why})")),
        JsonError::Field(problem) => refusal(problem),
    })
}

/// The 400 of one problem: `invalid_time_format` for a time, else `invalid_request`.
fn refusal(problem: Problem) -> ApiError {
    if problem.code == TIME_FORMAT {
        ApiError::time_format(&problem.field, problem.message)
    } else {
        ApiError::invalid(&problem.field, problem.message)
    }
}

/// For `#[serde(default, deserialize_with = "present")]`: an optional field that, when given,
/// must be of its type (an explicit `null` is refused, as the spec's types are not nullable).
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// For `#[serde(deserialize_with = "non_empty")]`: an array with at least one item.
pub(crate) fn non_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let items = Vec::<T>::deserialize(deserializer)?;
    if items.is_empty() {
        return Err(de::Error::custom("at least one item is required"));
    }
    Ok(items)
}

/// A JSON integer, saturated to `i64` (the spec's integers have no upper bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Int(pub(crate) i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(Int(i))
                } else if n.as_u64().is_some() {
                    Ok(Int(i64::MAX))
                } else {
                    match n.as_f64() {
                        Some(f) if f.fract() == 0.0 => Ok(Int(f as i64)),
                        _ => Err(de::Error::custom(format!("{n} is not an integer"))),
                    }
                }
            }
            other => Err(de::Error::custom(format!(
                "invalid type: {}, expected an integer",
                kind(&other)
            ))),
        }
    }
}

/// A quantity: an integer of at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Qty(pub(crate) i64);

impl Qty {
    /// The quantity as the generated types hold it.
    pub(crate) fn count(self) -> NonZeroU64 {
        count(self.0)
    }
}

/// A quantity of at least 1 as the generated types hold it (1 for anything less).
pub(crate) fn count(n: i64) -> NonZeroU64 {
    u64::try_from(n)
        .ok()
        .and_then(NonZeroU64::new)
        .unwrap_or(NonZeroU64::MIN)
}

impl<'de> Deserialize<'de> for Qty {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Int(n) = Int::deserialize(deserializer)?;
        if n < 1 {
            return Err(de::Error::custom(format!("{n} is below the minimum of 1")));
        }
        Ok(Qty(n))
    }
}

/// A JSON number (the parcel's dimensions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Num(pub(crate) f64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Number(n) => Ok(Num(n.as_f64().unwrap_or(f64::MAX))),
            other => Err(de::Error::custom(format!(
                "invalid type: {}, expected a number",
                kind(&other)
            ))),
        }
    }
}

/// The JSON type of `value`, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A query string, decoded (a bare `+` is a space): each parameter once.
#[derive(Debug, Default)]
pub(crate) struct Query(read::Query);

impl Query {
    /// Decodes the raw query string; a parameter given twice or not UTF-8 is 400 naming it.
    pub(crate) fn parse(raw: Option<&str>) -> Result<Query, ApiError> {
        read::Query::parse(raw, Repeats::Refuse)
            .map(Query)
            .map_err(refusal)
    }

    /// The value of `name`, if given.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.0.text(name)
    }

    /// One of `allowed` (the wire names of `E`), if given.
    pub(crate) fn choice<E: FromStr>(
        &self,
        name: &str,
        allowed: &[&'static str],
    ) -> Result<Option<E>, ApiError> {
        let Some(value) = self.0.one_of(name, allowed, &English).map_err(refusal)? else {
            return Ok(None);
        };
        let named = value.parse().map_err(|_| ApiError::invalid(name, value));
        named.map(Some)
    }

    /// A date-time, if given: 400 `invalid_time_format` naming `name` otherwise.
    pub(crate) fn time(&self, name: &str) -> Result<Option<Stamp>, ApiError> {
        self.text(name)
            .map(|v| Stamp::parse(v).map_err(|why| ApiError::time_format(name, why)))
            .transpose()
    }

    /// `limit`: 1-100, 50 when absent.
    pub(crate) fn limit(&self) -> Result<usize, ApiError> {
        match self.0.positive("limit", 100) {
            None => Ok(50),
            Some(Ok(n)) => Ok(n as usize),
            Some(Err(v)) => Err(ApiError::invalid(
                "limit",
                format!("{v:?} is not an integer from 1 to 100"),
            )),
        }
    }

    /// `cursor`, if given: a `next_cursor` of this server, else 400 naming it.
    pub(crate) fn cursor(&self) -> Result<Option<Cursor>, ApiError> {
        self.text("cursor")
            .map(|v| {
                decode_cursor(v).ok_or_else(|| {
                    ApiError::invalid("cursor", "not a next_cursor of this API; start over")
                })
            })
            .transpose()
    }
}

/// What every list reads after its own filters: the update window (`updated_from` inclusive,
/// `updated_to` exclusive, Unix ms), the cursor and the page size.
#[derive(Debug)]
pub(crate) struct Listing {
    from: Option<i64>,
    to: Option<i64>,
    after: Option<Cursor>,
    limit: usize,
}

impl Listing {
    /// The listing `query` asks for, or the 400 of its first problem (in that order).
    pub(crate) fn read(query: &Query) -> Result<Listing, ApiError> {
        let from = query.time("updated_from")?.map(|s| s.ms());
        let to = query.time("updated_to")?.map(|s| s.ms());
        let after = query.cursor()?;
        let limit = query.limit()?;
        Ok(Listing {
            from,
            to,
            after,
            limit,
        })
    }

    /// Whether `updated_ms` falls in the update window.
    fn updated(&self, updated_ms: i64) -> bool {
        self.from.is_none_or(|f| updated_ms >= f) && self.to.is_none_or(|t| updated_ms < t)
    }

    /// The page of `rows` (in any order; each its update time, Unix ms, its unique key and its
    /// item): those updated in the window, sorted by (update time, key), after the cursor, at
    /// most the limit.
    pub(crate) fn page<T>(&self, rows: impl IntoIterator<Item = (i64, String, T)>) -> Page<T> {
        let rows = rows
            .into_iter()
            .filter(|(at, _, _)| self.updated(*at))
            .map(|(at, key, item)| (Cursor { at, key }, item))
            .collect();
        let cut = pages::after_cursor(rows, self.after.as_ref(), self.limit);
        Page {
            has_more: cut.next.is_some(),
            next_cursor: cut.next.map(|c| c.encode()),
            items: cut.items,
        }
    }
}

/// One page of a list: the parts of the spec's `{items, next_cursor, has_more}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Page<T> {
    /// The page's rows.
    pub(crate) items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub(crate) next_cursor: Option<String>,
    /// Whether another page follows.
    pub(crate) has_more: bool,
}

/// The spec's page bodies, each made from a [`Page`] of its items.
macro_rules! page_bodies {
    ($($body:ident of $item:ident),* $(,)?) => {$(
        impl From<Page<types::$item>> for types::$body {
            fn from(page: Page<types::$item>) -> Self {
                types::$body {
                    has_more: page.has_more,
                    items: page.items,
                    next_cursor: page.next_cursor,
                }
            }
        }
    )*};
}

page_bodies!(OrderPage of Order, InventoryPage of InventoryLevel, ReturnPage of Return);

/// The decoded path segment of a resource named `what`, or 404 when it cannot be decoded.
pub(crate) fn segment(
    path: Result<Path<String>, PathRejection>,
    what: &str,
) -> Result<String, ApiError> {
    path.map(|Path(id)| id)
        .map_err(|_| ApiError::not_found(what, "(undecodable)"))
}

/// The order number of a path, or 404 `order_not_found` when the segment cannot be decoded.
pub(crate) fn order_no(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(no)| no)
        .map_err(|_| ApiError::order_not_found("(undecodable)"))
}

/// The cursor `text` encodes, if it is one of ours (the kit's `{"u": ms, "k": key}`). The spec's
/// example shape, `{"u": "<RFC 3339>", "i": <number>}`, reads too.
fn decode_cursor(text: &str) -> Option<Cursor> {
    let value = Cursor::decode_json(text)?;
    let at = match value.get("u")? {
        Value::String(t) => Stamp::parse(t).ok()?.ms(),
        other => other.as_i64()?,
    };
    let key = match (value.get("k"), value.get("i")) {
        (Some(Value::String(k)), _) => k.clone(),
        (None, Some(Value::Number(i))) => i.to_string(),
        _ => return None,
    };
    Some(Cursor { at, key })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Line {
        #[allow(dead_code)]
        sku: String,
        #[allow(dead_code)]
        quantity: Qty,
    }

    #[derive(Debug, Deserialize)]
    struct Req {
        #[allow(dead_code)]
        at: Stamp,
        #[serde(deserialize_with = "non_empty")]
        #[allow(dead_code)]
        lines: Vec<Line>,
        #[serde(default, deserialize_with = "present")]
        #[allow(dead_code)]
        note: Option<String>,
    }

    fn problem(body: &str) -> (String, String) {
        let e = json_body::<Req>(body.as_bytes()).unwrap_err();
        (e.code.to_string(), e.details[0].0.clone())
    }

    #[test]
    fn body_problems_name_the_field() {
        let good = r#"{"at":"2024-06-15T08:30:00+08:00","lines":[{"sku":"A","quantity":2}]}"#;
        assert!(json_body::<Req>(good.as_bytes()).is_ok());
        let cases = [
            (
                r#"{"at":1718411400,"lines":[]}"#,
                "invalid_time_format",
                "at",
            ),
            (
                r#"{"at":"2024-06-15T08:30:00","lines":[]}"#,
                "invalid_time_format",
                "at",
            ),
            (
                r#"{"at":"2024-06-15T08:30:00Z","lines":[]}"#,
                "invalid_request",
                "lines",
            ),
            (
                r#"{"at":"2024-06-15T08:30:00Z","lines":[{"sku":"A","quantity":0}]}"#,
                "invalid_request",
                "lines[0].quantity",
            ),
            (
                r#"{"at":"2024-06-15T08:30:00Z","lines":[{"quantity":1}]}"#,
                "invalid_request",
                "lines[0].sku",
            ),
            (
                r#"{"at":"2024-06-15T08:30:00Z","lines":[{"sku":"A","quantity":1}],"note":null}"#,
                "invalid_request",
                "note",
            ),
            (
                r#"{"lines":[{"sku":"A","quantity":1}]}"#,
                "invalid_request",
                "at",
            ),
            (r#"[1]"#, "invalid_request", "body"),
            (r#"{"#, "invalid_request", "body"),
            ("", "invalid_request", "body"),
        ];
        for (body, code, field) in cases {
            assert_eq!(problem(body), (code.into(), field.into()), "{body}");
        }
    }

    #[test]
    fn queries_decode_plus_as_space_and_refuse_repeats() {
        let q = Query::parse(Some(
            "updated_from=2024-06-15T00%3A00%3A00%2B08%3A00&order_no=%231001%26A&x=a+b",
        ))
        .unwrap();
        assert_eq!(q.text("order_no"), Some("#1001&A"));
        assert_eq!(q.text("x"), Some("a b"));
        assert!(q.time("updated_from").unwrap().is_some());
        let bare = Query::parse(Some("updated_from=2024-06-15T00:00:00+08:00")).unwrap();
        let e = bare.time("updated_from").unwrap_err();
        assert_eq!(
            (e.code, e.details[0].0.as_str()),
            ("invalid_time_format", "updated_from")
        );
        assert!(Query::parse(Some("limit=1&limit=2")).is_err());
        assert_eq!(Query::parse(None).unwrap().limit().unwrap(), 50);
        for bad in ["limit=0", "limit=101", "limit=abc", "limit="] {
            assert!(Query::parse(Some(bad)).unwrap().limit().is_err(), "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_and_pages_split() {
        for key in ["", "a", "ab", "abc", "#1001&A/ü"] {
            let c = Cursor {
                at: 1_718_411_400_123,
                key: key.into(),
            };
            assert_eq!(decode_cursor(&c.encode()), Some(c));
        }
        assert_eq!(decode_cursor("not a cursor!"), None);
        assert_eq!(decode_cursor("eyJ1IjoxfQ"), None);
        // The spec's example cursor, {"u":"2024-06-16T02:05:00Z","i":123}.
        assert_eq!(
            decode_cursor("eyJ1IjoiMjAyNC0wNi0xNlQwMjowNTowMFoiLCJpIjoxMjN9"),
            Some(Cursor {
                at: 1_718_503_500_000,
                key: "123".into()
            })
        );
        let rows = |n: i64| (0..n).map(|i| (i / 2, format!("k{i}"), i));
        let listing = |raw: &str| Listing::read(&Query::parse(Some(raw)).unwrap()).unwrap();
        let first = listing("limit=2").page(rows(5));
        assert_eq!(first.items, [0, 1]);
        assert!(first.has_more);
        let after = first.next_cursor.unwrap();
        let second = listing(&format!("limit=3&cursor={after}")).page(rows(5));
        assert_eq!(second.items, [2, 3, 4]);
        assert_eq!(second.next_cursor, None);
        assert!(!second.has_more);
        // The update window: from inclusive, to exclusive.
        let window = listing("updated_from=1970-01-01T00:00:01Z&updated_to=1970-01-01T00:00:02Z");
        assert!(!window.updated(999) && window.updated(1000) && !window.updated(2000));
        let rows = [
            (999, "a".to_string(), 1),
            (1000, "b".into(), 2),
            (2000, "c".into(), 3),
        ];
        assert_eq!(window.page(rows).items, [2]);
    }

    #[test]
    fn percent_decoding_keeps_bad_escapes() {
        use crate::kit::read::percent_decode;
        assert_eq!(percent_decode("%231001%26A", false), b"#1001&A");
        assert_eq!(percent_decode("a+b%2Fc%zz", false), b"a+b/c%zz");
        assert_eq!(percent_decode("a+b", true), b"a b");
    }
}
