//! What every vendor's errors share: a kind a program can act on, the retry verdict, and the one
//! transport error (connection, timeout, broken or truncated body, an answer without the vendor's
//! error body).

use std::time::Duration;

/// What kind of failure an error is, the same for every vendor, so a program can handle any
/// vendor's failure one way (`match e.kind() { ErrorKind::RateLimit => .., .. }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Credentials missing, wrong, expired, or not allowed to do this.
    Auth,
    /// The service's rate limit (still there after the retries).
    RateLimit,
    /// The thing named does not exist.
    NotFound,
    /// A parameter or input is wrong: fix the request.
    InvalidInput,
    /// The thing is in a state that does not allow this (already ended, a duplicate, ...).
    Conflict,
    /// The account's balance, traffic or quota is used up.
    Quota,
    /// The service failed (HTTP 5xx or the vendor's internal-error code).
    Server,
    /// The connection failed or the answer broke off or was not what the spec documents.
    Transport,
    /// A request or a wait took too long.
    Timeout,
    /// The client is set up wrong (credentials not given, a bad base URL).
    Config,
    /// Anything else (a local file could not be written, ...).
    Other,
}

impl ErrorKind {
    /// The kind an HTTP status means when the body says nothing more.
    pub fn from_status(status: u16) -> Self {
        match status {
            400 | 422 => ErrorKind::InvalidInput,
            401 | 403 => ErrorKind::Auth,
            404 | 410 => ErrorKind::NotFound,
            402 => ErrorKind::Quota,
            408 => ErrorKind::Timeout,
            409 | 412 => ErrorKind::Conflict,
            429 => ErrorKind::RateLimit,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::Other,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ErrorKind::Auth => "auth",
            ErrorKind::RateLimit => "rate limit",
            ErrorKind::NotFound => "not found",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Quota => "quota",
            ErrorKind::Server => "server",
            ErrorKind::Transport => "transport",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Config => "config",
            ErrorKind::Other => "other",
        })
    }
}

/// What the retry policy knows about a failure: its kind, whether trying again may help, whether
/// the service certainly did nothing (so even a request that creates something may be repeated),
/// and how long the service asked us to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The kind.
    pub kind: ErrorKind,
    /// Trying the same request again may succeed.
    pub transient: bool,
    /// The service certainly did not act on the request: it was never sent, or a rate limit
    /// refused it before anything was done.
    pub not_processed: bool,
    /// The service's `Retry-After`.
    pub retry_after: Option<Duration>,
}

impl Verdict {
    /// The usual verdict for a kind: rate limits, transport failures and timeouts are transient,
    /// and a rate limit refused the request before doing anything.
    pub fn of(kind: ErrorKind) -> Self {
        Self {
            kind,
            transient: matches!(
                kind,
                ErrorKind::RateLimit
                    | ErrorKind::Server
                    | ErrorKind::Transport
                    | ErrorKind::Timeout
            ),
            not_processed: kind == ErrorKind::RateLimit,
            retry_after: None,
        }
    }

    /// The verdict for an HTTP status: 429 and 500/502/503/504 are transient (so are 408 and
    /// transport failures); any other status is final.
    pub fn from_status(status: u16) -> Self {
        Self {
            transient: matches!(status, 408 | 429 | 500 | 502 | 503 | 504),
            ..Self::of(ErrorKind::from_status(status))
        }
    }

    /// The same verdict, never transient (for errors that must not be retried, like a wait that
    /// timed out: waiting again is the caller's decision).
    pub fn final_(self) -> Self {
        Self {
            transient: false,
            ..self
        }
    }

    /// The same verdict with the server's `Retry-After`.
    pub fn retry_after(self, retry_after: Option<Duration>) -> Self {
        Self {
            retry_after,
            ..self
        }
    }
}

/// Anything that can say what kind of failure it is: every vendor error, so the runtime's retry
/// policy and a program's error handling treat every vendor alike.
pub trait Classify {
    /// The verdict on this failure.
    fn verdict(&self) -> Verdict;

    /// Its kind.
    fn kind(&self) -> ErrorKind {
        self.verdict().kind
    }

