//! What the DevOps end-to-end tests share, over the shared [`Http`] client: logging in as the
//! client credentials or a user, calls with a bearer token, the rate-limit headers and error
//! codes of an answer, and polling a job until it gets somewhere.

#![allow(dead_code)] // each test binary uses a part of it

use std::sync::Mutex;
use std::time::{Duration, Instant};

use clawkit_sandbox::devops::{CLIENT_ID, CLIENT_SECRET, USER_PASSWORD};
use clawkit_sandbox::{Sandbox, Vendor};
use serde_json::{Value, json};

use crate::support::{Answer, Http, eventually};

/// What the tests read of a DevOps answer.
pub trait Reading {
    /// A header as a number.
    fn number(&self, name: &str) -> Option<i64>;
    /// Whether the four rate-limit headers are there.
    fn has_rate_headers(&self) -> bool;
    /// `error.code` of the envelope (empty when there is none).
    fn error_code(&self) -> &str;
}

impl Reading for Answer {
    fn number(&self, name: &str) -> Option<i64> {
        self.header(name).and_then(|v| v.parse().ok())
    }

    fn has_rate_headers(&self) -> bool {
        [
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
            "retry-after",
        ]
        .iter()
        .all(|h| self.number(h).is_some())
    }

    fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

/// Whether `v` is a request id: `req_` and 12 hex characters.
pub fn is_request_id(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 16 && s.starts_with("req_") && s[4..].bytes().all(|c| c.is_ascii_hexdigit())
    })
}

/// A client of one sandbox's `/openclaw-devops`.
pub struct Client {
    /// Without credentials.
    pub http: Http,
}

impl Client {
    /// A client of `sb`.
    pub fn of(sb: &Sandbox) -> Self {
        Self {
            http: Http::new(sb.base_url(Vendor::OpenclawDevops)),
        }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.http.base
    }

    /// `method path`, with `token` as the bearer if any, and a JSON body if any.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let http = match token {
            Some(token) => self.http.clone().bearer(token),
            None => self.http.clone(),
        };
        http.send(method, path, body.as_ref()).await
    }

    /// `GET path` as `token`.
    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call("GET", path, Some(token), None).await
    }

    /// `POST path` as `token`.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call("POST", path, Some(token), Some(body)).await
    }

    /// A token set of the client credentials (`None`) or of a user's password login.
    pub async fn login(&self, username: Option<&str>) -> Value {
        let body = match username {
            None => {
                json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
            }
            Some(u) => {
                json!({"grant_type": "password", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "username": u, "password": USER_PASSWORD})
            }
        };
        let answer = self.call("POST", "/auth/token", None, Some(body)).await;
        answer.expect(200);
        answer.body
    }

    /// The access token of [`Client::login`].
    pub async fn token(&self, username: Option<&str>) -> String {
        self.login(username).await["access_token"]
            .as_str()
            .expect("an access token")
            .to_string()
    }

    /// Polls `path` about every 100 ms until `done` says so, which must be within `limit`;
    /// every answer on the way is a 200.
    pub async fn wait_for(
        &self,
        path: &str,
        token: &str,
        limit: Duration,
        done: impl FnMut(&Value) -> bool,
    ) -> Value {
        let start = Instant::now();
        let done = &Mutex::new(done);
        let body = eventually(path, move || async move {
            let answer = self.get(path, token).await;
            answer.expect(200);
            let reached = (done.lock().unwrap_or_else(|e| e.into_inner()))(&answer.body);
            if !reached {
                // With `eventually`'s own pause, about as often as a client would poll.
                tokio::time::sleep(Duration::from_millis(80)).await;
            }
            reached.then_some(answer.body)
        })
        .await;
        assert!(
            start.elapsed() < limit,
            "{path} took longer than {limit:?}: {body}"
        );
        body
    }
}
