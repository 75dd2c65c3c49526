//! Webhook subscriptions (Webhooks API): list, create and delete. The deliveries themselves are
//! in `events`.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use openclaw_devops_api::types::{WebhookEventType, WebhookList};

use crate::devops::error::ApiError;
use crate::devops::model::ids::next_in;
use crate::devops::model::webhooks::{EVENTS, Webhook};
use crate::devops::rbac::{Caller, WEBHOOKS_WRITE};
use crate::devops::read::{PathId, body, finish};
use crate::devops::state::Devops;
use crate::kit::clock::{code, unix_millis};
use crate::kit::delivery::http_host;

/// `GET /webhooks`: every subscription (the sandbox is one organisation), oldest first.
pub(crate) async fn list(State(d): State<Arc<Devops>>) -> Response {
    let data = d.lock().webhooks.iter().map(Webhook::wire).collect();
    axum::Json(WebhookList { data }).into_response()
}

/// `POST /webhooks`: 201 `Webhook`.
pub(crate) async fn create(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.may(WEBHOOKS_WRITE)?;
    let mut body = body(&bytes)?;
    let url = body.string("url", true);
    let names = body.strings("events", true);
    let secret = body.string("secret", false);
    let active = body.boolean("active").unwrap_or(true);
    if let Some(u) = &url
        && http_host(u).is_none()
    {
        body.problem("url", "回调 URL 应为 http 或 https 地址", "invalid_format");
    }
    let mut events: Vec<WebhookEventType> = Vec::new();
    if let Some(names) = &names {
        if names.is_empty() {
            body.problem("events", "至少订阅一个事件", "min_items");
        }
        for (i, name) in names.iter().enumerate() {
            match name.parse::<WebhookEventType>() {
                Ok(e) if !events.contains(&e) => events.push(e),
                Ok(_) => {}
                Err(_) => body.problem(
                    format!("events[{i}]"),
                    format!("未知事件,应为 {} 之一", EVENTS.join(", ")),
                    "invalid_value",
                ),
            }
        }
    }
    finish(body)?;
    let Some(url) = url else {
        return Err(ApiError::body("缺少必填字段"));
    };
    let now = unix_millis() / 1000 * 1000;
    let mut inner = d.lock();
    let prefix = format!("wh_{}_", code(now, 0, "%Y%m%d"));
    let webhook = Webhook {
        id: next_in(&prefix, 4, inner.webhooks.iter().map(|w| w.id.as_str())),
        url,
        events,
        secret,
        active,
        created_ms: now,
    };
    let answer = webhook.wire();
    inner.webhooks.push(webhook);
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// `DELETE /webhooks/{webhookId}`: 204; deliveries under way stop.
pub(crate) async fn delete(
    State(d): State<Arc<Devops>>,
    Extension(caller): Extension<Caller>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    caller.may(WEBHOOKS_WRITE)?;
    let mut inner = d.lock();
    let before = inner.webhooks.len();
    inner.webhooks.retain(|w| w.id != id);
    if inner.webhooks.len() == before {
        return Err(ApiError::not_found("webhook", &id));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
