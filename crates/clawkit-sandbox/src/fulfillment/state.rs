//! The fulfillment sandbox's state: settings, counters, and every resource behind one lock.
//!
//! Handlers change the state through [`Fulfillment::with`]: one lock for the whole change (a
//! reservation or an allocation checks and takes stock atomically), reservations past their
//! `expires_at` lapse first, and the events the change queued are delivered after the lock is
//! released, by spawned tasks.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};

use super::clock;
use super::inventory::{Reservation, Stock, expire_reservations};
use super::labels::Label;
use super::limits::query_window;
use super::logistics::Parcel;
use super::orders::Order;
use super::returns::Return;
use super::seed;
use super::signing::Nonces;
use super::tokens::Tokens;
use super::webhooks::{DISABLE_AFTER, EventType, MAX_ATTEMPTS, Subscription};
use crate::kit::clock::Clock;
use crate::kit::delivery::{Acknowledgement, Counts, Courier, Policy};
use crate::kit::ids::{Ids, random_hex, random_u64};
use crate::kit::limits::Windows;

/// Settings of the fulfillment part.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seed for ids and the generated orders.
    pub seed: u64,
    /// Access-token lifetime (default 2 hours, the seed's).
    pub token_ttl: Duration,
    /// Time between two tracking nodes of a parcel, and between two states of a return (default
    /// 5 s).
    pub logistics_step: Duration,
    /// Seconds the server clock is ahead of real time (behind when negative; default 0).
    pub clock_offset_secs: i64,
    /// First retry delay of a webhook delivery, doubling after each attempt (default 1 s).
    pub webhook_backoff: Duration,
    /// How long a webhook receiver has to answer one attempt (default the seed's 3 s).
    pub webhook_timeout: Duration,
    /// Order queries (`list_orders`, `get_order`) allowed per second and app (default 10).
    pub order_qps: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            seed: 42,
            token_ttl: Duration::from_secs(7200),
            logistics_step: Duration::from_secs(5),
            clock_offset_secs: 0,
            webhook_backoff: Duration::from_secs(1),
            webhook_timeout: Duration::from_secs(3),
            order_qps: 10,
        }
    }
}

/// Counters tests and benchmarks read.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests whose signature was accepted.
    pub requests: AtomicU64,
    /// Access tokens granted by `create_access_token`.
    pub token_grants: AtomicU64,
    /// Successful `refresh_access_token` calls.
    pub refreshes: AtomicU64,
    /// Requests refused 401 `invalid_signature`.
    pub refused_invalid_signature: AtomicU64,
    /// Requests refused 401 `timestamp_out_of_range`.
    pub refused_timestamp: AtomicU64,
    /// Requests refused 401 `nonce_reused`.
    pub refused_nonce: AtomicU64,
    /// Requests refused 401 for their bearer token (`invalid_token`, `token_expired`) or token
    /// credentials (`invalid_client`).
    pub refused_token: AtomicU64,
    /// Order queries answered 429.
    pub rate_limited: AtomicU64,
    /// Webhook deliveries: attempts (retries included), retries (attempts after the first of
    /// their event), events delivered (acknowledged with 200 and a body) and failures (events
    /// given up after the last attempt).
    pub webhooks: Counts,
}

impl Stats {
    /// The counters as JSON (`GET /openclaw-fulfillment/_sandbox/stats`).
    pub fn snapshot(&self) -> Value {
        let group = |counters: &[(&str, &AtomicU64)]| -> Value {
            let entries = counters
                .iter()
                .map(|(name, c)| (name.to_string(), json!(c.load(Ordering::Relaxed))));
            Value::Object(entries.collect())
        };
        let mut all = group(&[
            ("requests", &self.requests),
            ("token_grants", &self.token_grants),
            ("refreshes", &self.refreshes),
            ("rate_limited", &self.rate_limited),
        ]);
        all["refused"] = group(&[
            ("invalid_signature", &self.refused_invalid_signature),
            ("timestamp_out_of_range", &self.refused_timestamp),
            ("nonce_reused", &self.refused_nonce),
            ("token", &self.refused_token),
        ]);
        all["webhooks"] = group(&[
            ("attempts", &self.webhooks.webhook_attempts),
            ("retries", &self.webhooks.webhook_retries),
            ("delivered", &self.webhooks.webhook_delivered),
            ("failures", &self.webhooks.webhook_failures),
        ]);
        all
    }
}

/// A warehouse.
#[derive(Debug, Clone)]
pub(super) struct Warehouse {
    /// `CN-SZ-01`.
    pub(super) code: &'static str,
    /// ISO 3166-1 alpha-2.
    pub(super) country: &'static str,
    /// City, for tracking nodes.
    pub(super) city: &'static str,
}

