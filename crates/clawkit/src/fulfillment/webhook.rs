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
//! times: verify ([`verify`] or [`Verifier`]), de-duplicate by the request id, acknowledge, and
//! do the work later. With feature `webhook-server`, [`Verifier::receiver`] is all of that as an
//! axum router to mount in your server:
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use clawkit::fulfillment::webhook::{self, Event, Verifier};
//!
//! let body = br#"{"event_id":"evt_1","event_type":"inventory.changed","occurred_at":"2024-06-15T08:30:05+08:00","data":{"reason":"reservation","previous_ats":5,"inventory":{"sku":"A","warehouse_code":"W","on_hand":5,"reserved":1,"safety_stock":0,"in_transit":0,"ats":4,"updated_at":"2024-06-15T08:30:05+08:00"}}}"#;
//! let now = SystemTime::now();
//! let headers = webhook::signed_headers("cs_new", now, "evt_1", "inventory.changed", body);
//!
//! // During a rotation the old and the new secret are both accepted.
//! let verifier = Verifier::new("cs_old").also("cs_new");
//! let delivery = verifier.verify(&headers, body, now)?;
//! assert_eq!(delivery.request_id, "evt_1");
//! assert!(matches!(delivery.event, Event::InventoryChanged(_)));
//!
//! // Five minutes and one second later the same delivery is a replay.
//! assert!(verifier.verify(&headers, body, now + Duration::from_secs(301)).is_err());
//! # Ok::<(), clawkit::fulfillment::Error>(())
//! ```

use std::time::{Duration, SystemTime};

use clawkit_runtime::webhook::{WebhookError, WebhookVerifier, hex_signatures, hmac_sha256};
use reqwest::header::{HeaderMap, HeaderValue};
use secrecy::SecretString;

use super::signing::timestamp;
use super::types::{
    CreateWebhookRequest, InventoryChangedEvent, LogisticsUpdatedEvent, OrderCreatedEvent,
    ReturnReceivedEvent, Webhook, WebhookEventType,
};
use super::{Client, Error};

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
        fn read<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, WebhookError> {
            let de = &mut serde_json::Deserializer::from_slice(body);
            serde_path_to_error::deserialize(de)
                .map_err(|e| WebhookError::Body(format!("at `{}`: {}", e.path(), e.inner())))
        }
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

/// A verified delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// `X-OpenClaw-Request-ID`, to de-duplicate by.
    pub request_id: String,
    /// The event.
    pub event: Event,
}

/// Verifies deliveries against one or more client secrets, with a timestamp tolerance (300 s by
/// default, the spec's).
#[derive(Debug, Clone)]
pub struct Verifier {
    inner: WebhookVerifier,
}

fn header<'h>(
    headers: &'h HeaderMap,
    name: &'static str,
    shown: &'static str,
) -> Result<&'h str, WebhookError> {
    let value = headers
        .get(name)
        .ok_or(WebhookError::MissingHeader(shown))?;
    value.to_str().map_err(|_| WebhookError::BadHeader {
        header: shown,
        reason: "not visible ASCII".into(),
    })
}

impl Verifier {
    /// Deliveries signed with `client_secret`.
    pub fn new(client_secret: impl Into<SecretString>) -> Self {
        Self {
            inner: WebhookVerifier::new(client_secret),
        }
    }

    /// Accepts deliveries signed with `client_secret` too (a rotation: old and new at once).
    pub fn also(self, client_secret: impl Into<SecretString>) -> Self {
        Self {
            inner: self.inner.also(client_secret),
        }
    }

    /// How far `X-OpenClaw-Timestamp` may be from now, either way (default 300 s).
    pub fn tolerance(self, tolerance: Duration) -> Self {
        Self {
            inner: self.inner.tolerance(tolerance),
        }
    }

    /// Checks a delivery (its signature in constant time against every secret, its timestamp
    /// against `now`) and reads its event.
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Delivery, Error> {
        Ok(self.check(headers, body, now)?)
    }

