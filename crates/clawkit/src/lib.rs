//! clawkit: typed, spec-first Rust clients for the claw automation platforms.
//!
//! Each vendor is a module behind a cargo feature (`coreclaw` and `bazhuayu`, both on by default). The low-level
//! clients are generated from the specs in `specs/` (crates `generated/<vendor>-api`); this crate
//! adds what a spec cannot say: auth, envelopes turned into typed errors, retries with backoff,
//! waiting, pagination as `Stream`s, and dynamic input schemas.
//!
//! TLS is chosen here, once: feature `rustls` (default) or `native-tls`.

#![deny(missing_docs)]

#[cfg(feature = "bazhuayu")]
pub mod bazhuayu;
#[cfg(feature = "coreclaw")]
pub mod coreclaw;
pub mod transport;

pub use transport::retry::RetryPolicy;

/// Any clawkit error: one variant per vendor.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// From CoreClaw.
    #[cfg(feature = "coreclaw")]
    #[error(transparent)]
    Coreclaw(#[from] coreclaw::Error),
    /// From Bazhuayu.
    #[cfg(feature = "bazhuayu")]
    #[error(transparent)]
    Bazhuayu(#[from] bazhuayu::Error),
}

impl Error {
    /// Whether the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            #[cfg(feature = "coreclaw")]
            Error::Coreclaw(e) => e.is_retryable(),
            #[cfg(feature = "bazhuayu")]
            Error::Bazhuayu(e) => e.is_retryable(),
        }
    }
}
