//! CoreClaw's v2 API under `/coreclaw/api/v2`, true to specs/coreclaw-v2 (the vendor's v2 document
//! plus our overlay), over the **same** state as v1: a run started through v1 is read, aborted,
//! exported and rerun through v2, and a task saved through v2 is run by v1's `task/run`.
//!
//! Auth is `Authorization: Bearer KEY` or `?token=KEY` (the sandbox's API key); errors, faults
//! included, are v2's envelope `{code, message, request_id}` with v2's codes (11000, 12001, 13000,
//! 70001, ...).

mod envelope;
mod request;
mod runs;
mod tasks;
mod wire;
mod workers;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::coreclaw::state::CoreClaw;
use crate::kit::read::{Query, Repeats};
use crate::kit::tokens::{BearerProblem, bearer, same};
use crate::vendor::{Api, Credential, ErrorFault};
use envelope::V2Error;

/// CoreClaw's v2 over the shared state.
#[derive(Debug)]
pub(crate) struct V2 {
    cc: Arc<CoreClaw>,
}

impl V2 {
    /// v2 of `cc`.
    pub(crate) fn new(cc: Arc<CoreClaw>) -> Self {
        Self { cc }
    }
}

/// Every v2 route is behind its token; faults on `/api/v2/*` answer v2's envelope.
impl Api for V2 {
    fn mount(&self) -> &'static str {
        "/api/v2"
    }

    fn public_routes(self: Arc<Self>) -> Router {
        Router::new()
    }

    fn protected_routes(self: Arc<Self>) -> Router {
        Router::new()
            .route("/api/v2/proxy/region", get(workers::proxy_regions))
            .route("/api/v2/store", get(workers::list))
            .route("/api/v2/users/account", get(workers::account))
            .route("/api/v2/workers", get(workers::list))
            .route("/api/v2/workers/{worker}", get(workers::worker))
            .route(
                "/api/v2/workers/{worker}/input-schema",
                get(workers::input_schema),
            )
            .route("/api/v2/workers/{worker}/runs", post(runs::run_worker))
            .route("/api/v2/worker-runs", get(runs::list_runs))
            .merge(run_routes())
            .route(
                "/api/v2/worker-tasks",
                get(tasks::list_tasks).post(tasks::create_task),
            )
            .route(
                "/api/v2/worker-tasks/{task}",
                get(tasks::get_task)
                    .put(tasks::update_task)
                    .delete(tasks::delete_task),
            )
            .route(
                "/api/v2/worker-tasks/{task}/input",
                get(tasks::task_input).put(tasks::update_task_input),
            )
            .route("/api/v2/worker-tasks/{task}/runs", post(tasks::run_task))
            .with_state(self.cc.clone())
    }

    /// `Authorization: Bearer KEY`, or `?token=KEY` when no `Authorization` header is sent; none
    /// is 12001, another token (or another scheme) 12002, both with HTTP 401.
    fn authorize(&self, request: &Request) -> Result<(), Response> {
        let token = match bearer(request.headers()) {
            Ok(token) => Some(token.to_string()),
            Err(BearerProblem::NotBearer) => Some(String::new()),
            Err(BearerProblem::Missing) => Query::parse(request.uri().query(), Repeats::First)
                .ok()
                .and_then(|q| q.text("token").map(str::to_string)),
        };
        let refusal = match token {
            Some(token) if same(&token, &self.cc.config.api_key) => return Ok(()),
            Some(_) => V2Error::of(12002, StatusCode::UNAUTHORIZED, "invalid token"),
            None => V2Error::of(
                12001,
                StatusCode::UNAUTHORIZED,
                "authentication required: send Authorization: Bearer API_KEY or ?token=API_KEY",
            ),
        };
        Err(refusal.into_response())
    }

    /// 13000 with HTTP 429 for both rate limits (v2 has no in-band one; `Retry-After` with a
    /// 429 fault), 10000 with HTTP 503 for an unavailable service.
    fn fault_response(&self, fault: ErrorFault) -> Response {
        let error = if fault.is_rate_limit() {
            V2Error::rate_limited()
        } else {
            V2Error::unavailable()
        };
        fault.respond(error.status(), error.body())
    }

    fn credentials(&self) -> Vec<Credential> {
        vec![Credential {
            how: "Authorization: Bearer (or ?token=)",
            env: "API_KEY",
            value: self.cc.config.api_key.clone(),
        }]
    }
}

