//! What several processes on one account must share, behind one [`Store`]: rate-limit buckets
//! (GCRA, taken all-or-nothing), the backoff a server asked for (holds), leases that expire
//! (requests in flight, the token renewer's lock), versioned records (the sealed token) and
//! webhook delivery claims.
//!
//! Three stores, chosen by a URL ([`StateUrl`]): `memory` (this process only, the library's
//! default), `sqlite://PATH` (every process of one host; feature `state-sqlite`) and
//! `redis://HOST:PORT[/DB]` or `rediss://` (a fleet; feature `state-redis`, its scripts run on
//! Redis's own clock). Keys are namespaced by a [`Scope`]: the vendor, the API's origin and a hash
//! of the account's identity (never its secret), with a Redis hash tag per account.
//!
//! When a shared store cannot be reached, [`Resilient`] says so once, goes on with this process's
//! memory (every limit divided by the fleet size) and rejoins the store when it answers again.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::time::Duration;
//! use clawkit_runtime::state::{Bucket, StateUrl, Store};
//!
//! let store = "memory".parse::<StateUrl>().unwrap().open().unwrap();
//! let bucket = [Bucket::new("k", Duration::from_millis(50), 2)];
//! assert!(store.take("hold", &bucket).await.unwrap().is_zero());
//! assert!(store.take("hold", &bucket).await.unwrap().is_zero());
//! assert!(!store.take("hold", &bucket).await.unwrap().is_zero(), "the burst is spent");
//! assert!("redis:/nowhere".parse::<StateUrl>().is_err());
//! # }
//! ```

mod gcra;
mod memory;
mod resilient;
mod scope;
mod seal;
mod store;
mod url;

#[cfg(feature = "state-redis")]
mod redis;
#[cfg(feature = "state-sqlite")]
mod sqlite;

pub use memory::MemoryStore;
pub use resilient::Resilient;
pub use scope::{Scope, Shared};
pub use seal::Sealer;
pub use store::{
    Bucket, Claim, DEFAULT_FLEET_SIZE, Record, Store, StoreError, StoreFuture, holder_id,
};
pub use url::{BadStateUrl, FORMS, StateUrl};

#[cfg(feature = "state-redis")]
pub use self::redis::RedisStore;
#[cfg(feature = "state-sqlite")]
pub use sqlite::SqliteStore;

#[cfg(test)]
mod tests;
