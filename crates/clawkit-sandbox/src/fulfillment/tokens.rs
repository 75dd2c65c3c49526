//! Access tokens: `create_access_token` (client credentials), `refresh_access_token` (the refresh
//! token works once and is replaced on every refresh, as the spec's `AccessToken.refresh_token`
//! says) and the bearer check of every other operation.
//!
//! Access tokens (`oat_…`) live the configured time (2 hours by default); refresh tokens
//! (`ort_…`) 30 days. An expired access token is 401 `token_expired` (it is remembered for a day
//! after it expired, then it is just unknown), an unknown one `invalid_token`; credentials in a
//! token body that are not the app's are 401 `invalid_client`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::clock::rfc3339;
use super::error::{ApiError, answer};
use super::input::json_body;
use super::signing::CLIENT_ID_HEADER;
use super::{CLIENT_ID, CLIENT_SECRET, Fulfillment};
use crate::kit::ids::random_hex;
use crate::kit::tokens::{
    AccessRefusal, AccessTokens, BearerProblem, RefreshRefusal, RefreshTokens, bearer, same,
};

/// Lifetime of a refresh token: 30 days.
const REFRESH_TTL_SECS: i64 = 30 * 24 * 3600;
/// How long an expired access token is still recognised as expired rather than unknown.
const EXPIRED_MEMORY_MS: i64 = 24 * 3600 * 1000;

/// The tokens issued: access tokens (an expired one told apart for a day) and refresh tokens
/// (each works once). What they grant is the one sandbox app: nothing to record.
#[derive(Debug)]
pub(super) struct Tokens {
    access: AccessTokens<()>,
    refresh: RefreshTokens<()>,
}

impl Default for Tokens {
    fn default() -> Self {
        Self {
            access: AccessTokens::new(EXPIRED_MEMORY_MS),
            refresh: RefreshTokens::new(),
        }
    }
}

/// `TokenRequest`.
#[derive(Debug, Deserialize)]
struct TokenRequest {
    #[allow(dead_code)]
    grant_type: ClientCredentials,
    client_id: String,
    client_secret: String,
}

/// `RefreshTokenRequest`.
#[derive(Debug, Deserialize)]
struct RefreshTokenRequest {
    #[allow(dead_code)]
    grant_type: RefreshGrant,
    client_id: String,
    refresh_token: String,
}

/// The only `grant_type` of `TokenRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ClientCredentials {
    ClientCredentials,
}

/// The only `grant_type` of `RefreshTokenRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RefreshGrant {
    RefreshToken,
}

/// `prefix` and 32 random hex characters.
fn token(prefix: &str) -> String {
    format!("{prefix}{}", random_hex(2))
}

impl Fulfillment {
    /// A 401 for token credentials, counted.
    fn refuse_token(&self, code: &'static str, message: impl Into<String>) -> ApiError {
        self.stats.refused_token.fetch_add(1, Ordering::Relaxed);
        ApiError::unauthorized(code, message)
    }

    /// The body's `client_id` must be the signing app's.
    fn same_client(&self, headers: &HeaderMap, client_id: &str) -> Result<(), ApiError> {
        let signer = headers.get(CLIENT_ID_HEADER).and_then(|v| v.to_str().ok());
        if client_id != CLIENT_ID || signer != Some(client_id) {
            return Err(self.refuse_token(
                "invalid_client",
                format!("client_id {client_id:?} is not the app that signed the request"),
            ));
        }
        Ok(())
    }

    /// A new access and refresh token, as `AccessToken`.
    fn issue(&self, tokens: &mut Tokens, now: i64) -> serde_json::Value {
        let ttl_ms = i64::try_from(self.config.token_ttl.as_millis()).unwrap_or(i64::MAX);
        let expires = now.saturating_add(ttl_ms);
        tokens.refresh.forget_expired(now);
        let access = token("oat_");
        let refresh = token("ort_");
        tokens.access.issue(access.clone(), (), now, expires);
        tokens
            .refresh
            .issue(refresh.clone(), (), now + REFRESH_TTL_SECS * 1000);
        json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": (ttl_ms + 999) / 1000,
            "expires_at": rfc3339(expires),
            "refresh_token": refresh,
            "refresh_expires_in": REFRESH_TTL_SECS,
        })
    }

    /// Checks `Authorization: Bearer <access_token>`.
    pub(super) fn check_bearer(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let presented = bearer(headers).map_err(|problem| match problem {
            BearerProblem::Missing => self.refuse_token(
                "invalid_token",
                "The Authorization: Bearer <access_token> header is missing",
            ),
            BearerProblem::NotBearer => self.refuse_token("invalid_token", "Not a bearer token"),
        })?;
        let now = self.clock.now_ms();
        let checked = self.lock().tokens.access.check(presented, now).map(|_| ());
        match checked {
            Ok(()) => Ok(()),
            Err(AccessRefusal::Unknown) => {
                Err(self.refuse_token("invalid_token", "Unknown access token"))
            }
            Err(AccessRefusal::Expired { at_ms }) => Err(self.refuse_token(
                "token_expired",
                format!("The access token expired at {}", rfc3339(at_ms)),
            )),
        }
    }
}

/// `POST /v2.1/auth/token`: 200 `AccessToken`.
pub(super) async fn create(
    State(f): State<Arc<Fulfillment>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: TokenRequest = json_body(&body)?;
    f.same_client(&headers, &request.client_id)?;
    if !same(&request.client_secret, CLIENT_SECRET) {
        return Err(f.refuse_token("invalid_client", "Wrong client_secret"));
    }
    let token = f.with(|inner, now| f.issue(&mut inner.tokens, now));
    f.stats.token_grants.fetch_add(1, Ordering::Relaxed);
    Ok(answer(StatusCode::OK, token))
}

/// `POST /v2.1/auth/token/refresh`: 200 `AccessToken`; the refresh token is spent.
pub(super) async fn refresh(
    State(f): State<Arc<Fulfillment>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: RefreshTokenRequest = json_body(&body)?;
    f.same_client(&headers, &request.client_id)?;
    let token = f.with(|inner, now| {
        inner
            .tokens
            .refresh
            .redeem(&request.refresh_token, now)
            .map(|()| f.issue(&mut inner.tokens, now))
    });
    match token {
        Ok(token) => {
            f.stats.refreshes.fetch_add(1, Ordering::Relaxed);
            Ok(answer(StatusCode::OK, token))
        }
        Err(RefreshRefusal::Expired) => Err(f.refuse_token(
            "token_expired",
            "The refresh token expired; request a new token with client_secret",
        )),
        Err(RefreshRefusal::Unknown | RefreshRefusal::Reused) => Err(f.refuse_token(
            "invalid_token",
            "Unknown or already used refresh token (it works once)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_spelling_and_constant_time_equality() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert!(token("oat_").starts_with("oat_"));
        assert_eq!(token("ort_").len(), 36);
    }
}
