//! The sandbox's builder and handle: the vendors of the registry started and nested each under
//! its prefix, the control routes (`/_sandbox/health`, `/_sandbox/faults`) and the fault
//! middleware over all of them. Nothing here names a vendor.

use std::any::Any;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::faults::{self, FaultKind, FaultRule};
use crate::registry::{Flags, Vendor, start_vendors};
use crate::vendor::{self, Api, Common, Configs, Serve, Started};

/// One API of a vendor, as the router and the fault middleware see it.
#[derive(Debug, Clone)]
pub struct Mounted {
    /// Its vendor.
    pub vendor: Vendor,
    /// The API.
    pub api: Arc<dyn Api>,
}

/// State every route can reach.
#[derive(Debug)]
pub struct Shared {
    /// Latency added to every vendor request.
    pub latency: Duration,
    /// The fault rules in force.
    pub faults: Mutex<faults::FaultPlan>,
    /// Every vendor's APIs.
    pub apis: Vec<Mounted>,
}

impl Shared {
    /// The API of `vendor` that owns `route` (the path after the vendor's prefix): the one whose
    /// [`Api::mount`] is the longest that `route` starts with.
    pub fn api(&self, vendor: Vendor, route: &str) -> Option<&Arc<dyn Api>> {
        self.apis
            .iter()
            .filter(|m| m.vendor == vendor && route.starts_with(m.api.mount()))
            .max_by_key(|m| m.api.mount().len())
            .map(|m| &m.api)
    }
}

/// Settings for a sandbox; see [`Sandbox::builder`].
#[derive(Debug, Clone)]
pub struct SandboxBuilder {
    port: u16,
    seed: u64,
    latency: Duration,
    faults: Vec<FaultRule>,
    configs: Configs,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            port: 0,
            seed: 42,
            latency: Duration::ZERO,
            faults: Vec::new(),
            configs: Configs::default(),
        }
    }
}

