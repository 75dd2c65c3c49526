//! clawkit: typed, spec-first Rust clients for the claw automation platforms.
//!
//! Each vendor is a module behind a cargo feature (`coreclaw` and `bazhuayu`, both on by
//! default). The low-level clients are generated from the specs in `specs/` (crates
//! `generated/<vendor>-api`) on one runtime ([`clawkit_runtime`]: auth, token refresh, signing,
//! retries, limits, paging, downloads, config). This crate adds what a spec cannot say: envelopes
//! turned into typed errors, waits, flows, dynamic input schemas, webhook events.
//!
//! Every error, of every vendor, says what kind of failure it is ([`ErrorKind`]) and whether
//! trying again may help:
//!
//! ```
//! use clawkit::{Classify, ErrorKind};
//!
//! fn advice(e: &clawkit::Error) -> &'static str {
//!     match e.kind() {
//!         ErrorKind::Auth | ErrorKind::Config => "check the credentials",
//!         ErrorKind::RateLimit | ErrorKind::Server | ErrorKind::Transport | ErrorKind::Timeout
//!             if e.is_retryable() => "try again later",
//!         ErrorKind::NotFound | ErrorKind::InvalidInput => "fix the request",
//!         _ => "see the message",
//!     }
//! }
//! # let _ = advice;
//! ```
//!
//! TLS is chosen here, once: feature `rustls` (default) or `native-tls`.

#![deny(missing_docs)]

#[cfg(feature = "bazhuayu")]
pub mod bazhuayu;
#[cfg(feature = "botswin")]
pub mod botswin;
mod call;
pub mod client;
#[cfg(feature = "coreclaw")]
pub mod coreclaw;
#[cfg(feature = "openclaw-devops")]
pub mod devops;
pub mod error;
#[cfg(feature = "openclaw-fulfillment")]
pub mod fulfillment;
pub mod webhook;

pub use clawkit_runtime as runtime;
/// Object storage destinations (feature `object-store`): see [`runtime::objects`].
#[cfg(feature = "object-store")]
pub use clawkit_runtime::objects;
pub use clawkit_runtime::{
    Classify, ClientConfig, ConfigError, ErrorKind, Page, Paged, RetryPolicy, TransportError,
    Verdict,
};
pub use client::ClientBuilder;
pub use error::{ApiError, Error, FieldProblem, ServiceError};
