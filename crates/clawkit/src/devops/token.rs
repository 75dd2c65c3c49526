//! The DevOps token grant for the runtime's token source: `POST /auth/token` with the
//! `client_credentials` or the `password` grant (JSON body), and `POST /auth/refresh`, whose
//! refresh token works once (the runtime never sends one twice and falls back to the grant when a
//! refresh fails).

use std::time::Duration;

use clawkit_runtime::{Grant, GrantError, Token};
use futures::FutureExt;
use futures::future::BoxFuture;
use openclaw_devops_api::types::{GrantType, RefreshTokenRequest, TokenRequest, TokenResponse};
use secrecy::{ExposeSecret, SecretString};

/// The account's credentials: an API client, and optionally a user of it.
pub(crate) struct Credentials {
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    /// Username and password for the `password` grant; without them, `client_credentials`.
    pub(crate) user: Option<(String, SecretString)>,
}

/// The grant, on a client without auth (the token endpoints need none).
pub(crate) struct DevopsGrant {
    pub(crate) api: openclaw_devops_api::Client,
    pub(crate) credentials: Credentials,
}

fn token(answer: TokenResponse) -> Token {
    Token {
        access: SecretString::from(answer.access_token),
        refresh: answer.refresh_token.map(SecretString::from),
        lifetime: u64::try_from(answer.expires_in)
            .ok()
            .map(Duration::from_secs),
    }
}

impl DevopsGrant {
    async fn exchange(&self, refresh: Option<&SecretString>) -> Result<Token, GrantError> {
        let sent = match refresh {
            Some(refresh) => {
                self.api
                    .refresh_token()
                    .body(RefreshTokenRequest {
                        refresh_token: refresh.expose_secret().to_string(),
                    })
                    .send()
                    .await
            }
            None => {
                let c = &self.credentials;
                let (grant_type, username, password) = match &c.user {
                    Some((user, password)) => (
                        GrantType::Password,
                        Some(user.clone()),
                        Some(password.expose_secret().to_string()),
                    ),
                    None => (GrantType::ClientCredentials, None, None),
                };
                self.api
                    .create_token()
                    .body(TokenRequest {
                        grant_type,
                        client_id: c.client_id.clone(),
                        client_secret: c.client_secret.expose_secret().to_string(),
                        username,
                        password,
                    })
                    .send()
                    .await
            }
        };
        Ok(token(
            sent.map_err(GrantError::from_generated)?.into_inner(),
        ))
    }
}

impl Grant for DevopsGrant {
    fn obtain<'a>(
        &'a self,
        refresh: Option<&'a SecretString>,
    ) -> BoxFuture<'a, Result<Token, GrantError>> {
        self.exchange(refresh).boxed()
    }
}
