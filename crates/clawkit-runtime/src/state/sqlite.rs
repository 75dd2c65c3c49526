//! The store of one host: a SQLite file (WAL) that every process opens, one short `IMMEDIATE`
//! write transaction per operation, the host's clock. Created `0600`: it holds sealed tokens.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::gcra::{self, micros};
use super::store::{Bucket, Claim, Record, Store, StoreError, StoreFuture};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS gcra (key TEXT PRIMARY KEY, tat INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS holds (key TEXT PRIMARY KEY, until INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS leases (key TEXT NOT NULL, holder TEXT NOT NULL,
    until INTEGER NOT NULL, PRIMARY KEY (key, holder));
CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, version INTEGER NOT NULL,
    value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, holder TEXT, until INTEGER NOT NULL);
";

/// How long an operation waits for another process's write transaction.
const BUSY: Duration = Duration::from_secs(5);

/// State in a SQLite file shared by the processes of one host.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError::new("sqlite", e)
}

fn now() -> i64 {
    micros(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default(),
    )
}

impl SqliteStore {
    /// Opens (creating, `0600`, with its directory) the file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
        }
        let mut file = std::fs::OpenOptions::new();
        file.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
        file.open(path)
            .map_err(|e| failed(format!("cannot open {}: {e}", path.display())))?;
        let conn = Connection::open(path).map_err(failed)?;
        conn.busy_timeout(BUSY).map_err(failed)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(failed)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(failed)?;
        conn.execute_batch(SCHEMA).map_err(failed)?;
        Ok(Self {
            path: path.to_path_buf(),
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one write transaction on a blocking thread.
    fn run<'a, T: Send + 'static>(
        &'a self,
        f: impl FnOnce(&rusqlite::Transaction<'_>, i64) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreFuture<'a, T> {
        let conn = self.conn.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = conn.lock().unwrap_or_else(|e| e.into_inner());
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let value = f(&tx, now())?;
                tx.commit()?;
                Ok::<T, rusqlite::Error>(value)
            })
            .await
            .map_err(failed)?
            .map_err(failed)
        })
    }
}