    /// Whether the same request may succeed later.
    fn is_retryable(&self) -> bool {
        self.verdict().transient
    }

    /// Whether the request certainly did not reach the service or was refused before anything
    /// was done, so repeating even a request that creates something cannot do it twice.
    fn nothing_was_done(&self) -> bool {
        self.verdict().not_processed
    }
}

/// What went wrong in a [`TransportError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The connection could not be made: the request was never sent.
    Connect,
    /// The request or the answer took too long.
    Timeout,
    /// The answer broke off part-way.
    Body,
    /// The answer was complete at the HTTP level but its JSON ended early.
    Truncated,
    /// An HTTP answer whose body is not the vendor's error body (a proxy's page, plain text).
    Status,
    /// The request failed on the way (the connection closed before an answer came).
    Request,
    /// Anything else (a redirect loop, a hook that refused the request): not worth repeating.
    Other,
}

/// A failure below the vendor's API: the connection, a timeout, a body that broke off or ended
/// early, or an HTTP answer without the vendor's error body. It keeps reqwest's error as its
/// source, without the URL (a URL may carry a token).
#[derive(Debug, thiserror::Error)]
#[error("{}{message}", status.map(|s| format!("HTTP {s}: ")).unwrap_or_default())]
pub struct TransportError {
    kind: TransportKind,
    status: Option<u16>,
    message: String,
    #[source]
    source: Option<reqwest::Error>,
}

impl TransportError {
    /// A failure of this kind, with a message and the HTTP status if there was one.
    pub fn new(kind: TransportKind, status: Option<u16>, message: impl Into<String>) -> Self {
        Self {
            kind,
            status,
            message: message.into(),
            source: None,
        }
    }

    /// From reqwest's error: the kind is read from it and the URL is dropped.
    pub fn from_reqwest(error: reqwest::Error) -> Self {
        let kind = if error.is_connect() {
            TransportKind::Connect
        } else if error.is_timeout() {
            TransportKind::Timeout
        } else if error.is_body() || error.is_decode() {
            TransportKind::Body
        } else if error.is_request() {
            TransportKind::Request
        } else {
            TransportKind::Other
        };
        let error = error.without_url();
        Self {
            kind,
            status: error.status().map(|s| s.as_u16()),
            message: error.to_string(),
            source: Some(error),
        }
    }

    /// reqwest's error while reading a body: the body broke off.
    pub fn broken_body(error: reqwest::Error, context: impl std::fmt::Display) -> Self {
        let mut e = Self::from_reqwest(error);
        if e.kind != TransportKind::Timeout {
            e.kind = TransportKind::Body;
        }
        e.message = format!("{context}: {}", e.message);
        e
    }

    /// What went wrong at the transport level (see [`Classify::kind`] for the error's kind).
    pub fn transport_kind(&self) -> TransportKind {
        self.kind
    }

    /// The HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// What happened, in words.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the request certainly never reached the service.
    pub fn not_sent(&self) -> bool {
        self.kind == TransportKind::Connect
    }
}

impl Classify for TransportError {
    fn verdict(&self) -> Verdict {
        match (self.kind, self.status) {
            (TransportKind::Connect, _) => Verdict {
                not_processed: true,
                ..Verdict::of(ErrorKind::Transport)
            },
            (TransportKind::Timeout, _) => Verdict::of(ErrorKind::Timeout),
            (TransportKind::Status, Some(status)) => Verdict::from_status(status),
            (TransportKind::Other, _) => Verdict::of(ErrorKind::Transport).final_(),
            _ => Verdict::of(ErrorKind::Transport),
        }
    }
}

/// The first 300 characters of a body, for an error message.
pub fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut s: String = text.chars().take(300).collect();
    if text.chars().count() > 300 {
        s.push('…');
    }
    s
}

/// The field a decoding failed at and why (`path` like `data.list[3].price`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Path of the field that failed.
    pub path: String,
    /// Why.
    pub message: String,
}

/// Why a body did not decode as the documented type: it broke off or is not JSON (a transport
/// failure, worth retrying), or a field has the wrong shape (a decode error naming the field).
#[derive(Debug)]
pub enum BodyFault {
    /// Truncated, or not JSON at all.
    Transport(TransportError),
    /// JSON of the wrong shape.
    Decode(DecodeError),
}

