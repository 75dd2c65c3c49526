//! Issuing and checking tokens: access tokens that expire ([`AccessTokens`]), refresh tokens that
//! work once ([`RefreshTokens`]), the `Authorization: Bearer` header ([`bearer`]) and a
//! comparison in constant time ([`same`]). What a token grants (an account, a role) is the
//! vendor's type `G`; its spelling (a prefix, a JWT) and its answer bodies are the vendor's too.

use std::collections::HashMap;

use axum::http::{HeaderMap, header};

/// Why a presented access token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessRefusal {
    /// Never issued, or forgotten (expired longer ago than the memory of expired tokens).
    Unknown,
    /// Issued, and expired at this time (Unix ms).
    Expired {
        /// When it expired.
        at_ms: i64,
    },
}

/// Access tokens and what each grants, until they expire.
#[derive(Debug)]
pub struct AccessTokens<G> {
    issued: HashMap<String, (G, i64)>,
    /// How long an expired token is still told apart from an unknown one.
    memory_ms: i64,
}

impl<G> Default for AccessTokens<G> {
    fn default() -> Self {
        Self::new(i64::MAX)
    }
}

impl<G> AccessTokens<G> {
    /// No token yet; an expired token is recognised as expired for `memory_ms` after it expired
    /// (then it is unknown, and forgotten at the next issue).
    pub fn new(memory_ms: i64) -> Self {
        Self {
            issued: HashMap::new(),
            memory_ms,
        }
    }

    /// Records `token` as granting `grant` until `expires_ms`; forgets tokens past their memory.
    pub fn issue(&mut self, token: String, grant: G, now_ms: i64, expires_ms: i64) {
        let memory = self.memory_ms;
        self.issued
            .retain(|_, (_, at)| at.saturating_add(memory) > now_ms);
        self.issued.insert(token, (grant, expires_ms));
    }

    /// What `token` grants at `now_ms`, or why not.
    pub fn check(&self, token: &str, now_ms: i64) -> Result<&G, AccessRefusal> {
        match self.issued.get(token) {
            None => Err(AccessRefusal::Unknown),
            Some((_, at)) if at.saturating_add(self.memory_ms) <= now_ms => {
                Err(AccessRefusal::Unknown)
            }
            Some((_, at)) if *at <= now_ms => Err(AccessRefusal::Expired { at_ms: *at }),
            Some((grant, _)) => Ok(grant),
        }
    }
}

/// Why a refresh token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    /// Never issued (or forgotten after it expired).
    Unknown,
    /// Already used once.
    Reused,
    /// Expired before it was used.
    Expired,
}

#[derive(Debug, Clone)]
struct Refresh<G> {
    grant: G,
    expires_ms: i64,
    used: bool,
}

/// Refresh tokens: each works once, before it expires.
#[derive(Debug)]
pub struct RefreshTokens<G> {
    issued: HashMap<String, Refresh<G>>,
}

impl<G> Default for RefreshTokens<G> {
    fn default() -> Self {
        Self {
            issued: HashMap::new(),
        }
    }
}

impl<G: Clone> RefreshTokens<G> {
    /// None yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `token` as granting `grant` once, until `expires_ms`.
    pub fn issue(&mut self, token: String, grant: G, expires_ms: i64) {
        self.issued.insert(
            token,
            Refresh {
                grant,
                expires_ms,
                used: false,
            },
        );
    }

    /// Spends `token` at `now_ms`: what it granted, or why it cannot be used (a used token is
    /// [`RefreshRefusal::Reused`] whether or not it has expired since).
    pub fn redeem(&mut self, token: &str, now_ms: i64) -> Result<G, RefreshRefusal> {
        let Some(refresh) = self.issued.get_mut(token) else {
            return Err(RefreshRefusal::Unknown);
        };
        if refresh.used {
            return Err(RefreshRefusal::Reused);
        }
        if refresh.expires_ms <= now_ms {
            return Err(RefreshRefusal::Expired);
        }
        refresh.used = true;
        Ok(refresh.grant.clone())
    }

    /// What `token` grants (or granted), used or not.
    pub fn grant(&self, token: &str) -> Option<&G> {
        self.issued.get(token).map(|r| &r.grant)
    }

    /// Forgets the tokens that expired before `now_ms`.
    pub fn forget_expired(&mut self, now_ms: i64) {
        self.issued.retain(|_, r| r.expires_ms > now_ms);
    }
}

/// What is wrong with an `Authorization` header that should carry a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerProblem {
    /// There is none.
    Missing,
    /// It is not `Bearer <token>` (any case of `Bearer`).
    NotBearer,
}

/// The token of `Authorization: Bearer <token>`.
pub fn bearer(headers: &HeaderMap) -> Result<&str, BearerProblem> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(BearerProblem::Missing)?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or(BearerProblem::NotBearer)
}

/// Whether `a` equals `b`, in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn access_tokens_expire_and_are_forgotten_after_their_memory() {
        let mut tokens = AccessTokens::new(1_000);
        tokens.issue("a".into(), "alice", 0, 100);
        assert_eq!(tokens.check("a", 99), Ok(&"alice"));
        assert_eq!(
            tokens.check("a", 100),
            Err(AccessRefusal::Expired { at_ms: 100 })
        );
        assert_eq!(tokens.check("a", 1_100), Err(AccessRefusal::Unknown));
        assert_eq!(tokens.check("b", 0), Err(AccessRefusal::Unknown));
        tokens.issue("b".into(), "bob", 2_000, 3_000);
        assert_eq!(tokens.issued.len(), 1, "a is forgotten");
    }

    #[test]
    fn a_refresh_token_works_once() {
        let mut tokens = RefreshTokens::new();
        tokens.issue("r".into(), 7, 100);
        assert_eq!(tokens.grant("r"), Some(&7));
        assert_eq!(tokens.redeem("r", 50), Ok(7));
        assert_eq!(tokens.redeem("r", 50), Err(RefreshRefusal::Reused));
        assert_eq!(tokens.redeem("r", 500), Err(RefreshRefusal::Reused));
        tokens.issue("s".into(), 8, 100);
        assert_eq!(tokens.redeem("s", 100), Err(RefreshRefusal::Expired));
        assert_eq!(tokens.redeem("t", 0), Err(RefreshRefusal::Unknown));
        tokens.forget_expired(100);
        assert_eq!(tokens.redeem("s", 0), Err(RefreshRefusal::Unknown));
    }

    #[test]
    fn bearer_headers() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), Err(BearerProblem::Missing));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic x"));
        assert_eq!(bearer(&headers), Err(BearerProblem::NotBearer));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer  tok "),
        );
        assert_eq!(bearer(&headers), Ok("tok"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer"));
        assert_eq!(bearer(&headers), Err(BearerProblem::NotBearer));
    }

    #[test]
    fn constant_time_equality() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
