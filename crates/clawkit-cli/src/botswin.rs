//! `claw botswin ...`: bots.win cloud browsers through the clawkit facade: quota (and a preflight),
//! usage, session history, User Data containers, and `session`, which holds a browser session
//! open and prints its CDP URL until Ctrl-C (ending it cleanly, so it stops billing).

use std::time::Duration;

use clap::Subcommand;
use clawkit::ErrorKind;
use clawkit::botswin::{Client, Error, Flow, HistoryQuery, Reason, SessionOptions};
use clawkit::client::Optionally;
use futures::TryStreamExt;
use serde_json::json;

use crate::failure::{Failure, Hints};
use crate::output::{self, table};
use crate::session::{self, Globals};

/// `claw botswin`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: BotswinCommand,
}

#[derive(Debug, Subcommand)]
enum BotswinCommand {
    /// Remaining quota and pricing; with --minutes, a preflight that fails (exit 1) when the
    /// quota cannot pay that many session minutes.
    Quota {
        /// Minutes the job needs (1 or more).
        #[arg(long)]
        minutes: Option<u32>,
    },
    /// Sessions, billed minutes and live sessions.
    Usage,
    /// Session history, oldest first.
    History {
        /// Sessions that started since: a period back from now (30m, 12h, 7d, 2w) or an RFC 3339
        /// time (2025-01-15T00:00:00Z). Default: everything the service keeps.
        #[arg(long, value_parser = parse_since)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// Sessions that started up to this RFC 3339 time (default: now).
        #[arg(long, value_parser = parse_time)]
        until: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// User Data containers (persistent cookies and localStorage): list, create, rm.
    UserData {
        #[command(subcommand)]
        command: UserDataCommand,
    },
    /// Opens a browser session, prints its CDP WebSocket URL and holds it until Ctrl-C (or until
    /// the service ends it); then prints how it ended.
    Session {
        /// Use this User Data container (locked while the session runs).
        #[arg(long)]
        user_data: Option<String>,
        /// End the session after this long without CDP traffic: 90s, 5m; 0 never (default 2m).
        #[arg(long, value_parser = parse_period)]
        idle: Option<Duration>,
        /// A browser option NAME=VALUE for the endpoint (repeat), e.g. device_type=mac.
        #[arg(long = "param", value_parser = parse_param)]
        params: Vec<(String, String)>,
    },
}

#[derive(Debug, Subcommand)]
enum UserDataCommand {
    /// The containers and the container quota.
    List,
    /// A new container.
    Create,
    /// Deletes a container (not while a session uses it).
    Rm { id: String },
}

/// A period such as `90s`, `30m`, `12h`, `7d`, `2w`.
fn parse_period(v: &str) -> Result<Duration, String> {
    let bad = || format!("expected a period such as 90s, 30m, 12h, 7d or 2w, got {v:?}");
    let v = v.trim();
    if v == "0" {
        return Ok(Duration::ZERO);
    }
    let split = v.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = v.split_at(split);
    let n: u64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(bad()),
    };
    n.checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(bad)
}

fn parse_time(v: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("expected RFC 3339 with an offset, e.g. 2025-01-15T10:30:00Z ({e})"))
}

fn parse_since(v: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(period) = parse_period(v) {
        let back = chrono::TimeDelta::from_std(period).map_err(|e| e.to_string())?;
        return chrono::Utc::now()
            .checked_sub_signed(back)
            .ok_or_else(|| format!("{v:?} reaches too far back"));
    }
    parse_time(v).map_err(|_| {
        format!("expected a period (30m, 12h, 7d, 2w) or an RFC 3339 time (2025-01-15T00:00:00Z), got {v:?}")
    })
}

fn parse_param(v: &str) -> Result<(String, String), String> {
    match v.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("expected NAME=VALUE, got {v:?}")),
    }
}

fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// What only bots.win's commands know about its failures: its conflicts each have their own
/// way out.
impl Hints for Client {
    type Reason = Reason;
    const CREDENTIALS: &'static str = " (the user token from the bots.win dashboard)";
    const BY_KIND: &'static [(ErrorKind, &'static str)] = &[
        (
            ErrorKind::Auth,
            "set BOTSWIN_TOKEN to the user token from the bots.win dashboard, or pass --sandbox",
        ),
        (
            ErrorKind::NotFound,
            "list User Data containers with `claw botswin user-data list`",
        ),
    ];

    fn specific(e: &Error) -> Option<String> {
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
}

