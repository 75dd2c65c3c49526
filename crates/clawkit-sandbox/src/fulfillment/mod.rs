//! OpenClaw fulfillment API v2.1 under `/openclaw-fulfillment`, true to
//! specs/openclaw-fulfillment (its `x-clawkit-inferred` nodes where the seed is silent) and the
//! seed document.
//!
//! - App: client_id `sandbox-client`, client_secret `cs_sandbox_5f2b9c7e4d1a` (the spec's
//!   test-vector secret; a client reads `OPENCLAW_FULFILLMENT_CLIENT_ID` / `_CLIENT_SECRET`).
//! - Every request under `/v2.1` (the token calls included) is signed: the four `X-OpenClaw-*`
//!   headers, HMAC-SHA256 of the canonical string over the raw path and query as sent (prefix
//!   removed) and the raw body; 401 `invalid_signature`, `timestamp_out_of_range` (±300 s of
//!   the server clock) or `nonce_reused` (600 s); see [`signing`]. Every other operation also
//!   needs `Authorization: Bearer <access_token>`, checked first (`invalid_token`,
//!   `token_expired`); tokens live 2 hours by default, refresh tokens work once.
//! - The server clock can run ahead or behind (`--fulfillment-clock-offset`): it stamps every
//!   time in the bodies, the webhook timestamps, the ±300 s check and the `Date` header of every
//!   answer. Emitted times are RFC 3339 in `+08:00`; times read must carry an offset (400
//!   `invalid_time_format` naming the field).
//! - `list_orders` and `get_order` (order queries) are limited to 10 per second per app (429
//!   `rate_limited` with `Retry-After`).
//! - Seeded (see `seed`): warehouses `CN-SZ-01` (Shenzhen), `US-LAX-01`, `DE-FRA-01`; SKUs
//!   `PHC-20W-USBC-WH`, `PHC-20W-USBC-BK`, `CBL-USBC-1M-BK`, `EBD-TWS-PRO-WH`,
//!   `HGN-LED-STRIP-5M`, `GDN-HOSE 15M/GR`, `PWB-10K-MAG-BL` (none on hand, 500 in transit)
//!   and `LMT-NFC-TAG-25` (5 on hand); orders `#1001` (allocated, the test vectors' order),
//!   `#1001&A` (delivered), `#1003` (shipped, at US customs, tracking `4PX3001286439901CN`),
//!   `#1004` (delivered), `TM 240615 0008` (label created), `SO/2024/0615-7` (shipped),
//!   `CUSTOMS-HOLD-1009` (exception: held by customs), `FAIL-RECIPIENT-UNAVAILABLE-1010`
//!   (exception: last-mile failure), `#1011` (cancelled), `#1012` (created, waiting for stock),
//!   `A&B 1013/2` (allocated) and `SP-20240616-0001`..`0036` (generated, mostly delivered);
//!   returns `RMA20240624000045` (refunded) and `RMA20240621000046` (received); reservation
//!   `rsv_01J0KB7Q2W9X` (active, for `#1002`, 24 hours from start). Seeded parcels do not move.
//! - Parcels labelled through the API move one tracking node per logistics step (5 s by
//!   default); orders whose number contains `CUSTOMS-HOLD`, `CUSTOMS-REJECT` or `FAIL-<reason>`,
//!   or whose recipient's postal code is `00000`, fail at customs or on the last mile; see
//!   `model::parcels`. Returns move one state per step too.
//! - Labels download from a signed, expiring link served here.
//! - Webhooks are really delivered, signed and retried ([`MAX_ATTEMPTS`], disabled after
//!   [`DISABLE_AFTER`] events in a row that failed).
//! - `GET /_sandbox/stats` (not in the spec, not signed) shows the counters.
//!
//! The folder is layered, each file importing only from the layers below it:
//! - `clock`, `error`, `signing`, `read`: the vendor's times, error body, signature scheme and
//!   request reading, over the sandbox kit (`crate::kit`);
//! - `model/`: the entities, their request bodies and their answer bodies (the generated
//!   `openclaw-fulfillment-api` types);
//! - `state`: the sandbox app, settings, counters and the resources behind one lock;
//! - `ops/`: what changes the state (stock, allocation, shipping, returns, webhook delivery) and
//!   the one way a change is made; `seed`: the data it starts with, made by those operations;
//! - `routes/`: the handlers, one file per area; this file: the route table and the vendor's
//!   `Serve` and `Api`.

mod clock;
mod error;
mod model;
mod ops;
mod read;
mod routes;
mod seed;
pub mod signing;
mod state;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Uri;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};

use crate::vendor::{self, Api, Common, Credential, ErrorFault, Serve, Serving, Settings};
use error::ApiError;
use routes::{files, inventory, orders, returns, shipping, signature, tokens, webhooks};

pub use model::webhooks::{DISABLE_AFTER, MAX_ATTEMPTS};
pub use state::{CLIENT_ID, CLIENT_SECRET, Config, Fulfillment, Stats};

/// OpenClaw fulfillment's command-line flags.
#[derive(Debug, Clone, clap::Args)]
#[group(skip)]
pub struct Flags {
    /// Seconds the OpenClaw fulfillment server clock runs ahead of real time (negative: behind).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub fulfillment_clock_offset: i64,
    /// Seconds between two tracking nodes of an OpenClaw fulfillment parcel (and two states of a
    /// return).
    #[arg(long, default_value_t = 5.0)]
    pub fulfillment_logistics_seconds: f64,
    /// OpenClaw fulfillment order queries (list and get) allowed per second.
    #[arg(long, default_value_t = 10)]
    pub fulfillment_order_qps: u32,
    /// Seconds an OpenClaw fulfillment access token lives (`expires_in`; the service's 2 hours by
    /// default). A short one shows a client renewing its token.
    #[arg(long, default_value_t = 7200, value_parser = clap::value_parser!(u64).range(1..))]
    pub fulfillment_token_seconds: u64,
}

