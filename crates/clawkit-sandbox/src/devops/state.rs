//! The DevOps sandbox's state, over the model: settings, counters, the JWT key, the rate limits,
//! the webhook courier and every resource.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use openclaw_devops_api::types::{self, AgentType, ProjectStats, Role};
use serde_json::{Value, json};

use super::error::ApiError;
use super::limits::{Admission, DevopsTier, Limiter, Refused, Window};
use super::model::agents::Activation;
use super::model::builds::{Build, Pipeline};
use super::model::deployments::Deployment;
use super::model::projects::{Project, Task};
use super::model::test_runs::{Suite, TestRun};
use super::model::users::User;
use super::model::webhooks::{MAX_ATTEMPTS, Webhook};
use super::rbac::{Caller, Grant};
use crate::kit::delivery::{Acknowledgement, Counts, Courier, Policy};
use crate::kit::ids::random_u64;
use crate::kit::tokens::RefreshTokens;

/// The seed's `totalItems` of `GET /users`: how many users exist at start by default.
pub const DEFAULT_USERS: usize = 156;

/// How long one webhook delivery attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings of the DevOps part.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seed for the generated users and numbers.
    pub seed: u64,
    /// Access-token lifetime (default 3600 s).
    pub token_ttl: Duration,
    /// Users at start, the seeded ones included (default [`DEFAULT_USERS`]).
    pub users: usize,
    /// The tier of every account not in `tiers` (default [`DevopsTier::Pro`]).
    pub default_tier: DevopsTier,
    /// Tiers of single accounts.
    pub tiers: HashMap<String, DevopsTier>,
    /// Time from start to final state of an agent activation, build, deployment or test run
    /// (default 4 s).
    pub job_time: Duration,
    /// First retry delay of a webhook delivery, doubling after each attempt (default 1 s).
    pub webhook_backoff: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            seed: 42,
            token_ttl: Duration::from_secs(3600),
            users: DEFAULT_USERS,
            default_tier: DevopsTier::Pro,
            tiers: HashMap::new(),
            job_time: Duration::from_secs(4),
            webhook_backoff: Duration::from_secs(1),
        }
    }
}

/// Counters tests and benchmarks read.
#[derive(Debug, Default)]
pub struct Stats {
    /// Tokens granted by `POST /auth/token`.
    pub token_grants: AtomicU64,
    /// Successful refreshes (`POST /auth/refresh`).
    pub refreshes: AtomicU64,
    /// Refreshes refused because the refresh token was already used.
    pub refresh_reuse: AtomicU64,
    /// Requests let in by the rate limiter (every answer but its own 429s).
    pub requests: AtomicU64,
    /// 429s the rate limiter answered, whatever the window.
    pub rate_limited: AtomicU64,
    /// 429s answered because the minute bucket was empty.
    pub rate_limited_minute: AtomicU64,
    /// 429s answered because the hour bucket was empty.
    pub rate_limited_hour: AtomicU64,
    /// 429s answered because too many requests were in flight.
    pub rate_limited_concurrency: AtomicU64,
    /// Webhook deliveries: attempts (each retry counts), retries, events acknowledged with a
    /// 2xx (`webhook_delivered`) and events that failed every attempt.
    pub webhooks: Counts,
    /// The most requests in flight seen, per account.
    max_in_flight: Mutex<HashMap<String, u64>>,
}

