//! Reading v1 request bodies with the kit's reader ([`Fields`]): an empty body is `{}`, and every
//! problem is `field: message` in one 4000. v1 names what was sent ("expected string, got
//! integer") and stops at a missing run or task slug before it reads the rest.

use serde_json::Value;

use crate::coreclaw::error::ApiError;
use crate::coreclaw::validate::callback_url;
use crate::kit::read::{BodyError, Fields, Problem, Wording, json_type};

/// How v1 words what the kit's reader finds.
struct Words;

impl Wording for Words {
    fn required(&self, _field: &str) -> String {
        "required".into()
    }

    fn wrong_type_of(&self, expected: &str, got: &Value) -> String {
        format!("expected {expected}, got {}", json_type(got))
    }
}

/// 4000 naming `problems`, each `field: message`.
fn invalid(problems: &[Problem]) -> ApiError {
    let lines: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.field, p.message))
        .collect();
    ApiError::invalid(&lines)
}

/// The body, a JSON object to read field by field (an empty body is `{}`); 4000 when it is not
/// JSON or not an object.
pub(super) fn fields(bytes: &[u8]) -> Result<Fields, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    Fields::parse(bytes, &Words).map_err(|e| {
        let why = match e {
            BodyError::Malformed(e) => format!("JSON syntax error: {e}"),
            BodyError::NotObject | BodyError::Empty => {
                let got =
                    serde_json::from_slice::<Value>(bytes).map_or("nothing", |v| json_type(&v));
                format!("expected a JSON object, got {got}")
            }
        };
        ApiError::invalid(&[format!("request body: {why}")])
    })
}

/// 4000 naming what was found so far, if anything (v1 reads no further).
pub(super) fn stop(fields: &Fields) -> Result<(), ApiError> {
    match fields.problems() {
        [] => Ok(()),
        problems => Err(invalid(problems)),
    }
}

/// 4000 naming every problem found, if any.
pub(super) fn finish(fields: Fields) -> Result<(), ApiError> {
    fields.finish().map_err(|problems| invalid(&problems))
}

/// A required string field (an empty slug simply names nothing: 404 later).
pub(super) fn required(fields: &mut Fields, name: &str) -> String {
    fields.string(name, true).unwrap_or_default()
}

/// A page number or size under `names[0]` (or an alias): an integer of at least 1. Integers
/// beyond u64 arrive as floats: still integers, just too many pages.
pub(super) fn positive(fields: &mut Fields, names: &[&str]) -> Option<u64> {
    let Some((name, value)) = names
        .iter()
        .find_map(|n| fields.map().get(*n).map(|v| (*n, v.clone())))
    else {
        let first = names.first().copied().unwrap_or_default();
        fields.problem(first, "required", "required");
        return None;
    };
    let whole = value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 1.0)
            .map(|_| u64::MAX)
    });
    match whole {
        Some(n) if n >= 1 => Some(n),
        _ => {
            let message = format!("expected an integer of at least 1, got {value}");
            fields.problem(name, message, "min_value");
            None
        }
    }
}

/// The `callback_url` a start needs: present and an absolute http(s) URL.
pub(super) fn callback(fields: &mut Fields) -> Option<String> {
    let value = fields.value("callback_url", true)?;
    callback_url(&value)
        .map_err(|why| fields.problem("callback_url", why, "invalid_value"))
        .ok()
}

/// The slug under `name` (a task's or a run's) and the `callback_url` of a start from it.
pub(super) fn slug_and_callback(
    bytes: &[u8],
    name: &str,
) -> Result<(String, Option<String>), ApiError> {
    let mut fields = fields(bytes)?;
    let slug = required(&mut fields, name);
    stop(&fields)?;
    let callback_url = callback(&mut fields);
    finish(fields)?;
    Ok((slug, callback_url))
}

/// The `run_slug` of a body that names one run.
pub(super) fn run_slug_of(bytes: &[u8]) -> Result<String, ApiError> {
    let mut fields = fields(bytes)?;
    let slug = required(&mut fields, "run_slug");
    finish(fields)?;
    Ok(slug)
}
