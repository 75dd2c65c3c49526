//! The vendor's tokens: their request bodies, their spelling (`oat_…` access tokens, `ort_…`
//! refresh tokens), their lifetimes and the `AccessToken` body, over the kit's stores.
//!
//! Access tokens live the configured time (2 hours by default) and an expired one is told apart
//! from an unknown one for a day; refresh tokens live 30 days and work once, replaced on every
//! refresh (as the spec's `AccessToken.refresh_token` says).

use openclaw_fulfillment_api::types::{
    self, AccessTokenTokenType, RefreshTokenRequestGrantType, TokenRequestGrantType,
};
use serde::Deserialize;

use crate::fulfillment::clock::time;
use crate::kit::ids::random_hex;
use crate::kit::tokens::{AccessTokens, RefreshTokens};

/// Lifetime of a refresh token: 30 days.
pub(crate) const REFRESH_TTL_SECS: i64 = 30 * 24 * 3600;
/// How long an expired access token is still recognised as expired rather than unknown.
pub(crate) const EXPIRED_MEMORY_MS: i64 = 24 * 3600 * 1000;

/// `TokenRequest`.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenRequest {
    #[allow(dead_code)]
    grant_type: TokenRequestGrantType,
    /// The app's client id.
    pub(crate) client_id: String,
    /// The app's client secret.
    pub(crate) client_secret: String,
}

/// `RefreshTokenRequest`.
#[derive(Debug, Deserialize)]
pub(crate) struct RefreshTokenRequest {
    #[allow(dead_code)]
    grant_type: RefreshTokenRequestGrantType,
    /// The app's client id.
    pub(crate) client_id: String,
    /// The refresh token of the last grant.
    pub(crate) refresh_token: String,
}

/// `prefix` and 32 random hex characters.
pub(crate) fn token(prefix: &str) -> String {
    format!("{prefix}{}", random_hex(2))
}

/// The tokens issued. What they grant is the one sandbox app: nothing to record.
#[derive(Debug)]
pub(crate) struct Tokens {
    /// Access tokens, until they expire.
    pub(crate) access: AccessTokens<()>,
    /// Refresh tokens, each once.
    pub(crate) refresh: RefreshTokens<()>,
}

impl Default for Tokens {
    fn default() -> Self {
        Self {
            access: AccessTokens::new(EXPIRED_MEMORY_MS),
            refresh: RefreshTokens::new(),
        }
    }
}

impl Tokens {
    /// A new access token living `ttl_ms` from `now` and a new refresh token, as `AccessToken`
    /// (the refresh tokens that expired are forgotten).
    pub(crate) fn issue(&mut self, now: i64, ttl_ms: i64) -> types::AccessToken {
        let expires = now.saturating_add(ttl_ms);
        self.refresh.forget_expired(now);
        let access = token("oat_");
        let refresh = token("ort_");
        self.access.issue(access.clone(), (), now, expires);
        self.refresh
            .issue(refresh.clone(), (), now + REFRESH_TTL_SECS * 1000);
        types::AccessToken {
            access_token: access,
            expires_at: time(expires),
            expires_in: ttl_ms.saturating_add(999) / 1000,
            refresh_expires_in: Some(REFRESH_TTL_SECS),
            refresh_token: refresh,
            token_type: AccessTokenTokenType::Bearer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::tokens::same;

    #[test]
    fn token_spelling_and_constant_time_equality() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert!(token("oat_").starts_with("oat_"));
        assert_eq!(token("ort_").len(), 36);
    }

    #[test]
    fn a_grant_is_an_access_token_and_a_refresh_token() {
        let mut tokens = Tokens::default();
        let grant = tokens.issue(0, 600);
        assert_eq!(grant.expires_in, 1);
        assert_eq!(grant.refresh_expires_in, Some(2_592_000));
        assert!(tokens.access.check(&grant.access_token, 599).is_ok());
        assert!(tokens.access.check(&grant.access_token, 600).is_err());
        assert_eq!(tokens.refresh.redeem(&grant.refresh_token, 1), Ok(()));
    }
}