/// An event waiting for delivery: its type, when it happened (Unix ms) and the `data` of its
/// body.
pub(super) type Outgoing = (EventType, i64, Value);

/// Every resource.
#[derive(Debug, Default)]
pub(super) struct Inner {
    /// Warehouses.
    pub(super) warehouses: Vec<Warehouse>,
    /// Stock rows by (SKU, warehouse code).
    pub(super) stock: BTreeMap<(String, String), Stock>,
    /// Orders by order number.
    pub(super) orders: HashMap<String, Order>,
    /// Reservations by id.
    pub(super) reservations: HashMap<String, Reservation>,
    /// Labels by id.
    pub(super) labels: HashMap<String, Label>,
    /// Parcels by tracking number (outbound and return parcels).
    pub(super) parcels: HashMap<String, Parcel>,
    /// Returns by RMA number.
    pub(super) returns: HashMap<String, Return>,
    /// Webhook subscriptions, oldest first.
    pub(super) webhooks: Vec<Subscription>,
    /// Access and refresh tokens.
    pub(super) tokens: Tokens,
    /// Events queued by the change under way.
    pub(super) outbox: Vec<Outgoing>,
    /// Serial of order, RMA and tracking numbers.
    pub(super) serial: u64,
}

impl Inner {
    /// Queues `event` about `data`.
    pub(super) fn emit(&mut self, event: EventType, at: i64, data: Value) {
        self.outbox.push((event, at, data));
    }

    /// The next serial number.
    pub(super) fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    /// The warehouse `code`, if it exists.
    pub(super) fn warehouse(&self, code: &str) -> Option<&Warehouse> {
        self.warehouses.iter().find(|w| w.code == code)
    }
}

/// The OpenClaw fulfillment sandbox.
#[derive(Debug)]
pub struct Fulfillment {
    /// Settings.
    pub(super) config: Config,
    /// The server clock.
    pub(super) clock: Clock,
    /// Resources.
    inner: Mutex<Inner>,
    /// Nonces of the last 600 s.
    pub(super) nonces: Mutex<Nonces>,
    /// The order-query rate limit.
    pub(super) window: Windows,
    /// Ids of reservations, labels, adjustments and webhooks (the same sequence per seed).
    pub(super) ids: Ids,
    /// Ids of events (different on every run, so receivers never mistake one for another).
    pub(super) event_ids: Ids,
    /// Key of the signed label links (drawn at start).
    pub(super) link_key: String,
    /// Counters.
    pub stats: Stats,
    /// Webhook deliveries: the first and 3 retries, the backoff doubling, 200 with a body within
    /// the timeout, through a client that follows no redirects (a 301/302 is a failed attempt).
    pub(super) courier: Courier,
}

impl Fulfillment {
    /// A fresh sandbox with the seeded resources.
    pub fn new(config: Config) -> Arc<Self> {
        let clock = clock::server(config.clock_offset_secs);
        let mut inner = Inner::default();
        seed::resources(&mut inner, &config, clock.now_ms());
        inner.outbox.clear();
        Arc::new(Self {
            window: query_window(),
            clock,
            inner: Mutex::new(inner),
            nonces: Mutex::new(Nonces::default()),
            ids: Ids::new(config.seed),
            event_ids: Ids::new(random_u64()),
            link_key: random_hex(2),
            stats: Stats::default(),
            courier: Courier::with_client(
                Policy {
                    attempts: MAX_ATTEMPTS,
                    first_delay: config.webhook_backoff,
                    timeout: Some(config.webhook_timeout),
                    acknowledgement: Acknowledgement::OkWithBody,
                    disable_after: Some(DISABLE_AFTER),
                },
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap_or_default(),
            ),
            config,
        })
    }

    /// The resources, locked (a panic in another holder does not lock them away).
    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs one change of the state at the server's now, then delivers the events it queued.
    pub(super) fn with<R>(self: &Arc<Self>, change: impl FnOnce(&mut Inner, i64) -> R) -> R {
        let now = self.clock.now_ms();
        let (result, events) = {
            let mut inner = self.lock();
            expire_reservations(&mut inner, now);
            let result = change(&mut inner, now);
            (result, std::mem::take(&mut inner.outbox))
        };
        self.dispatch(events);
        result
    }

    /// A short id with `prefix`, e.g. `rsv_01K8Z3QW7E4A`.
    pub(super) fn short_id(&self, prefix: &str) -> String {
        let id = self.ids.next();
        format!("{prefix}{}", id.get(..12).unwrap_or(&id))
    }
}