impl Serve for Fulfillment {
    const NAME: &'static str = state::NAME;
    type Config = Config;

    fn start(config: Config, _: &Common) -> Serving<Self> {
        Serving::one(Fulfillment::new(config, seed::resources))
    }
}

impl Settings for Config {
    type Flags = Flags;

    fn seed(&mut self) -> Option<&mut u64> {
        Some(&mut self.seed)
    }

    fn apply(&mut self, flags: Flags) -> Result<(), String> {
        let step = flags.fulfillment_logistics_seconds;
        self.logistics_step = vendor::seconds("--fulfillment-logistics-seconds", step)?;
        self.clock_offset_secs = flags.fulfillment_clock_offset;
        self.order_qps = flags.fulfillment_order_qps;
        self.token_ttl = std::time::Duration::from_secs(flags.fulfillment_token_seconds);
        Ok(())
    }
}

/// The middleware that stamps every answer of the vendor's routes with the server's `Date`.
async fn date(State(f): State<Arc<Fulfillment>>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    f.dated(response)
}

/// A path under the prefix that no route matches: 404 with the spec's body.
async fn unknown(uri: Uri) -> ApiError {
    ApiError::not_found("route", uri.path())
}

/// `GET /_sandbox/stats`.
async fn stats(State(f): State<Arc<Fulfillment>>) -> Response {
    axum::Json(f.stats.snapshot()).into_response()
}

/// OpenClaw fulfillment: the token calls (signed), the label files and the stats are public;
/// everything else needs a bearer token and a signature.
impl Api for Fulfillment {
    fn public_routes(self: Arc<Self>) -> Router {
        let signed = from_fn_with_state(self.clone(), signature::verify);
        let grant = post(tokens::create).route_layer(signed.clone());
        let renew = post(tokens::refresh).route_layer(signed);
        Router::new()
            .route("/v2.1/auth/token", grant)
            .route("/v2.1/auth/token/refresh", renew)
            .route("/files/labels/{file}", get(files::download))
            .route("/_sandbox/stats", get(stats))
            .fallback(unknown)
            .layer(from_fn_with_state(self.clone(), date))
            .with_state(self)
    }

    /// Grouped as the spec's tags; every route is signed.
    fn protected_routes(self: Arc<Self>) -> Router {
        let order = "/v2.1/orders/{order_no}";
        let orders = Router::new()
            .route("/v2.1/orders", get(orders::list).post(orders::create))
            .route(order, get(orders::get))
            .route(&format!("{order}/cancel"), post(orders::cancel));
        let shipping = Router::new()
            .route(&format!("{order}/labels"), post(shipping::create))
            .route(&format!("{order}/tracking"), get(shipping::by_order))
            .route("/v2.1/tracking/{tracking_number}", get(shipping::by_number));
        let reservation = "/v2.1/inventory/reservations";
        let stock = Router::new()
            .route("/v2.1/inventory", get(inventory::list))
            .route("/v2.1/inventory/skus/{sku}", get(inventory::get))
            .route("/v2.1/inventory/adjustments", post(inventory::adjust))
            .route(reservation, post(inventory::reserve));
        let release = format!("{reservation}/{{reservation_id}}/release");
        let after_sales = Router::new()
            .route(&release, post(inventory::release))
            .route("/v2.1/returns", get(returns::list).post(returns::create))
            .route("/v2.1/returns/{rma_no}", get(returns::get));
        let hooks = Router::new()
            .route("/v2.1/webhooks", get(webhooks::list).post(webhooks::create))
            .route("/v2.1/webhooks/{webhook_id}", delete(webhooks::delete));
        [shipping, stock, after_sales, hooks]
            .into_iter()
            .fold(orders, Router::merge)
            .route_layer(from_fn_with_state(self.clone(), signature::verify))
            .layer(from_fn_with_state(self.clone(), date))
            .with_state(self)
    }

    /// The bearer token must be a live access token of this sandbox: otherwise 401
    /// `invalid_token` or `token_expired` (before the signature is checked).
    fn authorize(&self, request: &Request) -> Result<(), Response> {
        self.check_bearer(request.headers())
            .map_err(|refusal| self.dated(refusal.into_response()))
    }

    /// The spec's `Error` bodies: 429 `rate_limited` with `Retry-After` (both rate-limit
    /// faults) and 500 `internal_error` (an unavailable service).
    fn fault_response(&self, fault: ErrorFault) -> Response {
        let error = match fault {
            ErrorFault::Http429 { retry_after_secs } => {
                ApiError::rate_limited("Too many requests, retry later", retry_after_secs)
            }
            ErrorFault::Code4290 => ApiError::rate_limited("Too many requests, retry later", 1),
            ErrorFault::Http503 => ApiError::internal(),
        };
        self.dated(error.into_response())
    }

    fn credentials(&self) -> Vec<Credential> {
        let how_id = "X-OpenClaw-Client-Id and create_access_token client_id";
        let how_secret = "HMAC-SHA256 signing key and create_access_token client_secret";
        [
            (how_id, "CLIENT_ID", CLIENT_ID),
            (how_secret, "CLIENT_SECRET", CLIENT_SECRET),
        ]
        .into_iter()
        .map(|(how, env, value)| Credential {
            how,
            env,
            value: value.into(),
        })
        .collect()
    }
}
