//! Webhook subscriptions, the receiver URLs they take, the events they receive and the
//! vendor's delivery choices.
//!
//! A subscription's URL is HTTPS (the sandbox also takes `http://` on the loopback hosts the
//! spec's pattern names: `localhost`, `127.0.0.1`, `[::1]`). Each event is POSTed as the spec's
//! callback body (`OrderCreatedEvent`, ...). A delivery counts only if answered 200 with a
//! non-empty body within the timeout; otherwise it is retried 3 times ([`MAX_ATTEMPTS`] in all).
//! When [`DISABLE_AFTER`] events in a row failed every attempt the subscription is `disabled`
//! until its URL is registered again; a delivered event resets the count, so one failing event
//! never silences the ones after it.

use openclaw_fulfillment_api::types::{self, WebhookEventType, WebhookStatus};
use serde::Deserialize;

use crate::fulfillment::clock::time;
use crate::fulfillment::read::non_empty;
use crate::kit::delivery::{Failures, http_host, loopback_host};

/// Attempts per event and subscription: the first and 3 retries.
pub const MAX_ATTEMPTS: u32 = 4;

/// Events in a row that failed every attempt before a subscription is disabled.
pub const DISABLE_AFTER: u32 = 5;

/// A webhook subscription.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    /// `wh_…`.
    pub(crate) id: String,
    /// The receiver.
    pub(crate) url: String,
    /// What it receives, each once.
    pub(crate) events: Vec<WebhookEventType>,
    /// Whether it still receives them.
    pub(crate) active: bool,
    /// Unix ms.
    pub(crate) created: i64,
    /// Events in a row that failed every attempt.
    pub(crate) failures: Failures,
}

impl Subscription {
    /// The `Webhook` body.
    pub(crate) fn wire(&self) -> types::Webhook {
        types::Webhook {
            created_at: time(self.created),
            events: self.events.clone(),
            status: if self.active {
                WebhookStatus::Active
            } else {
                WebhookStatus::Disabled
            },
            url: self.url.clone(),
            webhook_id: self.id.clone(),
        }
    }
}

/// `CreateWebhookRequest`.
#[derive(Debug, Deserialize)]
pub(crate) struct CreateWebhookRequest {
    /// The receiver.
    pub(crate) url: String,
    /// What it receives (at least one).
    #[serde(deserialize_with = "non_empty")]
    pub(crate) events: Vec<WebhookEventType>,
}

impl CreateWebhookRequest {
    /// Its events, each once, in the order first given.
    pub(crate) fn unique_events(&self) -> Vec<WebhookEventType> {
        let mut unique: Vec<WebhookEventType> = Vec::new();
        for e in self.events.iter().copied() {
            if !unique.contains(&e) {
                unique.push(e);
            }
        }
        unique
    }
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
pub(crate) fn refuse_url(url: &str) -> Option<&'static str> {
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

/// An event waiting for delivery, with the `data` of its body.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    /// `order.created`: the new order (boxed: an order is the largest body).
    OrderCreated(Box<types::Order>),
    /// `logistics.updated`: the parcel with its new node.
    LogisticsUpdated(types::Tracking),
    /// `return.received`: the received return.
    ReturnReceived(types::Return),
    /// `inventory.changed`: the row after the change and the ATS before it.
    InventoryChanged(types::InventoryChange),
}

impl Event {
    /// Its type.
    pub(crate) fn kind(&self) -> WebhookEventType {
        match self {
            Event::OrderCreated(_) => WebhookEventType::OrderCreated,
            Event::LogisticsUpdated(_) => WebhookEventType::LogisticsUpdated,
            Event::ReturnReceived(_) => WebhookEventType::ReturnReceived,
            Event::InventoryChanged(_) => WebhookEventType::InventoryChanged,
        }
    }

    /// The callback body of the event `event_id` that happened at `at` (Unix ms).
    pub(crate) fn body(self, event_id: String, at: i64) -> Vec<u8> {
        let occurred_at = time(at);
        let body = match self {
            Event::OrderCreated(data) => serde_json::to_vec(&types::OrderCreatedEvent {
                data: *data,
                event_id,
                event_type: types::OrderCreatedEventEventType::OrderCreated,
                occurred_at,
            }),
            Event::LogisticsUpdated(data) => serde_json::to_vec(&types::LogisticsUpdatedEvent {
                data,
                event_id,
                event_type: types::LogisticsUpdatedEventEventType::LogisticsUpdated,
                occurred_at,
            }),
            Event::ReturnReceived(data) => serde_json::to_vec(&types::ReturnReceivedEvent {
                data,
                event_id,
                event_type: types::ReturnReceivedEventEventType::ReturnReceived,
                occurred_at,
            }),
            Event::InventoryChanged(data) => serde_json::to_vec(&types::InventoryChangedEvent {
                data,
                event_id,
                event_type: types::InventoryChangedEventEventType::InventoryChanged,
                occurred_at,
            }),
        };
        body.unwrap_or_default()
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
