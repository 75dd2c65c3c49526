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

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::sync::mpsc;

use super::{DeliveryStore, WebhookError};

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
}

struct Inner<V: Verify> {
    verify: V,
    store: Arc<dyn DeliveryStore>,
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
    let (queue, events) = mpsc::channel(capacity.max(1));
    let counters = Arc::new(Counters::default());
    let inner = Arc::new(Inner {
        verify,
        store,
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
    if !inner.store.first_time(&id) {
        inner.counters.duplicates.fetch_add(1, Relaxed);
        tracing::debug!(id, "webhook delivery already handled; acknowledged again");
        return answer(
            StatusCode::OK,
            serde_json::json!({"received": true, "duplicate": true}),
        );
    }
    match inner.queue.try_send(Delivery {
        id: id.clone(),
        event,
    }) {
        Ok(()) => {
            inner.counters.queued.fetch_add(1, Relaxed);
            answer(StatusCode::OK, serde_json::json!({"received": true}))
        }
        Err(_) => {
            // Full (or nobody listens): let the sender retry, and handle the retry.
            inner.store.forget(&id);
            inner.counters.overflowed.fetch_add(1, Relaxed);
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({"received": false, "error": "receiver busy; retry"}),
            )
        }
    }
}
