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

impl AppGrant {
    async fn exchange(&self, refresh: Option<&SecretString>) -> Result<Token, GrantError> {
        let sent = if let Some(refresh) = refresh {
            let body = RefreshTokenRequest {
                client_id: self.client_id.clone(),
                grant_type: RefreshTokenRequestGrantType::RefreshToken,
                refresh_token: refresh.expose_secret().to_string(),
            };
            self.api.refresh_access_token().body(body).send().await
        } else {
            let body = TokenRequest {
                client_id: self.client_id.clone(),
                client_secret: self.client_secret.expose_secret().to_string(),
                grant_type: TokenRequestGrantType::ClientCredentials,
            };
            self.api.create_access_token().body(body).send().await
        };
        let answer = sent.map_err(GrantError::from_generated)?.into_inner();
        Ok(token_of(answer))
    }
}

impl Grant for AppGrant {
    fn obtain<'a>(
        &'a self,
        refresh: Option<&'a SecretString>,
    ) -> BoxFuture<'a, Result<Token, GrantError>> {
        self.exchange(refresh).boxed()
    }
}
