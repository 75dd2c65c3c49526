//! OpenClaw DevOps v2 under `/openclaw-devops`, true to specs/openclaw-devops (its
//! `x-clawkit-inferred` nodes where the seed is silent) and the seed document.
//!
//! - Auth: `POST /auth/token` with the client credentials `sandbox` / `sandbox-secret` (account
//!   `sandbox`, role `admin`), or the `password` grant with the same client and a user: the role
//!   users `admin`, `product_manager`, `architect`, `developer`, `tester`, `devops` and `viewer`
//!   (ids `usr_role_<role>`) and the seed's `zhangsan` and `lisi`, all with the password
//!   `sandbox-secret`. Access tokens are HS256 JWTs (`sub` user id, `name` account, `role`,
//!   `exp`, `iat`, `jti`) living the configured time (1 hour by default); refresh tokens live
//!   7 days and work once.
//! - Rate limits per account and tier (Free 60/min, 1,000/h, 5 at once; Pro 300, 10,000, 20;
//!   Enterprise 1,000, 50,000, 100), Pro unless the builder says otherwise, and the four
//!   rate-limit headers on every answer; see `limits`.
//! - RBAC as the spec reads the seed: every role reads; `admin` writes everything; see `rbac`.
//! - Resources: every object the seed and the spec's examples name exists at start (users
//!   `usr_abc123def456` and `usr_xyz789ghi012`, project `prj_ecom2026031401`, task
//!   `task_ecom001`, activation `act_prod2026031401`, pipelines `pipe_ecom_main` and
//!   `pipe_ecom_flaky`, build `build_20260314_120501`, deployment `dep_20260314_130001`, suites
//!   `suite_ecom_login_e2e` and `suite_ecom_smoke`, run `run_20260314_140000`, webhook
//!   `wh_20260314_0001`), plus generated users up to the configured count (156 by default, the
//!   seed's `totalItems`).
//! - Jobs (agent activations, builds, deployments, test runs) reach their final state after the
//!   configured job time (4 s by default); a deployment of a version ending in `-bad` fails.
//! - Webhooks are really delivered, signed and retried; see `events`.
//! - `GET /_sandbox/stats` (not in the spec) shows the counters.
//!
//! The folder is layered, each file importing only from the layers below it: the `model`
//! (entities and their answers as the spec's generated types) with the vendor's choices beside it
//! (`error`, `read`, `rbac`, `limits`); the `state` over them (and the `seed` it starts with);
//! `auth` and `events` over the state; the `routes` on top. This file wires them together.

mod auth;
mod error;
mod events;
mod limits;
mod model;
mod rbac;
mod read;
mod routes;
mod seed;
mod state;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post, put};

use crate::vendor::{self, Api, Common, Credential, ErrorFault, Serve, Serving, Settings};

pub use auth::{CLIENT_ID, CLIENT_SECRET};
pub use limits::DevopsTier;
pub use model::users::USER_PASSWORD;
pub use model::webhooks::MAX_ATTEMPTS;
pub use state::{Config, DEFAULT_USERS, Devops, Stats};

use error::ApiError;
use limits::Quota;
use routes::{agents, builds, deployments, gate, projects, tasks, test_runs, users, webhooks};

/// How the role users are described next to the client secret (banner and docs).
const ROLE_USERS: &str = "POST /auth/token client_secret (also the password grant's password of the users admin|product_manager|architect|developer|tester|devops|viewer)";

/// OpenClaw DevOps's command-line flags.
#[derive(Debug, Clone, clap::Args)]
#[group(skip)]
pub struct Flags {
    /// The OpenClaw DevOps rate-limit tier of every account.
    #[arg(long, value_enum, default_value_t = DevopsTier::Pro)]
    pub devops_tier: DevopsTier,
    /// Seconds an OpenClaw DevOps agent activation, build, deployment or test run takes.
    #[arg(long, default_value_t = 4.0)]
    pub devops_job_seconds: f64,
}

impl Devops {
    /// A fresh sandbox with the seeded resources.
    pub fn new(config: Config) -> Arc<Self> {
        let resources = seed::resources(&config);
        Devops::with_resources(config, resources)
    }
}

impl Serve for Devops {
    const NAME: &'static str = "openclaw-devops";
    type Config = Config;

    /// Every account starts with the seeded resources, ids and users drawn from the sandbox's
    /// seed; one API, `/openclaw-devops` as a whole.
    fn start(config: Config, _: &Common) -> Serving<Self> {
        Serving::one(Devops::new(config))
    }
}

impl Settings for Config {
    type Flags = Flags;

    fn seed(&mut self) -> Option<&mut u64> {
        Some(&mut self.seed)
    }

