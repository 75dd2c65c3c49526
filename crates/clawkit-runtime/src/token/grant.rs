//! What a vendor gives: its grant, the token it returns, and how a grant fails.

use std::time::Duration;

use futures::future::BoxFuture;
use secrecy::SecretString;

/// A token as a grant returns it.
pub struct Token {
    /// The access token.
    pub access: SecretString,
    /// The refresh token, when the service gives one (each is used at most once).
    pub refresh: Option<SecretString>,
    /// How long the access token lives, when the service says (`None`: until refused).
    pub lifetime: Option<Duration>,
}

/// Why a grant failed, in the terms of an HTTP exchange, so the request hook can hand it to the
/// generated client (and the facade reads it like any other answer of the vendor).
#[derive(Debug)]
pub enum GrantError {
    /// The token endpoint answered with an error status; its body is unread.
    Refused(reqwest::Response),
    /// The exchange failed.
    Transport(reqwest::Error),
    /// The token endpoint's success body did not decode.
    Payload(bytes::Bytes, serde_json::Error),
    /// Anything else (a token that cannot be sent in a header).
    Invalid(String),
}

impl std::fmt::Display for GrantError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GrantError::Refused(r) => write!(f, "the token endpoint answered HTTP {}", r.status()),
            GrantError::Transport(e) => write!(f, "the token request failed: {}", e),
            GrantError::Payload(_, e) => write!(f, "the token response did not decode: {e}"),
            GrantError::Invalid(m) => f.write_str(m),
        }
    }
}

impl GrantError {
    /// From what a generated client's call of the token operation returned. A documented error
    /// body is turned back into a response (status, headers and the body re-encoded as JSON), so
    /// the facade reads it like any other answer.
    pub fn from_generated<X: serde::Serialize>(error: progenitor_client::Error<X>) -> Self {
        use progenitor_client::Error as E;
        match error {
            E::ErrorResponse(value) => {
                let status = value.status();
                let headers = value.headers().clone();
                let body = serde_json::to_vec(&value.into_inner()).unwrap_or_default();
                let mut response = http::Response::new(body);
                *response.status_mut() = status;
                *response.headers_mut() = headers;
                GrantError::Refused(reqwest::Response::from(response))
            }
            E::UnexpectedResponse(response) => GrantError::Refused(response),
            E::CommunicationError(e) | E::ResponseBodyError(e) | E::InvalidUpgrade(e) => {
                GrantError::Transport(e)
            }
            E::InvalidResponsePayload(bytes, e) => GrantError::Payload(bytes, e),
            E::InvalidRequest(m) | E::Custom(m) => GrantError::Invalid(m),
        }
    }

    /// As the generated client's error, for the request hook to return.
    pub fn into_generated<E>(self) -> progenitor_client::Error<E> {
        use progenitor_client::Error as E;
        match self {
            GrantError::Refused(response) => E::UnexpectedResponse(response),
            GrantError::Transport(e) => E::CommunicationError(e),
            GrantError::Payload(bytes, e) => E::InvalidResponsePayload(bytes, e),
            GrantError::Invalid(m) => E::Custom(m),
        }
    }
}

/// How a vendor obtains a token: with its credentials (`refresh` is `None`) or with a refresh
/// token. One call is one request; the token source decides when to call and never retries a
/// refresh token.
pub trait Grant: Send + Sync + 'static {
    /// Obtains a token.
    fn obtain<'a>(
        &'a self,
        refresh: Option<&'a SecretString>,
    ) -> BoxFuture<'a, Result<Token, GrantError>>;
}

/// How long after it is obtained a token is renewed: a tenth of its lifetime (at most a minute)
/// before it expires; a token without a lifetime lives until it is refused.
pub(super) fn renew_after(lifetime: Option<Duration>) -> Duration {
    match lifetime {
        Some(lifetime) => lifetime.saturating_sub((lifetime / 10).min(Duration::from_secs(60))),
        None => Duration::from_secs(365 * 24 * 3600),
    }
}
