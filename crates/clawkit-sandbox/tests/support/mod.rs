//! What every vendor's end-to-end test needs: an HTTP client of one vendor's base URL that keeps
//! each answer whole ([`Http`], [`Answer`]), a webhook receiver that records what it is sent
//! ([`Inbox`]), and a wait for a condition ([`eventually`]).

#![allow(dead_code)] // each test binary uses a part of it

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

/// How long a test waits for something that should happen at once (a slow, shared machine).
pub const PATIENCE: Duration = Duration::from_secs(15);

/// One answer: status, headers, the raw bytes and the JSON they hold (`Null` if none).
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as sent.
    pub bytes: Bytes,
    /// The body as JSON (`Null` when it is not).
    pub body: Value,
}

impl Answer {
    /// Reads a whole response.
    pub async fn read(response: reqwest::Response) -> Self {
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        let bytes = response.bytes().await.unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            bytes,
            body,
        }
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body otherwise.
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "{}", self.body);
        self
    }
}

/// A client of one vendor's base URL, with headers sent on every request.
#[derive(Debug, Clone)]
pub struct Http {
    /// The vendor's base URL, e.g. `http://127.0.0.1:PORT/openclaw-devops`.
    pub base: String,
    client: reqwest::Client,
    headers: HeaderMap,
}

impl Http {
    /// A client of `base`.
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into(),
            client: reqwest::Client::new(),
            headers: HeaderMap::new(),
        }
    }

    /// The same client, sending `name: value` too.
    pub fn with_header(mut self, name: &'static str, value: impl AsRef<str>) -> Self {
        if let Ok(value) = value.as_ref().parse() {
            self.headers.insert(name, value);
        }
        self
    }

    /// The same client, sending `Authorization: Bearer <token>`.
    pub fn bearer(self, token: impl AsRef<str>) -> Self {
        let value = format!("Bearer {}", token.as_ref());
        self.with_header("authorization", value)
    }

    /// `method` `path` (after the base URL) with an optional JSON body.
    pub async fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .headers(self.headers.clone());
        if let Some(body) = body {
            request = request.json(body);
        }
        Answer::read(request.send().await.expect("the sandbox answers")).await
    }

    /// `method` `path` with a raw body of `content_type`.
    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .headers(self.headers.clone())
            .header("content-type", content_type)
            .body(body);
        Answer::read(request.send().await.expect("the sandbox answers")).await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send("POST", path, Some(&body)).await
    }

    /// `PUT path` with a JSON body.
    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.send("PUT", path, Some(&body)).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Answer {
        self.send("DELETE", path, None).await
    }
}

/// One request a webhook receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body as sent.
    pub body: Bytes,
}

impl Received {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// What an [`Inbox`] answers to its `n`th request (from 0).
pub type Script = Arc<dyn Fn(usize) -> (u16, &'static str) + Send + Sync>;

#[derive(Clone)]
struct Recorder {
    got: Arc<Mutex<Vec<Received>>>,
    answer: Script,
}

/// A webhook receiver on a free port of 127.0.0.1 that records every request it gets.
#[derive(Clone)]
pub struct Inbox {
    /// Its URL, `http://127.0.0.1:PORT/hook`.
    pub url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Inbox {
    /// A receiver that answers 200 `ok` to everything.
    pub async fn start() -> Self {
        Self::answering(Arc::new(|_| (200, "ok"))).await
    }

    /// A receiver whose answer to its `n`th request is `answer(n)` (status, body).
    pub async fn answering(answer: Script) -> Self {
        async fn receive(
            State(recorder): State<Recorder>,
            headers: HeaderMap,
            body: Bytes,
        ) -> (StatusCode, &'static str) {
            let n = {
                let mut got = recorder.got.lock().unwrap_or_else(|e| e.into_inner());
                got.push(Received { headers, body });
                got.len() - 1
            };
            let (status, body) = (recorder.answer)(n);
            (
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                body,
            )
        }
        let got = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(Recorder {
                got: got.clone(),
                answer,
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("its address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{addr}/hook"),
            got,
        }
    }

    /// What it got so far.
    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits (at most [`PATIENCE`]) until it got `n` requests; what it got.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        eventually(&format!("{n} webhook requests"), || async {
            let got = self.received();
            (got.len() >= n).then_some(got)
        })
        .await
    }
}

/// Polls `check` every 20 ms until it gives a value, for at most [`PATIENCE`].
///
/// # Panics
///
/// When it never does, naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