impl SandboxBuilder {
    /// Port to bind on 127.0.0.1 (default 0: a random free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Seed for ids, generated data and fault probabilities (default 42).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Latency added to every vendor request (default none).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Adds a fault rule in force from the start.
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    /// Changes one vendor's settings, named by their type:
    /// `.configure(|c: &mut devops::Config| c.job_time = Duration::from_millis(300))`.
    pub fn configure<C: Default + Clone + Send + Sync + 'static>(
        mut self,
        f: impl FnOnce(&mut C),
    ) -> Self {
        self.configs.change(f);
        self
    }

    /// Applies the command-line flags of every vendor; the error names the flag.
    pub fn flags(mut self, flags: Flags) -> Result<Self, String> {
        flags.apply(&mut self.configs)?;
        Ok(self)
    }

    /// Binds 127.0.0.1 and starts serving in the background.
    pub async fn start(self) -> std::io::Result<Sandbox> {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await?;
        let addr = listener.local_addr()?;
        let common = Common {
            seed: self.seed,
            root: format!("http://{addr}"),
        };
        let mut plan = faults::FaultPlan::new(self.seed);
        for rule in self.faults {
            plan.add(rule);
        }
        let vendors = start_vendors(&self.configs, &common);
        let apis = vendors
            .iter()
            .flat_map(|v| {
                v.apis.iter().map(|api| Mounted {
                    vendor: v.vendor,
                    api: api.clone(),
                })
            })
            .collect();
        let shared = Arc::new(Shared {
            latency: self.latency,
            faults: Mutex::new(plan),
            apis,
        });
        let app = router(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!("sandbox server stopped: {e}");
            }
        });
        Ok(Sandbox {
            addr,
            shared,
            vendors,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// Every API nested under its vendor's prefix, their routes with full paths, the control routes,
/// and the fault middleware over all of them.
fn router(shared: Arc<Shared>) -> Router {
    let control = Router::new()
        .route("/_sandbox/health", get(health))
        .route(
            "/_sandbox/faults",
            get(list_faults).post(add_faults).delete(clear_faults),
        )
        .with_state(shared.clone());
    let mut app = Router::new();
    for vendor in Vendor::ALL {
        let apis = shared.apis.iter().filter(|m| m.vendor == *vendor);
        let routes = apis.clone().fold(Router::new(), |routes, m| {
            routes.merge(vendor::router(m.api.clone()))
        });
        if routes.has_routes() {
            app = app.nest(&vendor.prefix(), routes);
        }
        app = apis.fold(app, |app, m| app.merge(m.api.clone().root_routes()));
    }
    app.merge(control)
        .layer(axum::middleware::from_fn_with_state(shared, apply))
}
/// The middleware: global latency, then the faults the plan picks for this request.
async fn apply(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let Some((vendor, route)) = faults::vendor_of(&path) else {
        return next.run(request).await;
    };
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    let faults = match shared.faults.lock() {
        Ok(mut plan) => plan.decide(vendor, route),
        Err(_) => Vec::new(),
    };
    let mut body_fault = None;
    for fault in faults {
        if let Some(error) = fault.error() {
            tracing::debug!(%path, ?error, "fault: error answer");
            return match shared.api(vendor, route) {
                Some(api) => api.fault_response(error),
                None => error.generic_response(),
            };
        }
        match fault {
            FaultKind::Latency { ms } => tokio::time::sleep(Duration::from_millis(ms)).await,
            other => body_fault = Some(other),
        }
    }
    let response = next.run(request).await;
    match body_fault {
        Some(fault) => {
            tracing::debug!(%path, ?fault, "fault on the body");
            faults::damage_body(response, fault).await
        }
        None => response,
    }
}

async fn health() -> impl IntoResponse {
    axum::Json(serde_json::json!({"status": "ok"}))
}

async fn list_faults(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let rules = shared.faults.lock().map(|p| p.rules()).unwrap_or_default();
    axum::Json(serde_json::json!({ "rules": rules }))
}

/// `POST /_sandbox/faults` takes one rule or `{"rules": [...]}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum FaultsBody {
    Many { rules: Vec<FaultRule> },
    One(FaultRule),
}

async fn add_faults(
    State(shared): State<Arc<Shared>>,
    body: axum::body::Bytes,
) -> axum::response::Response {
    let parsed: Result<FaultsBody, _> = serde_json::from_slice(&body);
    let rules = match parsed {
        Ok(FaultsBody::Many { rules }) => rules,
        Ok(FaultsBody::One(rule)) => vec![rule],
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(serde_json::json!({"error": format!("invalid fault rule: {e}")})),
            )
                .into_response();
        }
    };
    if let Ok(mut plan) = shared.faults.lock() {
        for rule in rules {
            plan.add(rule);
        }
    }
    list_faults(State(shared)).await.into_response()
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    if let Ok(mut plan) = shared.faults.lock() {
        plan.clear();
    }
    StatusCode::NO_CONTENT
}

