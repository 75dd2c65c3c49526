//! User Data containers: create, list, delete, and a guard that deletes a temporary one.

use std::time::Duration;

use clawkit_runtime::Safety;
use clawkit_runtime::wait::{self, Polling};
use futures::StreamExt;

use botswin_api::types;

use crate::call::Calls;

use super::client::Client;
use super::error::{Error, Reason};

impl Client {
    /// `POST /api/user-data`: a new container. [`Reason::UserDataQuotaExceeded`] when the plan's
    /// containers are used up (delete one first). Not retried blindly: a lost answer could
    /// otherwise create two.
    pub async fn create_user_data(&self) -> Result<types::UserData, Error> {
        self.call("create_user_data", Safety::Creates, |api| {
            api.create_user_data().send()
        })
        .await
    }

    /// `GET /api/user-data`: the containers and the container quota.
    pub async fn user_data(&self) -> Result<types::UserDataList, Error> {
        self.call("list_user_data", Safety::Idempotent, |api| {
            api.list_user_data().send()
        })
        .await
    }

    /// `DELETE /api/user-data/{id}`: deletes a container and frees its slot.
    /// [`Reason::UserDataLocked`] while a session uses it, [`Reason::NotFound`] for an unknown id.
    pub async fn delete_user_data(&self, id: &str) -> Result<(), Error> {
        check_id(id)?;
        self.call("delete_user_data", Safety::Idempotent, |api| {
            api.delete_user_data().id(id).send()
        })
        .await
        .map(|_: types::DeleteResult| ())
    }

    /// A new container that is deleted when the guard is dropped, unless
    /// [`UserDataGuard::keep`] is called. Open the session with it, and let both go out of
    /// scope: the session ends first, then the container is deleted once the service has
    /// unlocked it.
    pub async fn temporary_user_data(&self) -> Result<UserDataGuard, Error> {
        let created = self.create_user_data().await?;
        Ok(UserDataGuard {
            client: self.clone(),
            id: Some(created.id),
            unlock_timeout: Duration::from_secs(60),
        })
    }

    /// Deletes a container once no session holds it: waits (polling the list) while it is
    /// locked, at most `timeout`; then the service's [`Reason::UserDataLocked`] error.
    pub async fn delete_user_data_when_free(
        &self,
        id: &str,
        timeout: Duration,
    ) -> Result<(), Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.delete_user_data(id).await {
                Err(e) if e.reason() == Some(Reason::UserDataLocked) => {}
                done => return done,
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return self.delete_user_data(id).await;
            }
            let client = self.clone();
            let wanted = id.to_string();
            let read = move || {
                let client = client.clone();
                let wanted = wanted.clone();
                async move {
                    let list = client.user_data().await.map_err(Some)?;
                    Ok::<_, Option<Error>>(list.items.iter().any(|c| c.id == wanted && c.is_locked))
                }
            };
            let polling = Polling {
                initial_interval: Duration::from_millis(100),
                factor: 1.5,
                max_interval: Duration::from_secs(2),
                timeout: left,
            };
            // A read error ends the wait with it; the deadline (`None`) with one last attempt.
            let mut waits = wait::watch(polling, read, |locked| !locked, |_| None);
            while let Some(step) = waits.next().await {
                match step {
                    Ok(_) => {}
                    Err(Some(e)) => return Err(e),
                    Err(None) => return self.delete_user_data(id).await,
                }
            }
        }
    }
}

fn check_id(id: &str) -> Result<(), Error> {
    if id.is_empty() || id.contains('/') || id.chars().any(char::is_whitespace) {
        return Err(Error::InvalidArgument(format!(
            "id: expected a container id such as udd_abc123xyz789defg, got {id:?}"
        )));
    }
    Ok(())
}

/// A User Data container deleted when dropped (in the background, once its session has
/// released it), unless kept. [`UserDataGuard::delete`] does the same and reports the outcome.
#[derive(Debug)]
#[must_use = "dropping the guard deletes the container"]
pub struct UserDataGuard {
    client: Client,
    id: Option<String>,
    unlock_timeout: Duration,
}

impl UserDataGuard {
    /// The container id, for [`SessionOptions::user_data`](super::session::SessionOptions::user_data).
    pub fn id(&self) -> &str {
        self.id.as_deref().unwrap_or("")
    }

    /// How long a drop waits for the container's session to release it (default 60 s).
    pub fn unlock_timeout(mut self, timeout: Duration) -> Self {
        self.unlock_timeout = timeout;
        self
    }

    /// Keeps the container: it is not deleted; its id is returned.
    pub fn keep(mut self) -> String {
        self.id.take().unwrap_or_default()
    }

    /// Deletes the container now (waiting while a session holds it) and says how that went.
    pub async fn delete(mut self) -> Result<(), Error> {
        match self.id.take() {
            Some(id) => {
                self.client
                    .delete_user_data_when_free(&id, self.unlock_timeout)
                    .await
            }
            None => Ok(()),
        }
    }
}

impl Drop for UserDataGuard {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(user_data = %id, "no Tokio runtime to delete the temporary User Data container: it is kept");
            return;
        };
        let client = self.client.clone();
        let timeout = self.unlock_timeout;
        runtime.spawn(async move {
            match client.delete_user_data_when_free(&id, timeout).await {
                Ok(()) => tracing::debug!(user_data = %id, "temporary User Data container deleted"),
                Err(e) => tracing::warn!(user_data = %id, error = %e, "temporary User Data container not deleted"),
            }
        });
    }
}
