//! Webhooks: subscriptions ([`Client::create_webhook`]), and receiving them. OpenClaw POSTs one
//! JSON event per request with `X-OpenClaw-Request-ID` (the event id, the same on every retry),
//! `X-OpenClaw-Event`, `X-OpenClaw-Timestamp` and `X-OpenClaw-Signature`: lowercase hex
//! HMAC-SHA256, keyed with the app's client secret, of
//!
//! ```text
//! {X-OpenClaw-Timestamp}\n{X-OpenClaw-Request-ID}\n{hex SHA-256 of the body}
//! ```
//!
//! A receiver must answer 200 with a non-empty body within 3 s, or the delivery is retried 3
//! times: verify, de-duplicate by the request id, acknowledge, and do the work later. A
//! [`Receiver`] (the crate's one [`crate::webhook::Receiver`] of this API's [`Event`]s) does the
//! first two; with feature `webhook-server`, `Receiver::serve` is all of it as
//! an axum router to mount in your server:
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use clawkit::fulfillment::webhook::{self, Event, Receiver};
//!
//! let body = br#"{"event_id":"evt_1","event_type":"inventory.changed","occurred_at":"2024-06-15T08:30:05+08:00","data":{"reason":"reservation","previous_ats":5,"inventory":{"sku":"A","warehouse_code":"W","on_hand":5,"reserved":1,"safety_stock":0,"in_transit":0,"ats":4,"updated_at":"2024-06-15T08:30:05+08:00"}}}"#;
//! let now = SystemTime::now();
//! let headers = webhook::signed_headers("cs_new", now, "evt_1", "inventory.changed", body);
//!
//! // During a rotation the old and the new secret are both accepted.
//! let receiver = Receiver::new("cs_old").also("cs_new");
//! let delivery = receiver.verify_at(&headers, body, now)?;
//! assert_eq!(delivery.id, "evt_1");
//! assert!(matches!(delivery.event, Event::InventoryChanged(_)));
//!
//! // Five minutes and one second later the same delivery is a replay.
//! assert!(receiver.verify_at(&headers, body, now + Duration::from_secs(301)).is_err());
//! # Ok::<(), clawkit::runtime::webhook::WebhookError>(())
//! ```

use std::time::SystemTime;

use clawkit_runtime::webhook::{WebhookError, hex_signatures, hmac_sha256};
use openclaw_fulfillment_api::types::{
    CreateWebhookRequest, InventoryChangedEvent, LogisticsUpdatedEvent, OrderCreatedEvent,
    ReturnReceivedEvent, Webhook, WebhookEventType,
};
use reqwest::header::{HeaderMap, HeaderValue};

use crate::webhook::{Delivered, Incoming, header, read};

use super::client::Client;
use super::error::Error;
use super::signing::timestamp;

/// `X-OpenClaw-Request-ID`: the event id, the same on every retry.
pub const REQUEST_ID_HEADER: &str = "x-openclaw-request-id";
/// `X-OpenClaw-Event`: the event type.
pub const EVENT_HEADER: &str = "x-openclaw-event";
/// `X-OpenClaw-Timestamp`: when this attempt was sent (RFC 3339 with offset).
pub const TIMESTAMP_HEADER: &str = "x-openclaw-timestamp";
/// `X-OpenClaw-Signature`: hex HMAC-SHA256 (see the module docs).
pub const SIGNATURE_HEADER: &str = "x-openclaw-signature";

impl Client {
    /// Subscribes an HTTPS receiver (`url`) to `events`. The receiver must answer 200 with a
    /// non-empty body within 3 s.
    pub async fn create_webhook(
        &self,
        url: &str,
        events: &[WebhookEventType],
    ) -> Result<Webhook, Error> {
        let url = url.parse().map_err(|_| {
            Error::InvalidArgument(format!(
                "url: expected an https:// URL (http:// only on a loopback host, for the \
                 sandbox), got {url:?}"
            ))
        })?;
        if events.is_empty() {
            return Err(Error::InvalidArgument(
                "events: expected at least one event type".into(),
            ));
        }
        let body = CreateWebhookRequest {
            url,
            events: events.to_vec(),
        };
        self.write("create webhook", |api| {
            api.create_webhook().body(body.clone()).send()
        })
        .await
    }

