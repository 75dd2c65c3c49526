//! A webhook receiver to mount in the user's own axum (or any tower) server: it verifies each
//! delivery, de-duplicates it by its id, answers at once and hands the event to the user's code
//! through a bounded queue, so a slow handler never makes the sender time out and retry.
//!
//! A vendor says how a delivery is verified and read ([`Verify`]); the rest is here:
//!
//! - a refused delivery is answered with the reason and is not queued: 401 when it is not
//!   proven to come from the sender (a header missing, a bad signature, a stale timestamp), 400
//!   when it is signed but its body is not an event;
//! - a delivery already seen is answered 200 and not queued again;
//! - a new one is queued and answered 200 with a non-empty JSON body at once;
//! - when the queue is full the delivery is answered 503 and its id forgotten, so the sender's
//!   retry is handled: nothing is lost and nothing is handled twice.
//!
//! Ids are de-duplicated in this process ([`Dedupe::Local`]) or, when several receivers share
//! an endpoint, claimed in a shared state store ([`Dedupe::Shared`]): a twin that arrives while
//! another receiver is still taking the same delivery in is answered 503 (the sender retries, and
//! its retry finds the delivery done), and an id is marked done once its event is queued.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::sync::mpsc;

use super::{Claims, DeliveryStore, Ticket, WebhookError};

/// Where a receiver remembers the ids it has taken in.
#[derive(Clone)]
pub enum Dedupe {
    /// In this process.
    Local(Arc<dyn DeliveryStore>),
    /// Claimed in a state store shared by every receiver of the endpoint.
    Shared(Claims),
}

impl std::fmt::Debug for Dedupe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dedupe::Local(_) => f.write_str("Local"),
            Dedupe::Shared(claims) => f.debug_tuple("Shared").field(claims).finish(),
        }
    }
}

/// How one vendor's deliveries are verified and read.
pub trait Verify: Send + Sync + 'static {
    /// The typed event handed to the user.
    type Event: Send + 'static;

    /// Checks a delivery's signature and timestamp against `now`, and reads it: its id (for
    /// de-duplication) and its event.
    fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(String, Self::Event), WebhookError>;
}

/// One verified, first-time delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery<E> {
    /// The delivery id the sender de-duplicates by.
    pub id: String,
    /// The event.
    pub event: E,
}

/// What the receiver has done so far (for metrics and tests).
#[derive(Debug, Default)]
pub struct Counters {
    /// Deliveries verified and queued.
    pub queued: std::sync::atomic::AtomicU64,
    /// Deliveries already seen, acknowledged and dropped.
    pub duplicates: std::sync::atomic::AtomicU64,
    /// Deliveries refused (signature, timestamp, body).
    pub refused: std::sync::atomic::AtomicU64,
    /// Deliveries answered 503 because the queue was full.
    pub overflowed: std::sync::atomic::AtomicU64,
    /// Deliveries answered 503 because another receiver was taking the same one in, or the
    /// shared store did not answer (the sender retries them).
    pub deferred: std::sync::atomic::AtomicU64,
}

struct Inner<V: Verify> {
    verify: V,
    dedupe: Dedupe,
    queue: mpsc::Sender<Delivery<V::Event>>,
    counters: Arc<Counters>,
}

/// The receiver's parts: the router to mount, the queue of events, the counters.
pub struct Receiver<E> {
    /// Answers `POST` on any path of where it is mounted (`Router::nest("/hooks", router)`, or
    /// served alone).
    pub router: Router,
    /// The verified, first-time deliveries, in the order they were acknowledged.
    pub events: mpsc::Receiver<Delivery<E>>,
    /// What the receiver has done so far.
    pub counters: Arc<Counters>,
}

impl<E> std::fmt::Debug for Receiver<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

/// A receiver that verifies with `verify`, de-duplicates through `store` and queues up to
/// `capacity` events.
pub fn receiver<V: Verify>(
    verify: V,
    store: Arc<dyn DeliveryStore>,
    capacity: usize,
) -> Receiver<V::Event> {
    receiver_with(verify, Dedupe::Local(store), capacity)
}

