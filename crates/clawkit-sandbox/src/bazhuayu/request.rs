//! Reading Bazhuayu's query parameters: the task a call names and the page size.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::envelope::{bad_request, envelope};
use super::state::Inner;

/// The query parameters of a data call.
pub(super) type Params = Query<HashMap<String, String>>;

/// Which task `taskId` names; the error is the 400 description.
pub(super) fn task_index(inner: &Inner, q: &HashMap<String, String>) -> Result<usize, String> {
    let Some(id) = q.get("taskId") else {
        return Err("taskId: required".into());
    };
    inner
        .tasks
        .iter()
        .position(|t| t.id.eq_ignore_ascii_case(id))
        .ok_or_else(|| format!("taskId: no task {id}"))
}

/// 404 `not_found` for a task id that names no task; 400 for a missing one.
pub(super) fn task_error(description: String) -> Response {
    if description.starts_with("taskId: no task") {
        envelope(
            StatusCode::NOT_FOUND,
            Value::Null,
            "not_found",
            &description,
        )
    } else {
        bad_request(description)
    }
}

/// The `size` parameter in [1,1000]; the error is the 400 description.
pub(super) fn size_of(q: &HashMap<String, String>) -> Result<u64, String> {
    match q.get("size").map(|s| s.parse::<u64>()) {
        Some(Ok(n)) if (1..=1000).contains(&n) => Ok(n),
        Some(_) => Err("size: must be an integer in [1,1000]".into()),
        None => Err("size: required, in [1,1000]".into()),
    }
}
