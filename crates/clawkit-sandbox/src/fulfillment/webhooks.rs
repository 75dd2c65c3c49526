//! Webhook subscriptions and their deliveries.
//!
//! A subscription's URL is HTTPS (the sandbox also takes `http://` on the loopback hosts the
//! spec's pattern names: `localhost`, `127.0.0.1`, `[::1]`); the same URL with an event it already has is 409. Each event is
//! POSTed as the spec's callback body with `X-OpenClaw-Request-ID` (the event id, the same on
//! every attempt), `X-OpenClaw-Event`, `X-OpenClaw-Timestamp` (this attempt's time, server clock)
//! and `X-OpenClaw-Signature` (hex HMAC-SHA256 with the client secret of `{timestamp}\n{request
//! id}\n{hex sha256(body)}`). A delivery counts only if answered 200 with a non-empty body within
//! the timeout (3 s; no redirects followed); otherwise it is retried 3 times, waiting the backoff
//! (1 s) and doubling it. When [`DISABLE_AFTER`] events in a row failed every attempt the
//! subscription is `disabled` until its URL is registered again; a delivered event resets the
//! count, so one failing event never silences the ones after it. URLs on names reserved for documentation (`example.com`, ...) are
//! never called.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::clock::rfc3339;
use super::error::{ApiError, answer};
use super::input::{json_body, non_empty};
use super::signing::webhook_signature;
use super::state::Outgoing;
use super::{CLIENT_SECRET, Fulfillment};
use crate::kit::delivery::{Delivery, Failures, http_host, loopback_host, reachable};

/// Attempts per event and subscription: the first and 3 retries.
pub const MAX_ATTEMPTS: u32 = 4;

/// Events in a row that failed every attempt before a subscription is disabled.
pub const DISABLE_AFTER: u32 = 5;

/// `WebhookEventType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(super) enum EventType {
    /// `order.created`.
    #[serde(rename = "order.created")]
    OrderCreated,
    /// `logistics.updated`.
    #[serde(rename = "logistics.updated")]
    LogisticsUpdated,
    /// `return.received`.
    #[serde(rename = "return.received")]
    ReturnReceived,
    /// `inventory.changed`.
    #[serde(rename = "inventory.changed")]
    InventoryChanged,
}

impl EventType {
    /// The wire name.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::OrderCreated => "order.created",
            Self::LogisticsUpdated => "logistics.updated",
            Self::ReturnReceived => "return.received",
            Self::InventoryChanged => "inventory.changed",
        }
    }
}

/// A webhook subscription.
#[derive(Debug, Clone)]
pub(super) struct Subscription {
    id: String,
    url: String,
    events: Vec<EventType>,
    active: bool,
    created: i64,
    /// Events in a row that failed every attempt.
    failures: Failures,
}

impl Subscription {
    /// The `Webhook` body.
    fn json(&self) -> Value {
        let events: Vec<&str> = self.events.iter().map(|e| e.as_str()).collect();
        json!({
            "webhook_id": self.id,
            "url": self.url,
            "events": events,
            "status": if self.active { "active" } else { "disabled" },
            "created_at": rfc3339(self.created),
        })
    }
}

/// `CreateWebhookRequest`.
#[derive(Debug, Deserialize)]
struct CreateWebhookRequest {
    url: String,
    #[serde(deserialize_with = "non_empty")]
    events: Vec<EventType>,
}

/// Whether `url` is made of the characters an RFC 3986 URI may hold (ASCII, no controls, spaces
/// or `"<>\^`{|}`, `%` only before two hex digits).
fn uri_characters(url: &str) -> bool {
    let bytes = url.as_bytes();
    bytes.iter().enumerate().all(|(i, b)| match b {
        b'%' => bytes
            .get(i + 1..i + 3)
            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)),
        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => true,
        _ => b"-._~:/?#[]@!$&'()*+,;=".contains(b),
    })
}

/// Why `url` cannot receive webhooks, if it cannot.
fn refuse_url(url: &str) -> Option<&'static str> {
    if !uri_characters(url) {
        return Some("is not a URI (RFC 3986): percent-encode other characters");
    }
    let Some(host) = http_host(url) else {
        return Some("must be an absolute https:// URL");
    };
    let https = url
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
    (!https && !loopback_host(&host))
        .then_some("must be HTTPS (http:// only on the loopback: 127.0.0.1, localhost, [::1])")
}

/// `POST /v2.1/webhooks`: 201 `Webhook`; 400 naming `url`; 409 when the URL already has one of
/// the events (a disabled subscription of the URL is replaced).
pub(super) async fn create(
    State(f): State<Arc<Fulfillment>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CreateWebhookRequest = json_body(&body)?;
    if let Some(why) = refuse_url(&request.url) {
        return Err(ApiError::invalid("url", why));
    }
    let mut unique: Vec<EventType> = Vec::new();
    for e in request.events.iter().copied() {
        if !unique.contains(&e) {
            unique.push(e);
        }
    }
    let id = f.short_id("wh_");
    f.with(|inner, now| {
        if let Some(taken) = inner.webhooks.iter().find(|w| {
            w.active && w.url == request.url && w.events.iter().any(|e| unique.contains(e))
        }) {
            return Err(ApiError::conflict(
                "conflict",
                format!(
                    "{} already receives some of these events as {}",
                    request.url, taken.id
                ),
            ));
        }
        inner.webhooks.retain(|w| w.active || w.url != request.url);
        let subscription = Subscription {
            id,
            url: request.url.clone(),
            events: unique,
            active: true,
            created: now,
            failures: Failures::default(),
        };
        let body = subscription.json();
        inner.webhooks.push(subscription);
        Ok(answer(StatusCode::CREATED, body))
    })
}

