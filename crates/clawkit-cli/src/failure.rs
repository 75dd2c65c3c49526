//! How a command ends when it does not succeed: one failure type for every vendor, one hint
//! table, and the documented exit codes (0 ok, 1 API or input error, 2 usage error, 3 run failed
//! or aborted, 130 interrupted). An error is one line plus a hint, never a backtrace.

use std::process::ExitCode;

use clawkit::{ConfigError, ErrorKind};

/// How a command ends.
#[derive(Debug)]
pub enum Failure {
    /// 1: a vendor or the input refused.
    Api(clawkit::Error),
    /// 1: anything else that went wrong, with a hint.
    Other(String, Option<String>),
    /// 2: the command line is wrong.
    Usage(String),
    /// 3: the run ended without success.
    RunFailed(String),
    /// 130: interrupted.
    Interrupted,
}

impl<E: Into<clawkit::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Api(e.into())
    }
}

impl Failure {
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
            Failure::Api(e) => match missing_credentials(&e) {
                Some((message, hint)) => (message, Some(hint), 1),
                None => {
                    let hint = hint(&e);
                    (e.to_string(), hint, 1)
                }
            },
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

/// Which vendor an error came from, as the command line names it.
fn vendor(e: &clawkit::Error) -> &'static str {
    match e {
        clawkit::Error::Coreclaw(_) => "coreclaw",
        clawkit::Error::Bazhuayu(_) => "bazhuayu",
        clawkit::Error::Devops(_) => "devops",
        clawkit::Error::Fulfillment(_) => "fulfillment",
        clawkit::Error::Botswin(_) => "botswin",
        _ => "",
    }
}

/// The settings error inside a vendor's error, if it is one.
fn config_error(e: &clawkit::Error) -> Option<&ConfigError> {
    match e {
        clawkit::Error::Coreclaw(clawkit::coreclaw::Error::Config(c))
        | clawkit::Error::Bazhuayu(clawkit::bazhuayu::Error::Config(c))
        | clawkit::Error::Devops(clawkit::devops::Error::Config(c))
        | clawkit::Error::Fulfillment(clawkit::fulfillment::Error::Config(c))
        | clawkit::Error::Botswin(clawkit::botswin::Error::Config(c))
        | clawkit::Error::Config(c) => Some(c),
        _ => None,
    }
}

/// Credentials not given: "X is not set", and both ways out.
fn missing_credentials(e: &clawkit::Error) -> Option<(String, String)> {
    let Some(ConfigError::Missing { env, .. }) = config_error(e) else {
        return None;
    };
    let verb = if env.contains(" and ") { "are" } else { "is" };
    Some((
        format!("{env} {verb} not set"),
        format!(
            "export {env}{}, or pass --sandbox to use the embedded sandbox",
            match vendor(e) {
                "coreclaw" => " (CoreClaw console: Settings > API & Integrations)",
                "bazhuayu" => " (your Bazhuayu account)",
                "devops" => " (the API client's id and secret)",
                "fulfillment" => " (the app's client_id and client_secret from 开发者中心)",
                "botswin" => " (the user token from the bots.win dashboard)",
                _ => "",
            }
        ),
    ))
}

/// What to do next, by vendor and kind of failure (`""` matches any vendor); the first match wins.
const HINTS: &[(&str, ErrorKind, &str)] = &[
    (
        "coreclaw",
        ErrorKind::Auth,
        "set CORECLAW_API_KEY to a valid key (CoreClaw console: Settings > API & Integrations), or pass --sandbox",
    ),
    (
        "coreclaw",
        ErrorKind::InvalidInput,
        "check the input against `claw coreclaw worker SLUG`",
    ),
    (
        "coreclaw",
        ErrorKind::NotFound,
        "find Workers with `claw coreclaw store KEYWORD` and runs with `claw coreclaw runs`",
    ),
    (
        "coreclaw",
        ErrorKind::Quota,
        "top up the account; `claw coreclaw account` shows the balance",
    ),
    (
        "bazhuayu",
        ErrorKind::Auth,
        "set BAZHUAYU_USERNAME and BAZHUAYU_PASSWORD, or pass --sandbox to use the embedded sandbox",
    ),
    (
        "bazhuayu",
        ErrorKind::NotFound,
        "list task ids with `claw bazhuayu groups` and `claw bazhuayu tasks GROUP`",
    ),
    (
        "bazhuayu",
        ErrorKind::InvalidInput,
        "list task ids with `claw bazhuayu groups` and `claw bazhuayu tasks GROUP`",
    ),
    (
        "devops",
        ErrorKind::Auth,
        "set OPENCLAW_DEVOPS_CLIENT_ID and OPENCLAW_DEVOPS_CLIENT_SECRET (a 403 means the role lacks the right), or pass --sandbox",
    ),
    (
        "devops",
        ErrorKind::NotFound,
        "list ids with `claw devops users`, `claw devops projects` or `claw devops tasks list PROJECT`",
    ),
    (
        "fulfillment",
        ErrorKind::Auth,
        "set OPENCLAW_FULFILLMENT_CLIENT_ID and OPENCLAW_FULFILLMENT_CLIENT_SECRET (invalid_signature means a wrong secret), or pass --sandbox",
    ),
    (
        "fulfillment",
        ErrorKind::NotFound,
        "list what exists with `claw fulfillment orders`, `inventory list`, `returns` or `webhooks list` (order numbers with # or & are encoded for you)",
    ),
    (
        "botswin",
        ErrorKind::Auth,
        "set BOTSWIN_TOKEN to the user token from the bots.win dashboard, or pass --sandbox",
    ),
    (
        "botswin",
        ErrorKind::NotFound,
        "list User Data containers with `claw botswin user-data list`",
    ),
    (
        "",
        ErrorKind::Config,
        "check the settings (the <VENDOR>_* environment variables and --base-url), or pass --sandbox",
    ),
    (
        "",
        ErrorKind::RateLimit,
        "the service is rate limiting: wait a moment and try again",
    ),
    (
        "",
        ErrorKind::Server,
        "the service failed: try again in a moment",
    ),
    (
        "",
        ErrorKind::Transport,
        "check the network and --base-url, then try again",
    ),
    (
        "",
        ErrorKind::Timeout,
        "check the network and --base-url, then try again",
    ),
];