pub async fn run(globals: &Globals, Args { command }: Args) -> Result<(), Failure> {
    let session =
        session::start::<Client>(globals, clawkit::botswin::ClientBuilder::from_config).await?;
    let client = &session.client;
    match command {
        BotswinCommand::Quota { minutes } => {
            let quota = client.quota().await?;
            let estimate = match minutes {
                Some(m) => Some(client.ensure_quota(m).await?),
                None => None,
            };
            if globals.json {
                output::json(&json!({"quota": quota, "estimate": estimate}));
            } else {
                let mut rows = vec![
                    vec!["remaining".into(), quota.remaining_quota.to_string()],
                    vec!["total".into(), or_dash(quota.total_quota)],
                    vec!["used".into(), or_dash(quota.used_quota)],
                    vec!["used %".into(), or_dash(quota.usage_percentage)],
                    vec![
                        "rate (units/minute)".into(),
                        quota.pricing.effective_rate.to_string(),
                    ],
                    vec![
                        "max sessions".into(),
                        quota.pricing.breakdown.max_sessions.to_string(),
                    ],
                    vec![
                        "user data max".into(),
                        quota.pricing.breakdown.user_data_max.to_string(),
                    ],
                ];
                if let Some(e) = &estimate {
                    rows.push(vec![
                        format!("{} minute(s) cost", e.minutes),
                        format!(
                            "{} (ok: {} left after)",
                            e.units,
                            or_dash(e.remaining_after())
                        ),
                    ]);
                }
                table(&["QUOTA", "VALUE"], &rows);
            }
            Ok(())
        }
        BotswinCommand::Usage => {
            let usage = client.usage().await?;
            let rows = vec![vec![
                usage.total_sessions.to_string(),
                usage.total_minutes.to_string(),
                usage.active_sessions.to_string(),
            ]];
            output::rows(
                globals.json,
                &usage,
                &["SESSIONS", "MINUTES", "ACTIVE"],
                rows,
            );
            Ok(())
        }
        BotswinCommand::History { since, until } => {
            let query = HistoryQuery::new()
                .optionally(since, HistoryQuery::since)
                .optionally(until, HistoryQuery::until);
            let sessions: Vec<_> = client.history(query).try_collect().await?;
            let rows = sessions
                .iter()
                .map(|s| {
                    vec![
                        s.id.to_string(),
                        s.started_at.to_rfc3339(),
                        or_dash(s.ended_at.map(|t| t.to_rfc3339())),
                        s.duration_minutes.to_string(),
                        s.quota_consumed.to_string(),
                        or_dash(s.disconnect_reason.as_ref()),
                    ]
                })
                .collect();
            output::rows(
                globals.json,
                &sessions,
                &["ID", "STARTED", "ENDED", "MINUTES", "QUOTA", "REASON"],
                rows,
            );
            Ok(())
        }
        BotswinCommand::UserData { command } => match command {
            UserDataCommand::List => {
                let list = client.user_data().await?;
                let rows = list
                    .items
                    .iter()
                    .map(|c| {
                        vec![
                            c.id.clone(),
                            c.created_at.to_rfc3339(),
                            or_dash(c.last_used_at.map(|t| t.to_rfc3339())),
                            if c.is_locked { "locked" } else { "free" }.into(),
                        ]
                    })
                    .collect();
                output::rows(
                    globals.json,
                    &list,
                    &["ID", "CREATED", "LAST USED", "STATE"],
                    rows,
                );
                if !globals.json {
                    eprintln!(
                        "claw: {} of {} containers used{}",
                        list.quota.used,
                        list.quota.max,
                        if list.quota.can_create {
                            ""
                        } else {
                            " (none can be created)"
                        }
                    );
                }
                Ok(())
            }
            UserDataCommand::Create => {
                let created = client.create_user_data().await?;
                let rows = vec![vec![created.id.clone(), created.created_at.to_rfc3339()]];
                output::rows(globals.json, &created, &["ID", "CREATED"], rows);
                Ok(())
            }
            UserDataCommand::Rm { id } => {
                client.delete_user_data(&id).await?;
                if globals.json {
                    output::json(&json!({"id": id, "deleted": true}));
                } else {
                    eprintln!("claw: deleted {id}");
                }
                Ok(())
            }
        },
        BotswinCommand::Session {
            user_data,
            idle,
            params,
        } => {
            let options = params
                .into_iter()
                .fold(SessionOptions::new(), |o, (name, value)| {
                    o.param(name, value)
                })
                .optionally(user_data, SessionOptions::user_data)
                .optionally(idle, SessionOptions::idle);
            let browser = client.open_session(options).await?;
            if globals.json {
                output::json(
                    &json!({"ws_url": browser.ws_url(), "user_data": browser.user_data()}),
                );
            } else {
                println!("{}", browser.ws_url());
                eprintln!(
                    "claw: session open; connect a CDP client to the URL above. Ctrl-C ends it."
                );
            }
            let end = tokio::select! {
                end = browser.ended() => end,
                _ = tokio::signal::ctrl_c() => browser.close().await,
            };
            if globals.json {
                output::json(&json!({"reason": end.reason, "frames": end.frames}));
            } else {
                eprintln!(
                    "claw: session ended: {} ({} CDP messages)",
                    end.reason, end.frames
                );
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_and_times_parse_with_clear_errors() {
        assert_eq!(parse_period("7d").unwrap(), Duration::from_secs(7 * 86_400));
        assert_eq!(parse_period("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_period("0").unwrap(), Duration::ZERO);
        for bad in ["7", "d", "7y", "-1d", ""] {
            assert!(
                parse_period(bad).unwrap_err().contains("expected a period"),
                "{bad}"
            );
        }
        assert!(parse_since("2025-01-15T00:00:00Z").is_ok());
        assert!(parse_since("2025-01-15T00:00:00+08:00").is_ok());
        assert!(parse_since("yesterday").unwrap_err().contains("RFC 3339"));
        assert!(parse_time("2025-01-15T00:00:00").is_err());
        assert_eq!(parse_param("device_type=mac").unwrap().1, "mac");
        assert!(parse_param("=x").is_err());
    }
}
