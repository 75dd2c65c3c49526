//! How a command ends when it does not succeed: one failure type for every vendor, and the
//! documented exit codes (0 ok, 1 API or input error, 2 usage error, 3 run failed or aborted,
//! 130 interrupted). An error is one line plus a hint, never a backtrace.
//!
//! The hint comes from the vendor's [`Hints`] (what only its commands know: its console, its
//! list commands, its flows' ways out) and then from the kind of failure, which is the same for
//! every vendor. Nothing here names a vendor.

use std::process::ExitCode;

use clawkit::client::Service;
use clawkit::error::Vocabulary;
use clawkit::{ConfigError, ErrorKind, ServiceError};

/// How a command ends.
#[derive(Debug)]
pub enum Failure {
    /// 1: a vendor or the input refused.
    Api {
        /// What to print (the error, or what it means: "X is not set").
        message: String,
        /// What to do next.
        hint: Option<String>,
    },
    /// 1: anything else that went wrong, with a hint.
    Other(String, Option<String>),
    /// 2: the command line is wrong.
    Usage(String),
    /// 3: the run ended without success.
    RunFailed(String),
    /// 130: interrupted.
    Interrupted,
}

/// What a vendor's commands know about its failures, beyond their kind.
pub trait Hints: Service {
    /// The vendor's vocabulary (its errors are `ServiceError<Self::Reason>`).
    type Reason: Vocabulary<Service = Self>;
    /// Where the credentials come from, after `export <VARIABLES>`.
    const CREDENTIALS: &'static str;
    /// What to do next, by kind of failure (the first match wins, before the shared table).
    const BY_KIND: &'static [(ErrorKind, &'static str)];

    /// A hint that knows more than the kind (a flow's way out, a reason's meaning).
    fn specific(_e: &ServiceError<Self::Reason>) -> Option<String> {
        None
    }
}

/// What to do next, by kind, for every vendor.
const BY_KIND: &[(ErrorKind, &str)] = &[
    (
        ErrorKind::Config,
        "check the settings (the <VENDOR>_* environment variables and --base-url), or pass --sandbox",
    ),
    (
        ErrorKind::RateLimit,
        "the service is rate limiting: wait a moment and try again",
    ),
    (
        ErrorKind::Server,
        "the service failed: try again in a moment",
    ),
    (
        ErrorKind::Transport,
        "check the network and --base-url, then try again",
    ),
    (
        ErrorKind::Timeout,
        "check the network and --base-url, then try again",
    ),
];

fn by_kind(table: &[(ErrorKind, &str)], kind: ErrorKind) -> Option<String> {
    table
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, hint)| hint.to_string())
}

/// Credentials not given: "X is not set", and both ways out (`credentials` says where they come
/// from).
fn missing_credentials(
    config: Option<&ConfigError>,
    credentials: &str,
) -> Option<(String, String)> {
    let Some(ConfigError::Missing { env, .. }) = config else {
        return None;
    };
    let verb = if env.contains(" and ") { "are" } else { "is" };
    Some((
        format!("{env} {verb} not set"),
        format!("export {env}{credentials}, or pass --sandbox to use the embedded sandbox"),
    ))
}

impl Failure {
    /// A failure of a vendor's request: its message and hint (`specific` and `table` are the
    /// vendor's, `credentials` where its credentials come from).
    fn api(
        error: clawkit::Error,
        specific: Option<String>,
        table: &[(ErrorKind, &str)],
        credentials: &str,
    ) -> Self {
        let (message, hint) = match missing_credentials(error.config(), credentials) {
            Some((message, hint)) => (message, Some(hint)),
            None => {
                let kind = error.kind();
                let hint = specific
                    .or_else(|| by_kind(table, kind))
                    .or_else(|| by_kind(BY_KIND, kind));
                (error.to_string(), hint)
            }
        };
        Failure::Api { message, hint }
    }

    /// A local I/O failure (a file that cannot be read or written), naming what was done.
    pub fn io(what: impl std::fmt::Display, e: impl std::fmt::Display) -> Self {
        Failure::Other(format!("{what}: {e}"), None)
    }

    /// A port that cannot be listened on, with the hint to pick another.
    pub fn cannot_listen(port: u16, e: impl std::fmt::Display) -> Self {
        Failure::Other(
            format!("cannot listen on 127.0.0.1:{port}: {e}"),
            Some("pick another --port".into()),
        )
    }

    /// Prints the failure as one line plus a hint, and returns its exit code.
    pub fn report(self) -> ExitCode {
        let (message, hint, code) = match self {
            Failure::Api { message, hint, .. } => (message, hint, 1),
            Failure::Other(message, hint) => (message, hint, 1),
            Failure::Usage(message) => (message, Some("see `claw --help`".to_string()), 2),
            Failure::RunFailed(message) => (message, None, 3),
            Failure::Interrupted => ("interrupted".to_string(), None, 130),
        };
        eprintln!("error: {message}");
        if let Some(hint) = hint {
            eprintln!("hint: {hint}");
        }
        ExitCode::from(code)
    }
}

/// A vendor's error, with the vendor's hints.
impl<R> From<ServiceError<R>> for Failure
where
    R: Vocabulary,
    R::Service: Hints<Reason = R>,
{
    fn from(e: ServiceError<R>) -> Self {
        let specific = <R::Service as Hints>::specific(&e);
        Failure::api(
            e.into(),
            specific,
            <R::Service as Hints>::BY_KIND,
            <R::Service as Hints>::CREDENTIALS,
        )
    }
}

/// Settings refused before any vendor's client existed.
impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::api(e.into(), None, &[], "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(f: &Failure) -> Option<&str> {
        match f {
            Failure::Api { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }

    #[test]
    fn every_kind_of_every_vendor_gets_a_hint_where_one_helps() {
        let not_found = Failure::from(clawkit::bazhuayu::Error::from(
            clawkit::bazhuayu::ApiError::new(404, "not_found", "no task x"),
        ));
        assert!(hint(&not_found).unwrap().contains("claw bazhuayu tasks"));
        let limited = Failure::from(clawkit::coreclaw::Error::from(
            clawkit::coreclaw::ApiError::new(429, "4290", ""),
        ));
        assert!(hint(&limited).unwrap().contains("rate limiting"));
        let missing = Failure::from(clawkit::coreclaw::Error::Config(
            clawkit::ClientConfig::for_prefix("CORECLAW").missing(
                "API key",
                "api_key",
                &["API_KEY"],
            ),
        ));
        let Failure::Api { message, hint, .. } = missing else {
            panic!("{missing:?}")
        };
        assert_eq!(message, "CORECLAW_API_KEY is not set");
        assert!(hint.unwrap().contains("--sandbox"));
    }
}
