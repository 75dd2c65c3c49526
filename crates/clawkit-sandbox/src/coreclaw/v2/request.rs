//! Reading v2 requests: bodies typed by the spec's request types (through the kit's reader), the
//! `offset`/`limit` window of a list, and the problems, all of them in one 11000.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::envelope::V2Error;
use crate::coreclaw::validate::callback_url;
use crate::kit::read::{self, JsonError, json_type, positive_integer};

/// The largest page v2 allows (`limit` 1..=100).
pub(super) const MAX_LIMIT: u64 = 100;

/// A JSON body as the spec's request type (unknown fields refused, as `additionalProperties:
/// false` says). Every v2 body is required: an empty one is refused, `{}` is not empty.
pub(super) fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, V2Error> {
    let refuse = |why: String| V2Error::invalid(&[format!("request body: {why}")]);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(refuse("required (a JSON object)".into()));
    }
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| refuse(format!("not JSON ({e})")))?;
    let Some(fields) = value.as_object() else {
        return Err(refuse(format!(
            "expected a JSON object, got {}",
            json_type(&value)
        )));
    };
    // No field of a v2 request is nullable: `null` is not "left out".
    let nulls: Vec<String> = fields
        .iter()
        .filter(|(_, v)| v.is_null())
        .map(|(k, _)| format!("{k}: expected a value, got null (leave the field out instead)"))
        .collect();
    check(nulls)?;
    read::json(bytes).map_err(|e| {
        refuse(match e {
            JsonError::Field(p) if p.code == "required" => format!("missing field `{}`", p.field),
            JsonError::Field(p) => p.message,
            JsonError::Malformed(e) => format!("not JSON ({e})"),
            JsonError::NotObject => "expected a JSON object".into(),
        })
    })
}

/// `offset` (>= 0, default 0) and `limit` (1..=100, default 20).
pub(super) fn window(q: &HashMap<String, String>, problems: &mut Vec<String>) -> (u64, u64) {
    let offset = match q.get("offset") {
        None => 0,
        // int64, as the spec says: past i64::MAX is not an offset.
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => n as u64,
            _ => {
                problems.push(format!(
                    "offset: expected an integer from 0 to {}, got `{v}`",
                    i64::MAX
                ));
                0
            }
        },
    };
    let limit = match q.get("limit") {
        None => 20,
        Some(v) => match positive_integer(v) {
            Some(n) if n <= MAX_LIMIT => n,
            _ => {
                problems.push(format!(
                    "limit: expected an integer from 1 to {MAX_LIMIT}, got `{v}`"
                ));
                20
            }
        },
    };
    (offset, limit)
}

/// `limit`/`offset` of a start body (already typed; the bound serde cannot state).
pub(super) fn sync_window(limit: u64, offset: i64, problems: &mut Vec<String>) -> (u64, u64) {
    if limit > MAX_LIMIT {
        problems.push(format!("limit: at most {MAX_LIMIT}, got {limit}"));
    }
    if offset < 0 {
        problems.push(format!("offset: at least 0, got {offset}"));
    }
    (offset.max(0) as u64, limit.min(MAX_LIMIT))
}

/// 11000 naming `problems`, if any.
pub(super) fn check(problems: Vec<String>) -> Result<(), V2Error> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(V2Error::invalid(&problems))
    }
}

/// The `callback_url` of a start, if given: an absolute http(s) URL.
pub(super) fn callback(value: Option<String>, problems: &mut Vec<String>) -> Option<String> {
    let url = value?;
    callback_url(&Value::String(url))
        .map_err(|why| problems.push(format!("callback_url: {why}")))
        .ok()
}
