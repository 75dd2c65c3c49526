//! CoreClaw's state: settings, the seeded catalog, runs, the account and export files.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::json;

use super::catalog::{self, TaskTemplate, Worker};
use super::export::Export;
use super::runs::{Account, Run};
use super::validate;
use crate::kit::clock::unix_now;
use crate::kit::ids::Ids;

/// Settings of the CoreClaw part.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seed for slugs and items (the sandbox's).
    pub seed: u64,
    /// Run time from start to final status (default 3 s).
    pub run_duration: Duration,
    /// Starting balance in micro-USD (default 100 USD).
    pub initial_balance_micros: i64,
    /// The api-key accepted (default [`super::API_KEY`]).
    pub api_key: String,
    /// This vendor's public base URL (for download and log URLs; the sandbox's).
    pub base_url: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            seed: 42,
            run_duration: Duration::from_secs(3),
            initial_balance_micros: 100_000_000,
            api_key: super::API_KEY.to_string(),
            base_url: String::new(),
        }
    }
}

impl Config {
    /// The starting balance in USD.
    pub fn initial_balance(&mut self, usd: f64) {
        self.initial_balance_micros = (usd * 1_000_000.0).round() as i64;
    }
}

/// Mutable state.
#[derive(Debug)]
pub struct Inner {
    /// Runs by slug.
    pub runs: HashMap<String, Run>,
    /// Run slugs, oldest first.
    pub order: Vec<String>,
    /// The account.
    pub account: Account,
    /// Export files by id.
    pub exports: HashMap<String, Export>,
    /// Saved Worker tasks (v2 creates, updates and deletes them; v1's task/run runs them).
    pub tasks: Vec<Task>,
}

impl Inner {
    /// A saved task by slug, or 60001.
    pub fn task(&self, slug: &str) -> Result<&Task, super::ApiError> {
        self.tasks
            .iter()
            .find(|t| t.slug == slug)
            .ok_or_else(|| no_task(slug))
    }

    /// A saved task by slug, to change, or 60001.
    pub fn task_mut(&mut self, slug: &str) -> Result<&mut Task, super::ApiError> {
        self.tasks
            .iter_mut()
            .find(|t| t.slug == slug)
            .ok_or_else(|| no_task(slug))
    }
}

fn no_task(slug: &str) -> super::ApiError {
    super::ApiError::new(
        coreclaw_api::enums::StatusCode::TaskNotFound,
        format!("Task does not exist: {slug}"),
    )
}

/// A saved Worker task: a Worker, its input and an optional schedule (the sandbox never fires the
/// schedule; it keeps it).
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Numeric id.
    pub id: i64,
    /// Task slug (`workerTaskId`, v1's `task_slug`).
    pub slug: String,
    /// The Worker's slug.
    pub worker: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Worker version.
    pub version: String,
    /// The saved input, as given.
    pub input: serde_json::Value,
    /// Schedule switch (0 or 1).
    pub schedule_enabled: i64,
    /// Schedule type (1 daily .. 4 once), if set.
    pub schedule_type: Option<i64>,
    /// HH:mm, if set.
    pub schedule_time: Option<String>,
    /// 1..7, if set.
    pub schedule_weekday: Option<i64>,
    /// 1..31, if set.
    pub schedule_day: Option<i64>,
    /// YYYY-MM-DD, if set.
    pub schedule_once_date: Option<String>,
}

/// The CoreClaw sandbox.
#[derive(Debug)]
pub struct CoreClaw {
    /// Settings.
    pub config: Config,
    /// Seeded Workers.
    pub workers: Vec<Worker>,
    /// Slug source.
    pub ids: Ids,
    /// Runs, account, exports.
    pub inner: Mutex<Inner>,
    /// Client for completion webhooks.
    pub http: reqwest::Client,
}

