//! User Data containers: `POST /api/user-data` (201, at most five; 403
//! `user_data_quota_exceeded`), `GET /api/user-data` (in creation order, with the container
//! quota) and `DELETE /api/user-data/{id}` (404 `not_found`, 423 `user_data_locked` while a live
//! session uses it).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::error::ApiError;
use super::model::{Container, USER_DATA_MAX};
use super::state::Botswin;
use crate::kit::clock::utc as rfc3339;

/// `POST /api/user-data` (any body ignored): the new container's id and `createdAt`.
pub(super) async fn create(
    State(botswin): State<Arc<Botswin>>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let now = botswin.clock.now_ms();
    let mut inner = botswin.lock();
    if inner.containers.len() >= USER_DATA_MAX {
        return Err(ApiError::user_data_quota_exceeded(USER_DATA_MAX));
    }
    let id = botswin.next_container_id(&mut inner);
    inner.containers.push(Container {
        id: id.clone(),
        created_ms: now,
        last_used_ms: None,
        locked_by: None,
    });
    let body = json!({"id": id, "createdAt": rfc3339(now)});
    Ok((StatusCode::CREATED, Json(body)))
}

/// `GET /api/user-data`.
pub(super) async fn list(State(botswin): State<Arc<Botswin>>) -> Json<Value> {
    let inner = botswin.lock();
    let items: Vec<Value> = inner.containers.iter().map(Container::json).collect();
    let used = items.len();
    Json(json!({
        "items": items,
        "total": used,
        "quota": {"used": used, "max": USER_DATA_MAX, "canCreate": used < USER_DATA_MAX},
    }))
}

/// `DELETE /api/user-data/{id}`.
pub(super) async fn delete(
    State(botswin): State<Arc<Botswin>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut inner = botswin.lock();
    let at = inner
        .containers
        .iter()
        .position(|c| c.id == id)
        .ok_or_else(|| ApiError::user_data_not_found(&id))?;
    if inner.containers[at].locked_by.is_some() {
        return Err(ApiError::user_data_locked(&id));
    }
    inner.containers.remove(at);
    Ok(Json(json!({"success": true})))
}
