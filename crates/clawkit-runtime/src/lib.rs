//! clawkit-runtime: the vendor-neutral machinery under every clawkit client, written once.
//!
//! Every generated client (`generated/<vendor>-api`) is built on a [`Runtime`]: `cargo xtask
//! regen` generates each client with progenitor's hooks, so every request passes through
//! [`Runtime::prepare`] before it is sent (auth, then pacing, then signing over the final bytes)
//! and through [`Runtime::execute`] to be sent (the answer's rate-limit headers and `Date` are
//! read; a refused token is renewed once and the request replayed). A vendor only chooses:
//!
//! - **auth** ([`Auth`]): an api-key header, a static bearer token, or a [`TokenSource`] over the
//!   vendor's [`Grant`] (lazy, renewed before expiry, one renewal in flight, refresh tokens never
//!   sent twice);
//! - **a signer** ([`Signer`]) that sees method, URL and body bytes, with the server's clock
//!   ([`Clock`], skew learned from `Date`);
//! - **limits** ([`RateLimit`] for a documented bucket, [`Pacer`] for rate-limit headers,
//!   [`WriteSpacing`] between writes, a cap on requests in flight);
//! - **retries** ([`retry::retry`], [`Safety`]): exponential backoff on failures the vendor's
//!   error calls transient ([`Classify`]), never repeating blindly a request that may have created
//!   something;
//! - **paging** ([`Paged`]): page numbers, returned offsets or cursors, resumable;
//! - **downloads** ([`download::download`]) to any `AsyncWrite`, resumed with `Range` where they
//!   broke off;
//! - **object storage** (`objects`, feature `object-store`): streaming multipart writers to
//!   `s3://`, `gs://`, `az://` and `file://` destinations, configured from the environment;
//! - **config** ([`ClientConfig`], `from_env(prefix)`), shared by the library and the CLI;
//! - **waits** ([`wait`]): polling a long job with a growing interval and a deadline, each new
//!   snapshot as a stream;
//! - **webhooks received** ([`webhook`]): HMAC signatures against several secrets, a timestamp
//!   tolerance, de-duplication by delivery id;
//! - **metered WebSocket sessions** (`relay`, feature `relay`): a local endpoint in front of the
//!   remote one that closes the remote session when dropped, when idle or when its client vanishes.
//!
//! Errors: [`TransportError`] is the one transport error (it keeps reqwest's error as its source,
//! without the URL); vendor errors wrap it and say their [`ErrorKind`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use clawkit_runtime::{Auth, Runtime};
//! use secrecy::SecretString;
//!
//! let runtime = Runtime::builder()
//!     .auth(Auth::api_key("api-key", &SecretString::from("sandbox-key")).unwrap())
//!     .build();
//! let mut request = reqwest::Request::new(reqwest::Method::GET, "http://127.0.0.1/x".parse().unwrap());
//! runtime.prepare::<()>(&mut request, "example").await.unwrap();
//! assert_eq!(request.headers()["api-key"], "sandbox-key");
//! assert!(!format!("{runtime:?}").contains("sandbox-key"));
//! # }
//! ```

#![deny(missing_docs)]

mod auth;
pub mod clock;
pub mod config;
pub mod download;
pub mod error;
mod gate;
pub mod limit;
#[cfg(feature = "object-store")]
pub mod objects;
pub mod paging;
#[cfg(feature = "relay")]
pub mod relay;
pub mod reply;
pub mod retry;
pub mod sign;
pub mod state;
pub mod token;
pub mod wait;
pub mod webhook;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::AUTHORIZATION;

pub use auth::Auth;
pub use clock::Clock;
pub use config::{ClientConfig, Credentials};
pub use error::{
    BodyFault, Classify, ConfigError, DecodeError, ErrorKind, TransportError, TransportKind,
    Verdict,
};
pub use limit::{Pacer, RateLimit, RateLimitHeaders, WriteSpacing};
pub use paging::{DEFAULT_PREFETCH, Fetched, Page, Paged, PagingError, Throttle};
pub use retry::{RetryPolicy, Safety};
pub use sign::{SignError, Signer};
pub use token::{Grant, GrantError, Token, TokenSource};