impl CoreClaw {
    /// A fresh CoreClaw with the seeded catalog.
    pub fn new(config: Config) -> Arc<Self> {
        let now = unix_now();
        let cc = Arc::new(Self {
            ids: Ids::new(config.seed),
            inner: Mutex::new(Inner {
                runs: HashMap::new(),
                order: Vec::new(),
                account: Account {
                    balance_micros: config.initial_balance_micros,
                    traffic: 100 * 1024 * 1024 * 1024,
                    traffic_expiration_at: now + 30 * 24 * 3600,
                },
                exports: HashMap::new(),
                tasks: Vec::new(),
            }),
            workers: catalog::workers(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            config,
        });
        cc.seed_history();
        cc.seed_tasks(catalog::tasks());
        cc
    }

    fn seed_tasks(&self, templates: Vec<TaskTemplate>) {
        let mut inner = self.lock();
        for (n, t) in templates.into_iter().enumerate() {
            let Some(worker) = self.worker(t.worker) else {
                continue;
            };
            inner.tasks.push(Task {
                id: 2001 + n as i64,
                slug: t.slug.to_string(),
                worker: t.worker.to_string(),
                title: format!("{} (saved)", worker.title),
                description: String::new(),
                version: worker.version.to_string(),
                input: t.custom,
                schedule_enabled: 0,
                schedule_type: None,
                schedule_time: None,
                schedule_weekday: None,
                schedule_day: None,
                schedule_once_date: None,
            });
        }
    }

    /// Runs named in CoreClaw's own guide and spec examples, so that their examples work against
    /// the sandbox: the guide's finished Amazon run (20 results, usage 0.06), the spec's finished
    /// and failed News Scraper runs, and a long run to abort.
    fn seed_history(&self) {
        let day = Duration::from_secs(24 * 3600);
        let urls: Vec<serde_json::Value> = (0..20)
            .map(|i| json!({"url": format!("https://www.amazon.com/dp/B0CHHSF{i:03}")}))
            .collect();
        let seeded = [
            (
                "01KSFDS8XWTJME33C08XMCR6B9",
                catalog::AMAZON_WORKER,
                json!({"urls": urls}),
                Duration::from_secs(6),
                true,
            ),
            (
                "01KS2A1M515HG7PZX9STTB0KPH",
                "01KJXYJ7KCHXM0PDZHQD5293XE",
                json!({"startURLs": [{"url": "https://example.com"}], "max_articles": 4}),
                Duration::from_secs(6),
                true,
            ),
            (
                "01KKGH9VYJ6YRDZBJKPEX2JPXC",
                "01KJXYJ7KCHXM0PDZHQD5293XE",
                json!({"startURLs": [{"url": "https://example.com/sandbox:fail"}], "max_articles": 1}),
                Duration::from_secs(27),
                true,
            ),
            (
                "01KJYA4S1QQ1PMDVVRP7XH72C51",
                catalog::LOAD_WORKER,
                json!({"count": 1000}),
                day,
                false,
            ),
        ];
        let now = std::time::Instant::now();
        let now_unix = unix_now();
        let mut inner = self.lock();
        for (slug, worker, custom, duration, finished) in seeded {
            let Some(worker) = self.worker(worker) else {
                continue;
            };
            let system = validate::System::defaults(worker);
            let custom = custom.as_object().cloned().unwrap_or_default();
            let age = if finished { duration * 2 } else { duration / 5 };
            let mut run = Run::new(
                slug.to_string(),
                crate::kit::ids::hash_str(self.config.seed, slug),
                worker,
                custom,
                system,
                duration,
                None,
                now_unix - age.as_secs() as i64,
            );
            run.created = now.checked_sub(age).unwrap_or(now);
            run.charged = true;
            inner.order.push(slug.to_string());
            inner.runs.insert(slug.to_string(), run);
        }
    }

    /// Locks the state (a poisoned lock is recovered: the state stays usable).
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A Worker by slug.
    pub fn worker(&self, slug: &str) -> Option<&Worker> {
        self.workers.iter().find(|w| w.slug == slug)
    }
}
