//! A vendor's vocabulary of error codes from one list ([`reasons!`]), and the rules each entry is
//! judged by ([`Rule`]).

use clawkit_runtime::{ErrorKind, Verdict};

use crate::error::ApiError;

/// How a listed reason is judged (the rules of [`reasons!`]'s lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[doc(hidden)]
pub enum Rule {
    /// Of this kind, and final.
    Final(ErrorKind),
    /// A rate limit: try again after the `Retry-After` (the request was refused before anything
    /// was done).
    Limit,
    /// Of this kind, worth another try after the `Retry-After`.
    Retry(ErrorKind),
    /// Of this kind, refused before anything was done, and worth sending again at once (a
    /// signature made with a clock the answer has corrected).
    Resend(ErrorKind),
    /// As the HTTP status says, after the `Retry-After`.
    Status,
    /// Of the kind the HTTP status says, and final.
    FinalStatus,
}

impl Rule {
    /// The verdict on an error answer.
    pub fn verdict<R>(self, api: &ApiError<R>) -> Verdict {
        match self {
            Rule::Final(kind) => Verdict::of(kind).final_(),
            Rule::Limit => Verdict::of(ErrorKind::RateLimit).retry_after(api.retry_after),
            Rule::Retry(kind) => Verdict::of(kind).retry_after(api.retry_after),
            Rule::Resend(kind) => Verdict {
                transient: true,
                not_processed: true,
                ..Verdict::of(kind)
            },
            Rule::Status => Verdict::from_status(api.status).retry_after(api.retry_after),
            Rule::FinalStatus => Verdict::from_status(api.status).final_(),
        }
    }
}

/// A vendor's vocabulary of error codes from one list: the `Reason` enum (each variant with its
/// doc, plus `Unlisted`), its wire spellings and the statuses it stands for, how each is judged
/// ([`Rule`]), and [`Reasons`](crate::error::Reasons) for it; the vendor's `ApiError` and `Error`
/// (over that `Reason`), and `From<Flow>` for its error.
///
/// ```text
/// reasons! {
///     /// What an error answer's `code` means.
///     pub enum Reason {
///         /// `not_found`.
///         NotFound("order_not_found", "not_found") => Final(NotFound),
///         /// 401, whatever the code.
///         Unauthorized("unauthorized"; 401) => Final(Auth),
///         /// `rate_limited`.
///         RateLimited("rate_limited") => Limit,
///     }
///     unlisted => Status;
///     flow => Flow;
///     describe => describe;
/// }
/// ```
///
/// A code or status is looked up in the list's order: the first variant naming either wins.
macro_rules! reasons {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$doc:meta])*
                $variant:ident ( $($code:literal),* $(; $($status:literal),+)? ) => $rule:expr
            ),* $(,)?
        }
        unlisted => $unlisted:expr;
        flow => $flow:ty;
        describe => $describe:path;
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$doc])* $variant, )*
            /// A code the list does not name ([`ApiError::code`](crate::error::ApiError::code)
            /// keeps it as sent).
            Unlisted,
        }

        impl $name {
            /// Every listed code, as spelled on the wire, with its reason.
            pub const CODES: &'static [(&'static str, $name)] = &[
                $( $( ($code, $name::$variant), )* )*
            ];

            /// The code as the service spells it (the first spelling), if the list names one.
            pub fn spelled(self) -> Option<&'static str> {
                Self::CODES
                    .iter()
                    .find(|(_, reason)| *reason == self)
                    .map(|(code, _)| *code)
            }

            /// The HTTP status the list names for it, if any.
            pub fn status(self) -> Option<u16> {
                match self {
                    $( $name::$variant => { let statuses: &[u16] = &[$($($status),+)?]; statuses.first().copied() } )*
                    $name::Unlisted => None,
                }
            }
        }

        impl $crate::error::Reasons for $name {
            type Flow = $flow;

            fn of(status: u16, code: &str) -> Self {
                $(
                    let codes: &[&str] = &[$($code),*];
                    let statuses: &[u16] = &[$($($status),+)?];
                    if codes.contains(&code) || statuses.contains(&status) {
                        return $name::$variant;
                    }
                )*
                $name::Unlisted
            }

            fn verdict(api: &$crate::error::ApiError<Self>) -> clawkit_runtime::Verdict {
                #[allow(unused_imports)]
                use $crate::reasons::Rule::*;
                #[allow(unused_imports)]
                use clawkit_runtime::ErrorKind::*;
                let rule: $crate::reasons::Rule = match api.reason {
                    $( $name::$variant => $rule, )*
                    $name::Unlisted => $unlisted,
                };
                rule.verdict(api)
            }

            fn describe(
                api: &$crate::error::ApiError<Self>,
                service: &str,
                f: &mut std::fmt::Formatter<'_>,
            ) -> std::fmt::Result {
                $describe(api, service, f)
            }
        }

        impl From<$flow> for $crate::error::ServiceError<$name> {
            fn from(flow: $flow) -> Self {
                $crate::error::ServiceError::Flow(flow)
            }
        }

        /// An error answer of the service: its status, what its code means, the code and message
        /// as sent, and the rest of what it says (request id, `Retry-After`, fields, the body).
        pub type ApiError = $crate::error::ApiError<$name>;

        /// An error of the client: the service's answer, a transport or decoding failure, a setting
        /// or argument refused before sending, or one of the client's own flows. Secrets never
        /// appear in it.
        pub type Error = $crate::error::ServiceError<$name>;
    };
}
pub(crate) use reasons;
