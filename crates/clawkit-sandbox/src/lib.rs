//! clawkit-sandbox: a local, stateful server of the clawkit vendors' APIs, with fault injection.
//!
//! Each vendor lives under its own prefix (`/coreclaw`, `/bazhuayu`, ...), so the specs' paths never
//! collide, and `GET /_sandbox/health` answers 200. Start one in-process on a random port:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use clawkit_sandbox::{Sandbox, Vendor};
//!
//! let sandbox = Sandbox::builder().seed(7).start().await?;
//! let base = sandbox.base_url(Vendor::Coreclaw); // http://127.0.0.1:PORT/coreclaw
//! // ... point a client at `base` with the api-key `sandbox-key` ...
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Each vendor's module implements [`vendor::Api`] once: its public and protected routes, its
//! credential check and its own error bodies; the router nests each under its prefix.
//!
//! Faults (429, 4290, 503, latency, a reset mid-body, truncated JSON, a slow body) are set from the
//! builder or at run time with `POST /_sandbox/faults`; see [`faults`].

#![deny(missing_docs)]

pub mod bazhuayu;
pub mod botswin;
pub mod coreclaw;
pub mod devops;
pub mod faults;
pub mod fulfillment;
pub mod query;
pub mod store;
pub mod urls;
pub mod vendor;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use devops::DevopsTier;
pub use faults::{FaultKind, FaultRule};
use vendor::Api;

/// The CoreClaw api-key the sandbox accepts unless the builder sets another.
pub const CORECLAW_API_KEY: &str = "sandbox-key";

/// A vendor served by the sandbox, each under its own path prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Vendor {
    /// CoreClaw, under `/coreclaw`.
    Coreclaw,
    /// Bazhuayu DataAPI, under `/bazhuayu`.
    Bazhuayu,
    /// OpenClaw DevOps v2, under `/openclaw-devops`.
    OpenclawDevops,
    /// OpenClaw fulfillment, under `/openclaw-fulfillment`.
    OpenclawFulfillment,
    /// bots.win, under `/botswin`.
    Botswin,
}

impl Vendor {
    /// Every vendor.
    pub const ALL: [Vendor; 5] = [
        Vendor::Coreclaw,
        Vendor::Bazhuayu,
        Vendor::OpenclawDevops,
        Vendor::OpenclawFulfillment,
        Vendor::Botswin,
    ];

    /// The path prefix, e.g. `/coreclaw`.
    pub fn prefix(self) -> &'static str {
        match self {
            Vendor::Coreclaw => "/coreclaw",
            Vendor::Bazhuayu => "/bazhuayu",
            Vendor::OpenclawDevops => "/openclaw-devops",
            Vendor::OpenclawFulfillment => "/openclaw-fulfillment",
            Vendor::Botswin => "/botswin",
        }
    }

    /// The prefix of the environment variables a client of this vendor reads, e.g. `CORECLAW`
    /// for `CORECLAW_API_KEY` (as in the clawkit facade and the `claw` command line).
    pub fn env_prefix(self) -> &'static str {
        match self {
            Vendor::Coreclaw => "CORECLAW",
            Vendor::Bazhuayu => "BAZHUAYU",
            Vendor::OpenclawDevops => "OPENCLAW_DEVOPS",
            Vendor::OpenclawFulfillment => "OPENCLAW_FULFILLMENT",
            Vendor::Botswin => "BOTSWIN",
        }
    }

    /// Whether the sandbox serves this vendor's API yet.
    pub fn served(self) -> bool {
        matches!(
            self,
            Vendor::Coreclaw
                | Vendor::Bazhuayu
                | Vendor::OpenclawDevops
                | Vendor::OpenclawFulfillment
                | Vendor::Botswin
        )
    }
}

/// State every route can reach.
#[derive(Debug)]
pub struct Shared {
    /// Latency added to every vendor request.
    pub latency: Duration,
    /// The fault rules in force.
    pub faults: Mutex<faults::FaultPlan>,
    /// The vendors served, each under its prefix.
    pub vendors: Vec<Arc<dyn Api>>,
}

