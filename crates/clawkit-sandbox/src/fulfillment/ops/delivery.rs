//! Webhook delivery of the events a change queued, through the kit's courier by the vendor's
//! choices (`model::webhooks`).
//!
//! Each event is POSTed to every active subscription of its type with `X-OpenClaw-Request-ID`
//! (the event id, the same on every attempt), `X-OpenClaw-Event`, `X-OpenClaw-Timestamp` (this
//! attempt's time, server clock) and `X-OpenClaw-Signature` (hex HMAC-SHA256 with the client
//! secret of `{timestamp}\n{request id}\n{hex sha256(body)}`), each attempt signed afresh. URLs
//! on names reserved for documentation (`example.com`, ...) are never called.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue};
use openclaw_fulfillment_api::types::WebhookEventType;

use crate::fulfillment::clock::rfc3339;
use crate::fulfillment::model::webhooks::{Event, Subscription};
use crate::fulfillment::signing::webhook_signature;
use crate::fulfillment::state::{CLIENT_SECRET, Fulfillment};
use crate::kit::delivery::{Delivery, reachable};

impl Fulfillment {
    /// Sends each event to every active subscription of its type, each delivery its own task.
    pub(crate) fn dispatch(self: &Arc<Self>, events: Vec<(Event, i64)>) {
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
        for (event, at) in events {
            let kind = event.kind();
            let subscribed: Vec<&Subscription> = targets
                .iter()
                .filter(|w| w.events.contains(&kind))
                .collect();
            if subscribed.is_empty() {
                continue;
            }
            let id = format!("evt_{}", self.event_ids.next());
            let body = Bytes::from(event.body(id.clone(), at));
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
                tokio::spawn(self.clone().deliver(delivery, kind));
            }
        }
    }

    /// Delivers `delivery` by the courier's policy while the subscription is active, then
    /// counts the event's outcome on it (it is disabled after so many events in a row that
    /// failed every attempt).
    async fn deliver(self: Arc<Self>, delivery: Delivery, kind: WebhookEventType) {
        let headers = |_attempt: u32| {
            let timestamp = rfc3339(self.clock.now_ms());
            let signature = webhook_signature(
                CLIENT_SECRET,
                &timestamp,
                &delivery.event_id,
                &delivery.body,
            );
            let kind = kind.to_string();
            let mut headers = HeaderMap::new();
            for (name, value) in [
                ("x-openclaw-request-id", delivery.event_id.as_str()),
                ("x-openclaw-event", &kind),
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
        let mut inner = self.lock();
        if let Some(w) = inner.webhooks.iter_mut().find(|w| w.id == delivery.hook) {
            w.active &= w.failures.settle(delivered, courier.policy());
        }
    }
}