    /// Every webhook of the app.
    pub async fn webhooks(&self) -> Result<Vec<Webhook>, Error> {
        let list = self
            .read("list webhooks", |api| api.list_webhooks().send())
            .await?;
        Ok(list.items)
    }

    /// Removes a webhook.
    pub async fn delete_webhook(&self, webhook_id: &str) -> Result<(), Error> {
        self.read("delete webhook", |api| {
            api.delete_webhook().webhook_id(webhook_id).send()
        })
        .await
    }
}

/// A typed event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// `order.created`: an order entered the order pool.
    OrderCreated(Box<OrderCreatedEvent>),
    /// `logistics.updated`: a parcel's tracking changed (customs, delivery failures included).
    LogisticsUpdated(LogisticsUpdatedEvent),
    /// `return.received`: a return arrived in the warehouse (退货入库).
    ReturnReceived(ReturnReceivedEvent),
    /// `inventory.changed`: a SKU-warehouse row's ATS changed.
    InventoryChanged(InventoryChangedEvent),
}

impl Event {
    /// The event id (`event_id`, also the delivery's `X-OpenClaw-Request-ID`).
    pub fn id(&self) -> &str {
        match self {
            Event::OrderCreated(e) => &e.event_id,
            Event::LogisticsUpdated(e) => &e.event_id,
            Event::ReturnReceived(e) => &e.event_id,
            Event::InventoryChanged(e) => &e.event_id,
        }
    }

    /// Reads an event body of type `event_type`.
    pub fn parse(event_type: &str, body: &[u8]) -> Result<Event, WebhookError> {
        Ok(match event_type {
            "order.created" => Event::OrderCreated(Box::new(read(body)?)),
            "logistics.updated" => Event::LogisticsUpdated(read(body)?),
            "return.received" => Event::ReturnReceived(read(body)?),
            "inventory.changed" => Event::InventoryChanged(read(body)?),
            other => {
                return Err(WebhookError::BadHeader {
                    header: "X-OpenClaw-Event",
                    reason: format!(
                        "expected order.created, logistics.updated, return.received or \
                         inventory.changed, got {other:?}"
                    ),
                });
            }
        })
    }
}

/// Verifies deliveries against one or more client secrets and de-duplicates them.
pub type Receiver = crate::webhook::Receiver<Event>;

/// OpenClaw's signature scheme: a hex HMAC-SHA256 (see the module docs) keyed with the app's
/// client secret, a timestamp within the tolerance (300 s by default, the spec's), deliveries
/// de-duplicated by `X-OpenClaw-Request-ID`.
impl Delivered for Event {
    const VENDOR: &'static str = <super::Client as crate::client::Service>::NAME;

    fn open(delivery: Incoming<'_>) -> Result<(String, Event), WebhookError> {
        let (headers, body) = (delivery.headers, delivery.body);
        let request_id = header(headers, REQUEST_ID_HEADER, "X-OpenClaw-Request-ID")?;
        let stamp = header(headers, TIMESTAMP_HEADER, "X-OpenClaw-Timestamp")?;
        let signatures = hex_signatures(
            "X-OpenClaw-Signature",
            header(headers, SIGNATURE_HEADER, "X-OpenClaw-Signature")?,
            "",
        )?;
        let at =
            chrono::DateTime::parse_from_rfc3339(stamp).map_err(|e| WebhookError::BadHeader {
                header: "X-OpenClaw-Timestamp",
                reason: format!(
                    "expected RFC 3339 with an offset, e.g. 2024-06-15T08:30:05+08:00 ({e})"
                ),
            })?;
        delivery.keys.check_time(at.timestamp(), delivery.now)?;
        delivery
            .keys
            .check_signature(&[&signed(stamp, request_id, body)], &signatures)?;
        let event_type = header(headers, EVENT_HEADER, "X-OpenClaw-Event")?;
        let event = Event::parse(event_type, body)?;
        Ok((request_id.to_string(), event))
    }
}

