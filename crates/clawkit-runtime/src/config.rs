//! Client settings, the same for every vendor and for the library and the `claw` command line:
//! base URL, timeouts, retries and credentials, set in code or read from `<PREFIX>_*` environment
//! variables.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use crate::error::ConfigError;
use crate::retry::RetryPolicy;
use crate::state::{DEFAULT_FLEET_SIZE, Scope, Shared, StateUrl, Store};

/// The variable that chooses the state store for every vendor ([`ClientConfig::state`]).
pub const STATE_ENV: &str = "CLAWKIT_STATE";
/// The variable that says how many processes share an account ([`ClientConfig::fleet_size`]).
pub const FLEET_SIZE_ENV: &str = "CLAWKIT_FLEET_SIZE";

/// The `User-Agent` clawkit sends.
pub const USER_AGENT: &str = concat!("clawkit/", env!("CARGO_PKG_VERSION"));

/// The credentials a vendor may need; each vendor reads the ones it uses. `Debug` never shows a
/// secret.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// An API key (sent in a header).
    pub api_key: Option<SecretString>,
    /// An account name (password grant).
    pub username: Option<String>,
    /// Its password.
    pub password: Option<SecretString>,
    /// An OAuth client id (client-credentials grant).
    pub client_id: Option<String>,
    /// Its secret.
    pub client_secret: Option<SecretString>,
    /// A ready bearer token.
    pub token: Option<SecretString>,
}

/// The environment variables [`ClientConfig::from_env`] reads, after `<PREFIX>_`.
pub const ENV_SUFFIXES: [&str; 8] = [
    "BASE_URL",
    "API_KEY",
    "USERNAME",
    "PASSWORD",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "TOKEN",
    "TIMEOUT",
];

/// Settings of a client: where, how long, how to retry, and with which credentials.
///
/// ```
/// use clawkit_runtime::ClientConfig;
///
/// let config = ClientConfig::for_prefix("ACME").api_key("sandbox-key");
/// assert_eq!(config.base_url_or("https://api.acme.example").unwrap(), "https://api.acme.example");
/// assert!(!format!("{config:?}").contains("sandbox-key"));
/// ```
#[derive(Debug, Clone)]
pub struct ClientConfig {
    prefix: Option<String>,
    base_url: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    retry: RetryPolicy,
    credentials: Credentials,
    /// The state URL and where it came from (the builder or the variable), for messages.
    state: Option<(String, &'static str)>,
    store: Option<Arc<dyn Store>>,
    fleet_size: Option<u32>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            prefix: None,
            base_url: None,
            timeout: None,
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            credentials: Credentials::default(),
            state: None,
            store: None,
            fleet_size: None,
        }
    }
}

impl ClientConfig {
    /// Empty settings whose errors name the environment variables `<prefix>_*`.
    pub fn for_prefix(prefix: &str) -> Self {
        Self {
            prefix: Some(prefix.to_string()),
            ..Self::default()
        }
    }

    /// Settings from the environment: `<prefix>_BASE_URL`, `_API_KEY`, `_USERNAME`, `_PASSWORD`,
    /// `_CLIENT_ID`, `_CLIENT_SECRET`, `_TOKEN` and `_TIMEOUT` (seconds), and for every vendor
    /// `CLAWKIT_STATE` (the state store, see [`ClientConfig::state`]) and `CLAWKIT_FLEET_SIZE`.
    /// Unset and empty variables are left out; a vendor says which credentials it needs when the
    /// client is built.
    pub fn from_env(prefix: &str) -> Result<Self, ConfigError> {
        Self::from_vars(prefix, |name| std::env::var(name).ok())
    }