#[derive(Debug, Default)]
struct Shared {
    auth: Auth,
    signer: Option<SignerBox>,
    gate: gate::Gate,
    strict_paths: bool,
    pacer: Option<Pacer>,
    connections: Option<Arc<tokio::sync::Semaphore>>,
    clock: Arc<Clock>,
    retry: RetryPolicy,
    throttle: paging::Throttle,
}

struct SignerBox(Box<dyn Signer>);

impl std::fmt::Debug for SignerBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer")
    }
}

/// The runtime of one client: shared by every clone and by every generated client of a facade
/// client (one limiter, one token, one clock), each clone with its own request timeout.
#[derive(Debug, Clone, Default)]
pub struct Runtime {
    shared: Arc<Shared>,
    timeout: Option<Duration>,
}

/// Settings for a [`Runtime`].
#[derive(Debug, Default)]
#[must_use]
pub struct RuntimeBuilder {
    shared: Shared,
    limits: gate::Limits,
    state: Option<state::Shared>,
    timeout: Option<Duration>,
}

impl RuntimeBuilder {
    /// How requests are authenticated (default: not at all).
    pub fn auth(mut self, auth: Auth) -> Self {
        self.shared.auth = auth;
        self
    }

    /// Signs every request over its final bytes, on every attempt.
    pub fn signer(mut self, signer: impl Signer) -> Self {
        self.shared.signer = Some(SignerBox(Box::new(signer)));
        self
    }

    /// At most one request per `period` on average, bursts of `burst`, for every clone.
    pub fn rate_limit(mut self, period: Duration, burst: u32) -> Self {
        self.limits.rate(period, burst);
        self
    }

    /// At most one call of `operations` (operation ids, e.g. `list_orders`) per `period` on
    /// average, bursts of `burst`, for every clone: a limit the service applies to some
    /// operations only. Several such limits may be set; each request waits for the ones that
    /// name it (and for [`RuntimeBuilder::rate_limit`], if set).
    pub fn limit_operations(mut self, operations: &[&str], period: Duration, burst: u32) -> Self {
        self.limits.operations(operations, period, burst);
        self
    }

    /// Percent-encodes every byte of the URL path outside RFC 3986's unreserved characters
    /// (`A-Z a-z 0-9 - . _ ~`), `/` and existing `%XX` escapes, before the request is signed:
    /// for services that want identifiers such as `#1001&A` sent as `%231001%26A` (a generated
    /// client leaves sub-delimiters like `&` as they are, which RFC 3986 allows in a path).
    pub fn strict_path_encoding(mut self) -> Self {
        self.shared.strict_paths = true;
        self
    }

    /// Paces requests by the rate-limit headers the service sends.
    pub fn pace_by(mut self, headers: RateLimitHeaders) -> Self {
        self.shared.pacer = Some(Pacer::new(headers));
        self
    }

    /// Writes (POST, PUT, PATCH, DELETE) at least `gap` apart, for every clone.
    pub fn space_writes(mut self, gap: Duration) -> Self {
        self.limits.writes(gap);
        self
    }

    /// At most `n` requests in flight at once, for every clone (a service's concurrent-connection
    /// limit). A request waits for a free slot; it holds it until its answer's headers arrive.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.shared.connections = Some(Arc::new(tokio::sync::Semaphore::new(n.max(1))));
        self.limits.inflight = Some(n.max(1) as u32);
        self
    }

    /// Shares `other`'s clock: what one learns of the server's time, both sign with (e.g. the
    /// runtime of a signed token endpoint and the runtime of the API it opens).
    pub fn share_clock(mut self, other: &Runtime) -> Self {
        self.shared.clock = other.shared.clock.clone();
        self
    }

    /// How [`Runtime::call`] retries.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.shared.retry = policy;
        self
    }

    /// The whole-request timeout of each API request (default: none).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Where the limits, the backoff a server asked for, the token and in-flight leases live
    /// (default: this runtime's own memory). Give every runtime of one account the same store and
    /// scope, in every process, and they share them.
    pub fn state(mut self, state: state::Shared) -> Self {
        self.state = Some(state);
        self
    }

    /// The runtime.
    pub fn build(mut self) -> Runtime {
        let state = self.state.unwrap_or_else(state::Shared::memory);
        if let Auth::Token(source) = &self.shared.auth
            && state.store.is_shared()
        {
            // The renewal lease outlives the token request's timeout.
            let timeout = self.timeout.unwrap_or(Duration::from_secs(60));
            source.share(state.clone(), timeout + Duration::from_secs(15));
        }
        self.shared.gate = self.limits.over(state);
        Runtime {
            shared: Arc::new(self.shared),
            timeout: self.timeout,
        }
    }
}

