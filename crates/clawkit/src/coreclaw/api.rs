//! The one CoreClaw API the vocabulary (Worker, Run, items, export, wait) is written against,
//! implemented twice: by v1 (`/api/store`, `/api/scraper`, `/api/v1/...`) and by v2
//! (`/api/v2/...`). The client holds the one chosen by `ClientBuilder::api`; nothing above this
//! trait asks which.

use clawkit_runtime::paging::Throttle;
use clawkit_runtime::{Fetched, Paged};
use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::error::Error;
use super::input::Input;
use super::model::{
    Account, ApiVersion, ExportFormat, RunLog, RunRecord, RunStatus, StoreItem, SyncPage,
};
use super::worker::Worker;

/// What one call of the API returns.
pub(crate) type Call<'a, T> = BoxFuture<'a, Result<T, Error>>;

/// A start request: a validated input for a Worker, asynchronous or held until the run ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StartRequest<'a> {
    /// The Worker's slug.
    pub(crate) worker: &'a str,
    /// Its input.
    pub(crate) input: &'a Input,
    /// `false`: CoreClaw holds the request until the run ends (at most 5 minutes).
    pub(crate) is_async: bool,
    /// Where CoreClaw POSTs the completion event.
    pub(crate) callback_url: Option<&'a str>,
}

/// CoreClaw's operations, as either API version serves them.
pub(crate) trait Api: Send + Sync + 'static {
    /// Which version this is.
    fn version(&self) -> ApiVersion;

    /// How often the service has said "too fast" to this API's calls (for page streams).
    fn throttle(&self) -> Throttle;

    /// Searches the Worker store.
    fn search<'a>(&'a self, query: &'a str, limit: u64) -> Call<'a, Vec<StoreItem>>;

    /// A Worker's live contract.
    fn worker<'a>(&'a self, slug: &'a str) -> Call<'a, Worker>;

    /// The account's balance (and traffic, through v1).
    fn account(&self) -> Call<'_, Account>;

    /// Starts a run: its slug, and the results a synchronous answer carried.
    fn start<'a>(&'a self, start: StartRequest<'a>) -> Call<'a, (String, Option<SyncPage>)>;

    /// A run's record now.
    fn detail<'a>(&'a self, run: &'a str) -> Call<'a, RunRecord>;

    /// Aborts a run.
    fn abort<'a>(&'a self, run: &'a str) -> Call<'a, ()>;

    /// Starts a new run with a run's input; the new run's slug.
    fn rerun<'a>(&'a self, run: &'a str, callback_url: &'a str) -> Call<'a, String>;

    /// Runs a saved task; the new run's slug.
    fn run_task<'a>(&'a self, task: &'a str, callback_url: &'a str) -> Call<'a, String>;

    /// A run's latest log lines.
    fn log<'a>(&'a self, run: &'a str) -> Call<'a, RunLog>;

    /// The largest result page.
    fn max_page(&self) -> u32;

    /// Result page `page` (1-based) of `size` items.
    fn results<'a>(
        &'a self,
        run: &'a str,
        page: u64,
        size: u32,
    ) -> Call<'a, Fetched<Map<String, Value>, ()>>;

    /// A temporary download URL of every result as `format`, keeping only `keys` (all if empty).
    fn export_url<'a>(
        &'a self,
        run: &'a str,
        format: ExportFormat,
        keys: &'a [&'a str],
    ) -> Call<'a, String>;

    /// Run history, newest first, filtered by Worker and status.
    fn runs(&self, worker: Option<&str>, status: Option<RunStatus>)
    -> Paged<RunRecord, Error, u64>;
}