impl Store for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn take<'a>(&'a self, hold: &'a str, buckets: &'a [Bucket]) -> StoreFuture<'a, Duration> {
        let hold = hold.to_string();
        let buckets = buckets.to_vec();
        self.run(move |tx, now| {
            let held: Option<i64> = tx
                .query_row("SELECT until FROM holds WHERE key = ?1", [&hold], |r| {
                    r.get(0)
                })
                .optional()?;
            let mut tats = Vec::with_capacity(buckets.len());
            for b in &buckets {
                tats.push(
                    tx.query_row("SELECT tat FROM gcra WHERE key = ?1", [&b.key], |r| {
                        r.get(0)
                    })
                    .optional()?,
                );
            }
            Ok(match gcra::take(now, held, &buckets, &tats) {
                Ok(next) => {
                    for (b, tat) in buckets.iter().zip(next) {
                        tx.execute(
                            "INSERT INTO gcra (key, tat) VALUES (?1, ?2)
                             ON CONFLICT (key) DO UPDATE SET tat = excluded.tat",
                            params![b.key, tat],
                        )?;
                    }
                    Duration::ZERO
                }
                Err(wait) => wait,
            })
        })
    }

    fn hold<'a>(&'a self, key: &'a str, wait: Duration) -> StoreFuture<'a, ()> {
        let key = key.to_string();
        self.run(move |tx, now| {
            tx.execute(
                "INSERT INTO holds (key, until) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET until = max(until, excluded.until)",
                params![key, now.saturating_add(micros(wait))],
            )?;
            Ok(())
        })
    }

    fn lease<'a>(
        &'a self,
        key: &'a str,
        slots: u32,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        let (key, holder) = (key.to_string(), holder.to_string());
        self.run(move |tx, now| {
            tx.execute(
                "DELETE FROM leases WHERE key = ?1 AND until <= ?2",
                params![key, now],
            )?;
            let held: i64 = tx.query_row(
                "SELECT count(*) FROM leases WHERE key = ?1 AND holder <> ?2",
                params![key, holder],
                |r| r.get(0),
            )?;
            if held >= i64::from(slots.max(1)) {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO leases (key, holder, until) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key, holder) DO UPDATE SET until = excluded.until",
                params![key, holder, now.saturating_add(micros(ttl))],
            )?;
            Ok(true)
        })
    }

    fn release<'a>(&'a self, key: &'a str, holder: &'a str) -> StoreFuture<'a, ()> {
        let (key, holder) = (key.to_string(), holder.to_string());
        self.run(move |tx, _| {
            tx.execute(
                "DELETE FROM leases WHERE key = ?1 AND holder = ?2",
                params![key, holder],
            )?;
            Ok(())
        })
    }

    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Record>> {
        let key = key.to_string();
        self.run(move |tx, _| {
            tx.query_row(
                "SELECT version, value FROM records WHERE key = ?1",
                [&key],
                |r| {
                    Ok(Record {
                        version: r.get::<_, i64>(0)?.max(0) as u64,
                        value: r.get(1)?,
                    })
                },
            )
            .optional()
        })
    }

    fn save<'a>(&'a self, key: &'a str, version: u64, value: &'a [u8]) -> StoreFuture<'a, bool> {
        let (key, value) = (key.to_string(), value.to_vec());
        let version = i64::try_from(version).unwrap_or(i64::MAX - 1);
        self.run(move |tx, _| {
            let current: i64 = tx
                .query_row("SELECT version FROM records WHERE key = ?1", [&key], |r| {
                    r.get(0)
                })
                .optional()?
                .unwrap_or(0);
            if current != version {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO records (key, version, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET version = excluded.version, value = excluded.value",
                params![key, version + 1, value],
            )?;
            Ok(true)
        })
    }

    fn claim<'a>(&'a self, key: &'a str, holder: &'a str, ttl: Duration) -> StoreFuture<'a, Claim> {
        let (key, holder) = (key.to_string(), holder.to_string());
        self.run(move |tx, now| {
            if now % 97 == 0 {
                tx.execute("DELETE FROM claims WHERE until <= ?1", [now])?;
            }
            let found: Option<(Option<String>, i64)> = tx
                .query_row(
                    "SELECT holder, until FROM claims WHERE key = ?1",
                    [&key],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            Ok(match found {
                Some((None, until)) if until > now => Claim::Done,
                Some((Some(_), until)) if until > now => Claim::Busy,
                _ => {
                    tx.execute(
                        "INSERT INTO claims (key, holder, until) VALUES (?1, ?2, ?3)
                         ON CONFLICT (key) DO UPDATE SET holder = excluded.holder,
                         until = excluded.until",
                        params![key, holder, now.saturating_add(micros(ttl))],
                    )?;
                    Claim::Fresh
                }
            })
        })
    }

    fn finish<'a>(&'a self, key: &'a str, holder: &'a str, keep: Duration) -> StoreFuture<'a, ()> {
        let (key, holder) = (key.to_string(), holder.to_string());
        self.run(move |tx, now| {
            // Done unless another holder claimed it after this one's lease ended.
            tx.execute(
                "INSERT INTO claims (key, holder, until) VALUES (?1, NULL, ?3)
                 ON CONFLICT (key) DO UPDATE SET holder = NULL, until = excluded.until
                 WHERE claims.holder = ?2 OR claims.until <= ?4",
                params![key, holder, now.saturating_add(micros(keep)), now],
            )?;
            Ok(())
        })
    }

    fn abandon<'a>(&'a self, key: &'a str, holder: &'a str) -> StoreFuture<'a, ()> {
        let (key, holder) = (key.to_string(), holder.to_string());
        self.run(move |tx, _| {
            tx.execute(
                "DELETE FROM claims WHERE key = ?1 AND holder = ?2",
                params![key, holder],
            )?;
            Ok(())
        })
    }
}
