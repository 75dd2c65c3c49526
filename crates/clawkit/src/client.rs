//! The client builder every vendor shares: base URL, timeouts, retries and credentials in a
//! [`ClientConfig`] (from code or from `<PREFIX>_*` environment variables), plus each vendor's own
//! settings.

use std::time::Duration;

use clawkit_runtime::{ClientConfig, ConfigError, RetryPolicy};

/// What a vendor's client tells the shared builder, and the vendor's identity, written once: the
/// error texts, the CLI and the sandbox's URL prefix all take it from here.
pub trait Service: Sized {
    /// The vendor's name as a machine says it: the sandbox's URL prefix (without the slash) and
    /// the name of its fault rules, e.g. `openclaw-devops`.
    const NAME: &'static str;
    /// The vendor's name as people read it in messages, e.g. `OpenClaw DevOps`.
    const TITLE: &'static str;
    /// Its environment prefix, e.g. `CORECLAW` for `CORECLAW_API_KEY`.
    const ENV_PREFIX: &'static str;
    /// The vendor's error.
    type Error: From<ConfigError>;
    /// The vendor's own settings.
    type Options: Default + Clone + std::fmt::Debug;
    /// Builds the client.
    fn build(config: ClientConfig, options: Self::Options) -> Result<Self, Self::Error>;
}

/// Settings for a vendor's client; `Debug` never shows a secret.
pub struct ClientBuilder<S: Service> {
    pub(crate) config: ClientConfig,
    pub(crate) options: S::Options,
}

impl<S: Service> Clone for ClientBuilder<S> {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            options: self.options.clone(),
        }
    }
}

impl<S: Service> std::fmt::Debug for ClientBuilder<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("options", &self.options)
            .finish()
    }
}

impl<S: Service> Default for ClientBuilder<S> {
    fn default() -> Self {
        Self::from_config(ClientConfig::for_prefix(S::ENV_PREFIX))
    }
}

impl<S: Service> ClientBuilder<S> {
    /// Starts from settings made elsewhere (the CLI's, a config file's).
    pub fn from_config(config: ClientConfig) -> Self {
        Self {
            config,
            options: S::Options::default(),
        }
    }

    /// Starts from the vendor's `<PREFIX>_*` environment variables (see
    /// [`ClientConfig::from_env`]).
    pub fn from_env() -> Result<Self, S::Error> {
        Ok(Self::from_config(ClientConfig::from_env(S::ENV_PREFIX)?))
    }

    /// Changes the shared settings.
    pub fn config(mut self, f: impl FnOnce(ClientConfig) -> ClientConfig) -> Self {
        self.config = f(self.config);
        self
    }

    /// The API's base URL (default: the vendor's production URL).
    pub fn base_url(self, url: impl Into<String>) -> Self {
        self.config(|c| c.base_url(url))
    }

    /// Timeout of one ordinary request (the vendor's default otherwise).
    pub fn timeout(self, timeout: Duration) -> Self {
        self.config(|c| c.timeout(timeout))
    }

    /// How failed requests are retried (default: 1, 2, 4, 8, 16 s with jitter).
    pub fn retry(self, policy: RetryPolicy) -> Self {
        self.config(|c| c.retry(policy))
    }

    /// Where what several processes on one account share is kept (the rate limits, the backoff
    /// the service asked for, the token, requests in flight): `memory` (the default),
    /// `sqlite://PATH` (one host; feature `state-sqlite`) or `redis://HOST:PORT[/DB]` /
    /// `rediss://` (a fleet; feature `state-redis`). Overrides `CLAWKIT_STATE`; a bad URL is
    /// refused by [`ClientBuilder::build`], naming the forms. See the README's "Running several
    /// processes".
    pub fn state(self, url: impl Into<String>) -> Self {
        self.config(|c| c.state(url))
    }

    /// How many processes share the account (default 4; `CLAWKIT_FLEET_SIZE`): while the store
    /// cannot be reached, each process goes on alone with every limit divided by this.
    pub fn fleet_size(self, processes: u32) -> Self {
        self.config(|c| c.fleet_size(processes))
    }

    /// Builds the client. No request is made.
    pub fn build(self) -> Result<S, S::Error> {
        S::build(self.config, self.options)
    }
}

/// How every vendor's client shows itself: its base URL, never its credentials.
pub(crate) fn debug_client(f: &mut std::fmt::Formatter<'_>, base_url: &str) -> std::fmt::Result {
    f.debug_struct("Client")
        .field("base_url", &base_url)
        .field("credentials", &"[redacted]")
        .finish_non_exhaustive()
}

/// Applies a setter only when there is a value: `builder.optionally(filter.status, |b, s| b.status(s))`
/// instead of an `if let Some(..)` per optional argument.
pub trait Optionally: Sized {
    /// `set(self, value)` when `value` is `Some`, else `self` unchanged.
    fn optionally<T>(self, value: Option<T>, set: impl FnOnce(Self, T) -> Self) -> Self {
        match value {
            Some(value) => set(self, value),
            None => self,
        }
    }
}

impl<B> Optionally for B {}
