//! Access tokens: `create_access_token` (client credentials), `refresh_access_token` (the refresh
//! token works once and is replaced) and the bearer check of every other operation.
//!
//! An expired access token is 401 `token_expired`, an unknown one `invalid_token`; credentials in
//! a token body that are not the app's are 401 `invalid_client`. Every refusal is counted.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::fulfillment::clock::rfc3339;
use crate::fulfillment::error::{ApiError, answer};
use crate::fulfillment::model::tokens::{RefreshTokenRequest, TokenRequest};
use crate::fulfillment::read::json_body;
use crate::fulfillment::signing::CLIENT_ID_HEADER;
use crate::fulfillment::state::{CLIENT_ID, CLIENT_SECRET, Fulfillment};
use crate::kit::tokens::{AccessRefusal, BearerProblem, RefreshRefusal, bearer, same};

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

    /// Checks `Authorization: Bearer <access_token>`.
    pub(crate) fn check_bearer(&self, headers: &HeaderMap) -> Result<(), ApiError> {
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
pub(crate) async fn create(
    State(f): State<Arc<Fulfillment>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: TokenRequest = json_body(&body)?;
    f.same_client(&headers, &request.client_id)?;
    if !same(&request.client_secret, CLIENT_SECRET) {
        return Err(f.refuse_token("invalid_client", "Wrong client_secret"));
    }
    let ttl_ms = f.token_ttl_ms();
    let token = f.with(|inner, now| inner.tokens.issue(now, ttl_ms));
    f.stats.token_grants.fetch_add(1, Ordering::Relaxed);
    Ok(answer(StatusCode::OK, &token))
}

/// `POST /v2.1/auth/token/refresh`: 200 `AccessToken`; the refresh token is spent.
pub(crate) async fn refresh(
    State(f): State<Arc<Fulfillment>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: RefreshTokenRequest = json_body(&body)?;
    f.same_client(&headers, &request.client_id)?;
    let ttl_ms = f.token_ttl_ms();
    let token = f.with(|inner, now| {
        let tokens = &mut inner.tokens;
        let spent = tokens.refresh.redeem(&request.refresh_token, now);
        spent.map(|()| tokens.issue(now, ttl_ms))
    });
    match token {
        Ok(token) => {
            f.stats.refreshes.fetch_add(1, Ordering::Relaxed);
            Ok(answer(StatusCode::OK, &token))
        }
        Err(RefreshRefusal::Expired) => Err(f.refuse_token(
            "token_expired",
            "The refresh token expired; request a new token with client_secret",
        )),
        Err(refusal) => {
            if refusal == RefreshRefusal::Reused {
                f.stats.refresh_reuse.fetch_add(1, Ordering::Relaxed);
            }
            Err(f.refuse_token(
                "invalid_token",
                "Unknown or already used refresh token (it works once)",
            ))
        }
    }
}
