//! A token source: an access token obtained lazily, renewed before it expires, refreshed with a
//! refresh token that is never sent twice, one renewal in flight at a time, and dropped when the
//! service refuses it (the request hook then renews it once and replays the request).
//!
//! Given a shared state store ([`crate::state`]), the token is the account's: one record for every
//! process, renewed by one of them at a time (see `fleet`).
//!
//! It is generic over the grant: a vendor implements [`Grant`] in a few lines (a form POST, a JSON
//! POST) and the runtime does the rest.

mod fleet;
mod grant;

use grant::renew_after;
pub use grant::{Grant, GrantError, Token};

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

struct Current {
    header: HeaderValue,
    renew_at: Instant,
    /// The shared record's version it came from (0 when not shared).
    version: u64,
}

#[derive(Default)]
struct State {
    current: Option<Current>,
    refresh: Option<SecretString>,
    /// The last shared version the service refused: never adopted again.
    refused: u64,
}

struct Inner {
    grant: Box<dyn Grant>,
    scheme: &'static str,
    state: Mutex<State>,
    fleet: OnceLock<fleet::Fleet>,
}

/// Access tokens from a [`Grant`], shared by every clone (one token, one renewal in flight).
#[derive(Clone)]
pub struct TokenSource {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("scheme", &self.inner.scheme)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// Tokens from `grant`, sent as `Authorization: Bearer TOKEN`.
    pub fn new(grant: impl Grant) -> Self {
        Self::with_scheme(grant, "Bearer")
    }

    /// Tokens sent as `Authorization: SCHEME TOKEN` (some services spell it `bearer`).
    pub fn with_scheme(grant: impl Grant, scheme: &'static str) -> Self {
        Self {
            inner: Arc::new(Inner {
                grant: Box::new(grant),
                scheme,
                state: Mutex::new(State::default()),
                fleet: OnceLock::new(),
            }),
        }
    }

    /// Shares the token through `state`: every process with the same store and scope uses one
    /// token, renewed by one of them at a time under a lease of `lock_ttl` (longer than the token
    /// request's timeout). Set once; later calls are ignored.
    pub fn share(&self, state: crate::state::Shared, lock_ttl: Duration) {
        let _ = self.inner.fleet.set(fleet::Fleet::new(state, lock_ttl));
    }

    #[allow(clippy::result_large_err)] // the grant's own error, as every caller returns it
    fn header(&self, access: &SecretString) -> Result<HeaderValue, GrantError> {
        let mut header =
            HeaderValue::from_str(&format!("{} {}", self.inner.scheme, access.expose_secret()))
                .map_err(|_| {
                    GrantError::Invalid(
                        "the access token contains characters not allowed in an HTTP header".into(),
                    )
                })?;
        header.set_sensitive(true);
        Ok(header)
    }