/// `GET /v2.1/webhooks`: `{"items": [...]}`, oldest first.
pub(super) async fn list(State(f): State<Arc<Fulfillment>>) -> Response {
    let items: Vec<Value> =
        f.with(|inner, _| inner.webhooks.iter().map(Subscription::json).collect());
    answer(StatusCode::OK, json!({ "items": items }))
}

/// `DELETE /v2.1/webhooks/{webhook_id}`: 204; its deliveries under way stop.
pub(super) async fn delete(
    State(f): State<Arc<Fulfillment>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path(id)) = path else {
        return Err(ApiError::not_found("webhook", "(undecodable)"));
    };
    f.with(|inner, _| {
        let before = inner.webhooks.len();
        inner.webhooks.retain(|w| w.id != id);
        if inner.webhooks.len() == before {
            return Err(ApiError::not_found("webhook", &id));
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

impl Fulfillment {
    /// Sends each event to every active subscription of its type, each delivery its own task.
    pub(super) fn dispatch(self: &Arc<Self>, events: Vec<Outgoing>) {
        if events.is_empty() {
            return;
        }
        let targets: Vec<Subscription> = self
            .lock()
            .webhooks
            .iter()
            .filter(|w| w.active)
            .cloned()
            .collect();
        for (event, at, data) in events {
            let subscribed: Vec<&Subscription> = targets
                .iter()
                .filter(|w| w.events.contains(&event))
                .collect();
            if subscribed.is_empty() {
                continue;
            }
            let id = format!("evt_{}", self.event_ids.next());
            let body = json!({
                "event_id": id,
                "event_type": event.as_str(),
                "occurred_at": rfc3339(at),
                "data": data,
            });
            let body = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
            for w in subscribed {
                if !reachable(&w.url) {
                    tracing::debug!(hook = %w.id, url = %w.url, "webhook: unreachable URL, not delivered");
                    continue;
                }
                let delivery = Delivery {
                    hook: w.id.clone(),
                    event_id: id.clone(),
                    url: w.url.clone(),
                    body: body.clone(),
                };
                tokio::spawn(self.clone().deliver(delivery, event));
            }
        }
    }

    /// Delivers `delivery` by the courier's policy, each attempt signed afresh with this
    /// attempt's time, while the subscription is active; then counts the event's outcome on it
    /// (it is disabled at [`DISABLE_AFTER`] events in a row that failed every attempt).
    async fn deliver(self: Arc<Self>, delivery: Delivery, event: EventType) {
        let headers = |_attempt: u32| {
            let timestamp = rfc3339(self.clock.now_ms());
            let signature = webhook_signature(
                CLIENT_SECRET,
                &timestamp,
                &delivery.event_id,
                &delivery.body,
            );
            let mut headers = HeaderMap::new();
            for (name, value) in [
                ("x-openclaw-request-id", delivery.event_id.as_str()),
                ("x-openclaw-event", event.as_str()),
                ("x-openclaw-timestamp", &timestamp),
                ("x-openclaw-signature", &signature),
            ] {
                if let Ok(value) = HeaderValue::from_str(value) {
                    headers.insert(name, value);
                }
            }
            headers
        };
        let live = || {
            self.lock()
                .webhooks
                .iter()
                .any(|w| w.id == delivery.hook && w.active)
        };
        let courier = &self.courier;
        let delivered = courier
            .deliver(&self.stats.webhooks, &delivery, headers, live)
            .await;
        if let Some(w) = self
            .lock()
            .webhooks
            .iter_mut()
            .find(|w| w.id == delivery.hook)
        {
            w.active &= w.failures.settle(delivered, courier.policy());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receiver_urls() {
        assert_eq!(refuse_url("https://erp.example.com/hooks/openclaw"), None);
        assert_eq!(refuse_url("http://127.0.0.1:9000/hook"), None);
        assert_eq!(refuse_url("http://localhost/hook"), None);
        assert_eq!(refuse_url("http://[::1]:8080/"), None);
        assert!(refuse_url("http://erp.example.com/hook").is_some());
        assert!(refuse_url("http://127.0.0.2/hook").is_some()); // the spec's pattern: 127.0.0.1 only
        assert!(refuse_url("ftp://x.org/").is_some());
        assert!(refuse_url("not a url").is_some());
        assert!(refuse_url("http://127.0.0.1/\u{13}").is_some());
        assert!(refuse_url("https://hooks.test/caf\u{e9}").is_some());
        assert!(refuse_url("https://hooks.test/a%zz").is_some());
        assert_eq!(refuse_url("https://hooks.test/a%20b?x=1&y=[2]"), None);
    }
}
