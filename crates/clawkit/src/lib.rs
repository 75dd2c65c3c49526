//! clawkit: typed, spec-first Rust clients for the claw automation platforms.
//!
//! Each vendor is a module behind a cargo feature (`coreclaw`, `bazhuayu`, `openclaw-devops`
//! as `devops`, `openclaw-fulfillment` as `fulfillment`, `botswin`; all on by default). The
//! low-level clients are generated from the specs in `specs/` (crates `generated/<vendor>-api`)
//! on one runtime ([`clawkit_runtime`]: auth, token refresh, signing, retries, limits, paging,
//! downloads, config). This crate adds what a spec cannot say: envelopes turned into typed errors,
//! waits, flows, dynamic input schemas, webhook events.
//!
//! Every vendor has the same shape: a `Client` (a [`client::Service`] built by the shared
//! [`ClientBuilder`], which names the vendor once), one call path (`call.rs`),
//! errors of one shape ([`ServiceError`] with the vendor's `Reason`s; the service's answer as an
//! [`ApiError`]), webhooks received by one [`webhook::Receiver`], and its generated types
//! re-exported as `<vendor>::types` (CoreClaw's v2 ones as `coreclaw::types_v2`). The facade
//! wraps a generated type only where it adds meaning (exact decimals, typed statuses that keep
//! unknown values, one record for both CoreClaw APIs, friendlier names kept from earlier
//! releases); everywhere else the generated type is the API, so what the spec says is what you
//! get.
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

// The vendors, one declaration each: its cargo feature and its module (plain items, so that tools
// reading the module tree find their files). Nothing else outside their folders names one.
#[cfg(feature = "bazhuayu")]
pub mod bazhuayu;
#[cfg(feature = "botswin")]
pub mod botswin;
#[cfg(feature = "coreclaw")]
pub mod coreclaw;
#[cfg(feature = "openclaw-devops")]
pub mod devops;
#[cfg(feature = "openclaw-fulfillment")]
pub mod fulfillment;

mod call;
pub mod client;
pub mod error;
mod reasons;
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
