//! CoreClaw under `/coreclaw`: true to specs/coreclaw (the vendor's openapi.json plus our overlay),
//! the guide and CoreClaw's docs. Where they disagree the sandbox answers as the vendor spec says and
//! also accepts the documented alternative (`page` beside `page_index`, GET beside POST for account
//! info).
//!
//! Responses are built from the generated `coreclaw-api` types, so the sandbox and the client
//! cannot disagree silently.

mod billing;
pub mod catalog;
mod envelope;
pub mod export;
mod launch;
mod logs;
mod ops;
mod request;
mod routes;
pub mod runs;
mod state;
mod v2;
pub mod validate;
mod webhook;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use coreclaw_api::enums::StatusCode as Code;

use crate::vendor::ErrorFault;
use crate::vendor::{Api, Common, Credential, Serve};

pub use envelope::{ApiError, ok};
pub use state::{Config, CoreClaw, Inner, Task};

/// The CoreClaw api-key the sandbox accepts unless configured otherwise.
pub const API_KEY: &str = "sandbox-key";

/// CoreClaw's command-line flags.
#[derive(Debug, Clone, clap::Args)]
#[group(skip)]
pub struct Flags {
    /// Seconds a CoreClaw run takes from start to its final status.
    #[arg(long, default_value_t = 3.0)]
    pub run_seconds: f64,
    /// CoreClaw account balance at start, in USD.
    #[arg(long, default_value_t = 100.0)]
    pub balance: f64,
}

impl Serve for CoreClaw {
    const NAME: &'static str = "coreclaw";
    const ENV_PREFIX: &'static str = "CORECLAW";
    type Config = Config;
    type Flags = Flags;

    fn start(config: Config, common: &Common) -> Arc<Self> {
        CoreClaw::new(Config {
            seed: common.seed,
            base_url: format!("{}/{}", common.root, Self::NAME),
            ..config
        })
    }

    fn apis(self: &Arc<Self>) -> Vec<Arc<dyn Api>> {
        vec![self.clone()]
    }

    fn configure(flags: Flags, config: &mut Config) -> Result<(), String> {
        if !(flags.run_seconds.is_finite() && flags.run_seconds >= 0.0) {
            return Err("--run-seconds must be a number of seconds, 0 or more".into());
        }
        config.run_duration = std::time::Duration::from_secs_f64(flags.run_seconds);
        config.initial_balance(flags.balance);
        Ok(())
    }
}

/// CoreClaw: the catalog and result pages are public, `/api/v1/*` needs the `api-key` header,
/// `/api/v2/*` a Bearer token (or `?token=`) with the same key.
impl Api for CoreClaw {
    fn public_routes(self: Arc<Self>) -> Router {
        Router::new()
            .route("/api/store", get(routes::store))
            .route("/api/scraper", get(routes::scraper))
            .route("/_sandbox/exports/{file}", get(routes::download))
            .route("/_sandbox/logs/{slug}", get(routes::all_logs))
            .with_state(self.clone())
            // v2 has its own auth (Bearer or ?token=) and its own envelope.
            .merge(v2::routes(self))
    }

    fn protected_routes(self: Arc<Self>) -> Router {
        Router::new()
            .route("/api/v1/scraper/run", post(routes::start_run))
            .route("/api/v1/task/run", post(routes::run_task))
            .route("/api/v1/rerun", post(routes::rerun))
            .route("/api/v1/run/detail", post(routes::run_detail))
            .route("/api/v1/run/list", post(routes::run_list))
            .route("/api/v1/run/result/list", post(routes::result_list))
            .route("/api/v1/run/result/export", post(routes::result_export))
            .route("/api/v1/run/last/log", post(routes::run_log))
            .route("/api/v1/scraper/abort", post(routes::abort))
            .route(
                "/api/v1/account/info",
                post(routes::account).get(routes::account),
            )
            .with_state(self)
    }

    /// The `api-key` header must be the configured key; otherwise 20001 (HTTP 401).
    fn authorize(&self, request: &Request) -> Result<(), Response> {
        let given = request
            .headers()
            .get("api-key")
            .and_then(|v| v.to_str().ok());
        let refused = match given {
            Some(key) if key == self.config.api_key => return Ok(()),
            Some(_) => ApiError::new(Code::InvalidApiKey, "Invalid API key"),
            None => ApiError::new(
                Code::InvalidApiKey,
                "Invalid API key: the api-key header is missing",
            ),
        };
        Err(refused.into_response())
    }

    /// 4290 envelopes for the rate limits (HTTP 429, or in-band with HTTP 200 for 4290), 5000
    /// with HTTP 503.
    fn fault_response(&self, fault: ErrorFault) -> Response {
        match fault {
            ErrorFault::Http429 { .. } => {
                fault.respond(StatusCode::TOO_MANY_REQUESTS, envelope::rate_limited())
            }
            ErrorFault::Code4290 => fault.respond(StatusCode::OK, envelope::rate_limited()),
            ErrorFault::Http503 => {
                fault.respond(StatusCode::SERVICE_UNAVAILABLE, envelope::unavailable())
            }
        }
    }

    fn credentials(&self) -> Vec<Credential> {
        vec![Credential {
            how: "header api-key",
            env: "API_KEY",
            value: self.config.api_key.clone(),
        }]
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::vendor::testing::parts;

    #[tokio::test]
    async fn fault_bodies_are_coreclaws_envelopes() {
        let cc = CoreClaw::new(Config {
            seed: 1,
            run_duration: std::time::Duration::from_secs(1),
            initial_balance_micros: 0,
            api_key: "k".into(),
            base_url: "http://127.0.0.1:1/coreclaw".into(),
        });
        let limited = json!({"code": 4290, "message": "Too many requests, please try again later", "data": null});
        let (status, retry, body) = parts(cc.fault_response(ErrorFault::Http429 {
            retry_after_secs: 7,
        }))
        .await;
        assert_eq!(
            (status, retry.as_deref(), &body),
            (StatusCode::TOO_MANY_REQUESTS, Some("7"), &limited)
        );
        let (status, retry, body) = parts(cc.fault_response(ErrorFault::Code4290)).await;
        assert_eq!((status, retry, &body), (StatusCode::OK, None, &limited));
        let (status, retry, body) = parts(cc.fault_response(ErrorFault::Http503)).await;
        assert_eq!(
            (status, retry, body),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                json!({"code": 5000, "message": "Network error, try again", "data": null})
            )
        );
        // The key order on the wire is the envelope's: code, message, data.
        let bytes = axum::body::to_bytes(
            cc.fault_response(ErrorFault::Code4290).into_body(),
            usize::MAX,
        )
        .await
        .unwrap();
        assert!(bytes.starts_with(br#"{"code":4290,"message":"#));
    }
}
