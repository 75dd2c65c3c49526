//! Browser sessions: the `wss://cloud.bots.win?token=...` WebSocket held by the runtime's relay,
//! so the session ends (and stops billing) when the handle is dropped or goes idle.

use std::time::Duration;

use clawkit_runtime::relay::{EndCause, Ended, Relay, RelayOptions};
use secrecy::{ExposeSecret, SecretString};

use super::client::Client;
use super::error::Error;
use super::models::DisconnectReason;

/// How a browser session is opened.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionOptions {
    user_data: Option<String>,
    params: Vec<(String, String)>,
    idle: Option<Option<Duration>>,
}

impl SessionOptions {
    /// A session without User Data, the client's idle guard.
    pub fn new() -> Self {
        Self::default()
    }

    /// Load and save browser state in this User Data container (`udd_...`); it is locked while
    /// the session runs.
    pub fn user_data(mut self, id: impl Into<String>) -> Self {
        self.user_data = Some(id.into());
        self
    }

    /// A browser option passed on the endpoint's query, e.g. `("device_type", "mac")` or
    /// `("--proxy-server", "http://proxy:8080")`.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// End the session when no CDP traffic passed for this long (`Duration::ZERO`: never).
    pub fn idle(mut self, idle: Duration) -> Self {
        self.idle = Some((!idle.is_zero()).then_some(idle));
        self
    }

    fn check(&self) -> Result<(), Error> {
        if let Some(id) = &self.user_data
            && (id.is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(Error::InvalidArgument(format!(
                "user_data: expected a container id such as udd_abc123xyz789defg, got {id:?}"
            )));
        }
        if let Some((name, _)) = self
            .params
            .iter()
            .find(|(name, _)| name.is_empty() || name == "token" || name == "user_data_id")
        {
            return Err(Error::InvalidArgument(format!(
                "param: {name:?} is set by the client (token, user_data_id) or empty; use SessionOptions::user_data for the container"
            )));
        }
        Ok(())
    }
}

/// How a session ended, as the service records it in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEnd {
    /// The disconnect reason: `client_closed` when this side ended it (closed, dropped, idle,
    /// or the CDP client left), the service's reason when it ended it (`insufficient_balance`,
    /// `socket_timeout`, `server_closed`), `tcp_error` when the connection failed.
    pub reason: DisconnectReason,
    /// What the relay saw.
    pub cause: EndCause,
    /// CDP messages passed through, both directions.
    pub frames: u64,
}

impl From<Ended> for SessionEnd {
    fn from(ended: Ended) -> Self {
        let reason = match &ended.cause {
            EndCause::RemoteClosed => {
                match ended.remote_close.as_ref().map(|c| c.reason.as_str()) {
                    Some(text) if !text.is_empty() => DisconnectReason::parse(text),
                    _ => DisconnectReason::ServerClosed,
                }
            }
            EndCause::RemoteLost(_) => DisconnectReason::TcpError,
            _ => DisconnectReason::ClientClosed,
        };
        SessionEnd {
            reason,
            cause: ended.cause,
            frames: ended.frames,
        }
    }
}

/// A running browser session. Give [`Session::ws_url`] to a CDP client. The session ends when
/// this handle is dropped (at once, with a Close frame: billing stops), when no CDP traffic passed
/// for the idle limit, when the CDP client disconnects, or when the service ends it.
#[must_use = "dropping a Session ends it"]
#[derive(Debug)]
pub struct Session {
    relay: Relay,
    user_data: Option<String>,
}

impl Session {
    /// The CDP WebSocket URL for the browser library (`ws://127.0.0.1:PORT/`, a local relay to
    /// the cloud browser; it holds no token), e.g. chromiumoxide's `Browser::connect(url)`.
    pub fn ws_url(&self) -> String {
        self.relay.local_url()
    }

    /// The User Data container the session uses.
    pub fn user_data(&self) -> Option<&str> {
        self.user_data.as_deref()
    }

    /// How it ended, if it has.
    pub fn try_ended(&self) -> Option<SessionEnd> {
        self.relay.try_ended().map(SessionEnd::from)
    }

    /// Waits until the session ends by itself (the service ended it, the CDP client left, idle).
    pub async fn ended(&self) -> SessionEnd {
        self.relay.ended().await.into()
    }

    /// Ends the session now and waits until the service has been told.
    pub async fn close(self) -> SessionEnd {
        self.relay.close().await.into()
    }
}

impl Client {
    /// The browser endpoint with the token and `options` in its query: for a CDP client that
    /// connects directly. **No guard**: a session opened this way bills until the client closes
    /// it or the service's 5-minute timeout; prefer [`Client::open_session`].
    pub fn browser_url(&self, options: &SessionOptions) -> Result<SecretString, Error> {
        options.check()?;
        let mut url = self.inner.browser.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("token", self.inner.token.expose_secret());
            if let Some(id) = &options.user_data {
                query.append_pair("user_data_id", id);
            }
            for (name, value) in &options.params {
                query.append_pair(name, value);
            }
        }
        Ok(SecretString::from(String::from(url)))
    }

    /// Opens a browser session behind a local relay. Refusals are typed: [`Reason`](super::error::Reason)
    /// `InsufficientBalance` (402), `TooManySessions` (429), `UserDataLocked` (423), `NotFound`
    /// (404), `Unauthorized` (401).
    pub async fn open_session(&self, options: SessionOptions) -> Result<Session, Error> {
        let url = self.browser_url(&options)?;
        let idle = options.idle.unwrap_or(self.inner.options.idle);
        let relay_options = RelayOptions {
            idle,
            ..RelayOptions::default()
        };
        let relay = Relay::open(&url, relay_options).await?;
        Ok(Session {
            relay,
            user_data: options.user_data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_carries_the_token_and_options_but_debug_does_not() {
        let client = Client::builder()
            .token("tok en&1")
            .base_url("https://cloud.bots.win")
            .build()
            .unwrap();
        let url = client
            .browser_url(
                &SessionOptions::new()
                    .user_data("udd_abc123xyz789defg")
                    .param("device_type", "mac")
                    .param("--proxy-server", "http://p:1"),
            )
            .unwrap();
        assert_eq!(
            url.expose_secret(),
            "wss://cloud.bots.win/?token=tok+en%261&user_data_id=udd_abc123xyz789defg&device_type=mac&--proxy-server=http%3A%2F%2Fp%3A1"
        );
        assert!(!format!("{client:?}").contains("tok"));
        let e = client
            .browser_url(&SessionOptions::new().user_data(" "))
            .unwrap_err();
        assert!(e.to_string().contains("user_data"), "{e}");
        let e = client
            .browser_url(&SessionOptions::new().param("token", "x"))
            .unwrap_err();
        assert!(e.to_string().contains("token"), "{e}");
    }
}
