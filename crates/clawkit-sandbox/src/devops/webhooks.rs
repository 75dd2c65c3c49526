//! Webhook subscriptions (Webhooks API) and their deliveries: each subscribed event is POSTed as
//! a `WebhookEvent` to the subscription's URL with `X-OpenClaw-Event-Id`, `X-OpenClaw-Timestamp`
//! and, when a secret is set, `X-OpenClaw-Signature: sha256=<hex HMAC-SHA256(secret,
//! "{timestamp}.{body}")>`. A delivery that is not acknowledged with a 2xx is retried with
//! exponential backoff by the kit's courier (same body and event id, a new timestamp and
//! signature), up to [`MAX_ATTEMPTS`] attempts. URLs on names reserved for documentation
//! (`example.com`, `.example`, `.invalid`, ...) are never called.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::Devops;
use super::envelope::{ApiError, json_answer};
use super::rbac::{Caller, WEBHOOKS_WRITE};
use super::request::{PathId, body, finish};
use crate::kit::clock::{Clock, code, unix_millis, unix_now, utc};
use crate::kit::delivery::{Delivery, http_host, reachable};

/// 可用事件.
pub(super) const EVENTS: [&str; 8] = [
    "project.created",
    "task.updated",
    "agent.completed",
    "build.started",
    "build.completed",
    "deployment.success",
    "deployment.failed",
    "test.failed",
];

/// Attempts per delivery.
pub const MAX_ATTEMPTS: u32 = 8;

/// A subscription.
#[derive(Debug, Clone)]
pub(super) struct Webhook {
    /// `wh_…`.
    pub(super) id: String,
    /// 回调 URL.
    pub(super) url: String,
    /// Subscribed events.
    pub(super) events: Vec<&'static str>,
    /// 签名密钥 (never shown).
    pub(super) secret: Option<String>,
    /// 是否启用.
    pub(super) active: bool,
    /// Unix ms.
    pub(super) created_ms: i64,
}

impl Webhook {
    /// The `Webhook` schema (no secret).
    pub(super) fn json(&self) -> Value {
        json!({
            "id": self.id,
            "url": self.url,
            "events": self.events,
            "active": self.active,
            "createdAt": utc(self.created_ms),
        })
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `{timestamp}.{body}` keyed with `secret`.
pub(super) fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The headers of one delivery attempt of `event_id`: its id, the time now and the signature of
/// `body` with `secret`, if any.
fn attempt_headers(event_id: &str, secret: Option<&str>, body: &[u8]) -> HeaderMap {
    let timestamp = unix_now();
    let mut headers = HeaderMap::new();
    if let Ok(id) = HeaderValue::from_str(event_id) {
        headers.insert("x-openclaw-event-id", id);
    }
    headers.insert("x-openclaw-timestamp", HeaderValue::from(timestamp));
    if let Some(secret) = secret
        && let Ok(signed) = HeaderValue::from_str(&signature(secret, timestamp, body))
    {
        headers.insert("x-openclaw-signature", signed);
    }
    headers
}

impl Devops {
    /// Delivers `event` about `data` to every active subscription of it, each by the kit's
    /// courier.
    pub(super) fn emit(self: &Arc<Self>, event: &'static str, data: Value) {
        let targets: Vec<(String, String, Option<String>)> = self
            .lock()
            .webhooks
            .iter()
            .filter(|w| w.active && w.events.contains(&event))
            .map(|w| (w.id.clone(), w.url.clone(), w.secret.clone()))
            .collect();
        if targets.is_empty() {
            return;
        }
        let now = unix_millis();
        let id = format!(
            "evt_{}_{:04}",
            code(now, 0, "%Y%m%d_%H%M%S"),
            self.next_serial() % 10_000
        );
        let body = json!({"id": id, "event": event, "timestamp": utc(now), "data": data});
        let body = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
        for (hook, url, secret) in targets {
            if !reachable(&url) {
                tracing::debug!(%hook, %url, event, "webhook: unreachable URL, not delivered");
                continue;
            }
            let delivery = Delivery {
                hook,
                event_id: id.clone(),
                url,
                body: body.clone(),
            };
            let devops = self.clone();
            tokio::spawn(async move {
                let headers = |_attempt: u32| {
                    attempt_headers(&delivery.event_id, secret.as_deref(), &delivery.body)
                };
                let live = || {
                    let inner = devops.lock();
                    inner
                        .webhooks
                        .iter()
                        .any(|w| w.id == delivery.hook && w.active)
                };
                (devops.courier)
                    .deliver(&devops.stats.webhooks, &delivery, headers, live)
                    .await;
            });
        }
    }

    /// At `when_ms` (Unix ms), emits the event `event` gives then, if any (the clock it gets is
    /// never before `when_ms`).
    pub(super) fn at<F>(self: &Arc<Self>, when_ms: i64, event: F)
    where
        F: FnOnce(&Devops, i64) -> Option<(&'static str, Value)> + Send + 'static,
    {
        let devops = self.clone();
        tokio::spawn(async move {
            Clock::real().sleep_until(when_ms).await;
            let now = unix_millis().max(when_ms);
            if let Some((name, data)) = event(&devops, now) {
                devops.emit(name, data);
            }
        });
    }
}

/// `GET /webhooks`: every subscription (the sandbox is one organisation), oldest first.
pub(super) async fn list(State(d): State<Arc<Devops>>) -> Response {
    let data: Vec<Value> = d.lock().webhooks.iter().map(Webhook::json).collect();
    axum::Json(json!({"data": data})).into_response()
}

/// `POST /webhooks`: 201 `Webhook`.
pub(super) async fn create(
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
    let mut events: Vec<&'static str> = Vec::new();
    if let Some(names) = &names {
        if names.is_empty() {
            body.problem("events", "至少订阅一个事件", "min_items");
        }
        for (i, name) in names.iter().enumerate() {
            match EVENTS.iter().find(|e| **e == name.as_str()) {
                Some(e) if !events.contains(e) => events.push(e),
                Some(_) => {}
                None => body.problem(
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
    let mut n = 1 + inner
        .webhooks
        .iter()
        .filter(|w| w.id.starts_with(&prefix))
        .count();
    while inner
        .webhooks
        .iter()
        .any(|w| w.id == format!("{prefix}{n:04}"))
    {
        n += 1;
    }
    let webhook = Webhook {
        id: format!("{prefix}{n:04}"),
        url,
        events,
        secret,
        active,
        created_ms: now,
    };
    let answer = webhook.json();
    inner.webhooks.push(webhook);
    Ok(json_answer(StatusCode::CREATED, answer))
}

/// `DELETE /webhooks/{webhookId}`: 204; deliveries under way stop.
pub(super) async fn delete(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_timestamp_dot_body() {
        // Checked against `printf '1710418530.{}' | openssl dgst -sha256 -hmac whsec_test`.
        assert_eq!(
            signature("whsec_test", 1_710_418_530, b"{}"),
            "sha256=beb00e366eb0a4d62c8981df754475633ec45df45725323a7afb3bc0632f41a3"
        );
    }
}