impl Shared {
    /// The served vendor `vendor`, if it is served.
    pub fn api(&self, vendor: Vendor) -> Option<&Arc<dyn Api>> {
        self.vendors.iter().find(|api| api.vendor() == vendor)
    }
}

/// Settings for a sandbox; see [`Sandbox::builder`].
#[derive(Debug, Clone)]
pub struct SandboxBuilder {
    port: u16,
    seed: u64,
    run_duration: Duration,
    latency: Duration,
    faults: Vec<FaultRule>,
    initial_balance_micros: i64,
    api_key: String,
    bazhuayu_token_ttl: Duration,
    devops: devops::Config,
    fulfillment: fulfillment::Config,
    botswin: botswin::Config,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            port: 0,
            seed: 42,
            run_duration: Duration::from_secs(3),
            latency: Duration::ZERO,
            faults: Vec::new(),
            initial_balance_micros: 100_000_000,
            api_key: CORECLAW_API_KEY.to_string(),
            bazhuayu_token_ttl: Duration::from_secs(86_399),
            devops: devops::Config::default(),
            fulfillment: fulfillment::Config::default(),
            botswin: botswin::Config::default(),
        }
    }
}

impl SandboxBuilder {
    /// Port to bind on 127.0.0.1 (default 0: a random free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Seed for ids, generated data and fault probabilities (default 42).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// How long a CoreClaw run takes from start to a final status (default 3 s).
    pub fn run_duration(mut self, duration: Duration) -> Self {
        self.run_duration = duration;
        self
    }

    /// Latency added to every vendor request (default none).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Adds a fault rule in force from the start.
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    /// CoreClaw account balance in USD at start (default 100.00).
    pub fn initial_balance(mut self, usd: f64) -> Self {
        self.initial_balance_micros = (usd * 1_000_000.0).round() as i64;
        self
    }

