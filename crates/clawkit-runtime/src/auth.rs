//! How requests are authenticated: a fixed header or a token source.

use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::error::ConfigError;
use crate::token::TokenSource;

/// How requests are authenticated.
#[derive(Clone, Default)]
pub enum Auth {
    /// Not at all (public endpoints, token endpoints).
    #[default]
    None,
    /// A fixed header: an api-key, or `Authorization: Bearer TOKEN`.
    Header(HeaderName, HeaderValue),
    /// `Authorization` from a token source that renews itself.
    Token(TokenSource),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Header(name, _) => write!(f, "Header({name}: [redacted])"),
            Auth::Token(source) => write!(f, "Token({source:?})"),
        }
    }
}

fn sensitive(value: &str, what: &str) -> Result<HeaderValue, ConfigError> {
    let mut value = HeaderValue::from_str(value).map_err(|_| ConfigError::Invalid {
        field: what.to_string(),
        reason: "contains characters not allowed in an HTTP header".into(),
    })?;
    value.set_sensitive(true);
    Ok(value)
}

impl Auth {
    /// The key in header `header` (e.g. `api-key`). The value is marked sensitive, so it is never
    /// logged by reqwest or hyper.
    pub fn api_key(header: &'static str, key: &SecretString) -> Result<Self, ConfigError> {
        if key.expose_secret().trim().is_empty() {
            return Err(ConfigError::Invalid {
                field: "API key".into(),
                reason: "is empty".into(),
            });
        }
        Ok(Auth::Header(
            HeaderName::from_static(header),
            sensitive(key.expose_secret(), "API key")?,
        ))
    }

    /// `Authorization: Bearer TOKEN` with a token that does not change.
    pub fn bearer(token: &SecretString) -> Result<Self, ConfigError> {
        Ok(Auth::Header(
            AUTHORIZATION,
            sensitive(&format!("Bearer {}", token.expose_secret()), "token")?,
        ))
    }
}