/// One run's routes under each of the three ways v2 names a run ([`runs::Which`]): by its slug,
/// as the newest run, as a Worker's newest run. Only the slug's export is under `/result`.
fn run_routes() -> Router<Arc<CoreClaw>> {
    [
        ("/api/v2/worker-runs/{run}", "/result/export"),
        ("/api/v2/worker-runs/last", "/export"),
        ("/api/v2/workers/{worker}/runs/last", "/export"),
    ]
    .into_iter()
    .fold(Router::new(), |router, (run, export)| {
        router
            .route(run, get(runs::read))
            .route(&format!("{run}/abort"), post(runs::abort))
            .route(&format!("{run}/log"), get(runs::log))
            .route(&format!("{run}/rerun"), post(runs::rerun))
            .route(&format!("{run}/result"), get(runs::results))
            .route(&format!("{run}{export}"), get(runs::export))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::coreclaw::state::Config;
    use crate::vendor::testing::{parts, request};

    fn v2() -> V2 {
        V2::new(CoreClaw::new(Config {
            api_key: "k".to_string(),
            ..Config::default()
        }))
    }

    /// The body without its `request_id` (which counts up), after checking it has one.
    fn without_request_id(mut body: Value) -> Value {
        let id = body.as_object_mut().and_then(|b| b.remove("request_id"));
        assert!(
            id.as_ref()
                .and_then(Value::as_str)
                .is_some_and(|id| id.starts_with("req-sandbox-")),
            "{id:?}"
        );
        body
    }

    #[tokio::test]
    async fn fault_bodies_are_v2s_error_envelope() {
        let v2 = v2();
        assert_eq!(v2.mount(), "/api/v2");
        let limited = json!({"code": 13000, "message": "too many requests"});
        let (status, retry, body) = parts(v2.fault_response(ErrorFault::Http429 {
            retry_after_secs: 7,
        }))
        .await;
        assert_eq!(
            (status, retry.as_deref(), without_request_id(body)),
            (StatusCode::TOO_MANY_REQUESTS, Some("7"), limited.clone())
        );
        let (status, retry, body) = parts(v2.fault_response(ErrorFault::Code4290)).await;
        assert_eq!(
            (status, retry, without_request_id(body)),
            (StatusCode::TOO_MANY_REQUESTS, None, limited)
        );
        let (status, retry, body) = parts(v2.fault_response(ErrorFault::Http503)).await;
        assert_eq!(
            (status, retry, without_request_id(body)),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                json!({"code": 10000, "message": "service temporarily unavailable, try again"})
            )
        );
        let bytes = axum::body::to_bytes(
            v2.fault_response(ErrorFault::Http503).into_body(),
            usize::MAX,
        )
        .await
        .unwrap();
        assert!(bytes.starts_with(br#"{"code":10000,"message":"#));
    }

    #[tokio::test]
    async fn a_bearer_token_or_a_token_parameter_passes_and_nothing_else() {
        let v2 = v2();
        let account = "/api/v2/users/account";
        for passes in [
            request(account, &[("authorization", "Bearer k")]),
            request(account, &[("authorization", "bearer  k ")]),
            request("/api/v2/users/account?token=k", &[]),
            request("/api/v2/users/account?limit=1&token=k", &[]),
        ] {
            assert!(v2.authorize(&passes).is_ok(), "{:?}", passes.uri());
        }
        let missing =
            "authentication required: send Authorization: Bearer API_KEY or ?token=API_KEY";
        let refusals = [
            (request(account, &[]), 12001, missing),
            // v1's credential is not v2's.
            (request(account, &[("api-key", "k")]), 12001, missing),
            (
                request(account, &[("authorization", "Bearer x")]),
                12002,
                "invalid token",
            ),
            (
                request(account, &[("authorization", "Basic k")]),
                12002,
                "invalid token",
            ),
            (
                request("/api/v2/users/account?token=x", &[]),
                12002,
                "invalid token",
            ),
            // The header counts when there is one.
            (
                request(
                    "/api/v2/users/account?token=k",
                    &[("authorization", "Bearer x")],
                ),
                12002,
                "invalid token",
            ),
        ];
        for (request, code, message) in refusals {
            let uri = request.uri().clone();
            let Err(refusal) = v2.authorize(&request) else {
                panic!("{uri}: let through");
            };
            let (status, _, body) = parts(refusal).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
            assert_eq!(
                without_request_id(body),
                json!({"code": code, "message": message}),
                "{uri}"
            );
        }
    }
}
