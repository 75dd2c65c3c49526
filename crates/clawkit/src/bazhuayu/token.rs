//! Bazhuayu's grant for the runtime's token source: a form POST to `/token` with the password
//! grant or a refresh token (seed 1.4; "同一个refresh_token只能使用一次": the token source never
//! sends one twice, and falls back to the password grant when a refresh fails).

use std::time::Duration;

use bazhuayu_api::types::{TokenRequest, TokenRequestGrantType};
use clawkit_runtime::{Grant, GrantError, Token};
use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

/// The password grant, and the refresh grant when the token source has a refresh token.
pub(crate) struct PasswordGrant {
    /// A client without auth (the token endpoint needs none), on the same connection pool.
    pub(crate) api: bazhuayu_api::Client,
    pub(crate) username: String,
    pub(crate) password: SecretString,
}

impl Grant for PasswordGrant {
    fn obtain<'a>(
        &'a self,
        refresh: Option<&'a SecretString>,
    ) -> BoxFuture<'a, Result<Token, GrantError>> {
        Box::pin(async move {
            let body = match refresh {
                Some(refresh) => TokenRequest {
                    grant_type: TokenRequestGrantType::RefreshToken,
                    refresh_token: Some(refresh.expose_secret().to_string()),
                    username: None,
                    password: None,
                },
                None => TokenRequest {
                    grant_type: TokenRequestGrantType::Password,
                    refresh_token: None,
                    username: Some(self.username.clone()),
                    password: Some(self.password.expose_secret().to_string()),
                },
            };
            let token = self
                .api
                .create_token()
                .body(body)
                .send()
                .await
                .map_err(GrantError::from_generated)?
                .into_inner();
            Ok(Token {
                access: SecretString::from(token.access_token),
                refresh: Some(SecretString::from(token.refresh_token)),
                lifetime: Some(Duration::from_secs(
                    u64::try_from(token.expires_in).unwrap_or(0),
                )),
            })
        })
    }
}
