//! Receiving webhooks, one way for every vendor: a [`Receiver`] verifies each delivery (against
//! several secrets at once during a rotation, with a timestamp tolerance that refuses replays),
//! de-duplicates it by its id through a store (the runtime's [`DeliveryStore`]: in memory by
//! default, shared across processes when you give one), and, with feature `webhook-server`,
//! serves as an axum router that acknowledges at once and queues the event for your code
//! (`Receiver::serve`).
//!
//! Several receivers behind one URL (two replicas) share a state store
//! ([`Receiver::state`]: `sqlite://PATH` or `redis://HOST:PORT`) and claim each delivery id there
//! before handling it ([`Receiver::claim`], and `serve` does so itself): the first is
//! `processing` under a short lease, then `done` for a day (longer than the vendors' retry
//! windows); a twin that arrives meanwhile is answered 503, so the sender retries and the event
//! is not lost if the first handler fails; a failed handler releases its claim.
//!
//! A vendor gives only its event type and how a delivery of it is read ([`Delivered`]: which
//! headers hold what, which bytes are signed): `devops::webhook::Event`,
//! `fulfillment::webhook::Event`, and CoreClaw's unsigned completion callback,
//! `coreclaw::webhook::CompletionEvent`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clawkit_runtime::ConfigError;
use clawkit_runtime::state::DEFAULT_FLEET_SIZE;
use clawkit_runtime::state::{Scope, StateUrl, Store};
use clawkit_runtime::webhook::{
    Claims, Deliveries, DeliveryStore, Held, Ticket, WebhookError, WebhookVerifier,
};
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
    /// The vendor's name (`Service::NAME`): delivery claims in a shared store are kept apart per
    /// vendor.
    const VENDOR: &'static str = "webhook";

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
    /// Delivery claims ([`Receiver::claim`]): in this receiver's memory unless a state store
    /// was given (`shared`), which `serve` then uses too.
    claims: Claims,
    shared: bool,
    event: std::marker::PhantomData<fn() -> E>,
}

impl<E: Delivered> std::fmt::Debug for Receiver<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("keys", &self.keys)
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

/// A delivery claimed by [`Receiver::claim`]. When `delivery.first_time`, this receiver handles
/// it, then says [`Claimed::done`] (answer 200) or [`Claimed::failed`] (answer 5xx: the sender's
/// retry is handled); dropped without either, the claim is released. Otherwise answer
/// [`Claimed::status`]: 200 for a delivery handled already, 503 while another receiver is
/// handling it.
#[must_use = "say done() once the delivery is handled, or failed()"]
pub struct Claimed<E> {
    /// The delivery.
    pub delivery: Delivery<E>,
    busy: bool,
    held: Option<(Claims, Held)>,
}

impl<E> std::fmt::Debug for Claimed<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claimed")
            .field("id", &self.delivery.id)
            .field("first_time", &self.delivery.first_time)
            .field("busy", &self.busy)
            .finish_non_exhaustive()
    }
}

impl<E> Claimed<E> {
    /// The status to answer the sender with: 503 while another receiver is handling the
    /// delivery (so the sender retries), else 200 (after handling a new one).
    pub fn status(&self) -> u16 {
        if self.busy { 503 } else { 200 }
    }

    /// Another receiver is handling this delivery now.
    pub fn is_busy(&self) -> bool {
        self.busy
    }

    /// Handled: the id stays done for the retry window, in every receiver.
    pub async fn done(self) -> Result<(), WebhookError> {
        self.settle(true).await
    }

    /// Handling failed: the claim is released, and the sender's next attempt is handled.
    pub async fn failed(self) -> Result<(), WebhookError> {
        self.settle(false).await
    }

    async fn settle(mut self, handled: bool) -> Result<(), WebhookError> {
        let Some((claims, held)) = self.held.take() else {
            return Ok(());
        };
        let settled = if handled {
            claims.done(&held).await
        } else {
            claims.release(&held).await
        };
        settled.map_err(|e| WebhookError::Store(e.to_string()))
    }
}

impl<E> Drop for Claimed<E> {
    fn drop(&mut self) {
        if let Some((claims, held)) = self.held.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            // Neither done nor failed (a panic, an early return): let the next attempt in.
            runtime.spawn(async move {
                let _ = claims.release(&held).await;
            });
        }
    }
}