impl Stats {
    /// The most requests of `account` seen in flight at once.
    pub fn max_concurrency(&self, account: &str) -> u64 {
        self.max_in_flight
            .lock()
            .map(|m| m.get(account).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Records `n` requests of `account` in flight.
    fn note_in_flight(&self, account: &str, n: u64) {
        if let Ok(mut m) = self.max_in_flight.lock() {
            let max = m.entry(account.to_string()).or_insert(0);
            *max = (*max).max(n);
        }
    }

    /// Counts a refusal of the rate limiter.
    fn note_refusal(&self, window: Window) {
        let counter = match window {
            Window::Concurrency => &self.rate_limited_concurrency,
            Window::Minute => &self.rate_limited_minute,
            Window::Hour => &self.rate_limited_hour,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters as JSON (`GET /openclaw-devops/_sandbox/stats`).
    pub fn snapshot(&self) -> Value {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let max: serde_json::Map<String, Value> = self
            .max_in_flight
            .lock()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
            .unwrap_or_default();
        json!({
            "tokenGrants": load(&self.token_grants),
            "refreshes": load(&self.refreshes),
            "refreshReuse": load(&self.refresh_reuse),
            "requests": load(&self.requests),
            "rateLimited": {
                "total": load(&self.rate_limited),
                "minute": load(&self.rate_limited_minute),
                "hour": load(&self.rate_limited_hour),
                "concurrency": load(&self.rate_limited_concurrency),
            },
            "maxConcurrency": max,
            "webhookAttempts": load(&self.webhooks.webhook_attempts),
            "webhookAcknowledged": load(&self.webhooks.webhook_delivered),
        })
    }
}

/// Every resource.
#[derive(Debug, Default)]
pub(crate) struct Inner {
    /// Users, soft-deleted ones included.
    pub(crate) users: Vec<User>,
    /// Refresh tokens.
    pub(crate) refresh: RefreshTokens<Grant>,
    /// Projects.
    pub(crate) projects: Vec<Project>,
    /// Tasks, oldest first.
    pub(crate) tasks: Vec<Task>,
    /// Agent activations.
    pub(crate) activations: Vec<Activation>,
    /// Pipelines.
    pub(crate) pipelines: Vec<Pipeline>,
    /// Builds.
    pub(crate) builds: Vec<Build>,
    /// Deployments, oldest first.
    pub(crate) deployments: Vec<Deployment>,
    /// Test suites.
    pub(crate) suites: Vec<Suite>,
    /// Test runs.
    pub(crate) runs: Vec<TestRun>,
    /// Webhook subscriptions, oldest first.
    pub(crate) webhooks: Vec<Webhook>,
}

impl Inner {
    /// The live user `id`, or 404.
    pub(crate) fn user_mut(&mut self, id: &str) -> Result<&mut User, ApiError> {
        self.users
            .iter_mut()
            .find(|u| u.id == id && !u.deleted)
            .ok_or_else(|| ApiError::not_found("user", id))
    }

    /// Whether `id` is a live user.
    pub(crate) fn user_exists(&self, id: &str) -> bool {
        self.users.iter().any(|u| u.id == id && !u.deleted)
    }

    /// The project `id` as `caller` may see it, or 404.
    pub(crate) fn project_for(&self, id: &str, caller: &Caller) -> Result<&Project, ApiError> {
        self.projects
            .iter()
            .find(|p| p.id == id && p.visible_to(&caller.user_id, caller.role))
            .ok_or_else(|| ApiError::not_found("project", id))
    }

    /// A project's `stats` at `now`: its tasks (done ones), the PRDs its product agents wrote,
    /// the deployments of its applications.
    pub(crate) fn project_stats(&self, project: &Project, now: i64) -> ProjectStats {
        let tasks = self.tasks.iter().filter(|t| t.project_id == project.id);
        let prds = self
            .activations
            .iter()
            .filter(|a| a.agent_type == AgentType::Product)
            .filter(|a| a.completed(now))
            .filter(|a| {
                self.tasks
                    .iter()
                    .any(|t| t.id == a.task_id && t.project_id == project.id)
            });
        let deployments = self
            .deployments
            .iter()
            .filter(|d| project.deploys(&d.application_id));
        ProjectStats {
            total_tasks: tasks.clone().count() as u64,
            completed_tasks: tasks.filter(|t| t.done()).count() as u64,
            total_pr_ds: prds.count() as u64,
            total_deployments: deployments.count() as u64,
        }
    }

    /// The `Project` schema of `project` at `now`.
    pub(crate) fn project(&self, project: &Project, now: i64) -> types::Project {
        project.wire(self.project_stats(project, now))
    }

    /// The task `id` if its project is visible to `caller`, or 404.
    pub(crate) fn task_index(&self, id: &str, caller: &Caller) -> Result<usize, ApiError> {
        self.tasks
            .iter()
            .position(|t| {
                t.id == id
                    && self
                        .projects
                        .iter()
                        .any(|p| p.id == t.project_id && p.visible_to(&caller.user_id, caller.role))
            })
            .ok_or_else(|| ApiError::not_found("task", id))
    }

    /// The role a refresh of `grant` gets: a user's current one, or `None` when the user is gone
    /// or disabled; the client's as issued.
    pub(crate) fn role_now(&self, grant: &Grant) -> Option<Role> {
        if grant.client {
            return Some(grant.role);
        }
        self.users
            .iter()
            .find(|u| u.id == grant.user_id && !u.deleted)
            .filter(|u| u.enabled())
            .map(|u| u.role)
    }
}

/// The HS256 key of the access tokens (not printed).
pub(crate) struct Secret(pub(crate) [u8; 32]);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The OpenClaw DevOps v2 sandbox.
#[derive(Debug)]
pub struct Devops {
    /// Settings.
    pub(crate) config: Config,
    /// JWT key, drawn at start.
    pub(crate) secret: Secret,
    /// Random bits drawn at start (ids).
    pub(crate) entropy: u64,
    /// Resources.
    inner: Mutex<Inner>,
    /// Rate limits.
    pub(crate) limiter: Limiter,
    /// Counters.
    pub stats: Stats,
    /// Delivers webhook events.
    pub(crate) courier: Courier,
    serial: AtomicU64,
}

impl Devops {
    /// A sandbox with `config` over `resources`.
    pub(crate) fn with_resources(config: Config, resources: Inner) -> Arc<Self> {
        let mut key = [0u8; 32];
        for chunk in key.chunks_mut(8) {
            chunk.copy_from_slice(&random_u64().to_le_bytes());
        }
        let courier = Courier::new(Policy {
            attempts: MAX_ATTEMPTS,
            first_delay: config.webhook_backoff,
            timeout: Some(ATTEMPT_TIMEOUT),
            acknowledgement: Acknowledgement::Success,
            disable_after: None,
        });
        Arc::new(Self {
            inner: Mutex::new(resources),
            limiter: Limiter::new(config.default_tier, config.tiers.clone()),
            secret: Secret(key),
            entropy: random_u64(),
            stats: Stats::default(),
            courier,
            serial: AtomicU64::new(1),
            config,
        })
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Locks the resources (a poisoned lock is recovered: the state stays usable).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A number never handed out before by this sandbox.
    pub(crate) fn next_serial(&self) -> u64 {
        self.serial.fetch_add(1, Ordering::Relaxed)
    }

    /// The job time in ms.
    pub(crate) fn job_ms(&self) -> i64 {
        i64::try_from(self.config.job_time.as_millis()).unwrap_or(i64::MAX / 4)
    }

    /// Lets one request of `account` in, or refuses it; counts the refusals and the most
    /// requests in flight.
    pub(crate) fn admit(&self, account: &str) -> Result<Admission, Refused> {
        match self.limiter.admit(account) {
            Ok(admission) => {
                self.stats.note_in_flight(account, admission.in_flight());
                Ok(admission)
            }
            Err(refused) => {
                self.stats.note_refusal(refused.window);
                Err(refused)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devops() -> Arc<Devops> {
        let config = Config {
            tiers: HashMap::from([("free".to_string(), DevopsTier::Free)]),
            ..Config::default()
        };
        Devops::with_resources(config, Inner::default())
    }

    #[test]
    fn refusals_are_counted_by_window() {
        let d = devops();
        for _ in 0..60 {
            d.admit("free").unwrap();
        }
        assert!(d.admit("free").is_err());
        assert_eq!(d.stats.rate_limited_minute.load(Ordering::Relaxed), 1);
        assert_eq!(d.stats.rate_limited.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn the_most_requests_in_flight_are_recorded() {
        let d = devops();
        let held: Vec<_> = (0..5).map(|_| d.admit("free").unwrap()).collect();
        assert!(d.admit("free").is_err());
        assert_eq!(d.stats.max_concurrency("free"), 5);
        assert_eq!(d.stats.rate_limited_concurrency.load(Ordering::Relaxed), 1);
        drop(held);
        assert!(d.admit("free").is_ok());
        assert_eq!(d.stats.max_concurrency("free"), 5);
    }
}
