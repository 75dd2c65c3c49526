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
mod clock;
mod error;
mod handshake;
mod history;
mod seed;
mod socket;
mod state;
mod user_data;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};

use crate::Vendor;
use crate::faults::ErrorFault;
use crate::vendor::{self, Api, Credential};

pub use clock::MAX_TIME_SCALE;
pub use state::{Botswin, Config, DEFAULT_QUOTA, Reason, Stats, TOTAL_QUOTA, USER_DATA_MAX};

use error::ApiError;

/// The user token the sandbox accepts: the REST bearer token and the browser endpoint's `token`.
pub const TOKEN: &str = "sandbox-token";

/// Whether `value` is `Bearer <TOKEN>` (the scheme in any case, spaces around the token allowed).
fn bearer_ok(value: &str) -> bool {
    value.trim().split_once(' ').is_some_and(|(scheme, token)| {
        scheme.eq_ignore_ascii_case("bearer") && token.trim() == TOKEN
    })
}

/// A path under the prefix that no route matches: 404 `not_found`.
async fn unknown(method: Method, uri: Uri) -> ApiError {
    let path = format!("{}{}", Vendor::Botswin.prefix(), uri.path());
    ApiError::no_route(method.as_str(), &path)
}

/// `GET /_sandbox/stats`.
async fn stats(State(botswin): State<Arc<Botswin>>) -> Response {
    axum::Json(botswin.stats.snapshot()).into_response()
}

/// bots.win: the browser endpoint and the stats are public, `/api/*` needs the bearer token.
impl Api for Botswin {
    fn vendor(&self) -> Vendor {
        Vendor::Botswin
    }

    /// The browser endpoint at the vendor's root: `/`, nested, answers `/botswin` (and
    /// [`trailing_slash_route`] `/botswin/`).
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
        let ok = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(bearer_ok);
        if ok {
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
}

/// The router of `/botswin` (its routes relative to the prefix).
pub fn router(state: Arc<Botswin>) -> Router {
    vendor::router(state)
}

/// The browser endpoint at `/botswin/`, with its full path, to merge next to the nested vendor:
/// axum 0.8 matches a nested router's `/` at `/botswin` only, and its nesting catch-all needs a
/// non-empty tail, so `/botswin/` reaches neither.
pub fn trailing_slash_route(state: Arc<Botswin>) -> Router {
    let path = format!("{}/", Vendor::Botswin.prefix());
    Router::new()
        .route(&path, get(handshake::connect))
        .with_state(state)
}

#[cfg(test)]
mod tests;