fn local_claims<E: Delivered>() -> Claims {
    Claims::new(
        Arc::new(clawkit_runtime::state::MemoryStore::new()),
        Scope::new(E::VENDOR, "webhooks", "", &[]),
    )
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
            claims: local_claims::<E>(),
            shared: false,
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

    /// Where [`Receiver::verify`] remembers delivery ids (default: in this process, for a day):
    /// your own [`DeliveryStore`]. For several processes, [`Receiver::state`] is ready-made.
    pub fn store(mut self, store: Arc<dyn DeliveryStore>) -> Self {
        self.store = store;
        self
    }

    /// Shares delivery claims with every receiver of this endpoint through the state store at
    /// `url` (`sqlite://PATH` on one host, `redis://HOST:PORT[/DB]` across hosts; `memory` keeps
    /// them in this process): [`Receiver::claim`] and `serve` use it. A bad URL, or a store this
    /// build lacks (cargo features `state-sqlite`, `state-redis`), is an error naming it.
    pub fn state(self, url: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            field: "state".into(),
            reason,
        };
        let url: StateUrl = url
            .parse()
            .map_err(|e: clawkit_runtime::state::BadStateUrl| invalid(e.to_string()))?;
        let store = url
            .open_for_fleet(DEFAULT_FLEET_SIZE)
            .map_err(|e| invalid(format!("cannot open {url}: {e}")))?;
        Ok(self.state_store(store))
    }

    /// [`Receiver::state`] with a store opened elsewhere.
    pub fn state_store(mut self, store: Arc<dyn Store>) -> Self {
        self.claims = Claims::new(store, Scope::new(E::VENDOR, "webhooks", "", &[]));
        self.shared = true;
        self
    }

    /// How long a claimed delivery may be processing before another receiver takes it over
    /// (default 30 s: a receiver that died while handling it).
    pub fn processing_lease(mut self, lease: Duration) -> Self {
        self.claims = self.claims.processing(lease);
        self
    }

    /// Checks a delivery and claims its id among every receiver of the endpoint (in this
    /// receiver's memory unless [`Receiver::state`] was given): see [`Claimed`]. Use either this
    /// or [`Receiver::verify`] on one endpoint: they remember ids apart.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use clawkit::fulfillment::webhook::{Receiver, signed_headers};
    ///
    /// let body = br##"{"event_id":"evt_1","event_type":"order.created","occurred_at":"2024-06-15T08:30:05+08:00","data":{"order_id":"o1","order_no":"#D","channel":"shopify","store_id":"s","status":"created","ordered_at":"2024-06-15T08:30:00+08:00","currency":"USD","recipient":{"name":"J","country_code":"US","city":"SF","postal_code":"94105","address_line1":"1 Market St"},"lines":[],"warehouse_code":null,"carrier":null,"tracking_number":null,"created_at":"2024-06-15T08:30:00+08:00","updated_at":"2024-06-15T08:30:00+08:00"}}"##;
    /// let headers = signed_headers("secret", std::time::SystemTime::now(), "req-1", "order.created", body);
    /// let receiver = Receiver::new("secret").state("memory").unwrap();
    ///
    /// let first = receiver.claim(&headers, body).await.unwrap();
    /// assert!(first.delivery.first_time);
    /// // A twin while the first is being handled: answer 503 so the sender retries.
    /// let twin = receiver.claim(&headers, body).await.unwrap();
    /// assert_eq!(twin.status(), 503);
    /// first.done().await.unwrap(); // handled: answer 200
    /// let retry = receiver.claim(&headers, body).await.unwrap();
    /// assert!(!retry.delivery.first_time);
    /// assert_eq!(retry.status(), 200);
    /// # }
    /// ```
    pub async fn claim(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Claimed<E>, WebhookError> {
        let (id, event) = self.open(headers, body, SystemTime::now())?;
        let ticket = self
            .claims
            .claim(&id)
            .await
            .map_err(|e| WebhookError::Store(e.to_string()))?;
        Ok(Claimed {
            delivery: Delivery {
                id,
                event,
                first_time: matches!(ticket, Ticket::Fresh(_)),
            },
            busy: ticket == Ticket::Busy,
            held: match ticket {
                Ticket::Fresh(held) => Some((self.claims.clone(), held)),
                _ => None,
            },
        })
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
        use clawkit_runtime::webhook::service::{Dedupe, receiver_with};
        let dedupe = if self.shared {
            Dedupe::Shared(self.claims.clone())
        } else {
            Dedupe::Local(self.store.clone())
        };
        receiver_with(Checks(self), dedupe, capacity)
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