    fn check(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Delivery, WebhookError> {
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
        self.inner.check_time(at.timestamp(), now)?;
        let digest = clawkit_runtime::sign::sha256_hex(body);
        self.inner.check_signature(
            &[
                stamp.as_bytes(),
                b"\n",
                request_id.as_bytes(),
                b"\n",
                digest.as_bytes(),
            ],
            &signatures,
        )?;
        let event_type = header(headers, EVENT_HEADER, "X-OpenClaw-Event")?;
        let event = Event::parse(event_type, body)?;
        Ok(Delivery {
            request_id: request_id.to_string(),
            event,
        })
    }

    /// A ready receiver to mount in your axum server: it verifies each delivery, answers a
    /// redelivery (same `X-OpenClaw-Request-ID`) 200 without queueing it again, answers a new one
    /// 200 at once and queues its event for your code; `store` remembers the ids (use
    /// [`Deliveries`](clawkit_runtime::webhook::Deliveries) in one process, your own
    /// [`DeliveryStore`](clawkit_runtime::webhook::DeliveryStore) across several).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use clawkit::fulfillment::webhook::Verifier;
    /// use clawkit::runtime::webhook::Deliveries;
    ///
    /// let mut hooks = Verifier::new("cs_secret")
    ///     .receiver(Arc::new(Deliveries::new(Duration::from_secs(86_400), 100_000)), 1_024);
    /// let app = axum::Router::new().nest("/hooks/openclaw", hooks.router);
    /// tokio::spawn(async move {
    ///     while let Some(delivery) = hooks.events.recv().await {
    ///         println!("{} {:?}", delivery.id, delivery.event);
    ///     }
    /// });
    /// let listener = tokio::net::TcpListener::bind("0.0.0.0:8443").await?;
    /// axum::serve(listener, app).await?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "webhook-server")]
    pub fn receiver(
        self,
        store: std::sync::Arc<dyn clawkit_runtime::webhook::DeliveryStore>,
        capacity: usize,
    ) -> clawkit_runtime::webhook::service::Receiver<Event> {
        clawkit_runtime::webhook::service::receiver(self, store, capacity)
    }
}

#[cfg(feature = "webhook-server")]
impl clawkit_runtime::webhook::service::Verify for Verifier {
    type Event = Event;

    fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(String, Event), WebhookError> {
        self.check(headers, body, now)
            .map(|d| (d.request_id, d.event))
    }
}

/// Verifies one delivery against `secrets` (any of them may have signed it) with the spec's
/// 300 s tolerance; see [`Verifier`] to keep the settings.
pub fn verify(
    headers: &HeaderMap,
    body: &[u8],
    secrets: &[&str],
    now: SystemTime,
) -> Result<Delivery, Error> {
    let Some((first, rest)) = secrets.split_first() else {
        return Err(Error::InvalidArgument(
            "secrets: expected at least one client secret".into(),
        ));
    };
    let verifier = rest.iter().fold(Verifier::new(first.to_string()), |v, s| {
        v.also(s.to_string())
    });
    verifier.verify(headers, body, now)
}

/// The signature of a delivery: hex HMAC-SHA256 of `{timestamp}\n{request_id}\n{sha256(body)}`.
pub fn signature(client_secret: &str, timestamp: &str, request_id: &str, body: &[u8]) -> String {
    let digest = clawkit_runtime::sign::sha256_hex(body);
    hex::encode(hmac_sha256(
        client_secret.as_bytes(),
        &[
            timestamp.as_bytes(),
            b"\n",
            request_id.as_bytes(),
            b"\n",
            digest.as_bytes(),
        ],
    ))
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
        let v = Verifier::new("cs_sandbox_5f2b9c7e4d1a");
        // signature and time pass; the body is not a whole order.created event
        let err = v.check(&headers, body, at).unwrap_err();
        assert!(matches!(err, WebhookError::Body(_)), "{err}");
        assert!(matches!(
            v.check(&headers, body, at + Duration::from_secs(301)),
            Err(WebhookError::Stale { .. })
        ));
        assert!(matches!(
            Verifier::new("other").check(&headers, body, at),
            Err(WebhookError::BadSignature)
        ));
    }
}
