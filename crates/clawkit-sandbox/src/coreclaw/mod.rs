//! CoreClaw under `/coreclaw`: true to specs/coreclaw (the vendor's openapi.json plus our overlay),
//! the guide and CoreClaw's docs. Where they disagree the sandbox answers as the vendor spec says and
//! also accepts the documented alternative (`page` beside `page_index`, GET beside POST for account
//! info).
//!
//! Responses are built from the generated `coreclaw-api` types, so the sandbox and the client
//! cannot disagree silently.

pub mod catalog;
pub mod export;
mod routes;
pub mod runs;
pub mod validate;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use coreclaw_api::enums::StatusCode as Code;
use serde::Serialize;
use serde_json::json;

use crate::store::{Ids, unix_now};
use catalog::{TaskTemplate, Worker};
use export::Export;
use runs::{Account, Run};

/// Settings of the CoreClaw part.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seed for slugs and items.
    pub seed: u64,
    /// Run time from start to final status.
    pub run_duration: Duration,
    /// Starting balance in micro-USD.
    pub initial_balance_micros: i64,
    /// The api-key accepted.
    pub api_key: String,
    /// This vendor's public base URL (for download and log URLs).
    pub base_url: String,
}

/// Mutable state.
#[derive(Debug)]
pub struct Inner {
    /// Runs by slug.
    pub runs: HashMap<String, Run>,
    /// Run slugs, oldest first.
    pub order: Vec<String>,
    /// The account.
    pub account: Account,
    /// Export files by id.
    pub exports: HashMap<String, Export>,
}

/// The CoreClaw sandbox.
#[derive(Debug)]
pub struct CoreClaw {
    /// Settings.
    pub config: Config,
    /// Seeded Workers.
    pub workers: Vec<Worker>,
    /// Saved task templates.
    pub tasks: Vec<TaskTemplate>,
    /// Slug source.
    pub ids: Ids,
    /// Runs, account, exports.
    pub inner: Mutex<Inner>,
    /// Client for completion webhooks.
    pub http: reqwest::Client,
}

impl CoreClaw {
    /// A fresh CoreClaw with the seeded catalog.
    pub fn new(config: Config) -> Arc<Self> {
        let now = unix_now();
        Arc::new(Self {
            ids: Ids::new(config.seed),
            inner: Mutex::new(Inner {
                runs: HashMap::new(),
                order: Vec::new(),
                account: Account {
                    balance_micros: config.initial_balance_micros,
                    traffic: 100 * 1024 * 1024 * 1024,
                    traffic_expiration_at: now + 30 * 24 * 3600,
                },
                exports: HashMap::new(),
            }),
            workers: catalog::workers(),
            tasks: catalog::tasks(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            config,
        })
    }

    /// Locks the state (a poisoned lock is recovered: the state stays usable).
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A Worker by slug.
    pub fn worker(&self, slug: &str) -> Option<&Worker> {
        self.workers.iter().find(|w| w.slug == slug)
    }
}

/// An error answer: the envelope `{code, message, data: null}` with its HTTP status.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Envelope code.
    pub code: Code,
    /// Message.
    pub message: String,
}

impl ApiError {
    /// An error with the HTTP status CoreClaw pairs with `code`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        let status = match code {
            Code::InvalidParams | Code::InsufficientBalance | Code::InsufficientTraffic => {
                StatusCode::BAD_REQUEST
            }
            Code::InvalidApiKey | Code::ApiKeyExpired | Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::WorkerNotFound | Code::TaskNotFound | Code::RunNotFound | Code::NotFound => {
                StatusCode::NOT_FOUND
            }
            Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 4000 naming the problems.
    pub fn invalid(problems: &[String]) -> Self {
        Self::new(
            Code::InvalidParams,
            format!("Invalid request parameters: {}", problems.join("; ")),
        )
    }

    /// 70001 for a run slug.
    pub fn no_run(slug: &str) -> Self {
        Self::new(Code::RunNotFound, format!("Run record does not exist: {slug}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = coreclaw_api::types::ApiError {
            code: Some(self.code.code()),
            message: self.message,
            data: None,
        };
        let mut value = serde_json::to_value(body).unwrap_or_else(|_| json!({}));
        value["data"] = serde_json::Value::Null;
        (self.status, axum::Json(value)).into_response()
    }
}

/// A success envelope around `data`.
pub fn ok<T: Serialize>(data: T) -> Response {
    axum::Json(json!({"code": 0, "message": "success", "data": data})).into_response()
}

/// The router of `/coreclaw`.
pub fn router(state: Arc<CoreClaw>) -> Router {
    routes::router(state)
}
