//! Receiving webhooks, one way for every vendor: a [`Receiver`] verifies each delivery (against
//! several secrets at once during a rotation, with a timestamp tolerance that refuses replays),
//! de-duplicates it by its id through a store (the runtime's [`DeliveryStore`]: in memory by
//! default, shared across processes when you give one), and, with feature `webhook-server`,
//! serves as an axum router that acknowledges at once and queues the event for your code
//! ([`Receiver::serve`]).
//!
//! A vendor gives only its [`Scheme`]: which headers hold what, which bytes are signed, and its
//! event type. The schemes are `devops::webhook::Signature`, `fulfillment::webhook::Signature` and
//! CoreClaw's unsigned completion callback, `coreclaw::webhook::Callback`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clawkit_runtime::webhook::{Deliveries, DeliveryStore, WebhookError, WebhookVerifier};
use reqwest::header::HeaderMap;
use secrecy::SecretString;

/// The ready receiver's parts (feature `webhook-server`): its axum router, the queue of verified
/// first-time events and its counters.
#[cfg(feature = "webhook-server")]
pub use clawkit_runtime::webhook::service::Receiver as Served;

/// How one vendor signs and shapes its deliveries.
pub trait Scheme: Send + Sync + 'static {
    /// The typed event.
    type Event: Send + 'static;

    /// Checks a delivery as of `now` with `keys` (its timestamp with
    /// [`WebhookVerifier::check_time`], its signature with [`WebhookVerifier::check_signature`],
    /// as the scheme signs them) and reads it: the id it is de-duplicated by, and its event.
    fn open(
        &self,
        keys: &WebhookVerifier,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(String, Self::Event), WebhookError>;
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
/// endpoint (`Arc`), or [`serve`](Receiver::serve) it.
pub struct Receiver<S: Scheme> {
    scheme: S,
    keys: WebhookVerifier,
    store: Arc<dyn DeliveryStore>,
}

impl<S: Scheme> std::fmt::Debug for Receiver<S> {
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

impl<S: Scheme + Default> Receiver<S> {
    /// Deliveries signed with `secret`, within 5 minutes of now.
    pub fn new(secret: impl Into<SecretString>) -> Self {
        Self::with_scheme(S::default(), WebhookVerifier::new(secret))
    }
}

impl<S: Scheme> Receiver<S> {
    /// A receiver of `scheme` whose signatures `keys` check.
    pub(crate) fn with_scheme(scheme: S, keys: WebhookVerifier) -> Self {
        Self {
            scheme,
            keys,
            store: default_store(),
        }
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
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Delivery<S::Event>, WebhookError> {
        self.verify_at(headers, body, SystemTime::now())
    }

    /// Checks a delivery as of `now`, and remembers its id: a redelivery is `first_time: false`.
    pub fn verify_at(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Delivery<S::Event>, WebhookError> {
        let (id, event) = self.scheme.open(&self.keys, headers, body, now)?;
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
    pub fn serve(self, capacity: usize) -> Served<S::Event> {
        let store = self.store.clone();
        clawkit_runtime::webhook::service::receiver(Checks(self), store, capacity)
    }
}

/// What the served receiver checks (it de-duplicates through the store itself).
#[cfg(feature = "webhook-server")]
struct Checks<S: Scheme>(Receiver<S>);

#[cfg(feature = "webhook-server")]
impl<S: Scheme> clawkit_runtime::webhook::service::Verify for Checks<S> {
    type Event = S::Event;

    fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(String, S::Event), WebhookError> {
        self.0.scheme.open(&self.0.keys, headers, body, now)
    }
}

/// A header's value as text, or why it cannot be read (`shown` is how the vendor spells the
/// header in the error): for a [`Scheme`].
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

/// A JSON body as `T`, or why not, naming the field: for a [`Scheme`].
pub fn read<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, WebhookError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de)
        .map_err(|e| WebhookError::Body(format!("at `{}`: {}", e.path(), e.inner())))
}
