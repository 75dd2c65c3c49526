//! Session history as a `Stream` over a time range, read one window at a time.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use clawkit_runtime::{Fetched, Paged, Safety};

use crate::call::Calls;

use super::client::Client;
use super::error::Error;
use super::models::SessionRecord;

/// Which sessions [`Client::history`] streams: those that started in `[since, until]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryQuery {
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    window: Option<Duration>,
}

impl HistoryQuery {
    /// Every session the service keeps (one request: without a start there is nothing to split).
    pub fn new() -> Self {
        Self::default()
    }

    /// The sessions of the last `period`, up to now (`--since 7d`).
    pub fn last(period: Duration) -> Self {
        let now = Utc::now();
        let since = TimeDelta::from_std(period)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        Self::new().since(since)
    }

    /// Sessions that started at or after this instant.
    pub fn since(mut self, since: DateTime<Utc>) -> Self {
        self.since = Some(since);
        self
    }

    /// Sessions that started at or before this instant (default: now, when `since` is given).
    pub fn until(mut self, until: DateTime<Utc>) -> Self {
        self.until = Some(until);
        self
    }

    /// How much of the range one request covers (default: the client's, 7 days).
    pub fn window(mut self, window: Duration) -> Self {
        self.window = Some(window);
        self
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The windows of `[since, until]`: each request asks for `[start, min(start + window, until)]`
/// (bounds inclusive) and keeps the sessions that started before the next window's start, so a
/// session exactly on a boundary is delivered once, by the window it opens.
struct Windows {
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    window: TimeDelta,
}

impl Windows {
    fn next_start(&self, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
        start
            .checked_add_signed(self.window)
            .filter(|next| *next <= self.until)
    }
}

impl Client {
    /// The session history of `query` as a `Stream` of [`SessionRecord`]s, oldest first, each
    /// session once. A range is read in windows (see [`HistoryQuery::window`]); a failed window
    /// ends the stream with the error, and the sessions before it were delivered.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = clawkit_sandbox::Sandbox::builder().start().await?;
    /// # let base_url = sandbox.base_url(clawkit_sandbox::Vendor::Botswin);
    /// use std::time::Duration;
    /// use clawkit::botswin::{Client, HistoryQuery};
    /// use futures::TryStreamExt;
    ///
    /// let client = Client::builder().token("sandbox-token").base_url(&base_url).build()?;
    /// let week: Vec<_> = client
    ///     .history(HistoryQuery::last(Duration::from_secs(7 * 24 * 3600)))
    ///     .try_collect()
    ///     .await?;
    /// let minutes: i64 = week.iter().map(|s| s.duration_minutes).sum();
    /// println!("{} sessions, {minutes} billed minutes this week", week.len());
    /// # Ok(())
    /// # }
    /// ```
    pub fn history(&self, query: HistoryQuery) -> Paged<SessionRecord, Error, Option<String>> {
        let client = self.clone();
        let window = query.window.unwrap_or(self.inner.options.history_window);
        let plan = match (query.since, query.until) {
            (None, until) => Ok(Plan::Whole(until)),
            (Some(since), until) => {
                let until = until.unwrap_or_else(Utc::now);
                if since > until {
                    Err(format!(
                        "since: expected an instant before until ({}), got {}",
                        stamp(until),
                        stamp(since)
                    ))
                } else {
                    match TimeDelta::from_std(window)
                        .ok()
                        .filter(|w| *w > TimeDelta::zero())
                    {
                        Some(window) => Ok(Plan::Windows(Windows {
                            since,
                            until,
                            window,
                        })),
                        None => Err(format!(
                            "window: expected a duration above 0, got {window:?}"
                        )),
                    }
                }
            }
        };
        let plan = std::sync::Arc::new(plan);
        Paged::cursors("window", 1, move |cursor: Option<String>, _| {
            let client = client.clone();
            let plan = plan.clone();
            async move {
                match &*plan {
                    Err(message) => Err(Error::InvalidArgument(message.clone())),
                    Ok(Plan::Whole(until)) => {
                        let sessions = client.history_between(None, *until).await?;
                        Ok(Fetched {
                            items: sessions,
                            next: None,
                            total: None,
                        })
                    }
                    Ok(Plan::Windows(w)) => {
                        let start = match &cursor {
                            None => w.since,
                            Some(c) => DateTime::parse_from_rfc3339(c)
                                .map_err(|e| Error::InvalidArgument(format!("window start: {e}")))?
                                .with_timezone(&Utc),
                        };
                        let next = w.next_start(start);
                        let end = next.unwrap_or(w.until);
                        let sessions = client.history_between(Some(start), Some(end)).await?;
                        let items = sessions
                            .into_iter()
                            .filter(|s| next.is_none_or(|n| s.started_at < n))
                            .collect();
                        Ok(Fetched {
                            items,
                            next: next.map(stamp),
                            total: None,
                        })
                    }
                }
            }
        })
        .throttle(self.inner.runtime.throttle())
    }

    /// One `GET /api/history` of the sessions that started in `[start, end]`, in start order.
    async fn history_between(
        &self,
        start: Option<DateTime<Utc>>,
        end: Option<DateTime<Utc>>,
    ) -> Result<Vec<SessionRecord>, Error> {
        let history = self
            .call("list_history", Safety::Idempotent, |api| {
                let mut request = api.list_history();
                if let Some(start) = start {
                    request = request.start(start);
                }
                if let Some(end) = end {
                    request = request.end(end);
                }
                request.send()
            })
            .await?;
        let mut sessions: Vec<SessionRecord> = history
            .sessions
            .into_iter()
            .map(SessionRecord::from)
            .collect();
        sessions.sort_by_key(|s| (s.started_at, s.id));
        Ok(sessions)
    }
}

enum Plan {
    Whole(Option<DateTime<Utc>>),
    Windows(Windows),
}
