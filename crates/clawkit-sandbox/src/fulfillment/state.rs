//! The fulfillment sandbox's state: the sandbox app, settings, counters, and every resource
//! behind one lock.
//!
//! Handlers change the state through `Fulfillment::with` (`ops::changes`): one lock for the
//! whole change (a reservation or an allocation checks and takes stock atomically), reservations
//! past their `expires_at` lapse first, and the events the change queued are delivered after the
//! lock is released, by spawned tasks.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::clock;
use super::model::labels::Label;
use super::model::orders::Order;
use super::model::parcels::Parcel;
use super::model::returns::Return;
use super::model::stock::{Reservation, Stock, Warehouse};
use super::model::tokens::Tokens;
use super::model::webhooks::{DISABLE_AFTER, Event, MAX_ATTEMPTS, Subscription};
use super::signing::Nonces;
use crate::kit::clock::Clock;
use crate::kit::delivery::{Acknowledgement, Counts, Courier, Policy};
use crate::kit::ids::{Ids, random_hex, random_u64};
use crate::kit::limits::Windows;

/// The vendor's name: its path prefix is `/` and this.
pub(crate) const NAME: &str = "openclaw-fulfillment";

/// The sandbox app's `client_id`.
pub const CLIENT_ID: &str = "sandbox-client";
/// The sandbox app's `client_secret`: the spec's test-vector secret, also the signing key.
pub const CLIENT_SECRET: &str = "cs_sandbox_5f2b9c7e4d1a";

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
    /// `refresh_access_token` calls with a refresh token that was already used.
    pub refresh_reuse: AtomicU64,
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
            ("refresh_reuse", &self.refresh_reuse),
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

/// Every resource.
#[derive(Debug, Default)]
pub(crate) struct Inner {
    /// Warehouses.
    pub(crate) warehouses: Vec<Warehouse>,
    /// Stock rows by (SKU, warehouse code).
    pub(crate) stock: BTreeMap<(String, String), Stock>,
    /// Orders by order number.
    pub(crate) orders: HashMap<String, Order>,
    /// Reservations by id.
    pub(crate) reservations: HashMap<String, Reservation>,
    /// Labels by id.
    pub(crate) labels: HashMap<String, Label>,
    /// Parcels by tracking number (outbound and return parcels).
    pub(crate) parcels: HashMap<String, Parcel>,
    /// Returns by RMA number.
    pub(crate) returns: HashMap<String, Return>,
    /// Webhook subscriptions, oldest first.
    pub(crate) webhooks: Vec<Subscription>,
    /// Access and refresh tokens.
    pub(crate) tokens: Tokens,
    /// Events queued by the change under way, each with when it happened (Unix ms).
    pub(crate) outbox: Vec<(Event, i64)>,
    /// Serial of order, RMA and tracking numbers.
    pub(crate) serial: u64,
}

impl Inner {
    /// Queues `event`, which happened at `at`.
    pub(crate) fn emit(&mut self, event: Event, at: i64) {
        self.outbox.push((event, at));
    }

    /// The next serial number.
    pub(crate) fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    /// The warehouse `code`, if it exists.
    pub(crate) fn warehouse(&self, code: &str) -> Option<&Warehouse> {
        self.warehouses.iter().find(|w| w.code == code)
    }

    /// Where the warehouse `code` is, (country, city): Shenzhen for an unknown one.
    pub(crate) fn place_of(&self, code: &str) -> (&'static str, &'static str) {
        self.warehouse(code)
            .map_or(("CN", "Shenzhen"), |w| (w.country, w.city))
    }

    /// Whether any warehouse stocks `sku`.
    pub(crate) fn knows_sku(&self, sku: &str) -> bool {
        self.stock.keys().any(|(s, _)| s == sku)
    }
}

/// The OpenClaw fulfillment sandbox.
#[derive(Debug)]
pub struct Fulfillment {
    /// Settings.
    pub(crate) config: Config,
    /// The server clock.
    pub(crate) clock: Clock,
    /// Resources.
    inner: Mutex<Inner>,
    /// Nonces of the last 600 s.
    pub(crate) nonces: Mutex<Nonces>,
    /// The order-query rate limit: each app's queries of the last second.
    pub(crate) window: Windows,
    /// Ids of reservations, labels, adjustments and webhooks (the same sequence per seed).
    pub(crate) ids: Ids,
    /// Ids of events (different on every run, so receivers never mistake one for another).
    pub(crate) event_ids: Ids,
    /// Key of the signed label links (drawn at start).
    pub(crate) link_key: String,
    /// Counters.
    pub stats: Stats,
    /// Webhook deliveries: the first and 3 retries, the backoff doubling, 200 with a body within
    /// the timeout, through a client that follows no redirects (a 301/302 is a failed attempt).
    pub(crate) courier: Courier,
}

impl Fulfillment {
    /// A fresh sandbox whose resources `seed` fills (given the settings and the server's now);
    /// the events seeding queues are dropped.
    pub(crate) fn new(config: Config, seed: impl FnOnce(&mut Inner, &Config, i64)) -> Arc<Self> {
        let clock = clock::server(config.clock_offset_secs);
        let mut inner = Inner::default();
        seed(&mut inner, &config, clock.now_ms());
        inner.outbox.clear();
        let policy = Policy {
            attempts: MAX_ATTEMPTS,
            first_delay: config.webhook_backoff,
            timeout: Some(config.webhook_timeout),
            acknowledgement: Acknowledgement::OkWithBody,
            disable_after: Some(DISABLE_AFTER),
        };
        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Arc::new(Self {
            window: Windows::new(Duration::from_secs(1)),
            clock,
            inner: Mutex::new(inner),
            nonces: Mutex::new(Nonces::default()),
            ids: Ids::new(config.seed),
            event_ids: Ids::new(random_u64()),
            link_key: random_hex(2),
            stats: Stats::default(),
            courier: Courier::with_client(policy, no_redirects),
            config,
        })
    }

    /// The resources, locked (a panic in another holder does not lock them away).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A short id with `prefix`, e.g. `rsv_01K8Z3QW7E4A`.
    pub(crate) fn short_id(&self, prefix: &str) -> String {
        let id = self.ids.next();
        format!("{prefix}{}", id.get(..12).unwrap_or(&id))
    }

    /// Access-token lifetime, ms.
    pub(crate) fn token_ttl_ms(&self) -> i64 {
        i64::try_from(self.config.token_ttl.as_millis()).unwrap_or(i64::MAX)
    }

    /// `response` with the server clock's `Date`.
    pub(crate) fn dated(&self, mut response: Response) -> Response {
        if let Ok(date) = HeaderValue::from_str(&self.clock.http_date()) {
            response.headers_mut().insert(header::DATE, date);
        }
        response
    }
}
