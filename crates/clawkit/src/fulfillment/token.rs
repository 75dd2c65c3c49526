//! Access tokens for the runtime's token source: `create_access_token` with the app's client
//! credentials, `refresh_access_token` with the single-use refresh token (the runtime never sends
//! one twice, and falls back to the client credentials when a refresh is refused). Both calls are
//! signed like every other request, on a client without a bearer token.

use std::time::Duration;

use clawkit_runtime::{Grant, GrantError, Token};
use futures::FutureExt;
use futures::future::BoxFuture;
use openclaw_fulfillment_api::types::{
    AccessToken, RefreshTokenRequest, RefreshTokenRequestGrantType, TokenRequest,
    TokenRequestGrantType,
};
use secrecy::{ExposeSecret, SecretString};

/// The exchange, on a signed client without auth.
pub(crate) struct AppGrant {
    pub(crate) api: openclaw_fulfillment_api::Client,
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
}

/// The token an answer gives: `expires_in` seconds (2 hours by default), a new refresh token.
fn token_of(answer: AccessToken) -> Token {
    Token {
        access: SecretString::from(answer.access_token),
        refresh: Some(SecretString::from(answer.refresh_token)),
        lifetime: u64::try_from(answer.expires_in)
            .ok()
            .map(Duration::from_secs),
    }
}

impl Grant for AppGrant {
    /// A refresh when the runtime holds a refresh token, else the client credentials.
    fn obtain<'a>(
        &'a self,
        refresh: Option<&'a SecretString>,
    ) -> BoxFuture<'a, Result<Token, GrantError>> {
        async move {
            let sent = match refresh {
                Some(refresh) => {
                    let body = RefreshTokenRequest {
                        client_id: self.client_id.clone(),
                        grant_type: RefreshTokenRequestGrantType::RefreshToken,
                        refresh_token: refresh.expose_secret().to_string(),
                    };
                    self.api.refresh_access_token().body(body).send().await
                }
                None => {
                    let body = TokenRequest {
                        client_id: self.client_id.clone(),
                        client_secret: self.client_secret.expose_secret().to_string(),
                        grant_type: TokenRequestGrantType::ClientCredentials,
                    };
                    self.api.create_access_token().body(body).send().await
                }
            };
            sent.map(|answer| token_of(answer.into_inner()))
                .map_err(GrantError::from_generated)
        }
        .boxed()
    }
}
