//! One token for every process of an account: the token record (access token, refresh token,
//! when to renew, its version as the generation) sealed in the state store, renewed by one
//! process at a time under a lease that outlives the token request, adopted by the others.
//!
//! A refresh token is taken out of the record before it is sent, so even a renewer killed in the
//! middle never lets another send it again. When the refresh is refused (`invalid_grant`: another
//! renewer may have used it), the record is read again before the credentials grant. A lease that
//! cannot be taken never means "renew unguarded": the others wait for the new generation.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::grant::{Grant, GrantError, Token, renew_after};
use crate::state::{Claim, Shared, StoreError, holder_id};

/// How often a process waiting for another's renewal reads the record again.
const POLL: Duration = Duration::from_millis(50);

/// What the store holds, sealed.
#[derive(Serialize, Deserialize)]
struct Sealed {
    access: String,
    refresh: Option<String>,
    /// When to renew, in Unix milliseconds.
    renew_at_ms: u64,
}

/// A token taken from the record.
pub(super) struct Adopted {
    pub(super) access: SecretString,
    pub(super) renew_in: Duration,
    pub(super) version: u64,
}

pub(super) struct Fleet {
    shared: Shared,
    key: String,
    lock: String,
    holder: String,
    lock_ttl: Duration,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn unreachable(e: StoreError) -> GrantError {
    GrantError::Invalid(format!(
        "the token could not be renewed safely: {e} (the token is shared through the state store)"
    ))
}

impl Fleet {
    pub(super) fn new(shared: Shared, lock_ttl: Duration) -> Self {
        Self {
            key: shared.key("token"),
            lock: shared.key("token:renew"),
            holder: holder_id(),
            shared,
            lock_ttl,
        }
    }

    /// The record's version and, when it opens with this account's key, its content.
    async fn read(&self) -> Result<(u64, Option<Sealed>), StoreError> {
        let Some(record) = self.shared.store.load(&self.key).await? else {
            return Ok((0, None));
        };
        let sealed = self
            .shared
            .scope
            .sealer()
            .open(&record.value, self.key.as_bytes())
            .and_then(|plain| serde_json::from_slice(&plain).ok());
        Ok((record.version, sealed))
    }

    /// The record's token when it is usable: not due for renewal, and newer than `refused`.
    fn usable(version: u64, sealed: &Option<Sealed>, refused: u64) -> Option<Adopted> {
        let sealed = sealed.as_ref()?;
        let now = now_ms();
        (version > refused && sealed.renew_at_ms > now).then(|| Adopted {
            access: SecretString::from(sealed.access.clone()),
            renew_in: Duration::from_millis(sealed.renew_at_ms - now),
            version,
        })
    }

    async fn save(&self, version: u64, sealed: &Sealed) -> Result<bool, StoreError> {
        let plain = serde_json::to_vec(sealed).unwrap_or_default();
        let value = self.shared.scope.sealer().seal(&plain, self.key.as_bytes());
        self.shared.store.save(&self.key, version, &value).await
    }

    /// A usable token for the account: the record's, or one this process renews under the lease
    /// while the others wait. `refused` is the version the service last refused.
    pub(super) async fn obtain(
        &self,
        grant: &dyn Grant,
        refused: u64,
    ) -> Result<Adopted, GrantError> {
        let deadline = tokio::time::Instant::now() + self.lock_ttl * 3;
        loop {
            let (version, sealed) = self.read().await.map_err(unreachable)?;
            if let Some(token) = Self::usable(version, &sealed, refused) {
                return Ok(token);
            }
            match self
                .shared
                .store
                .claim(&self.lock, &self.holder, self.lock_ttl)
                .await
                .map_err(unreachable)?
            {
                Claim::Fresh => {
                    let renewed = self.renew(grant, refused).await;
                    if let Err(e) = self.shared.store.abandon(&self.lock, &self.holder).await {
                        tracing::debug!(error = %e, "the renewal lease ends by itself");
                    }
                    return renewed;
                }
                Claim::Busy | Claim::Done => {
                    if tokio::time::Instant::now() > deadline {
                        return Err(GrantError::Invalid(
                            "another process holds the token's renewal lease and has not renewed it"
                                .into(),
                        ));
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }

    /// Under the lease: read again, then refresh (the refresh token taken out first) or grant.
    async fn renew(&self, grant: &dyn Grant, refused: u64) -> Result<Adopted, GrantError> {
        let (mut version, sealed) = self.read().await.map_err(unreachable)?;
        if let Some(token) = Self::usable(version, &sealed, refused) {
            return Ok(token);
        }
        if let Some(mut sealed) = sealed
            && let Some(refresh) = sealed.refresh.take()
        {
            // Out of the record before it is sent: it is never sent twice.
            if self.save(version, &sealed).await.map_err(unreachable)? {
                version += 1;
                let refresh = SecretString::from(refresh);
                match grant.obtain(Some(&refresh)).await {
                    Ok(token) => return self.keep(version, token).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "token refresh failed; reading the shared token again");
                        let (now, sealed) = self.read().await.map_err(unreachable)?;
                        if let Some(token) = Self::usable(now, &sealed, refused) {
                            return Ok(token);
                        }
                        version = now;
                    }
                }
            } else {
                // Someone saved since (a lease that had run out): theirs, if usable.
                let (now, sealed) = self.read().await.map_err(unreachable)?;
                if let Some(token) = Self::usable(now, &sealed, refused) {
                    return Ok(token);
                }
                version = now;
            }
        }
        let token = grant.obtain(None).await?;
        self.keep(version, token).await
    }

    /// Saves a new token as the next generation and adopts it.
    async fn keep(&self, version: u64, token: Token) -> Result<Adopted, GrantError> {
        let after = renew_after(token.lifetime);
        let sealed = Sealed {
            access: token.access.expose_secret().to_string(),
            refresh: token
                .refresh
                .as_ref()
                .map(|r| r.expose_secret().to_string()),
            renew_at_ms: now_ms().saturating_add(after.as_millis() as u64),
        };
        let saved = self.save(version, &sealed).await.map_err(unreachable)?;
        if !saved {
            tracing::debug!("another process saved a token meanwhile; using this one here");
        }
        tracing::debug!(
            generation = version + 1,
            "access token renewed for the account"
        );
        Ok(Adopted {
            access: token.access,
            renew_in: after,
            version: if saved { version + 1 } else { version },
        })
    }
}
