//! bots.win (BotCloud) under `/botswin`, true to specs/botswin and the seed document: the REST API
//! (quota, usage, history, User Data containers) and the WebSocket browser sessions it bills.
//!
//! - Every REST call needs `Authorization: Bearer sandbox-token` (the scheme in any case):
//!   otherwise 401 `unauthorized`. Errors are `{"error": "<code>", "message": "..."}`; see
//!   `error`.
//! - The browser endpoint is the vendor's root, `ws://127.0.0.1:PORT/botswin?token=sandbox-token`
//!   (also `/botswin/`), with an optional `user_data_id`; it is public, the `token` query
//!   parameter being its credential. A session is billed one unit (times `effectiveRate`) per
//!   started minute and recorded in the history with one of the seed's six disconnect reasons;
//!   see `handshake` and `socket`.
//! - The vendor has its own clock, which the builder can speed up (`botswin_time_scale`): every
//!   time shown, every billed minute and the 5-minute idle timeout follow it; see `clock`.
//! - Seeded (see `seed`): 7650 of 10000 units remaining, the seed's pricing, 142 ended sessions
//!   adding up to 2350 minutes (session 1 is the seed's example), and the container
//!   `udd_abc123xyz789defg`.
//! - `GET /_sandbox/stats` (not in the spec, public) shows the counters.
//! - A shutdown of the sandbox ends every live session with `server_closed` and waits (at most
//!   2 s) until they are recorded; `Sandbox::botswin_close_sessions` does so without stopping.

mod account;
mod auth;
mod error;
mod handshake;
mod history;
mod model;
mod seed;
mod socket;
mod state;
mod user_data;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};

use crate::vendor::ErrorFault;
use crate::vendor::{Api, Common, Credential, Serve, Serving, Settings, Stopping};

pub use crate::kit::clock::MAX_TIME_SCALE;
pub use auth::TOKEN;
pub use model::{DEFAULT_QUOTA, Reason, TOTAL_QUOTA, USER_DATA_MAX};
pub use state::{Botswin, Config, Stats};

use error::ApiError;

/// A path under the prefix that no route matches: 404 `not_found`.
async fn unknown(method: Method, uri: Uri) -> ApiError {
    let path = format!("/{}{}", <Botswin as Serve>::NAME, uri.path());
    ApiError::no_route(method.as_str(), &path)
}

/// `GET /_sandbox/stats`.
async fn stats(State(botswin): State<Arc<Botswin>>) -> Response {
    axum::Json(botswin.stats.snapshot()).into_response()
}

/// bots.win: the browser endpoint and the stats are public, `/api/*` needs the bearer token.
impl Api for Botswin {
    /// The browser endpoint at the vendor's root: `/`, nested, answers `/botswin` (and
    /// [`Api::root_routes`] `/botswin/`).
    fn public_routes(self: Arc<Self>) -> Router {
        Router::new()
            .route("/", get(handshake::connect))
            .route("/_sandbox/stats", get(stats))
            .fallback(unknown)
            .with_state(self)
    }

    fn protected_routes(self: Arc<Self>) -> Router {
        let user_data = Router::new()
            .route(
                "/api/user-data",
                get(user_data::list).post(user_data::create),
            )
            .route("/api/user-data/{id}", delete(user_data::delete));
        Router::new()
            .route("/api/quota", get(account::quota))
            .route("/api/usage", get(account::usage))
            .route("/api/history", get(history::list))
            .merge(user_data)
            .with_state(self)
    }

    /// `Authorization: Bearer sandbox-token`, else 401 `unauthorized`.
    fn authorize(&self, request: &Request) -> Result<(), Response> {
        if auth::accepts(request.headers()) {
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            Ok(())
        } else {
            self.stats.refused_token.fetch_add(1, Ordering::Relaxed);
            Err(ApiError::unauthorized().into_response())
        }
    }

    /// 429 `rate_limited` (both rate-limit faults, `Retry-After` with the 429 one) and 503
    /// `unavailable`.
    fn fault_response(&self, fault: ErrorFault) -> Response {
        error::fault_response(fault)
    }

    fn credentials(&self) -> Vec<Credential> {
        vec![Credential {
            how: "header Authorization: Bearer",
            env: "TOKEN",
            value: TOKEN.into(),
        }]
    }

    /// The browser endpoint at `/botswin/`, with its full path, next to the nested vendor: axum
    /// 0.8 matches a nested router's `/` at `/botswin` only, and its nesting catch-all needs a
    /// non-empty tail, so `/botswin/` reaches neither.
    fn root_routes(self: Arc<Self>) -> Router {
        let path = format!("/{}/", <Botswin as Serve>::NAME);
        Router::new()
            .route(&path, get(handshake::connect))
            .with_state(self)
    }

    fn banner(&self, base_url: &str) -> Vec<String> {
        vec![format!("browser sessions: {}", ws_url(base_url))]
    }

    /// Ends every live session with `server_closed`, waiting for their records.
    fn stop(self: Arc<Self>, grace: Duration) -> Stopping {
        Box::pin(async move { Botswin::stop(&self, grace).await })
    }

    fn stop_now(&self) {
        Botswin::stop_now(self);
    }
}

/// The browser endpoint of the bots.win served at `base_url` (`http://127.0.0.1:PORT/botswin`),
/// with the sandbox's token: `ws://127.0.0.1:PORT/botswin?token=sandbox-token` (add
/// `&user_data_id=udd_...` to load a User Data container).
pub fn ws_url(base_url: &str) -> String {
    let ws = match base_url.strip_prefix("http") {
        Some(rest) => format!("ws{rest}"),
        None => base_url.to_string(),
    };
    format!("{ws}?token={TOKEN}")
}

/// bots.win's command-line flags.
#[derive(Debug, Clone, clap::Args)]
#[group(skip)]
pub struct Flags {
    /// How fast the bots.win clock runs: sandbox time per real time (60000 makes one real
    /// millisecond one sandbox minute); times, billed minutes and the idle timeout follow it.
    #[arg(long, default_value_t = 1.0)]
    pub botswin_time_scale: f64,
    /// bots.win quota units remaining at start (default the seed's 7650).
    #[arg(long)]
    pub botswin_quota: Option<f64>,
    /// bots.win browser sessions allowed at once (pricing.breakdown.maxSessions).
    #[arg(long, default_value_t = 1)]
    pub botswin_max_sessions: u32,
}

impl Serve for Botswin {
    const NAME: &'static str = "botswin";
    type Config = Config;

    fn start(config: Config, _: &Common) -> Serving<Self> {
        Serving::one(Botswin::new(config))
    }
}

impl Settings for Config {
    type Flags = Flags;

    fn seed(&mut self) -> Option<&mut u64> {
        Some(&mut self.seed)
    }

    fn apply(&mut self, flags: Flags) -> Result<(), String> {
        let scale = flags.botswin_time_scale;
        if !(scale.is_finite() && scale > 0.0 && scale <= MAX_TIME_SCALE) {
            return Err(format!(
                "--botswin-time-scale must be a number above 0, at most {MAX_TIME_SCALE}"
            ));
        }
        if let Some(quota) = flags.botswin_quota {
            if !(quota.is_finite() && quota >= 0.0) {
                return Err("--botswin-quota must be a number of quota units, 0 or more".into());
            }
            self.quota = quota;
        }
        self.time_scale = scale;
        self.max_sessions = flags.botswin_max_sessions;
        Ok(())
    }
}
