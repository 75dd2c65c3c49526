//! Bazhuayu DataAPI under `/bazhuayu`, true to specs/bazhuayu and the seed.
//!
//! - `POST /token` (form) with the password grant (`sandbox` / `sandbox`) or a refresh token, which
//!   works once. Access tokens expire after the configured time (the seed's 86399 s by default).
//! - The seed's leaky bucket, per account (every token of the user): 20 requests per second, a 5-second bucket (100),
//!   HTTP 429 `quota_exceeded` beyond it.
//! - Task groups, tasks, offset paging with an opaque offset (never the count read), export batches
//!   (`gettop` marks rows "exporting", `update` marks them exported), clearing data, and the paid
//!   start/stop/status endpoints.

mod auth;
mod envelope;
mod model;
mod request;
mod routes;
mod state;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use crate::vendor::ErrorFault;
use crate::vendor::{Api, Common, Credential, Serve, Serving, Settings};

pub use auth::{PASSWORD, USERNAME};
pub use envelope::fault_body;
pub use model::{GROUPS, row};
pub use state::{BUCKET, Bazhuayu, RATE_PER_SECOND, Stats};

/// Bazhuayu's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// How long an access token lives (default the seed's 86399 s; short in tests).
    pub token_ttl: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            token_ttl: Duration::from_secs(86_399),
        }
    }
}

/// Bazhuayu has no command-line flags.
#[derive(Debug, Clone, clap::Args)]
#[group(skip)]
pub struct Flags {}

impl Serve for Bazhuayu {
    const NAME: &'static str = "bazhuayu";
    type Config = Config;

    fn start(config: Config, common: &Common) -> Serving<Self> {
        Serving::one(Bazhuayu::new(common.seed, config.token_ttl))
    }
}

/// Bazhuayu's settings have no flag.
impl Settings for Config {
    type Flags = Flags;

    fn apply(&mut self, _: Flags) -> Result<(), String> {
        Ok(())
    }
}

/// Bazhuayu: `/token` and the counters are public, `/api/*` needs a bearer token.
impl Api for Bazhuayu {
    /// The bearer token must be live and its bucket not empty (401 `unauthorized`, 429
    /// `quota_exceeded`).
    fn authorize(&self, request: &Request) -> Result<(), Response> {
        auth::check_bearer(self, request)
    }

    fn public_routes(self: Arc<Self>) -> Router {
        Router::new()
            .route("/token", post(auth::token))
            .route("/_sandbox/stats", get(routes::stats))
            .with_state(self)
    }

    /// Grouped as the spec's sections: tasks, their data, and the paid task-control add-on.
    fn protected_routes(self: Arc<Self>) -> Router {
        let tasks = Router::new()
            .route("/api/TaskGroup", get(routes::task_groups))
            .route("/api/Task", get(routes::tasks))
            .route("/api/task/RemoveDataByTaskId", post(routes::clear));
        let data = Router::new()
            .route("/api/notexportdata/gettop", get(routes::gettop))
            .route("/api/notexportdata/update", post(routes::mark_exported))
            .route("/api/alldata/GetDataOfTaskByOffset", get(routes::by_offset));
        let task_control = Router::new()
            .route("/api/task/StartTask", post(routes::start_task))
            .route("/api/task/StopTask", post(routes::stop_task))
            .route("/api/task/GetTaskStatusByIdList", post(routes::statuses));
        tasks.merge(data).merge(task_control).with_state(self)
    }

    /// The spec's envelopes: `quota_exceeded` with HTTP 429 for both rate limits (Bazhuayu has no
    /// in-band code), `service_unavailable` with HTTP 503.
    fn fault_response(&self, fault: ErrorFault) -> Response {
        let status = if fault.is_rate_limit() {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        fault.respond(status, fault_body(fault.is_rate_limit()))
    }

    fn credentials(&self) -> Vec<Credential> {
        vec![
            Credential {
                how: "POST /token (form) username",
                env: "USERNAME",
                value: USERNAME.into(),
            },
            Credential {
                how: "POST /token (form) password",
                env: "PASSWORD",
                value: PASSWORD.into(),
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::vendor::testing::parts;

    #[tokio::test]
    async fn fault_bodies_are_the_specs_envelopes() {
        let b = Bazhuayu::new(1, Duration::from_secs(10));
        let quota = json!({
            "data": null,
            "error": "quota_exceeded",
            "error_Description": "API访问频率过快,限制频率为20次/秒,请降低访问频率。"
        });
        let (status, retry, body) = parts(b.fault_response(ErrorFault::Http429 {
            retry_after_secs: 3,
        }))
        .await;
        assert_eq!(
            (status, retry.as_deref()),
            (StatusCode::TOO_MANY_REQUESTS, Some("3"))
        );
        assert_eq!(body, quota);
        // Bazhuayu has no in-band code: 4290 is a 429 too, without Retry-After.
        let (status, retry, body) = parts(b.fault_response(ErrorFault::Code4290)).await;
        assert_eq!(
            (status, retry, body),
            (StatusCode::TOO_MANY_REQUESTS, None, quota)
        );
        let (status, retry, body) = parts(b.fault_response(ErrorFault::Http503)).await;
        assert_eq!((status, retry), (StatusCode::SERVICE_UNAVAILABLE, None));
        assert_eq!(
            body,
            json!({
                "data": null,
                "error": "service_unavailable",
                "error_Description": "服务暂时不可用,请稍后重试。"
            })
        );
    }
}