/// Decodes `bytes` as `T`, and on failure says why: an early end is [`TransportKind::Truncated`],
/// text that is not JSON is [`TransportKind::Status`] with the start of the body, and a field of the
/// wrong shape is a [`DecodeError`] with its path.
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], status: u16) -> Result<T, BodyFault> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize::<_, T>(de).map_err(|e| {
        if e.inner().is_eof() {
            BodyFault::Transport(TransportError::new(
                TransportKind::Truncated,
                None,
                format!(
                    "the HTTP {status} response body ended early ({} bytes): {}",
                    bytes.len(),
                    e.inner()
                ),
            ))
        } else if e.inner().is_syntax() {
            BodyFault::Transport(TransportError::new(
                TransportKind::Status,
                Some(status),
                format!("the response is not JSON: {}", snippet(bytes)),
            ))
        } else {
            BodyFault::Decode(DecodeError {
                path: e.path().to_string(),
                message: e.inner().to_string(),
            })
        }
    })
}

/// A client set up wrong: a credential not given, a base URL that is not an http(s) URL, a value
/// that cannot be sent in a header, a setting from the environment that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A credential the vendor needs was not given.
    #[error("no {what}: call .{method}(..) or set {env}")]
    Missing {
        /// What is missing, e.g. `API key`.
        what: &'static str,
        /// The builder method that sets it.
        method: &'static str,
        /// The environment variable(s) that set it.
        env: String,
    },
    /// A setting has a value that cannot be used.
    #[error("{field}: {reason}")]
    Invalid {
        /// The setting (a builder method or an environment variable).
        field: String,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// The HTTP client could not be built (TLS backend missing, ...).
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_have_kinds_and_verdicts() {
        assert_eq!(ErrorKind::from_status(404), ErrorKind::NotFound);
        assert_eq!(ErrorKind::from_status(422), ErrorKind::InvalidInput);
        assert!(Verdict::from_status(503).transient);
        assert!(!Verdict::from_status(501).transient);
        assert!(Verdict::from_status(429).not_processed);
        assert!(!Verdict::from_status(500).not_processed);
        assert!(!Verdict::from_status(400).transient);
        assert!(!Verdict::of(ErrorKind::Timeout).final_().transient);
    }

    #[test]
    fn bodies_that_do_not_decode_say_why() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Env {
            data: Vec<Item>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Item {
            n: u32,
        }
        match decode::<Env>(br#"{"data":[{"n":1},{"n""#, 200) {
            Err(BodyFault::Transport(t)) => {
                assert_eq!(t.transport_kind(), TransportKind::Truncated);
                assert!(t.is_retryable());
            }
            other => panic!("{other:?}"),
        }
        match decode::<Env>(b"<html>bad gateway</html>", 502) {
            Err(BodyFault::Transport(t)) => {
                assert_eq!(t.status(), Some(502));
                assert!(t.to_string().contains("bad gateway"), "{t}");
                assert!(t.is_retryable());
            }
            other => panic!("{other:?}"),
        }
        match decode::<Env>(br#"{"data":[{"n":1},{"n":"x"}]}"#, 200) {
            Err(BodyFault::Decode(d)) => assert_eq!(d.path, "data[1].n"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_refused_connection_was_not_processed() {
        let t = TransportError::new(TransportKind::Connect, None, "refused");
        assert!(t.not_sent() && t.verdict().not_processed && t.is_retryable());
        let body = TransportError::new(TransportKind::Body, None, "reset");
        assert!(!body.verdict().not_processed && body.is_retryable());
        let status = TransportError::new(TransportKind::Status, Some(404), "nope");
        assert_eq!(status.transport_kind(), TransportKind::Status);
        assert_eq!(status.kind(), ErrorKind::NotFound);
        assert!(!status.is_retryable());
        assert_eq!(status.to_string(), "HTTP 404: nope");
    }

    #[test]
    fn snippets_are_short() {
        let long = "x".repeat(400);
        assert_eq!(snippet(long.as_bytes()).chars().count(), 301);
        assert_eq!(snippet(b"short"), "short");
    }
}
