//! User Data containers: `POST /api/user-data` (201, at most five; 403
//! `user_data_quota_exceeded`), `GET /api/user-data` (in creation order, with the container
//! quota) and `DELETE /api/user-data/{id}` (404 `not_found`, 423 `user_data_locked` while a live
//! session uses it).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use botswin_api::types::{DeleteResult, UserData, UserDataList, UserDataQuota};

use super::error::ApiError;
use super::model::{Container, USER_DATA_MAX};
use super::state::Botswin;
use crate::kit::clock::utc_datetime;

/// `POST /api/user-data` (any body ignored): the new container's id and `createdAt`.
pub(super) async fn create(
    State(botswin): State<Arc<Botswin>>,
) -> Result<(StatusCode, Json<UserData>), ApiError> {
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
    let body = UserData {
        id,
        created_at: utc_datetime(now),
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// `GET /api/user-data`.
pub(super) async fn list(State(botswin): State<Arc<Botswin>>) -> Json<UserDataList> {
    let inner = botswin.lock();
    let items: Vec<_> = inner.containers.iter().map(Container::item).collect();
    let used = items.len() as i64;
    let max = USER_DATA_MAX as i64;
    Json(UserDataList {
        items,
        total: used,
        quota: UserDataQuota {
            used,
            max,
            can_create: used < max,
        },
    })
}

/// `DELETE /api/user-data/{id}`.
pub(super) async fn delete(
    State(botswin): State<Arc<Botswin>>,
    Path(id): Path<String>,
) -> Result<Json<DeleteResult>, ApiError> {
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
    Ok(Json(DeleteResult { success: true }))
}