    /// The CoreClaw api-key to accept (default [`CORECLAW_API_KEY`]).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = key.into();
        self
    }

    /// How long a Bazhuayu access token lives (default the seed's 86399 s; short in tests).
    pub fn bazhuayu_token_ttl(mut self, ttl: Duration) -> Self {
        self.bazhuayu_token_ttl = ttl;
        self
    }

    /// How long an OpenClaw DevOps access token lives (default 3600 s, the seed's `expires_in`;
    /// short in tests).
    pub fn devops_token_ttl(mut self, ttl: Duration) -> Self {
        self.devops.token_ttl = ttl;
        self
    }

    /// How many OpenClaw DevOps users exist at start (default 156, the seed's `totalItems`),
    /// counting the seed's two and the seven role users (never fewer than those nine).
    pub fn devops_users(mut self, n: usize) -> Self {
        self.devops.users = n;
        self
    }

    /// The OpenClaw DevOps rate-limit tier of `account` (`sandbox` for the client credentials,
    /// else the username of a password login, `anonymous` for requests without a valid token);
    /// every account is [`DevopsTier::Pro`] unless set (see also
    /// [`SandboxBuilder::devops_default_tier`]).
    pub fn devops_tier(mut self, account: &str, tier: DevopsTier) -> Self {
        self.devops.tiers.insert(account.to_string(), tier);
        self
    }

    /// The OpenClaw DevOps rate-limit tier of every account not given one with
    /// [`SandboxBuilder::devops_tier`] (default [`DevopsTier::Pro`]).
    pub fn devops_default_tier(mut self, tier: DevopsTier) -> Self {
        self.devops.default_tier = tier;
        self
    }

    /// How long an OpenClaw DevOps agent activation, build, deployment or test run takes from
    /// start to its final state (default 4 s; the seeded ones are finished).
    pub fn devops_job_time(mut self, time: Duration) -> Self {
        self.devops.job_time = time;
        self
    }

    /// The first retry delay of an OpenClaw DevOps webhook delivery (default 1 s), doubling after
    /// each failed attempt, at most [`devops::MAX_ATTEMPTS`] attempts.
    pub fn devops_webhook_backoff(mut self, delay: Duration) -> Self {
        self.devops.webhook_backoff = delay;
        self
    }

    /// How long an OpenClaw fulfillment access token lives (default 2 hours, the seed's; short in
    /// tests).
    pub fn fulfillment_token_ttl(mut self, ttl: Duration) -> Self {
        self.fulfillment.token_ttl = ttl;
        self
    }

    /// Time between two tracking nodes of an OpenClaw fulfillment parcel, and between two states
    /// of a return (default 5 s; the seeded ones do not move).
    pub fn fulfillment_logistics_step(mut self, step: Duration) -> Self {
        self.fulfillment.logistics_step = step;
        self
    }

    /// Seconds the OpenClaw fulfillment server clock runs ahead of real time (behind when
    /// negative; default 0): its `Date` header, the times it emits and its ±300 s signature
    /// check all follow it.
    pub fn fulfillment_clock_offset(mut self, seconds: i64) -> Self {
        self.fulfillment.clock_offset_secs = seconds;
        self
    }

    /// The first retry delay of an OpenClaw fulfillment webhook delivery (default 1 s), doubling
    /// after each failed attempt, at most [`fulfillment::MAX_ATTEMPTS`] attempts.
    pub fn fulfillment_webhook_backoff(mut self, delay: Duration) -> Self {
        self.fulfillment.webhook_backoff = delay;
        self
    }

    /// How long an OpenClaw fulfillment webhook receiver has to answer one attempt (default the
    /// seed's 3 s).
    pub fn fulfillment_webhook_timeout(mut self, timeout: Duration) -> Self {
        self.fulfillment.webhook_timeout = timeout;
        self
    }

    /// OpenClaw fulfillment order queries (`list_orders`, `get_order`) allowed per second (default
    /// the seed's 10).
    pub fn fulfillment_order_qps(mut self, qps: u32) -> Self {
        self.fulfillment.order_qps = qps;
        self
    }

    /// How fast the bots.win clock runs: sandbox time per real time (default 1; 60000 makes one
    /// real millisecond one sandbox minute). Every time bots.win shows, every billed session
    /// minute and the 5-minute idle timeout follow that clock. A value that is not finite or not
    /// above 0 is ignored; one above [`botswin::MAX_TIME_SCALE`] counts as that.
    pub fn botswin_time_scale(mut self, scale: f64) -> Self {
        if scale.is_finite() && scale > 0.0 {
            self.botswin.time_scale = scale.min(botswin::MAX_TIME_SCALE);
        }
        self
    }

    /// The bots.win quota units remaining at start (default the seed's 7650; `totalQuota` is the
    /// larger of 10000 and this). The seeded history stays as it is. A value that is not finite
    /// or below 0 is ignored.
    pub fn botswin_quota(mut self, units: f64) -> Self {
        if units.is_finite() && units >= 0.0 {
            self.botswin.quota = units;
        }
        self
    }

    /// How many bots.win browser sessions may be live at once (`pricing.breakdown.maxSessions`,
    /// default the seed's 1; 0 refuses every session with 429 `too_many_sessions`).
    pub fn botswin_max_sessions(mut self, sessions: u32) -> Self {
        self.botswin.max_sessions = sessions;
        self
    }

    /// Binds 127.0.0.1 and starts serving in the background.
    pub async fn start(self) -> std::io::Result<Sandbox> {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await?;
        let addr = listener.local_addr()?;
        let root = format!("http://{addr}");
        let mut plan = faults::FaultPlan::new(self.seed);
        for rule in self.faults {
            plan.add(rule);
        }
        let coreclaw = coreclaw::CoreClaw::new(coreclaw::Config {
            seed: self.seed,
            run_duration: self.run_duration,
            initial_balance_micros: self.initial_balance_micros,
            api_key: self.api_key,
            base_url: format!("{root}{}", Vendor::Coreclaw.prefix()),
        });
        let bazhuayu = bazhuayu::Bazhuayu::new(self.seed, self.bazhuayu_token_ttl);
        let devops = devops::Devops::new(devops::Config {
            seed: self.seed,
            ..self.devops
        });
        let fulfillment = fulfillment::Fulfillment::new(fulfillment::Config {
            seed: self.seed,
            ..self.fulfillment
        });
        let botswin = botswin::Botswin::new(botswin::Config {
            seed: self.seed,
            ..self.botswin
        });
        let shared = Arc::new(Shared {
            latency: self.latency,
            faults: Mutex::new(plan),
            vendors: vec![
                coreclaw,
                bazhuayu.clone(),
                devops.clone(),
                fulfillment.clone(),
                botswin.clone(),
            ],
        });
        let app = router(
            shared.clone(),
            botswin::trailing_slash_route(botswin.clone()),
        );
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!("sandbox server stopped: {e}");
            }
        });
        Ok(Sandbox {
            addr,
            shared,
            bazhuayu,
            devops,
            fulfillment,
            botswin,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// Every served vendor nested under its prefix, `extra` routes with full paths (bots.win's
/// `/botswin/`), the control routes, and the fault middleware over all of them.
fn router(shared: Arc<Shared>, extra: Router) -> Router {
    let control = Router::new()
        .route("/_sandbox/health", get(health))
        .route(
            "/_sandbox/faults",
            get(list_faults).post(add_faults).delete(clear_faults),
        )
        .with_state(shared.clone());
    shared
        .vendors
        .iter()
        .fold(Router::new(), |app, api| {
            app.nest(api.vendor().prefix(), vendor::router(api.clone()))
        })
        .merge(extra)
        .merge(control)
        .layer(axum::middleware::from_fn_with_state(shared, faults::apply))
}

async fn health() -> impl IntoResponse {
    axum::Json(serde_json::json!({"status": "ok"}))
}

async fn list_faults(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let rules = shared.faults.lock().map(|p| p.rules()).unwrap_or_default();
    axum::Json(serde_json::json!({ "rules": rules }))
}

/// `POST /_sandbox/faults` takes one rule or `{"rules": [...]}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum FaultsBody {
    Many { rules: Vec<FaultRule> },
    One(FaultRule),
}

async fn add_faults(
    State(shared): State<Arc<Shared>>,
    body: axum::body::Bytes,
) -> axum::response::Response {
    let parsed: Result<FaultsBody, _> = serde_json::from_slice(&body);
    let rules = match parsed {
        Ok(FaultsBody::Many { rules }) => rules,
        Ok(FaultsBody::One(rule)) => vec![rule],
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(serde_json::json!({"error": format!("invalid fault rule: {e}")})),
            )
                .into_response();
        }
    };
    if let Ok(mut plan) = shared.faults.lock() {
        for rule in rules {
            plan.add(rule);
        }
    }
    list_faults(State(shared)).await.into_response()
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    if let Ok(mut plan) = shared.faults.lock() {
        plan.clear();
    }
    StatusCode::NO_CONTENT
}

