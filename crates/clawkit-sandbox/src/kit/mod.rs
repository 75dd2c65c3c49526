//! What every vendor's server needs, written once; each vendor only chooses and configures it.
//!
//! - [`tokens`]: access tokens that expire, refresh tokens that work once, the bearer header;
//! - [`limits`]: token buckets, windows and leases per account, and the 429 with `Retry-After`;
//! - [`delivery`]: webhook delivery (the vendor's signature, attempts, backoff, disabling) and
//!   receiver URLs;
//! - [`clock`]: one clock (offset, time scale) and RFC 3339 times via chrono;
//! - [`read`]: request reading that collects every field problem for the vendor's error body;
//! - [`pages`]: page-number, offset and cursor cuts;
//! - [`ids`]: seeded ids and numbers, and random ones for tokens.

pub mod clock;
pub mod delivery;
pub mod ids;
pub mod limits;
pub mod pages;
pub mod problem;
pub mod read;
pub mod tokens;
mod urls;
