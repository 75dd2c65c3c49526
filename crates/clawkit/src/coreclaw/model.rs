//! CoreClaw's vocabulary as plain data, the same through v1 and v2: store items, the account,
//! run records, logs, and which API the client speaks.

use std::time::Duration;

use coreclaw_api::types;
use rust_decimal::Decimal;

pub use coreclaw_api::enums::{LogLevel, RunStatus};

use super::error::Error;

/// The largest page of run history CoreClaw's docs allow (10, 20 or 50).
pub(crate) const MAX_HISTORY_PAGE: u32 = 50;

/// A search result of the Worker store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreItem {
    /// Worker id.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
}

/// The account's balance and traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Balance in USD, exact.
    pub balance: Decimal,
    /// Remaining traffic in bytes (v1; v2's account answer has no traffic: `None`).
    pub traffic_bytes: Option<u64>,
    /// When the traffic expires (unix seconds), from `traffic_expiration_at` or the docs'
    /// `traffic_expires_at` (v1).
    pub traffic_expires_at: Option<i64>,
    /// When the balance expires (unix seconds, v2's `balance_expiration_at`).
    pub balance_expires_at: Option<i64>,
}

/// Which of CoreClaw's APIs the shared vocabulary (Worker, Run, items, export, wait) goes through.
///
/// Both are served by the same host with the same API key (v1 as the `api-key` header, v2 as a
/// Bearer token) over the same account: a run started through one is read through the other.
/// v2-only capabilities (Worker tasks, last runs, proxy regions) use v2 whichever is chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ApiVersion {
    /// `/api/store`, `/api/scraper`, `/api/v1/...` (the guide's API).
    #[default]
    V1,
    /// `/api/v2/...` (CoreClaw's later document: offsets, Worker paths `owner~name`, a real JSON
    /// Schema per Worker).
    V2,
}

impl std::str::FromStr for ApiVersion {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "v1" | "1" => Ok(ApiVersion::V1),
            "v2" | "2" => Ok(ApiVersion::V2),
            other => Err(Error::InvalidArgument(format!(
                "api: expected v1 or v2, got `{other}`"
            ))),
        }
    }
}

/// How [`Run::wait`](crate::coreclaw::Run::wait) polls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitOptions {
    /// First pause between polls.
    pub initial_interval: Duration,
    /// Each pause is this many times the previous one...
    pub factor: f64,
    /// ...up to this.
    pub max_interval: Duration,
    /// Give up after this long (the error keeps the run slug).
    pub timeout: Duration,
    /// A new run may be unknown (70001) for a moment after it was started: tolerated this long.
    pub not_found_grace: Duration,
    /// Forward new log lines to `tracing` while waiting.
    pub forward_logs: bool,
    /// Status 5 is "aborting" (a run on its way out, not final): `wait` keeps polling while it
    /// stops (it then ends as 4, failed), and returns it as it is once it has stayed 5 this long,
    /// since CoreClaw names no final status for an aborted run.
    pub aborting_grace: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            initial_interval: Duration::from_secs(1),
            factor: 1.5,
            max_interval: Duration::from_secs(15),
            timeout: Duration::from_secs(3600),
            not_found_grace: Duration::from_secs(10),
            forward_logs: false,
            aborting_grace: Duration::from_secs(30),
        }
    }
}

/// A run record (run detail and history), with the Worker named either way CoreClaw names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    /// Run slug.
    pub slug: String,
    /// Status.
    pub status: RunStatus,
    /// Error message of a failed run.
    pub err_msg: String,
    /// The Worker's slug (`scraper_slug`, or `actors_slug` in the docs).
    pub worker_slug: Option<String>,
    /// The Worker's title.
    pub worker_title: Option<String>,
    /// Results produced so far.
    pub results: u64,
    /// Charge in USD, exact.
    pub usage: Decimal,
    /// Unix seconds it started (`None` while unset).
    pub started_at: Option<i64>,
    /// Unix seconds it finished (`None` while running).
    pub finished_at: Option<i64>,
    /// Seconds it ran.
    pub duration: i64,
    /// `api` or `web`.
    pub origin: String,
    /// Traffic in bytes.
    pub traffic: i64,
    /// Worker version.
    pub version: String,
}

impl RunRecord {
    /// Whether the status is final: succeeded or failed. Status 5 (aborting) is not: an abort
    /// was asked and the run is stopping (see [`Run::wait_with`](crate::coreclaw::Run::wait_with) for how a wait treats it).
    pub fn is_final(&self) -> bool {
        matches!(self.status, RunStatus::Succeeded | RunStatus::Failed)
    }

    /// Whether an abort was asked and the run is stopping (status 5).
    pub fn is_aborting(&self) -> bool {
        self.status == RunStatus::Aborting
    }

    /// Whether it succeeded.
    pub fn is_success(&self) -> bool {
        self.status == RunStatus::Succeeded
    }
}

impl From<types::RunSummary> for RunRecord {
    fn from(s: types::RunSummary) -> Self {
        let usage = s.usage.trim().parse::<Decimal>().unwrap_or_else(|_| {
            tracing::warn!(usage = %s.usage, run = %s.slug, "run usage is not a decimal; read as 0");
            Decimal::ZERO
        });
        RunRecord {
            status: s.status,
            err_msg: s.err_msg,
            worker_slug: s.scraper_slug.or(s.actors_slug),
            worker_title: s.scraper_title.or(s.actors_title),
            results: u64::try_from(s.results).unwrap_or(0),
            usage,
            started_at: (s.started_at > 0).then_some(s.started_at),
            finished_at: (s.finished_at > 0).then_some(s.finished_at),
            duration: s.duration,
            origin: s.origin,
            traffic: s.traffic,
            version: s.version,
            slug: s.slug,
        }
    }
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Level.
    pub level: LogLevel,
    /// Subtask group.
    pub group: String,
    /// Text.
    pub content: String,
    /// Unix milliseconds.
    pub timestamp: i64,
}

/// The latest log lines of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLog {
    /// Latest entries.
    pub entries: Vec<LogEntry>,
    /// Where the full log can be downloaded ([`Run::full_log`](crate::coreclaw::Run::full_log)).
    pub all_logs_url: String,
    /// Results produced.
    pub result_count: u64,
}

/// The results a synchronous start's answer carried.
#[derive(Debug, Clone, Default)]
pub(crate) struct SyncPage {
    pub(crate) items: Vec<serde_json::Map<String, serde_json::Value>>,
    pub(crate) total: Option<u64>,
}

/// Export file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// CSV with a header row.
    Csv,
    /// A JSON array.
    Json,
}
