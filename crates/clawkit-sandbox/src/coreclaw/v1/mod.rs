//! CoreClaw's API v1 under `/coreclaw`, true to specs/coreclaw (the vendor's openapi.json plus our
//! overlay) and the guide: the public catalog and the files behind its links, and `/api/v1/*`
//! behind the `api-key` header, with errors in v1's envelope `{code, message, data}`.

mod account;
pub(super) mod envelope;
mod files;
mod request;
mod runs;
mod workers;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use coreclaw_api::enums::StatusCode as Code;

use crate::coreclaw::error::ApiError;
use crate::coreclaw::state::CoreClaw;
use crate::kit::tokens::same;
use crate::vendor::{Api, Credential, ErrorFault};

/// CoreClaw's v1 over the shared state.
#[derive(Debug)]
pub(crate) struct V1 {
    cc: Arc<CoreClaw>,
}

impl V1 {
    /// v1 of `cc`.
    pub(crate) fn new(cc: Arc<CoreClaw>) -> Self {
        Self { cc }
    }
}

/// The catalog and the result files are public; `/api/v1/*` needs the `api-key` header.
impl Api for V1 {
    fn public_routes(self: Arc<Self>) -> Router {
        Router::new()
            .route("/api/store", get(workers::store))
            .route("/api/scraper", get(workers::scraper))
            .route("/_sandbox/exports/{file}", get(files::download))
            .route("/_sandbox/logs/{slug}", get(files::all_logs))
            .with_state(self.cc.clone())
    }

    fn protected_routes(self: Arc<Self>) -> Router {
        Router::new()
            .route("/api/v1/scraper/run", post(runs::start_run))
            .route("/api/v1/task/run", post(runs::run_task))
            .route("/api/v1/rerun", post(runs::rerun))
            .route("/api/v1/run/detail", post(runs::run_detail))
            .route("/api/v1/run/list", post(runs::run_list))
            .route("/api/v1/run/result/list", post(runs::result_list))
            .route("/api/v1/run/result/export", post(runs::result_export))
            .route("/api/v1/run/last/log", post(runs::run_log))
            .route("/api/v1/scraper/abort", post(runs::abort))
            .route(
                "/api/v1/account/info",
                post(account::account).get(account::account),
            )
            .with_state(self.cc.clone())
    }

    /// The `api-key` header must be the configured key; otherwise 20001 (HTTP 401).
    fn authorize(&self, request: &Request) -> Result<(), Response> {
        let given = request
            .headers()
            .get("api-key")
            .and_then(|v| v.to_str().ok());
        let refused = match given {
            Some(key) if same(key, &self.cc.config.api_key) => return Ok(()),
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
            value: self.cc.config.api_key.clone(),
        }]
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::coreclaw::state::Config;
    use crate::vendor::testing::{parts, request};

    fn v1() -> V1 {
        let api_key = "k".into();
        V1::new(CoreClaw::new(Config {
            api_key,
            ..Config::default()
        }))
    }

    #[tokio::test]
    async fn fault_bodies_are_coreclaws_envelopes() {
        let cc = v1();
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

    #[tokio::test]
    async fn only_the_api_key_header_with_the_key_passes() {
        let v1 = v1();
        let detail = "/api/v1/run/detail";
        assert!(v1.authorize(&request(detail, &[("api-key", "k")])).is_ok());
        let missing = "Invalid API key: the api-key header is missing";
        let refusals = [
            (request(detail, &[]), missing),
            (request(detail, &[("api-key", "x")]), "Invalid API key"),
            // v2's credential is not v1's.
            (request(detail, &[("authorization", "Bearer k")]), missing),
        ];
        for (request, message) in refusals {
            let Err(refusal) = v1.authorize(&request) else {
                panic!("{message}: let through");
            };
            let (status, _, body) = parts(refusal).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(
                body,
                json!({"code": 20001, "message": message, "data": null})
            );
        }
    }
}
