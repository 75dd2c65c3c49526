//! The top-level [`Error`] (one variant per vendor) and what every vendor's error shares.

use clawkit_runtime::{Classify, ConfigError, ErrorKind, Verdict};

#[cfg(feature = "bazhuayu")]
use crate::bazhuayu;
#[cfg(feature = "botswin")]
use crate::botswin;
#[cfg(feature = "coreclaw")]
use crate::coreclaw;
#[cfg(feature = "openclaw-devops")]
use crate::devops;
#[cfg(feature = "openclaw-fulfillment")]
use crate::fulfillment;

/// Any clawkit error: one variant per vendor, each able to say its [`ErrorKind`].
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
    /// From OpenClaw DevOps.
    #[cfg(feature = "openclaw-devops")]
    #[error(transparent)]
    Devops(#[from] devops::Error),
    /// From OpenClaw fulfillment.
    #[cfg(feature = "openclaw-fulfillment")]
    #[error(transparent)]
    Fulfillment(#[from] fulfillment::Error),
    /// From bots.win.
    #[cfg(feature = "botswin")]
    #[error(transparent)]
    Botswin(#[from] botswin::Error),
    /// Settings that cannot be used (before any vendor client exists).
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl Error {
    /// What kind of failure this is, the same for every vendor.
    pub fn kind(&self) -> ErrorKind {
        self.verdict().kind
    }

    /// Whether the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        self.verdict().transient
    }
}

impl Classify for Error {
    fn verdict(&self) -> Verdict {
        match self {
            #[cfg(feature = "coreclaw")]
            Error::Coreclaw(e) => e.verdict(),
            #[cfg(feature = "bazhuayu")]
            Error::Bazhuayu(e) => e.verdict(),
            #[cfg(feature = "openclaw-devops")]
            Error::Devops(e) => e.verdict(),
            #[cfg(feature = "openclaw-fulfillment")]
            Error::Fulfillment(e) => e.verdict(),
            #[cfg(feature = "botswin")]
            Error::Botswin(e) => e.verdict(),
            Error::Config(_) => Verdict::of(ErrorKind::Config),
        }
    }
}

/// The meaning of a wire value in a vendor's table of `(spelling, meaning)` pairs, if listed.
#[cfg(any(feature = "openclaw-fulfillment", feature = "botswin"))]
pub(crate) fn spelled<T: Clone>(table: &[(&str, T)], wire: &str) -> Option<T> {
    table
        .iter()
        .find(|(spelling, _)| *spelling == wire)
        .map(|(_, meaning)| meaning.clone())
}

/// What every vendor error has: [`Classify`]'s answers as inherent methods (no import needed),
/// and the runtime's errors as the vendor's (a body of the wrong shape is its `Decode`, a paging
/// mistake or a request refused before sending its `InvalidArgument`).
macro_rules! vendor_error {
    ($error:ty) => {
        impl $error {
            /// What kind of failure this is, the same for every vendor.
            pub fn kind(&self) -> clawkit_runtime::ErrorKind {
                clawkit_runtime::Classify::verdict(self).kind
            }

            /// Whether the same request may succeed later.
            pub fn is_retryable(&self) -> bool {
                clawkit_runtime::Classify::verdict(self).transient
            }

            /// Whether the request certainly did nothing (never sent, or refused by a rate limit),
            /// so repeating even a request that creates something cannot do it twice.
            pub fn nothing_was_done(&self) -> bool {
                clawkit_runtime::Classify::verdict(self).not_processed
            }
        }

        impl From<clawkit_runtime::DecodeError> for $error {
            fn from(e: clawkit_runtime::DecodeError) -> Self {
                Self::Decode {
                    path: e.path,
                    message: e.message,
                }
            }
        }

        impl From<clawkit_runtime::PagingError> for $error {
            fn from(e: clawkit_runtime::PagingError) -> Self {
                Self::InvalidArgument(e.to_string())
            }
        }

        impl From<clawkit_runtime::reply::InvalidRequest> for $error {
            fn from(e: clawkit_runtime::reply::InvalidRequest) -> Self {
                Self::InvalidArgument(e.0)
            }
        }
    };
}
pub(crate) use vendor_error;

/// A vendor's vocabulary of error codes from one list: the enum (each variant with its doc, plus
/// `Unlisted` for a code the spec does not list) and the table of its wire spellings, a variant
/// with several spellings taking each (`NotFound = "order_not_found" | "not_found"`).
#[cfg(any(feature = "openclaw-fulfillment", feature = "botswin"))]
macro_rules! wire_codes {
    (
        $(#[$meta:meta])*
        pub enum $name:ident in $table:ident {
            $( $(#[$doc:meta])* $variant:ident = $first:literal $(| $more:literal)* ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$doc])* $variant, )*
            /// A code not in the spec's list.
            Unlisted,
        }

        /// The spec's codes, as spelled on the wire.
        const $table: &[(&str, $name)] = &[
            $( ($first, $name::$variant), $( ($more, $name::$variant), )* )*
        ];
    };
}
#[cfg(any(feature = "openclaw-fulfillment", feature = "botswin"))]
pub(crate) use wire_codes;

/// For a vendor error with an `Api(Box<ApiError>)` variant whose `ApiError` has a `reason`, and
/// a table of the reasons' wire codes: `Reason::of`, `api()`, `reason()` and `From<ApiError>`.
#[cfg(any(feature = "openclaw-fulfillment", feature = "botswin"))]
macro_rules! api_error_access {
    ($error:ident, $api:ident, $reason:ident, $table:ident) => {
        impl $reason {
            /// The reason of a wire code (`Unlisted` for a code the spec does not list).
            pub fn of(code: &str) -> $reason {
                $crate::error::spelled($table, code).unwrap_or($reason::Unlisted)
            }
        }

        impl $error {
            /// The service's error, if this is one.
            pub fn api(&self) -> Option<&$api> {
                match self {
                    $error::Api(e) => Some(e),
                    _ => None,
                }
            }

            /// What the service's error code means, if this is an error answer.
            pub fn reason(&self) -> Option<$reason> {
                self.api().map(|e| e.reason)
            }
        }

        impl From<$api> for $error {
            fn from(e: $api) -> Self {
                $error::Api(Box::new(e))
            }
        }
    };
}
#[cfg(any(feature = "openclaw-fulfillment", feature = "botswin"))]
pub(crate) use api_error_access;
