//! Receiving webhooks, one way for every vendor: a [`Receiver`] verifies each delivery (against
//! several secrets at once during a rotation, with a timestamp tolerance that refuses replays),
//! de-duplicates it by its id through a store (the runtime's [`DeliveryStore`]: in memory by
//! default, shared across processes when you give one), and, with feature `webhook-server`,
//! serves as an axum router that acknowledges at once and queues the event for your code
//! (`Receiver::serve`).
//!
//! A vendor gives only its event type and how a delivery of it is read ([`Delivered`]: which
//! headers hold what, which bytes are signed): `devops::webhook::Event`,
//! `fulfillment::webhook::Event`, and CoreClaw's unsigned completion callback,
//! `coreclaw::webhook::CompletionEvent`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clawkit_runtime::webhook::{Deliveries, DeliveryStore, WebhookError, WebhookVerifier};
use reqwest::header::HeaderMap;
use secrecy::SecretString;

/// The ready receiver's parts (feature `webhook-server`): its axum router, the queue of verified
/// first-time events and its counters.
#[cfg(feature = "webhook-server")]
pub use clawkit_runtime::webhook::service::Receiver as Served;

/// One delivery as it arrived, with the keys to check it against.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// The secrets and the timestamp tolerance: check the timestamp with
    /// [`WebhookVerifier::check_time`] and the signature with
    /// [`WebhookVerifier::check_signature`], as the vendor signs them.
    pub keys: &'a WebhookVerifier,
    /// The delivery's headers.
    pub headers: &'a HeaderMap,
    /// Its raw body.
    pub body: &'a [u8],
    /// Now, for the timestamp.
    pub now: SystemTime,
}

/// An event type a vendor delivers by webhook, and how a delivery of it is checked and read (the
/// vendor's signature scheme).
pub trait Delivered: Sized + Send + 'static {
    /// Checks a delivery and reads it: the id it is de-duplicated by, and the event.
    fn open(delivery: Incoming<'_>) -> Result<(String, Self), WebhookError>;
}

/// A verified delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery<E> {
    /// The id the sender keeps on every redelivery.
    pub id: String,
    /// The event.
    pub event: E,
    /// `false` for a redelivery of an id seen before: acknowledge it, do not act again.
    pub first_time: bool,
}

/// Verifies and de-duplicates one vendor's deliveries; see the module docs. Share one per
/// endpoint (`Arc`), or `serve` it.
pub struct Receiver<E: Delivered> {
    keys: WebhookVerifier,
    store: Arc<dyn DeliveryStore>,
    event: std::marker::PhantomData<fn() -> E>,
}

impl<E: Delivered> std::fmt::Debug for Receiver<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// Ids are remembered for a day, at most 100,000 of them, unless another store is given.
fn default_store() -> Arc<dyn DeliveryStore> {
    Arc::new(Deliveries::new(Duration::from_secs(86_400), 100_000))
}

impl<E: Delivered> Receiver<E> {
    /// Deliveries signed with `secret`, within 5 minutes of now.
    pub fn new(secret: impl Into<SecretString>) -> Self {
        Self {
            keys: WebhookVerifier::new(secret),
            store: default_store(),
            event: std::marker::PhantomData,
        }
    }

    /// Reads a delivery as of `now` (its signature and timestamp checked).
    fn open(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(String, E), WebhookError> {
        E::open(Incoming {
            keys: &self.keys,
            headers,
            body,
            now,
        })
    }

    /// Accepts signatures made with `secret` too (during a rotation, the old and the new).
    pub fn also(mut self, secret: impl Into<SecretString>) -> Self {
        self.keys = self.keys.also(secret);
        self
    }

    /// How far a signed timestamp may be from now, either way (default 300 s).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.keys = self.keys.tolerance(tolerance);
        self
    }

    /// Where delivery ids are remembered (default: in this process, for a day): your own
    /// [`DeliveryStore`] when several processes receive the same webhooks.
    pub fn store(mut self, store: Arc<dyn DeliveryStore>) -> Self {
        self.store = store;
        self
    }

    /// Checks a delivery (its headers and raw body) now, and remembers its id.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<Delivery<E>, WebhookError> {
        self.verify_at(headers, body, SystemTime::now())
    }

    /// Checks a delivery as of `now`, and remembers its id: a redelivery is `first_time: false`.
    pub fn verify_at(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Delivery<E>, WebhookError> {
        let (id, event) = self.open(headers, body, now)?;
        let first_time = self.store.first_time(&id);
        Ok(Delivery {
            id,
            event,
            first_time,
        })
    }

    /// Forgets an id, so that its redelivery is handled again (after handling failed).
    pub fn forget(&self, id: &str) {
        self.store.forget(id);
    }

    /// A ready receiver to mount in your axum server: it answers a refused delivery 401 (400 for
    /// a signed body that is not an event), a redelivery 200 without queueing it again, a new one
    /// 200 at once with its event queued (at most `capacity`; beyond that 503, and the sender's
    /// retry is handled).
    #[cfg(feature = "webhook-server")]
    pub fn serve(self, capacity: usize) -> Served<E> {
        let store = self.store.clone();
        clawkit_runtime::webhook::service::receiver(Checks(self), store, capacity)
    }
}

/// What the served receiver checks (it de-duplicates through the store itself).
#[cfg(feature = "webhook-server")]
struct Checks<E: Delivered>(Receiver<E>);

#[cfg(feature = "webhook-server")]
impl<E: Delivered> clawkit_runtime::webhook::service::Verify for Checks<E> {
    type Event = E;

    fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(String, E), WebhookError> {
        self.0.open(headers, body, now)
    }
}

/// A header's value as text, or why it cannot be read (`shown` is how the vendor spells the
/// header in the error): for a [`Delivered`] event.
pub fn header<'h>(
    headers: &'h HeaderMap,
    name: &'static str,
    shown: &'static str,
) -> Result<&'h str, WebhookError> {
    headers
        .get(name)
        .ok_or(WebhookError::MissingHeader(shown))?
        .to_str()
        .map_err(|_| WebhookError::BadHeader {
            header: shown,
            reason: "not visible ASCII".into(),
        })
}

/// A JSON body as `T`, or why not, naming the field: for a [`Delivered`] event.
pub fn read<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, WebhookError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de)
        .map_err(|e| WebhookError::Body(format!("at `{}`: {}", e.path(), e.inner())))
}