/// bots.win's conflicts, which each have their own way out.
fn botswin_hint(e: &clawkit::botswin::Error) -> Option<String> {
    use clawkit::botswin::{Flow, Reason};
    let hint = match (e.flow(), e.reason()) {
        (Some(Flow::InsufficientQuota { .. }), _) | (_, Some(Reason::InsufficientBalance)) => {
            "top up the quota; `claw botswin quota --minutes N` checks a job before it starts"
        }
        (_, Some(Reason::UserDataLocked)) => {
            "a session is using the container: end it (or wait for it), then try again"
        }
        (_, Some(Reason::UserDataQuotaExceeded)) => {
            "delete a container first: `claw botswin user-data list`, then `claw botswin user-data rm ID`"
        }
        (_, Some(Reason::TooManySessions)) => {
            "the plan's concurrent sessions are in use (`claw botswin usage` shows them): end one first"
        }
        _ => return None,
    };
    Some(hint.into())
}

/// The hint for an error: a few that know more than their kind, then the table.
fn hint(e: &clawkit::Error) -> Option<String> {
    use clawkit::bazhuayu::Error as B;
    use clawkit::coreclaw::Error as C;
    let specific = match e {
        clawkit::Error::Coreclaw(C::Flow(clawkit::coreclaw::Flow::InvalidInput(problems))) => Some(format!(
            "see the Worker's fields with `claw coreclaw worker {}`, or a skeleton input with `--example`",
            problems.worker
        )),
        clawkit::Error::Coreclaw(e) if e.run_slug().is_some() => Some(format!(
            "the run goes on: `claw coreclaw status {}`",
            e.run_slug().unwrap_or_default()
        )),
        clawkit::Error::Bazhuayu(e) if e.reason() == Some(clawkit::bazhuayu::Reason::Forbidden) => Some(
            "the account's plan does not include this API (DataAPI: flagship plan; start/stop: paid add-on)"
                .into(),
        ),
        clawkit::Error::Bazhuayu(B::Flow(clawkit::bazhuayu::Flow::Stream { resume_offset, .. })) => Some(format!(
            "run again to start over; the rows before offset {resume_offset} were written"
        )),
        clawkit::Error::Devops(clawkit::devops::Error::Flow(clawkit::devops::Flow::Timeout { what, id, .. })) => Some(format!(
            "the {what} goes on; look again with its id {id}"
        )),
        clawkit::Error::Devops(clawkit::devops::Error::Api(e)) if e.reason == clawkit::devops::Reason::Forbidden => {
            Some("the account's role does not allow this (RBAC); use an account with the right role".into())
        }
        clawkit::Error::Botswin(e) => botswin_hint(e),
        clawkit::Error::Bazhuayu(B::Flow(clawkit::bazhuayu::Flow::Sink { .. })) => {
            Some("the batch was not marked exported: run the export again".into())
        }
        _ => None,
    };
    specific.or_else(|| {
        let (vendor, kind) = (vendor(e), e.kind());
        HINTS
            .iter()
            .find(|(v, k, _)| (v.is_empty() || *v == vendor) && *k == kind)
            .map(|(_, _, hint)| hint.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_every_vendor_gets_a_hint_where_one_helps() {
        let not_found = clawkit::Error::from(clawkit::bazhuayu::Error::from(
            clawkit::bazhuayu::ApiError::new(404, "not_found", "no task x"),
        ));
        assert!(hint(&not_found).unwrap().contains("claw bazhuayu tasks"));
        let limited = clawkit::Error::from(clawkit::coreclaw::Error::from(
            clawkit::coreclaw::ApiError::new(429, "4290", ""),
        ));
        assert!(hint(&limited).unwrap().contains("rate limiting"));
        let missing = clawkit::Error::from(clawkit::coreclaw::Error::Config(
            clawkit::ClientConfig::for_prefix("CORECLAW").missing(
                "API key",
                "api_key",
                &["API_KEY"],
            ),
        ));
        let (message, hint) = missing_credentials(&missing).unwrap();
        assert_eq!(message, "CORECLAW_API_KEY is not set");
        assert!(hint.contains("--sandbox"));
    }
}