/// A running sandbox. Dropping it stops the server; [`Sandbox::shutdown`] waits for that.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    bazhuayu: Arc<bazhuayu::Bazhuayu>,
    devops: Arc<devops::Devops>,
    fulfillment: Arc<fulfillment::Fulfillment>,
    botswin: Arc<botswin::Botswin>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Settings for a new sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL of one vendor, e.g. `http://127.0.0.1:PORT/coreclaw`.
    pub fn base_url(&self, vendor: Vendor) -> String {
        format!("{}{}", self.url(), vendor.prefix())
    }

    /// What a user needs to call it: the base URL of each vendor and the credentials. The first
    /// line is `clawkit-sandbox listening on http://127.0.0.1:PORT`.
    pub fn banner(&self) -> String {
        let mut out = format!("clawkit-sandbox listening on {}\n", self.url());
        for vendor in Vendor::ALL {
            let note = if vendor.served() {
                ""
            } else {
                "  (not served yet)"
            };
            out.push_str(&format!(
                "  {:<22} {}{note}\n",
                format!("{vendor:?}"),
                self.base_url(vendor)
            ));
        }
        out.push_str("credentials:\n");
        for api in &self.shared.vendors {
            let vendor = api.vendor();
            for c in api.credentials() {
                out.push_str(&format!(
                    "  {:<10} {}: {}   ({}_{})\n",
                    format!("{vendor:?}"),
                    c.how,
                    c.value,
                    vendor.env_prefix(),
                    c.env
                ));
            }
        }
        out.push_str(&format!(
            "  Botswin    browser sessions: {}\n",
            self.botswin_ws_url()
        ));
        out.push_str(&format!(
            "health: {0}/_sandbox/health   faults: {0}/_sandbox/faults\n",
            self.url()
        ));
        out
    }

    /// The bots.win browser endpoint with the sandbox's token:
    /// `ws://127.0.0.1:PORT/botswin?token=sandbox-token` (add `&user_data_id=udd_...` to load a
    /// User Data container).
    pub fn botswin_ws_url(&self) -> String {
        format!(
            "ws://{}{}?token={}",
            self.addr,
            Vendor::Botswin.prefix(),
            botswin::TOKEN
        )
    }

    /// The credentials the sandbox accepts for `vendor`, as client settings: (`API_KEY`,
    /// `sandbox-key`) means `CORECLAW_API_KEY=sandbox-key`. Empty for a vendor not served yet.
    pub fn credentials(&self, vendor: Vendor) -> Vec<(&'static str, String)> {
        self.shared
            .vendors
            .iter()
            .filter(|api| api.vendor() == vendor)
            .flat_map(|api| api.credentials())
            .map(|c| (c.env, c.value))
            .collect()
    }

    /// Bazhuayu's counters: token requests, refresh-token reuse, 429s, requests served.
    pub fn bazhuayu_stats(&self) -> &bazhuayu::Stats {
        &self.bazhuayu.stats
    }

    /// OpenClaw DevOps's counters: token grants, refreshes, refused refresh-token reuses,
    /// requests served, 429s by window, the most requests in flight per account, webhook
    /// attempts and acknowledged deliveries.
    pub fn devops_stats(&self) -> &devops::Stats {
        &self.devops.stats
    }

    /// OpenClaw fulfillment's counters: requests, token grants and refreshes, refusals by reason
    /// (signature, timestamp, nonce, token), 429s of the order-query limit, webhook attempts,
    /// retries, deliveries and failures.
    pub fn fulfillment_stats(&self) -> &fulfillment::Stats {
        &self.fulfillment.stats
    }

    /// bots.win's counters: REST requests, refused tokens, sessions started and ended, refused
    /// handshakes, billed minutes.
    pub fn botswin_stats(&self) -> &botswin::Stats {
        &self.botswin.stats
    }

    /// The bots.win browser sessions live now.
    pub fn botswin_live_sessions(&self) -> usize {
        self.botswin.live_sessions()
    }

    /// Ends every live bots.win browser session with `server_closed` (each client gets a Close
    /// frame with code 1001 and the reason `server_closed`) without stopping the server, and waits
    /// (at most 2 s) until the history records them; how many sessions were live. New sessions
    /// can start right after.
    pub async fn botswin_close_sessions(&self) -> usize {
        self.botswin.close_sessions(Duration::from_secs(2)).await
    }

    /// Adds a fault rule while running.
    pub fn add_fault(&self, rule: FaultRule) {
        if let Ok(mut plan) = self.shared.faults.lock() {
            plan.add(rule);
        }
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        if let Ok(mut plan) = self.shared.faults.lock() {
            plan.clear();
        }
    }

    /// The fault rules with how often each matched and hit.
    pub fn faults(&self) -> Vec<faults::ActiveRule> {
        self.shared
            .faults
            .lock()
            .map(|p| p.rules())
            .unwrap_or_default()
    }

    /// Stops accepting connections, finishes the requests in flight and waits for the server.
    /// Live bots.win browser sessions (which the server's graceful shutdown would not wait for)
    /// end first with `server_closed`, waiting at most 2 s for their records and Close frames.
    pub async fn shutdown(mut self) {
        self.botswin.stop(Duration::from_secs(2)).await;
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    /// Stops the server, and tells every live bots.win session to end with `server_closed`
    /// (without waiting for it).
    fn drop(&mut self) {
        self.botswin.stop_now();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
