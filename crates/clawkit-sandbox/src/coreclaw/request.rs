//! Reading CoreClaw request bodies: JSON objects, required fields, page numbers. Every problem is a
//! 4000 [`ApiError`] naming the field.

use axum::body::Bytes;
use serde_json::{Map, Value, json};

use super::ApiError;
use super::catalog::type_of;
use super::validate;

/// Parses a JSON body; an empty body is `{}`.
pub(super) fn body_json(body: &Bytes) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(&[format!("request body: JSON syntax error: {e}")]))
}

/// The body as a JSON object (4000 for any other JSON value).
pub(super) fn object(value: &Value) -> Result<&Map<String, Value>, ApiError> {
    value.as_object().ok_or_else(|| {
        ApiError::invalid(&[format!(
            "request body: expected a JSON object, got {}",
            type_of(value)
        )])
    })
}

/// A required string field. An empty slug is simply one that names nothing (404 later).
pub(super) fn required_str(body: &Map<String, Value>, key: &str) -> Result<String, ApiError> {
    match body.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => Err(ApiError::invalid(&[format!(
            "{key}: expected string, got {}",
            type_of(v)
        )])),
        None => Err(ApiError::invalid(&[format!("{key}: required")])),
    }
}

pub(super) fn positive_int(
    body: &Map<String, Value>,
    keys: &[&str],
    problems: &mut Vec<String>,
) -> Option<u64> {
    let Some((key, value)) = keys.iter().find_map(|k| body.get(*k).map(|v| (*k, v))) else {
        problems.push(format!("{}: required", keys[0]));
        return None;
    };
    let whole = value.as_u64().or_else(|| {
        // Integers beyond u64 arrive as floats: still integers, just too many pages.
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 1.0)
            .map(|_| u64::MAX)
    });
    match whole {
        Some(n) if n >= 1 => Some(n),
        _ => {
            problems.push(format!(
                "{key}: expected an integer of at least 1, got {value}"
            ));
            None
        }
    }
}

/// The `callback_url` a start needs: present and an absolute http(s) URL.
pub(super) fn required_callback(body: &Map<String, Value>) -> Result<String, ApiError> {
    let mut problems = Vec::new();
    let url = match body.get("callback_url") {
        None => {
            problems.push("callback_url: required".to_string());
            None
        }
        Some(v) => validate::check_callback(v, "callback_url", &mut problems),
    };
    url.ok_or_else(|| ApiError::invalid(&problems))
}

/// The `run_slug` of a body that names one run.
pub(super) fn run_slug_of(body: &Bytes) -> Result<String, ApiError> {
    let body = body_json(body)?;
    required_str(object(&body)?, "run_slug")
}