impl Runtime {
    /// Settings for a new runtime.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// This runtime with another request timeout (same auth, limits and clock).
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self {
            shared: self.shared.clone(),
            timeout: Some(timeout),
        }
    }

    /// The clock corrected by the server's skew.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// The state store and scope of this runtime's account.
    pub fn state(&self) -> &state::Shared {
        self.shared.gate.shared()
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.shared.retry
    }

    /// How often the service has said "too fast" (a 429, CoreClaw's 4290) to any call of this
    /// runtime: page streams read it to read fewer pages ahead ([`Paged::throttle`]).
    pub fn throttle(&self) -> paging::Throttle {
        self.shared.throttle.clone()
    }

    /// The request hook, before a request is sent: sets the timeout, applies auth (renewing a
    /// token if needed), waits for the limiter and the rate-limit headers' pacing, then signs.
    /// A token that cannot be obtained comes back as the token endpoint's own answer, so the
    /// facade reads it like any other answer of the vendor.
    pub async fn prepare<E>(
        &self,
        request: &mut reqwest::Request,
        operation: &str,
    ) -> Result<(), progenitor_client::Error<E>> {
        if let Some(timeout) = self.timeout
            && request.timeout().is_none()
        {
            *request.timeout_mut() = Some(timeout);
        }
        if self.shared.strict_paths {
            sign::encode_path_strictly(request.url_mut());
        }
        // The token first (it may take a request of its own, or a read of the shared store):
        // the limiter's slot is taken as close to sending as can be, so slots taken 1/rate apart
        // arrive about 1/rate apart, from every process.
        self.authorize(request)
            .await
            .map_err(GrantError::into_generated)?;
        self.shared.gate.pass(operation, request.method()).await;
        if let Some(pacer) = &self.shared.pacer {
            pacer.wait().await;
        }
        self.sign(request)
            .map_err(|e| progenitor_client::Error::Custom(e.to_string()))?;
        tracing::trace!(operation, method = %request.method(), "sending");
        Ok(())
    }

    async fn authorize(&self, request: &mut reqwest::Request) -> Result<(), GrantError> {
        match &self.shared.auth {
            Auth::None => {}
            Auth::Header(name, value) => {
                request.headers_mut().insert(name.clone(), value.clone());
            }
            Auth::Token(source) => {
                let value = source.authorization().await?;
                request.headers_mut().insert(AUTHORIZATION, value);
            }
        }
        Ok(())
    }

    fn sign(&self, request: &mut reqwest::Request) -> Result<(), SignError> {
        match &self.shared.signer {
            Some(signer) => signer.0.sign(request, self.shared.clock.now()),
            None => Ok(()),
        }
    }

    /// The request hook that sends: reads the answer's rate-limit headers and `Date`. On a 401 it
    /// tries, once each: when requests are signed and the answer's `Date` showed that the clock
    /// used for signing was off, the request signed again with the corrected clock (the way the
    /// AWS SDKs correct skew); when the service refused a token, the token renewed and the request
    /// replayed (signed again).
    pub async fn execute(
        &self,
        http: &reqwest::Client,
        request: reqwest::Request,
        operation: &str,
    ) -> reqwest::Result<reqwest::Response> {
        let signed = self.shared.signer.is_some();
        let replay = match &self.shared.auth {
            Auth::Token(_) => request.try_clone(),
            _ if signed => request.try_clone(),
            _ => None,
        };
        let skew = self.shared.clock.skew_ms();
        let mut response = self.send(http, request).await?;
        if response.status() != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let Some(mut again) = replay else {
            return Ok(response);
        };
        if signed && self.shared.clock.skew_ms() != skew {
            tracing::debug!(
                operation,
                skew_ms = self.shared.clock.skew_ms(),
                "refused while the clock was off; signing again with the server's time"
            );
            let next = again.try_clone();
            if let Err(e) = self.sign(&mut again) {
                tracing::warn!(operation, error = %e, "could not sign the request again");
                return Ok(response);
            }
            response = self.send(http, again).await?;
            match next {
                Some(next) if response.status() == reqwest::StatusCode::UNAUTHORIZED => {
                    again = next
                }
                _ => return Ok(response),
            }
        }
        // The replay is a copy of the request: its Authorization is the token that was refused.
        let Auth::Token(source) = &self.shared.auth else {
            return Ok(response);
        };
        let Some(sent) = again.headers().get(AUTHORIZATION).cloned() else {
            return Ok(response);
        };
        tracing::debug!(
            operation,
            "the service refused the access token; renewing it once"
        );
        source.refused(&sent).await;
        match source.authorization().await {
            Ok(value) => {
                again.headers_mut().insert(AUTHORIZATION, value);
            }
            Err(e) => {
                tracing::warn!(operation, error = %e, "could not renew the refused token");
                return Ok(response);
            }
        }
        if let Err(e) = self.sign(&mut again) {
            tracing::warn!(operation, error = %e, "could not sign the replay");
            return Ok(response);
        }
        self.send(http, again).await
    }

    async fn send(
        &self,
        http: &reqwest::Client,
        request: reqwest::Request,
    ) -> reqwest::Result<reqwest::Response> {
        // Closed only if the runtime is dropped mid-request: then there is nothing left to protect.
        let _slot = match &self.shared.connections {
            Some(slots) => slots.clone().acquire_owned().await.ok(),
            None => None,
        };
        let ttl = request
            .timeout()
            .copied()
            .unwrap_or(Duration::from_secs(90));
        let _lease = self
            .shared
            .gate
            .in_flight(ttl + Duration::from_secs(30))
            .await;
        let sent = SystemTime::now();
        let response = http.execute(request).await?;
        let status = response.status().as_u16();
        // What the answer asked of every request, published to the account's other processes.
        let asked = match &self.shared.pacer {
            Some(pacer) => pacer.observe(status, response.headers()),
            None => limit::retry_after_on(status, response.headers()).unwrap_or_default(),
        };
        self.shared.gate.hold(asked).await;
        if self.shared.signer.is_some() {
            let date = response
                .headers()
                .get(reqwest::header::DATE)
                .and_then(|d| d.to_str().ok());
            self.shared.clock.learn(sent, SystemTime::now(), date);
        }
        Ok(response)
    }

    /// Runs one API call with this runtime's retry policy: `attempt` makes the whole request
    /// (through the generated client, so each attempt is authenticated and signed afresh) and
    /// turns its answer into the vendor's result. See [`retry::retry`].
    pub async fn call<T, E, F, Fut>(&self, what: &str, safety: Safety, attempt: F) -> Result<T, E>
    where
        E: Classify + std::fmt::Display,
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let mut attempt = attempt;
        let throttle = &self.shared.throttle;
        let gate = &self.shared.gate;
        retry::retry(&self.shared.retry, what, safety, || {
            let answer = attempt();
            async move {
                let answer = answer.await;
                if let Err(e) = &answer
                    && e.kind() == ErrorKind::RateLimit
                {
                    throttle.record();
                    // A refusal in the body (CoreClaw's 4290) with a wait: every process waits.
                    if let Some(wait) = e.verdict().retry_after {
                        gate.hold(wait).await;
                    }
                }
                answer
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests;