/// What a delivery's signature covers: `{timestamp}\n{request_id}\n{hex SHA-256 of the body}`.
fn signed(timestamp: &str, request_id: &str, body: &[u8]) -> Vec<u8> {
    let digest = clawkit_runtime::sign::sha256_hex(body);
    format!("{timestamp}\n{request_id}\n{digest}").into_bytes()
}

/// The signature of a delivery: hex HMAC-SHA256 of `{timestamp}\n{request_id}\n{sha256(body)}`.
pub fn signature(client_secret: &str, timestamp: &str, request_id: &str, body: &[u8]) -> String {
    let text = signed(timestamp, request_id, body);
    hex::encode(hmac_sha256(client_secret.as_bytes(), &[&text]))
}

/// The headers OpenClaw sends with a delivery, signed with `client_secret` at `at`: for testing
/// your receiver.
pub fn signed_headers(
    client_secret: &str,
    at: SystemTime,
    request_id: &str,
    event_type: &str,
    body: &[u8],
) -> HeaderMap {
    let stamp = timestamp(at);
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    put(REQUEST_ID_HEADER, request_id);
    put(EVENT_HEADER, event_type);
    put(
        SIGNATURE_HEADER,
        &signature(client_secret, &stamp, request_id, body),
    );
    put(TIMESTAMP_HEADER, &stamp);
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_specs_webhook_vector() {
        let body = br#"{"event_id":"evt_01J0KA1B2C3D4E5F6G7H8J9K0M"}"#;
        assert_eq!(
            clawkit_runtime::sign::sha256_hex(body),
            "97a83f1c0ea0d191b4f9100082938b104b07af9080e666dd3f51a628a26ba78c"
        );
        assert_eq!(
            signature(
                "cs_sandbox_5f2b9c7e4d1a",
                "2024-06-15T08:30:05+08:00",
                "evt_01J0KA1B2C3D4E5F6G7H8J9K0M",
                body
            ),
            "ba09e8137c477910b0405d53bad9e3d095c84e7a63711752cb3b4c41eb2aae64"
        );
        // and the verifier accepts it at its time, refuses it 301 s later, and with another secret
        let mut headers = HeaderMap::new();
        headers.insert(
            REQUEST_ID_HEADER,
            HeaderValue::from_static("evt_01J0KA1B2C3D4E5F6G7H8J9K0M"),
        );
        headers.insert(
            TIMESTAMP_HEADER,
            HeaderValue::from_static("2024-06-15T08:30:05+08:00"),
        );
        headers.insert(
            SIGNATURE_HEADER,
            HeaderValue::from_static(
                "ba09e8137c477910b0405d53bad9e3d095c84e7a63711752cb3b4c41eb2aae64",
            ),
        );
        headers.insert(EVENT_HEADER, HeaderValue::from_static("order.created"));
        let at = chrono::DateTime::parse_from_rfc3339("2024-06-15T08:30:05+08:00").unwrap();
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(at.timestamp() as u64);
        let v = Receiver::new("cs_sandbox_5f2b9c7e4d1a");
        // signature and time pass; the body is not a whole order.created event
        let err = v.verify_at(&headers, body, at).unwrap_err();
        assert!(matches!(err, WebhookError::Body(_)), "{err}");
        assert!(matches!(
            v.verify_at(&headers, body, at + Duration::from_secs(301)),
            Err(WebhookError::Stale { .. })
        ));
        assert!(matches!(
            Receiver::new("other").verify_at(&headers, body, at),
            Err(WebhookError::BadSignature)
        ));
    }
}