    /// [`ClientConfig::from_env`] with another source of variables (`name` is the whole variable
    /// name, e.g. `ACME_API_KEY`): the embedded sandbox's credentials, a file, a test.
    pub fn from_vars(
        prefix: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let get =
            |suffix: &str| lookup(&format!("{prefix}_{suffix}")).filter(|v| !v.trim().is_empty());
        let secret = |suffix: &str| get(suffix).map(SecretString::from);
        let mut config = Self::for_prefix(prefix);
        config.base_url = get("BASE_URL");
        config.credentials = Credentials {
            api_key: secret("API_KEY"),
            username: get("USERNAME"),
            password: secret("PASSWORD"),
            client_id: get("CLIENT_ID"),
            client_secret: secret("CLIENT_SECRET"),
            token: secret("TOKEN"),
        };
        if let Some(t) = get("TIMEOUT") {
            let secs = t
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0)
                .ok_or_else(|| ConfigError::Invalid {
                    field: format!("{prefix}_TIMEOUT"),
                    reason: format!("expected a number of seconds above 0, got `{t}`"),
                })?;
            config.timeout = Some(Duration::from_secs_f64(secs));
        }
        let unprefixed = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        config.state = unprefixed(STATE_ENV).map(|url| (url, STATE_ENV));
        if let Some(n) = unprefixed(FLEET_SIZE_ENV) {
            config.fleet_size =
                Some(parse_fleet_size(&n).map_err(|reason| ConfigError::Invalid {
                    field: FLEET_SIZE_ENV.into(),
                    reason,
                })?);
        }
        Ok(config)
    }

    /// The API's base URL (a trailing `/` is dropped).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into().trim_end_matches('/').to_string());
        self
    }

    /// Timeout of one ordinary request (the vendor chooses the default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Timeout of making a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How failed requests are retried (default: 1, 2, 4, 8, 16 s with jitter).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// An API key.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.credentials.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// An account and its password.
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials.username = Some(username.into());
        self.credentials.password = Some(SecretString::from(password.into()));
        self
    }

    /// An OAuth client id and secret.
    pub fn client_credentials(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.credentials.client_id = Some(id.into());
        self.credentials.client_secret = Some(SecretString::from(secret.into()));
        self
    }

    /// A ready bearer token.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.credentials.token = Some(SecretString::from(token.into()));
        self
    }

    /// Where what several processes on one account must share is kept: the rate limits, the
    /// backoff a server asked for, the token, requests in flight. `memory` (the default: this
    /// process only), `sqlite://PATH` (the processes of one host; cargo feature `state-sqlite`)
    /// or `redis://HOST:PORT[/DB]` / `rediss://` (a fleet; feature `state-redis`). Overrides
    /// `CLAWKIT_STATE`. A URL that is not one of these forms is refused when the client is built.
    pub fn state(mut self, url: impl Into<String>) -> Self {
        self.state = Some((url.into(), "state"));
        self.store = None;
        self
    }

    /// A store opened elsewhere (shared by clients built in code, a custom [`Store`]); overrides
    /// [`ClientConfig::state`].
    pub fn state_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// How many processes share an account (default 4): while a shared store cannot be reached,
    /// each process goes on alone with every limit divided by this. Overrides
    /// `CLAWKIT_FLEET_SIZE`.
    pub fn fleet_size(mut self, processes: u32) -> Self {
        self.fleet_size = Some(processes.max(1));
        self
    }

    /// The state URL given (`memory` when none), checked.
    pub fn state_url(&self) -> Result<StateUrl, ConfigError> {
        match &self.state {
            None => Ok(StateUrl::Memory),
            Some((url, field)) => {
                url.parse()
                    .map_err(|e: crate::state::BadStateUrl| ConfigError::Invalid {
                        field: field.to_string(),
                        reason: e.to_string(),
                    })
            }
        }
    }

    /// The state of the account known as `identity` of `vendor` at `origin`, its records sealed
    /// with a key derived from `secrets` (see [`Scope::new`]), for
    /// [`crate::RuntimeBuilder::state`]: the given store, or the store of the state URL behind
    /// its fallback; `None` for `memory` (each runtime keeps its own).
    pub fn shared(
        &self,
        vendor: &str,
        origin: &str,
        identity: &str,
        secrets: &[&[u8]],
    ) -> Result<Option<Shared>, ConfigError> {
        let store = match &self.store {
            Some(store) => store.clone(),
            None => {
                let url = self.state_url()?;
                if url == StateUrl::Memory {
                    return Ok(None);
                }
                let fleet = self.fleet_size.unwrap_or(DEFAULT_FLEET_SIZE);
                url.open_for_fleet(fleet)
                    .map_err(|e| ConfigError::Invalid {
                        field: self.state.as_ref().map_or("state", |s| s.1).to_string(),
                        reason: format!("cannot open {url}: {e}"),
                    })?
            }
        };
        Ok(Some(Shared::new(
            store,
            Scope::new(vendor, origin, identity, secrets),
        )))
    }

    /// [`ClientConfig::shared`] for an account known only by its API key or token: the key is
    /// both its identity (hashed into the keys) and what its records are sealed with.
    pub fn shared_by_key(
        &self,
        vendor: &str,
        origin: &str,
        key: &SecretString,
    ) -> Result<Option<Shared>, ConfigError> {
        use secrecy::ExposeSecret;
        let key = key.expose_secret();
        self.shared(vendor, origin, key, &[key.as_bytes()])
    }

    /// The credentials given.
    pub fn given(&self) -> &Credentials {
        &self.credentials
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// The request timeout, or `default`.
    pub fn timeout_or(&self, default: Duration) -> Duration {
        self.timeout.unwrap_or(default)
    }

    /// The environment variable that sets `suffix` (e.g. `ACME_API_KEY`), for messages.
    pub fn env_name(&self, suffix: &str) -> String {
        match &self.prefix {
            Some(p) => format!("{p}_{suffix}"),
            None => suffix.to_string(),
        }
    }

    /// The client id and secret (`<PREFIX>_CLIENT_ID`, `<PREFIX>_CLIENT_SECRET`), or the
    /// [`ConfigError::Missing`] that names both, `what` they are and the builder `method`.
    pub fn client_credentials_or_missing(
        &self,
        what: &'static str,
        method: &'static str,
    ) -> Result<(String, SecretString), ConfigError> {
        let given = self.given();
        match (given.client_id.clone(), given.client_secret.clone()) {
            (Some(id), Some(secret)) => Ok((id, secret)),
            _ => Err(self.missing(what, method, &["CLIENT_ID", "CLIENT_SECRET"])),
        }
    }

    /// The bearer token (`<PREFIX>_TOKEN`), or the [`ConfigError::Missing`] that names it, `what`
    /// it is and the builder `method`.
    pub fn token_or_missing(
        &self,
        what: &'static str,
        method: &'static str,
    ) -> Result<SecretString, ConfigError> {
        self.given()
            .token
            .clone()
            .ok_or_else(|| self.missing(what, method, &["TOKEN"]))
    }

    /// The error for credentials not given: `what` (e.g. "client credentials"), the builder
    /// `method` that sets them, and the environment variables (`<PREFIX>_<suffix>`) that do.
    pub fn missing(
        &self,
        what: &'static str,
        method: &'static str,
        suffixes: &[&str],
    ) -> ConfigError {
        ConfigError::Missing {
            what,
            method,
            env: suffixes
                .iter()
                .map(|s| self.env_name(s))
                .collect::<Vec<_>>()
                .join(" and "),
        }
    }

    /// The base URL, or `default`: checked to be an http or https URL.
    pub fn base_url_or(&self, default: &str) -> Result<String, ConfigError> {
        let url = self
            .base_url
            .clone()
            .unwrap_or_else(|| default.trim_end_matches('/').to_string());
        let invalid = |reason: String| ConfigError::Invalid {
            field: "base URL".into(),
            reason,
        };
        let parsed =
            reqwest::Url::parse(&url).map_err(|e| invalid(format!("`{url}` is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid(format!("`{url}` must be http or https")));
        }
        Ok(url)
    }

    /// The one HTTP client of a facade client: clawkit's user agent, the connect timeout, and a
    /// 120 s read timeout between chunks. Each API request gets its whole-request timeout from the
    /// runtime; downloads have none.
    pub fn http_client(&self) -> Result<reqwest::Client, ConfigError> {
        reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(self.connect_timeout)
            .read_timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| ConfigError::Http(e.to_string()))
    }
}

fn parse_fleet_size(text: &str) -> Result<u32, String> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| format!("expected a number of processes, 1 or more, got `{text}`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn reads_the_prefixed_variables_and_skips_empty_ones() {
        let c = ClientConfig::from_vars(
            "ACME",
            vars(&[
                ("ACME_USERNAME", "me"),
                ("ACME_PASSWORD", "pw"),
                ("ACME_API_KEY", "  "),
                ("ACME_BASE_URL", "http://127.0.0.1:1/acme"),
                ("ACME_TIMEOUT", "2.5"),
                ("OTHER_API_KEY", "not mine"),
            ]),
        )
        .unwrap();
        assert_eq!(c.given().username.as_deref(), Some("me"));
        assert_eq!(c.given().password.as_ref().unwrap().expose_secret(), "pw");
        assert!(c.given().api_key.is_none());
        assert_eq!(c.timeout_or(Duration::ZERO), Duration::from_millis(2500));
        assert_eq!(
            c.base_url_or("https://x").unwrap(),
            "http://127.0.0.1:1/acme"
        );
        assert!(!format!("{c:?}").contains("pw\""));
    }

    #[test]
    fn reads_the_state_store_and_the_fleet_size_for_every_vendor() {
        let c = ClientConfig::from_vars(
            "ACME",
            vars(&[
                ("CLAWKIT_STATE", "sqlite:///tmp/x.db"),
                ("CLAWKIT_FLEET_SIZE", "8"),
            ]),
        )
        .unwrap();
        assert_eq!(c.state_url().unwrap(), StateUrl::Sqlite("/tmp/x.db".into()));
        assert_eq!(c.fleet_size, Some(8));
        assert_eq!(
            c.clone().state("memory").state_url().unwrap(),
            StateUrl::Memory
        );
        assert!(
            c.clone()
                .state("memory")
                .shared("v", "o", "i", &[])
                .unwrap()
                .is_none()
        );
        assert_eq!(
            ClientConfig::default().state_url().unwrap(),
            StateUrl::Memory
        );

        let e = ClientConfig::from_vars("ACME", vars(&[("CLAWKIT_STATE", "postgres://db")]))
            .unwrap()
            .state_url()
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("CLAWKIT_STATE: state URL `postgres://db`"),
            "{e}"
        );
        assert!(e.contains("sqlite://PATH") && e.contains("redis://"), "{e}");
        let e = ClientConfig::default()
            .state("redis://:secret@h:x")
            .state_url()
            .unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(e.to_string().starts_with("state: "), "{e}");
        let e = ClientConfig::from_vars("ACME", vars(&[("CLAWKIT_FLEET_SIZE", "0")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "CLAWKIT_FLEET_SIZE: expected a number of processes, 1 or more, got `0`"
        );
    }

    #[test]
    fn bad_settings_name_the_variable_or_the_field() {
        let e = ClientConfig::from_vars("X", vars(&[("X_TIMEOUT", "soon")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "X_TIMEOUT: expected a number of seconds above 0, got `soon`"
        );
        let c = ClientConfig::for_prefix("ACME").base_url("not a url");
        assert!(
            c.base_url_or("https://x")
                .unwrap_err()
                .to_string()
                .contains("not a URL")
        );
        let c = ClientConfig::default().base_url("ftp://example.com");
        assert!(
            c.base_url_or("https://x")
                .unwrap_err()
                .to_string()
                .contains("http or https")
        );
        let m = ClientConfig::for_prefix("ACME").missing("API key", "api_key", &["API_KEY"]);
        assert_eq!(
            m.to_string(),
            "no API key: call .api_key(..) or set ACME_API_KEY"
        );
    }
}
