//! The token manager: a token is fetched lazily, renewed before it expires, each refresh token is
//! used at most once (the seed: "同一个refresh_token只能使用一次"), and a failed refresh falls back to
//! the password grant.
//!
//! One async mutex guards the state, so when a token must be renewed exactly one caller does it
//! and the others wait for its result: a refresh is never in flight twice.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bazhuayu_api::types;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

use super::Error;
use crate::transport;

/// An access token with the generated client that sends it.
#[derive(Clone)]
pub(crate) struct Authed {
    /// Which token this is (to invalidate exactly this one after a 401).
    pub(crate) id: u64,
    pub(crate) api: bazhuayu_api::Client,
}

struct Current {
    authed: Authed,
    renew_at: Instant,
}

#[derive(Default)]
struct State {
    current: Option<Current>,
    refresh: Option<SecretString>,
}

pub(crate) struct TokenManager {
    base_url: String,
    username: String,
    password: SecretString,
    timeout: Duration,
    /// Unauthenticated client for `/token`.
    anonymous: bazhuayu_api::Client,
    state: Mutex<State>,
    next_id: AtomicU64,
}

impl TokenManager {
    pub(crate) fn new(
        base_url: &str,
        username: String,
        password: SecretString,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let http =
            transport::http_client(Default::default(), Some(timeout), Duration::from_secs(10))
                .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            base_url: base_url.to_string(),
            username,
            password,
            timeout,
            anonymous: bazhuayu_api::Client::new_with_client(base_url, http),
            state: Mutex::new(State::default()),
            next_id: AtomicU64::new(1),
        })
    }

    /// A client with a valid access token, renewing it first when needed.
    pub(crate) async fn authed(&self) -> Result<Authed, Error> {
        let mut state = self.state.lock().await;
        if let Some(current) = &state.current
            && Instant::now() < current.renew_at
        {
            return Ok(current.authed.clone());
        }
        state.current = None;
        let token = match state.refresh.take() {
            // Taken out of the state before use: whatever happens, it is never sent again.
            Some(refresh) => match self
                .grant(types::TokenRequestGrantType::RefreshToken, Some(refresh))
                .await
            {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(error = %e, "Bazhuayu token refresh failed; using the password grant");
                    self.grant(types::TokenRequestGrantType::Password, None)
                        .await?
                }
            },
            None => {
                self.grant(types::TokenRequestGrantType::Password, None)
                    .await?
            }
        };
        let lifetime = Duration::from_secs(u64::try_from(token.expires_in).unwrap_or(0));
        // Renew with a tenth of the lifetime (at most a minute) to spare.
        let margin = (lifetime / 10).min(Duration::from_secs(60));
        let headers =
            transport::sensitive_header("authorization", &format!("bearer {}", token.access_token))
                .map_err(|e| Error::Decode {
                    path: "access_token".into(),
                    message: e,
                })?;
        let http = transport::http_client(headers, Some(self.timeout), Duration::from_secs(10))
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        let authed = Authed {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            api: bazhuayu_api::Client::new_with_client(&self.base_url, http),
        };
        state.refresh = Some(SecretString::from(token.refresh_token));
        state.current = Some(Current {
            authed: authed.clone(),
            renew_at: Instant::now() + lifetime.saturating_sub(margin),
        });
        tracing::debug!(
            expires_in = token.expires_in,
            "Bazhuayu access token obtained"
        );
        Ok(authed)
    }

    /// Forgets the token `id` (after the service refused it), so the next call gets a new one.
    pub(crate) async fn invalidate(&self, id: u64) {
        let mut state = self.state.lock().await;
        if state.current.as_ref().is_some_and(|c| c.authed.id == id) {
            state.current = None;
        }
    }

    /// One token request. Never retried here: a refresh token must not be sent twice, and the
    /// password grant is the fallback.
    async fn grant(
        &self,
        grant: types::TokenRequestGrantType,
        refresh: Option<SecretString>,
    ) -> Result<types::AccessToken, Error> {
        let password = grant == types::TokenRequestGrantType::Password;
        let body = types::TokenRequest {
            grant_type: grant,
            username: password.then(|| self.username.clone()),
            password: password.then(|| self.password.expose_secret().to_string()),
            refresh_token: refresh.map(|r| r.expose_secret().to_string()),
        };
        match self.anonymous.create_token().body(body).send().await {
            Ok(token) => Ok(token.into_inner()),
            Err(bazhuayu_api::Error::ErrorResponse(e)) => {
                let status = e.status().as_u16();
                let e = e.into_inner();
                Err(Error::from_status(
                    status,
                    &e.error,
                    e.error_description.unwrap_or_default(),
                    None,
                ))
            }
            Err(other) => Err(super::transport_error(other).await),
        }
    }
}
