//! CoreClaw's state, shared by v1 and v2: the settings, the seeded catalog, runs, saved tasks,
//! the account and export files.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::catalog;
use super::error::ApiError;
use super::export::Export;
use super::runs::{Account, Run};
use super::task::Task;
use super::validate::System;
use super::worker::Worker;
use crate::kit::clock::unix_now;
use crate::kit::delivery::{Acknowledgement, Counts, Courier, Policy};
use crate::kit::ids::{Ids, hash_str};

/// The CoreClaw api-key the sandbox accepts unless configured otherwise (v1's `api-key` header,
/// v2's Bearer token).
pub const API_KEY: &str = "sandbox-key";

/// How the completion webhook is delivered: at most 4 attempts, 250 ms apart and doubling, 5 s
/// each, until the receiver answers 200 (the guide: "返回 200 OK").
const COMPLETION_WEBHOOK: Policy = Policy {
    attempts: 4,
    first_delay: Duration::from_millis(250),
    timeout: Some(Duration::from_secs(5)),
    acknowledgement: Acknowledgement::Ok,
    disable_after: None,
};

/// Settings of the CoreClaw part.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seed for slugs and items (the sandbox's).
    pub seed: u64,
    /// Run time from start to final status (default 3 s).
    pub run_duration: Duration,
    /// Starting balance in micro-USD (default 100 USD).
    pub initial_balance_micros: i64,
    /// The api-key accepted (default [`API_KEY`]).
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
            api_key: API_KEY.to_string(),
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
    /// A run by slug, or 70001.
    pub fn run(&self, slug: &str) -> Result<&Run, ApiError> {
        self.runs.get(slug).ok_or_else(|| ApiError::no_run(slug))
    }

    /// A saved task by slug, or 60001.
    pub fn task(&self, slug: &str) -> Result<&Task, ApiError> {
        self.tasks
            .iter()
            .find(|t| t.slug == slug)
            .ok_or_else(|| ApiError::no_task(slug))
    }

    /// A saved task by slug, to change, or 60001.
    pub fn task_mut(&mut self, slug: &str) -> Result<&mut Task, ApiError> {
        self.tasks
            .iter_mut()
            .find(|t| t.slug == slug)
            .ok_or_else(|| ApiError::no_task(slug))
    }

    /// Whether `slug` names a run or a saved task (a start that gives one as its Worker is told
    /// so).
    pub fn is_run_or_task(&self, slug: &str) -> bool {
        self.runs.contains_key(slug) || self.tasks.iter().any(|t| t.slug == slug)
    }
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
    /// Completion webhook deliveries so far.
    pub webhooks: Counts,
    /// The completion webhook's courier.
    pub(super) courier: Courier,
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
            webhooks: Counts::default(),
            courier: Courier::new(COMPLETION_WEBHOOK),
            config,
        });
        cc.seed_history(catalog::runs());
        cc.seed_tasks(catalog::tasks());
        cc
    }

    fn seed_tasks(&self, templates: Vec<catalog::TaskTemplate>) {
        let mut inner = self.lock();
        for (n, t) in templates.into_iter().enumerate() {
            let Some(worker) = self.worker(t.worker) else {
                continue;
            };
            inner.tasks.push(Task {
                title: format!("{} (saved)", worker.title),
                ..Task::new(
                    2001 + n as i64,
                    t.slug.to_string(),
                    t.worker,
                    worker.version,
                    t.custom,
                )
            });
        }
    }

    /// The runs of the guide and the spec examples, finished (charged) or still running, started
    /// as long ago as their templates say.
    fn seed_history(&self, templates: Vec<catalog::RunTemplate>) {
        let now = Instant::now();
        let now_unix = unix_now();
        let mut inner = self.lock();
        for t in templates {
            let Some(worker) = self.worker(t.worker) else {
                continue;
            };
            let custom = t.custom.as_object().cloned().unwrap_or_default();
            let age = if t.finished {
                t.duration * 2
            } else {
                t.duration / 5
            };
            let mut run = Run::new(
                t.slug.to_string(),
                hash_str(self.config.seed, t.slug),
                worker,
                custom,
                System::defaults(worker),
                t.duration,
                None,
                now_unix - age.as_secs() as i64,
            );
            run.created = now.checked_sub(age).unwrap_or(now);
            run.charged = true;
            inner.order.push(t.slug.to_string());
            inner.runs.insert(t.slug.to_string(), run);
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