/// A running sandbox. Dropping it stops the server; [`Sandbox::shutdown`] waits for that.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    vendors: Vec<Started<Vendor>>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Settings for a new sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL of one vendor, e.g. `http://127.0.0.1:PORT/coreclaw`.
    pub fn base_url(&self, vendor: Vendor) -> String {
        format!("{}{}", self.url(), vendor.prefix())
    }

    /// The base URL of the vendor named `name` (its [`Vendor::name`], which is the clawkit
    /// facade's service name), if the sandbox serves it.
    pub fn base_url_of(&self, name: &str) -> Option<String> {
        Vendor::named(name).map(|v| self.base_url(v))
    }

    /// The state of vendor `S`, for its counters and controls:
    /// `sandbox.vendor::<bazhuayu::Bazhuayu>().stats.requests`.
    ///
    /// # Panics
    ///
    /// If `S` is not a vendor of the registry (a programming error, not a run-time one).
    pub fn vendor<S: Serve>(&self) -> &S {
        self.vendors
            .iter()
            .find_map(|v| (v.state.as_ref() as &dyn Any).downcast_ref::<S>())
            .unwrap_or_else(|| panic!("{} is not a vendor of the sandbox", S::NAME))
    }

    /// The state of vendor `S`, shared: it outlives the sandbox (to look at after a shutdown).
    ///
    /// # Panics
    ///
    /// If `S` is not a vendor of the registry.
    pub fn vendor_state<S: Serve>(&self) -> Arc<S> {
        self.vendors
            .iter()
            .find_map(|v| v.state.clone().downcast::<S>().ok())
            .unwrap_or_else(|| panic!("{} is not a vendor of the sandbox", S::NAME))
    }

    /// What a user needs to call it: the base URL of each vendor and the credentials. The first
    /// line is `clawkit-sandbox listening on http://127.0.0.1:PORT`.
    pub fn banner(&self) -> String {
        let mut out = format!("clawkit-sandbox listening on {}\n", self.url());
        for vendor in Vendor::ALL {
            out.push_str(&format!(
                "  {:<22} {}\n",
                format!("{vendor:?}"),
                self.base_url(*vendor)
            ));
        }
        out.push_str("credentials:\n");
        let mut seen = Vec::new();
        for m in &self.shared.apis {
            for c in m.api.credentials() {
                let line = format!(
                    "  {:<10} {}: {}   ({}_{})\n",
                    format!("{:?}", m.vendor),
                    c.how,
                    c.value,
                    m.vendor.env_prefix(),
                    c.env
                );
                if !seen.contains(&line) {
                    out.push_str(&line);
                    seen.push(line);
                }
            }
        }
        for m in &self.shared.apis {
            for line in m.api.banner(&self.base_url(m.vendor)) {
                out.push_str(&format!("  {:<10} {line}\n", format!("{:?}", m.vendor)));
            }
        }
        out.push_str(&format!(
            "health: {0}/_sandbox/health   faults: {0}/_sandbox/faults\n",
            self.url()
        ));
        out
    }

    /// The credentials the sandbox accepts for `vendor`, as client settings: (`API_KEY`,
    /// `sandbox-key`) means `CORECLAW_API_KEY=sandbox-key`.
    pub fn credentials(&self, vendor: Vendor) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = Vec::new();
        for m in self.shared.apis.iter().filter(|m| m.vendor == vendor) {
            for c in m.api.credentials() {
                if !out.iter().any(|(env, _)| *env == c.env) {
                    out.push((c.env, c.value));
                }
            }
        }
        out
    }

    /// The credentials of the vendor named `name` (see [`Sandbox::credentials`]).
    pub fn credentials_of(&self, name: &str) -> Vec<(&'static str, String)> {
        Vendor::named(name)
            .map(|v| self.credentials(v))
            .unwrap_or_default()
    }

    /// Adds a fault rule while running.
    pub fn add_fault(&self, rule: FaultRule) {
        if let Ok(mut plan) = self.shared.faults.lock() {
            plan.add(rule);
        }
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        if let Ok(mut plan) = self.shared.faults.lock() {
            plan.clear();
        }
    }

    /// The fault rules with how often each matched and hit.
    pub fn faults(&self) -> Vec<faults::ActiveRule> {
        self.shared
            .faults
            .lock()
            .map(|p| p.rules())
            .unwrap_or_default()
    }

    /// Stops accepting connections, finishes the requests in flight and waits for the server.
    /// What the server's graceful shutdown would not wait for (live bots.win browser sessions)
    /// ends first, waiting at most 2 s.
    pub async fn shutdown(mut self) {
        for m in &self.shared.apis {
            m.api.clone().stop(Duration::from_secs(2)).await;
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    /// Stops the server, and tells what would outlive it (live bots.win sessions) to end,
    /// without waiting.
    fn drop(&mut self) {
        for m in &self.shared.apis {
            m.api.stop_now();
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