    fn apply(&mut self, flags: Flags) -> Result<(), String> {
        self.job_time = vendor::seconds("--devops-job-seconds", flags.devops_job_seconds)?;
        self.default_tier = flags.devops_tier;
        Ok(())
    }
}

/// The protected routes, grouped as the spec's tags: (path, handlers).
fn table() -> Vec<(&'static str, MethodRouter<Arc<Devops>>)> {
    vec![
        ("/users", get(users::list).post(users::create)),
        (
            "/users/{userId}",
            get(users::get).put(users::update).delete(users::delete),
        ),
        ("/projects", get(projects::list).post(projects::create)),
        ("/projects/{projectId}", get(projects::get)),
        (
            "/projects/{projectId}/tasks",
            get(tasks::list).post(tasks::create),
        ),
        ("/tasks/{taskId}", get(tasks::get)),
        ("/tasks/{taskId}/status", put(tasks::update_status)),
        ("/agents/{agentType}/activate", post(agents::activate)),
        (
            "/agents/activations/{activationId}/progress",
            get(agents::progress),
        ),
        (
            "/agents/activations/{activationId}/result",
            get(agents::result),
        ),
        ("/pipelines/{pipelineId}/trigger", post(builds::trigger)),
        ("/builds/{buildId}", get(builds::get)),
        ("/deployments", post(deployments::create)),
        ("/deployments/{deploymentId}", get(deployments::get)),
        (
            "/deployments/{deploymentId}/rollback",
            post(deployments::rollback),
        ),
        ("/tests/suites/{suiteId}/run", post(test_runs::run)),
        ("/tests/runs/{runId}", get(test_runs::get)),
        ("/tests/runs/{runId}/report", get(test_runs::report)),
        ("/webhooks", get(webhooks::list).post(webhooks::create)),
        ("/webhooks/{webhookId}", delete(webhooks::delete)),
    ]
}

/// OpenClaw DevOps: `/auth/*` is public, everything else needs a bearer token.
impl Api for Devops {
    fn public_routes(self: Arc<Self>) -> Router {
        let auth = Router::new()
            .route("/auth/token", post(routes::auth::token))
            .route("/auth/refresh", post(routes::auth::refresh))
            .route_layer(from_fn_with_state(self.clone(), gate::public))
            .with_state(self.clone());
        let stats = Router::new()
            .route("/_sandbox/stats", get(stats))
            .with_state(self);
        auth.merge(stats)
    }

    /// The rate-limit middleware wraps them all (a path no route matches stays a bare 404).
    fn protected_routes(self: Arc<Self>) -> Router {
        table()
            .into_iter()
            .fold(Router::new(), |router, (path, handlers)| {
                router.route(path, handlers)
            })
            .route_layer(from_fn_with_state(self.clone(), gate::protected))
            .with_state(self)
    }

    /// The bearer token must be a valid, unexpired JWT of this sandbox: otherwise 401
    /// `UNAUTHORIZED` with `details.reason` (`missing_token`, `invalid_token`, `token_expired`),
    /// with the rate-limit headers of the `anonymous` account.
    fn authorize(&self, request: &Request) -> Result<(), Response> {
        self.verify(request.headers())
            .map(|_| ())
            .map_err(|reason| self.refuse(reason))
    }

    /// The spec's envelopes: 429 `RATE_LIMITED` (both rate-limit faults) and 503
    /// `SERVICE_UNAVAILABLE`, with `Retry-After` and fixed rate-limit headers (limit 300, none
    /// remaining).
    fn fault_response(&self, fault: ErrorFault) -> Response {
        let (error, retry_after) = match fault {
            ErrorFault::Http429 { retry_after_secs } => (
                ApiError::rate_limited(300, "minute", retry_after_secs),
                retry_after_secs,
            ),
            ErrorFault::Code4290 => (ApiError::rate_limited(300, "minute", 1), 1),
            ErrorFault::Http503 => (ApiError::unavailable(1), 1),
        };
        Quota::fixed(retry_after).on(error.into_response())
    }

    fn credentials(&self) -> Vec<Credential> {
        vec![
            Credential {
                how: "POST /auth/token client_credentials client_id",
                env: "CLIENT_ID",
                value: CLIENT_ID.into(),
            },
            Credential {
                how: ROLE_USERS,
                env: "CLIENT_SECRET",
                value: CLIENT_SECRET.into(),
            },
        ]
    }
}

/// `GET /_sandbox/stats`.
async fn stats(State(d): State<Arc<Devops>>) -> Response {
    axum::Json(d.stats.snapshot()).into_response()
}
