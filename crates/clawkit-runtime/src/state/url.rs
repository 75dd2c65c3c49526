//! Which store: `memory`, `sqlite://PATH` or `redis://HOST:PORT[/DB]` / `rediss://`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::memory::MemoryStore;
use super::resilient::Resilient;
use super::store::{Store, StoreError};

/// The forms a state URL takes, for error messages.
pub const FORMS: &str = "`memory`, `sqlite://PATH` (e.g. sqlite:///var/lib/app/state.db) or `redis://HOST:PORT[/DB]` (`rediss://` for TLS)";

/// A parsed state URL.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum StateUrl {
    /// This process only.
    Memory,
    /// A SQLite file for the processes of one host.
    Sqlite(PathBuf),
    /// A Redis server for a fleet (the URL as given: it may hold a password).
    Redis(String),
}

impl std::fmt::Debug for StateUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Shown without a Redis password.
impl std::fmt::Display for StateUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateUrl::Memory => f.write_str("memory"),
            StateUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            StateUrl::Redis(url) => match url.split_once("://") {
                Some((scheme, rest)) => match rest.rsplit_once('@') {
                    Some((_, host)) => write!(f, "{scheme}://[redacted]@{host}"),
                    None => f.write_str(url),
                },
                None => f.write_str(url),
            },
        }
    }
}

/// Why a state URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state URL `{given}`: {reason}; expected {FORMS}", given = .given)]
pub struct BadStateUrl {
    /// What was given (a Redis password replaced).
    pub given: String,
    /// What is wrong with it.
    pub reason: String,
}

impl std::str::FromStr for StateUrl {
    type Err = BadStateUrl;

    fn from_str(s: &str) -> Result<Self, BadStateUrl> {
        let given = s.trim();
        let bad = |reason: &str| BadStateUrl {
            given: StateUrl::Redis(given.to_string()).to_string(),
            reason: reason.to_string(),
        };
        if given.eq_ignore_ascii_case("memory") {
            return Ok(StateUrl::Memory);
        }
        let Some((scheme, rest)) = given.split_once("://") else {
            return Err(bad("not a URL"));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => {
                if rest.is_empty() {
                    return Err(bad("sqlite:// needs a file path"));
                }
                Ok(StateUrl::Sqlite(PathBuf::from(rest)))
            }
            "redis" | "rediss" => {
                let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
                let host = host.split('/').next().unwrap_or_default();
                if host.is_empty() {
                    return Err(bad("redis:// needs a host"));
                }
                if let Some((_, port)) = host.rsplit_once(':')
                    && port.parse::<u16>().is_err()
                {
                    return Err(bad("the port is not a number"));
                }
                if let Some(db) = rest.split_once('/').map(|(_, db)| db)
                    && !db.is_empty()
                    && db.parse::<u32>().is_err()
                {
                    return Err(bad("the database is not a number"));
                }
                Ok(StateUrl::Redis(given.to_string()))
            }
            other => Err(bad(&format!("unknown scheme `{other}`"))),
        }
    }
}

/// The stores this process opened, one per URL: every client on one URL shares its connection.
static OPEN: Opened<StateUrl> = Mutex::new(None);

/// Stores opened in this process, by what they were opened for.
type Opened<K> = Mutex<Option<HashMap<K, Arc<dyn Store>>>>;

/// The same, each behind its [`Resilient`] fallback, one per URL and fleet size: every client of
/// this process falls back to the same memory.
static FLEET: Opened<(StateUrl, u32)> = Mutex::new(None);

impl StateUrl {
    /// The URL in full, a Redis password included (for handing on; `Display` hides it).
    pub fn to_url_string(&self) -> String {
        match self {
            StateUrl::Redis(url) => url.clone(),
            other => other.to_string(),
        }
    }

    /// The store (one per URL and process; `memory` is a new one each time). A store whose
    /// feature is not built is an error that names the feature.
    pub fn open(&self) -> Result<Arc<dyn Store>, StoreError> {
        if *self == StateUrl::Memory {
            return Ok(Arc::new(MemoryStore::new()));
        }
        let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
        let open = open.get_or_insert_with(HashMap::new);
        if let Some(store) = open.get(self) {
            return Ok(store.clone());
        }
        let store = self.connect()?;
        open.insert(self.clone(), store.clone());
        Ok(store)
    }

    /// The store as a client uses it: `memory` as it is; a shared store behind a [`Resilient`]
    /// that goes on with this process's memory, each limit divided by `fleet`, while the store
    /// cannot be reached. One per URL and fleet size in a process.
    pub fn open_for_fleet(&self, fleet: u32) -> Result<Arc<dyn Store>, StoreError> {
        if *self == StateUrl::Memory {
            return Ok(Arc::new(MemoryStore::new()));
        }
        let key = (self.clone(), fleet.max(1));
        let mut open = FLEET.lock().unwrap_or_else(|e| e.into_inner());
        let open = open.get_or_insert_with(HashMap::new);
        if let Some(store) = open.get(&key) {
            return Ok(store.clone());
        }
        let store: Arc<dyn Store> = Arc::new(Resilient::new(self.open()?, key.1));
        open.insert(key, store.clone());
        Ok(store)
    }

    fn connect(&self) -> Result<Arc<dyn Store>, StoreError> {
        match self {
            StateUrl::Memory => Ok(Arc::new(MemoryStore::new())),
            #[cfg(feature = "state-sqlite")]
            StateUrl::Sqlite(path) => Ok(Arc::new(super::sqlite::SqliteStore::open(path)?)),
            #[cfg(not(feature = "state-sqlite"))]
            StateUrl::Sqlite(_) => Err(StoreError::new(
                "sqlite",
                "this build has no SQLite store (cargo feature `state-sqlite`)",
            )),
            #[cfg(feature = "state-redis")]
            StateUrl::Redis(url) => Ok(Arc::new(super::redis::RedisStore::open(url)?)),
            #[cfg(not(feature = "state-redis"))]
            StateUrl::Redis(_) => Err(StoreError::new(
                "redis",
                "this build has no Redis store (cargo feature `state-redis`)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms_and_names_them_when_refused() {
        assert_eq!("memory".parse::<StateUrl>().unwrap(), StateUrl::Memory);
        assert_eq!(
            "sqlite:///var/lib/x.db".parse::<StateUrl>().unwrap(),
            StateUrl::Sqlite("/var/lib/x.db".into())
        );
        let redis: StateUrl = "redis://:pw@127.0.0.1:6379/2".parse().unwrap();
        assert_eq!(redis.to_string(), "redis://[redacted]@127.0.0.1:6379/2");
        assert_eq!(redis.to_url_string(), "redis://:pw@127.0.0.1:6379/2");
        assert!(!format!("{redis:?}").contains("pw"));
        assert!("rediss://cache.example:6380".parse::<StateUrl>().is_ok());
        for (bad, why) in [
            ("postgres://db", "unknown scheme `postgres`"),
            ("sqlite://", "needs a file path"),
            ("redis://", "needs a host"),
            ("redis://h:port", "port is not a number"),
            ("redis://h:1/db", "database is not a number"),
            ("/tmp/state.db", "not a URL"),
        ] {
            let e = bad.parse::<StateUrl>().unwrap_err().to_string();
            assert!(e.contains(why) && e.contains(FORMS), "{bad}: {e}");
        }
        let e = "redis://:secret@h:x".parse::<StateUrl>().unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }
}