    /// The `Authorization` value of a valid token, renewing it first when it is (nearly) expired.
    ///
    /// One caller renews while the others wait for its result. A refresh token is taken out of
    /// the state before it is sent, so whatever happens it is never sent twice; a failed refresh
    /// falls back to the credentials grant. A token is renewed a tenth of its lifetime (at most a
    /// minute) before it expires.
    pub async fn authorization(&self) -> Result<HeaderValue, GrantError> {
        let mut state = self.inner.state.lock().await;
        if let Some(current) = &state.current
            && Instant::now() < current.renew_at
        {
            return Ok(current.header.clone());
        }
        state.current = None;
        if let Some(fleet) = self.inner.fleet.get() {
            let adopted = fleet
                .obtain(self.inner.grant.as_ref(), state.refused)
                .await?;
            let header = self.header(&adopted.access)?;
            state.current = Some(Current {
                header: header.clone(),
                renew_at: Instant::now() + adopted.renew_in,
                version: adopted.version,
            });
            return Ok(header);
        }
        let grant = &self.inner.grant;
        let token = match state.refresh.take() {
            Some(refresh) => match grant.obtain(Some(&refresh)).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(error = %e, "token refresh failed; using the credentials grant");
                    grant.obtain(None).await?
                }
            },
            None => grant.obtain(None).await?,
        };
        let header = self.header(&token.access)?;
        let renew_at = Instant::now() + renew_after(token.lifetime);
        state.refresh = token.refresh;
        state.current = Some(Current {
            header: header.clone(),
            renew_at,
            version: 0,
        });
        tracing::debug!(lifetime = ?token.lifetime, "access token obtained");
        Ok(header)
    }

    /// The service refused the token sent as `sent`: forget it, so the next call renews (a token
    /// renewed meanwhile by another caller is kept).
    pub async fn refused(&self, sent: &HeaderValue) {
        let mut state = self.inner.state.lock().await;
        if let Some(current) = state.current.take_if(|c| c.header == *sent) {
            state.refused = state.refused.max(current.version);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::BoxFuture;
    use std::sync::Mutex as StdMutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A grant that counts its calls and records which refresh tokens it saw.
    #[derive(Clone, Default)]
    struct Counting {
        calls: Arc<AtomicUsize>,
        refreshes: Arc<StdMutex<Vec<String>>>,
        fail_refresh: bool,
        lifetime: Option<Duration>,
    }

    impl Grant for Counting {
        fn obtain<'a>(
            &'a self,
            refresh: Option<&'a SecretString>,
        ) -> BoxFuture<'a, Result<Token, GrantError>> {
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let n = self.calls.fetch_add(1, Ordering::SeqCst);
                if let Some(r) = refresh {
                    self.refreshes
                        .lock()
                        .unwrap()
                        .push(r.expose_secret().to_string());
                    if self.fail_refresh {
                        return Err(GrantError::Invalid("refresh refused".into()));
                    }
                }
                Ok(Token {
                    access: format!("at{n}").into(),
                    refresh: Some(format!("rt{n}").into()),
                    lifetime: self.lifetime,
                })
            })
        }
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_grant() {
        let grant = Counting::default();
        let source = TokenSource::new(grant.clone());
        let calls: Vec<_> = (0..16)
            .map(|_| {
                let s = source.clone();
                tokio::spawn(async move { s.authorization().await.unwrap() })
            })
            .collect();
        for c in calls {
            assert_eq!(c.await.unwrap(), "Bearer at0");
        }
        assert_eq!(grant.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn expiry_refreshes_once_and_never_resends_a_refresh_token() {
        let grant = Counting {
            lifetime: Some(Duration::from_millis(100)),
            ..Counting::default()
        };
        let source = TokenSource::with_scheme(grant.clone(), "bearer");
        assert_eq!(source.authorization().await.unwrap(), "bearer at0");
        tokio::time::sleep(Duration::from_millis(120)).await;
        let (a, b) = tokio::join!(source.authorization(), source.authorization());
        assert_eq!(a.unwrap(), "bearer at1");
        assert_eq!(b.unwrap(), "bearer at1");
        tokio::time::sleep(Duration::from_millis(120)).await;
        source.authorization().await.unwrap();
        assert_eq!(*grant.refreshes.lock().unwrap(), vec!["rt0", "rt1"]);
    }

    #[tokio::test]
    async fn a_failed_refresh_falls_back_to_the_credentials() {
        let grant = Counting {
            lifetime: Some(Duration::from_millis(50)),
            fail_refresh: true,
            ..Counting::default()
        };
        let source = TokenSource::new(grant.clone());
        source.authorization().await.unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(source.authorization().await.unwrap(), "Bearer at2");
        assert_eq!(
            grant.calls.load(Ordering::SeqCst),
            3,
            "first, failed refresh, fallback"
        );
        // the failed refresh token is gone: the next renewal uses the fallback's refresh token
        tokio::time::sleep(Duration::from_millis(60)).await;
        source.authorization().await.unwrap();
        assert_eq!(*grant.refreshes.lock().unwrap(), vec!["rt0", "rt2"]);
    }

    #[tokio::test]
    async fn a_refused_token_is_replaced_but_a_newer_one_is_kept() {
        let grant = Counting::default();
        let source = TokenSource::new(grant.clone());
        let first = source.authorization().await.unwrap();
        source.refused(&first).await;
        let second = source.authorization().await.unwrap();
        assert_ne!(first, second);
        source.refused(&first).await; // a late report about the old token
        assert_eq!(source.authorization().await.unwrap(), second);
        assert!(second.is_sensitive());
    }
}