/// A receiver that verifies with `verify`, de-duplicates with `dedupe` and queues up to
/// `capacity` events.
pub fn receiver_with<V: Verify>(verify: V, dedupe: Dedupe, capacity: usize) -> Receiver<V::Event> {
    let (queue, events) = mpsc::channel(capacity.max(1));
    let counters = Arc::new(Counters::default());
    let inner = Arc::new(Inner {
        verify,
        dedupe,
        queue,
        counters: counters.clone(),
    });
    let router = Router::new()
        .route("/", post(receive::<V>))
        .route("/{*rest}", post(receive::<V>))
        .with_state(inner);
    Receiver {
        router,
        events,
        counters,
    }
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn receive<V: Verify>(
    State(inner): State<Arc<Inner<V>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use std::sync::atomic::Ordering::Relaxed;
    let (id, event) = match inner.verify.verify(&headers, &body, SystemTime::now()) {
        Ok(read) => read,
        Err(e) => {
            inner.counters.refused.fetch_add(1, Relaxed);
            tracing::warn!(error = %e, "webhook delivery refused");
            let status = match e {
                WebhookError::Body(_) => StatusCode::BAD_REQUEST,
                _ => StatusCode::UNAUTHORIZED,
            };
            return answer(
                status,
                serde_json::json!({"received": false, "error": e.to_string()}),
            );
        }
    };
    let busy = |inner: &Inner<V>, why: &str| {
        inner.counters.deferred.fetch_add(1, Relaxed);
        answer(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"received": false, "error": why}),
        )
    };
    let held = match &inner.dedupe {
        Dedupe::Local(store) => store.first_time(&id).then_some(None),
        Dedupe::Shared(claims) => match claims.claim(&id).await {
            Ok(Ticket::Fresh(held)) => Some(Some(held)),
            Ok(Ticket::Done) => None,
            Ok(Ticket::Busy) => {
                tracing::debug!(id, "webhook delivery being taken in by another receiver");
                return busy(&inner, "another receiver is taking this delivery in; retry");
            }
            Err(e) => {
                tracing::warn!(id, error = %e, "webhook delivery claims unavailable");
                return busy(&inner, "delivery claims unavailable; retry");
            }
        },
    };
    let Some(held) = held else {
        inner.counters.duplicates.fetch_add(1, Relaxed);
        tracing::debug!(id, "webhook delivery already handled; acknowledged again");
        return answer(
            StatusCode::OK,
            serde_json::json!({"received": true, "duplicate": true}),
        );
    };
    // A place in the queue first; the event is handed out only once its claim is settled, so
    // whoever handles it finds the id done in every receiver.
    let Ok(place) = inner.queue.try_reserve() else {
        let released = match (&inner.dedupe, &held) {
            (Dedupe::Shared(claims), Some(held)) => claims.release(held).await,
            (Dedupe::Local(store), _) => {
                store.forget(&id);
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(e) = released {
            // Refused anyway; the claim's lease ends on its own.
            tracing::warn!(id, error = %e, "webhook delivery claim not released");
        }
        // Full (or nobody listens): let the sender retry, and handle the retry.
        inner.counters.overflowed.fetch_add(1, Relaxed);
        return answer(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"received": false, "error": "receiver busy; retry"}),
        );
    };
    if let (Dedupe::Shared(claims), Some(held)) = (&inner.dedupe, &held)
        && let Err(e) = claims.done(held).await
    {
        // Handed out anyway (it is acknowledged); the claim's lease ends on its own.
        tracing::warn!(id, error = %e, "webhook delivery claim not marked done");
    }
    place.send(Delivery { id, event });
    inner.counters.queued.fetch_add(1, Relaxed);
    answer(StatusCode::OK, serde_json::json!({"received": true}))
}
