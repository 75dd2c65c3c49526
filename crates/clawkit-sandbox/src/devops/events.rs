//! Webhook events, over the state: each subscribed event is POSTed as a `WebhookEvent` to the
//! subscription's URL by the kit's [`Courier`](crate::kit::delivery::Courier), with
//! `X-OpenClaw-Event-Id`, `X-OpenClaw-Timestamp` and, when a secret is set, the vendor's
//! `X-OpenClaw-Signature`. A delivery that is not acknowledged with a 2xx is retried with
//! exponential backoff (same body and event id, a new timestamp and signature), up to
//! [`MAX_ATTEMPTS`](super::model::webhooks::MAX_ATTEMPTS) attempts, while the subscription
//! stays. URLs on names reserved for documentation (`example.com`, `.example`, `.invalid`, ...)
//! are never called.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue};
use openclaw_devops_api::types::{WebhookEvent, WebhookEventType};
use serde_json::{Map, Value};

use super::model::webhooks::signature;
use super::state::Devops;
use crate::kit::clock::{Clock, code, unix_millis, unix_now, utc_datetime};
use crate::kit::delivery::{Delivery, reachable};

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
    /// Delivers `event` about `data` (a JSON object) to every active subscription of it.
    pub(crate) fn emit(self: &Arc<Self>, event: WebhookEventType, data: Value) {
        let targets: Vec<(String, String, Option<String>)> = self
            .lock()
            .webhooks
            .iter()
            .filter(|w| w.wants(event))
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
        let body = WebhookEvent {
            id: id.clone(),
            event,
            timestamp: utc_datetime(now),
            data: match data {
                Value::Object(map) => map,
                _ => Map::new(),
            },
        };
        let body = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
        for (hook, url, secret) in targets {
            if !reachable(&url) {
                tracing::debug!(%hook, %url, %event, "webhook: unreachable URL, not delivered");
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
                    devops
                        .lock()
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
    pub(crate) fn at<F>(self: &Arc<Self>, when_ms: i64, event: F)
    where
        F: FnOnce(&Devops, i64) -> Option<(WebhookEventType, Value)> + Send + 'static,
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
