//! Webhook subscriptions (Webhooks API) and their deliveries: each subscribed event is POSTed as
//! a `WebhookEvent` to the subscription's URL with `X-OpenClaw-Event-Id`, `X-OpenClaw-Timestamp`
//! and, when a secret is set, `X-OpenClaw-Signature: sha256=<hex HMAC-SHA256(secret,
//! "{timestamp}.{body}")>`. A delivery that is not acknowledged with a 2xx is retried with
//! exponential backoff (same body and event id, a new timestamp and signature), up to
//! [`MAX_ATTEMPTS`] attempts. URLs on names reserved for documentation (`example.com`,
//! `.example`, `.invalid`, ...) are never called.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::Devops;
use super::clock::{date_code, iso, now_ms, stamp_code};
use super::envelope::{ApiError, json_answer};
use super::rbac::{Caller, WEBHOOKS_WRITE};
use super::request::{Body, PathId};
use crate::kit::clock::unix_now;
use crate::kit::delivery::{http_host, reserved_host as reserved};

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
            "createdAt": iso(self.created_ms),
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

impl Devops {
    /// Delivers `event` about `data` to every active subscription of it.
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
        let now = now_ms();
        let id = format!("evt_{}_{:04}", stamp_code(now), self.next_serial() % 10_000);
        let body = json!({"id": id, "event": event, "timestamp": iso(now), "data": data});
        let body = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
        for (hook, url, secret) in targets {
            match http_host(&url) {
                Some(host) if !reserved(&host) => {
                    tokio::spawn(deliver(
                        self.clone(),
                        hook,
                        url,
                        secret,
                        id.clone(),
                        body.clone(),
                    ));
                }
                _ => tracing::debug!(%hook, %url, event, "webhook: unreachable URL, not delivered"),
            }
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
            let wait = when_ms - now_ms();
            if wait > 0 {
                tokio::time::sleep(Duration::from_millis(wait as u64)).await;
            }
            let now = now_ms().max(when_ms);
            if let Some((name, data)) = event(&devops, now) {
                devops.emit(name, data);
            }
        });
    }
}

/// POSTs one event to one subscription until it answers 2xx, the subscription is gone or
/// inactive, or [`MAX_ATTEMPTS`] attempts failed.
async fn deliver(
    devops: Arc<Devops>,
    hook: String,
    url: String,
    secret: Option<String>,
    event_id: String,
    body: Bytes,
) {
    let mut delay = devops.config.webhook_backoff;
    for attempt in 1..=MAX_ATTEMPTS {
        let live = devops
            .lock()
            .webhooks
            .iter()
            .any(|w| w.id == hook && w.active);
        if !live {
            return;
        }
        let timestamp = unix_now();
        let mut request = devops
            .http
            .post(&url)
            .header(header::CONTENT_TYPE, "application/json")
            .header("X-OpenClaw-Event-Id", event_id.as_str())
            .header("X-OpenClaw-Timestamp", timestamp.to_string());
        if let Some(secret) = &secret {
            request = request.header("X-OpenClaw-Signature", signature(secret, timestamp, &body));
        }
        devops
            .stats
            .webhook_attempts
            .fetch_add(1, Ordering::Relaxed);
        let outcome = request.body(body.clone()).send().await;
        match outcome {
            Ok(answer) if answer.status().is_success() => {
                devops
                    .stats
                    .webhook_acknowledged
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%hook, %event_id, attempt, "webhook delivered");
                return;
            }
            Ok(answer) => {
                tracing::debug!(%hook, %event_id, attempt, status = %answer.status(), "webhook refused")
            }
            Err(e) => tracing::debug!(%hook, %event_id, attempt, "webhook failed: {e}"),
        }
        if attempt < MAX_ATTEMPTS {
            tokio::time::sleep(delay).await;
            delay = delay.saturating_mul(2);
        }
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
    let mut body = Body::parse(&bytes)?;
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
    body.finish()?;
    let Some(url) = url else {
        return Err(ApiError::body("缺少必填字段"));
    };
    let now = now_ms() / 1000 * 1000;
    let mut inner = d.lock();
    let prefix = format!("wh_{}_", date_code(now));
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
