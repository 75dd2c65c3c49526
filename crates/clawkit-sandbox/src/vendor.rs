//! What each vendor's module provides, and what the sandbox builds from it.
//!
//! A vendor implements [`Serve`] once: its identity (name, environment prefix), its typed
//! [`Serve::Config`] (with the command-line [`Settings::Flags`] that set it), and how it starts. It
//! serves one or more [`Api`]s over its state (CoreClaw serves v1 and v2): each has its public
//! routes, its protected routes, its own credential check and its own error bodies for the faults
//! that answer in a route's place. [`router`] puts the protected routes behind [`require`], the
//! one auth middleware; the sandbox nests the result under the vendor's prefix (`/` + its name)
//! and gives the fault middleware the [`Api::fault_response`] of the API that owns the route
//! ([`Api::mount`]).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// What every vendor is started with.
#[derive(Debug, Clone)]
pub struct Common {
    /// The sandbox's seed for ids, generated data and fault probabilities.
    pub seed: u64,
    /// The sandbox's root URL, `http://127.0.0.1:PORT`.
    pub root: String,
}

/// A vendor's settings, and the command-line flags that set them.
pub trait Settings: Default + Clone + Debug + Send + Sync + 'static {
    /// Its command-line flags, for the `clawkit-sandbox` binary and `claw sandbox` (each named
    /// after the vendor: `--devops-tier`, `--fulfillment-token-seconds`, ...).
    type Flags: clap::Args + Clone + Debug + Send + Sync + 'static;

    /// Applies the flags; the error names the flag and what it must be.
    fn apply(&mut self, flags: Self::Flags) -> Result<(), String>;

    /// Where the settings keep the seed of the vendor's generated data, if they do: the
    /// sandbox's seed is written there before the vendor starts.
    fn seed(&mut self) -> Option<&mut u64> {
        None
    }
}

/// A flag of seconds, 0 or more (a run's or a job's duration, a logistics step): the duration,
/// or the error naming `flag`.
pub fn seconds(flag: &str, value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| format!("{flag} must be a number of seconds, 0 or more"))
}

/// A started vendor: its state, and the APIs it serves over it.
pub struct Serving<S> {
    /// Its state (for [`crate::Sandbox::vendor`]).
    pub state: Arc<S>,
    /// The APIs it serves over that state (CoreClaw: v1 and v2).
    pub apis: Vec<Arc<dyn Api>>,
}

impl<S: Api> Serving<S> {
    /// A vendor whose state is its one API.
    pub fn one(state: Arc<S>) -> Self {
        Self {
            apis: vec![state.clone()],
            state,
        }
    }
}

/// A vendor of the sandbox: its identity, its settings and how it starts.
pub trait Serve: Any + Debug + Send + Sync + Sized {
    /// Its name: the path prefix (`/` + name), the name in fault rules, e.g. `openclaw-devops`;
    /// the clawkit facade's `Service::NAME` of the vendor.
    const NAME: &'static str;
    /// Its settings (see [`crate::SandboxBuilder::configure`]).
    type Config: Settings;

    /// Starts it with `config`.
    fn start(config: Self::Config, common: &Common) -> Serving<Self>;
}

/// What [`Api::stop`] returns.
pub type Stopping = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One API as the sandbox serves it. Paths are relative to the vendor's prefix.
pub trait Api: Debug + Send + Sync + 'static {
    /// The path (after the vendor's prefix) under which the routes are this API's, for faults:
    /// `""` for all of them, `/api/v2` for CoreClaw's v2. The longest that matches wins.
    fn mount(&self) -> &'static str {
        ""
    }

    /// Routes that need no credentials (token endpoints, public catalogs, download links).
    fn public_routes(self: Arc<Self>) -> Router;

    /// Routes behind [`Api::authorize`].
    fn protected_routes(self: Arc<Self>) -> Router;

    /// Routes with full paths, outside the prefix (bots.win's `/botswin/`).
    fn root_routes(self: Arc<Self>) -> Router {
        Router::new()
    }

    /// The credential check of a request to a protected route: `Err` is the API's own refusal
    /// (its 401 body, or its own rate limit).
    // The refusal is the whole answer, built once per refused request: no reason to box it.
    #[allow(clippy::result_large_err)]
    fn authorize(&self, request: &Request) -> Result<(), Response>;

    /// The API's own answer to a fault that replaces a route's answer (a rate limit or an
    /// unavailable service), as its spec documents it.
    fn fault_response(&self, fault: ErrorFault) -> Response;

    /// The credentials the sandbox accepts (for the banner, and for clients configured the way
    /// users configure them: `<PREFIX>_<env>` variables).
    fn credentials(&self) -> Vec<Credential>;

    /// More lines for the banner (bots.win's browser endpoint), given the vendor's base URL.
    fn banner(&self, _base_url: &str) -> Vec<String> {
        Vec::new()
    }

    /// Ends what the server's graceful shutdown would not wait for (bots.win's live browser
    /// sessions), waiting at most `grace`.
    fn stop(self: Arc<Self>, _grace: Duration) -> Stopping {
        Box::pin(async {})
    }

    /// Tells what [`Api::stop`] ends to end, without waiting (the sandbox was dropped).
    fn stop_now(&self) {}
}

/// A fault that answers in a route's place with an error (see `crate::faults`): the API chooses
/// the body ([`Api::fault_response`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorFault {
    /// HTTP 429 with a `Retry-After` header.
    Http429 {
        /// Seconds in the `Retry-After` header.
        retry_after_secs: u64,
    },
    /// The vendor's in-band rate limit (HTTP 429 where it has none).
    Code4290,
    /// HTTP 503 Service Unavailable.
    Http503,
}

impl ErrorFault {
    /// Whether it is a rate limit (429 or 4290) rather than an unavailable service.
    pub fn is_rate_limit(self) -> bool {
        !matches!(self, Self::Http503)
    }

    /// The answer with `status` and the JSON `body`, plus `Retry-After` for [`ErrorFault::Http429`].
    pub fn respond(self, status: StatusCode, body: serde_json::Value) -> Response {
        let mut response = (status, axum::Json(body)).into_response();
        if let Self::Http429 { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }

    /// The answer of a vendor the sandbox does not serve yet: 429 (for both rate limits) or 503
    /// with a generic body.
    pub fn generic_response(self) -> Response {
        if self.is_rate_limit() {
            self.respond(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"error": "rate_limited", "message": "Too many requests"}),
            )
        } else {
            self.respond(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "service_unavailable", "message": "Service temporarily unavailable"}),
            )
        }
    }
}

/// One credential the sandbox accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// How it is sent, e.g. `header api-key`.
    pub how: &'static str,
    /// The client setting that holds it, after the vendor's environment prefix, e.g. `API_KEY`
    /// for `CORECLAW_API_KEY`.
    pub env: &'static str,
    /// The value.
    pub value: String,
}

/// The routes of `api`, relative to its prefix: the public ones, and the protected ones behind
/// [`require`] (a path no route matches stays 404, credentials or not).
pub fn router(api: Arc<dyn Api>) -> Router {
    let protected = api.clone().protected_routes();
    let protected = if protected.has_routes() {
        protected.route_layer(axum::middleware::from_fn_with_state(api.clone(), require))
    } else {
        protected
    };
    api.public_routes().merge(protected)
}

/// The auth middleware of every API: the request goes on if [`Api::authorize`] accepts it,
/// otherwise the API's refusal is the answer.
pub async fn require(State(api): State<Arc<dyn Api>>, request: Request, next: Next) -> Response {
    match api.authorize(&request) {
        Ok(()) => next.run(request).await,
        Err(refusal) => refusal,
    }
}

/// Reads the whole body of `request` (at most `limit` bytes) for a middleware that must see it
/// (an account named in an auth body, a signature over the raw bytes), and gives back the request
/// with the same body for the route. `None` when it is larger or cannot be read.
pub async fn read_body(request: Request, limit: usize) -> Option<(Request, Bytes)> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, limit).await.ok()?;
    Some((Request::from_parts(parts, Body::from(bytes.clone())), bytes))
}

/// Each vendor's settings, by type: what [`crate::SandboxBuilder::configure`] changed, the
/// defaults for the rest.
#[derive(Clone, Default)]
pub struct Configs(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl Debug for Configs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Configs({} changed)", self.0.len())
    }
}

impl Configs {
    /// The settings of type `C` (its defaults unless changed).
    pub fn get<C: Default + Clone + 'static>(&self) -> C {
        self.0
            .get(&TypeId::of::<C>())
            .and_then(|c| c.downcast_ref::<C>())
            .cloned()
            .unwrap_or_default()
    }

    /// Changes the settings of type `C`.
    pub fn change<C: Default + Clone + Send + Sync + 'static>(&mut self, f: impl FnOnce(&mut C)) {
        let mut config = self.get::<C>();
        f(&mut config);
        self.0.insert(TypeId::of::<C>(), Arc::new(config));
    }

    /// Applies vendor `S`'s flags to its settings.
    pub fn apply<S: Serve>(&mut self, flags: <S::Config as Settings>::Flags) -> Result<(), String> {
        let mut config = self.get::<S::Config>();
        config.apply(flags)?;
        self.0.insert(TypeId::of::<S::Config>(), Arc::new(config));
        Ok(())
    }
}

/// A started vendor: its state, and the APIs it serves.
#[derive(Debug, Clone)]
pub struct Started<V> {
    /// Which vendor.
    pub vendor: V,
    /// Its state (the [`Serve`] type), for [`crate::Sandbox::vendor`].
    pub state: Arc<dyn Any + Send + Sync>,
    /// Its APIs.
    pub apis: Vec<Arc<dyn Api>>,
}

impl<V> Started<V> {
    /// Starts vendor `S` with its settings in `configs`.
    pub fn of<S: Serve>(vendor: V, configs: &Configs, common: &Common) -> Self {
        let mut config = configs.get::<S::Config>();
        if let Some(seed) = config.seed() {
            *seed = common.seed;
        }
        let Serving { state, apis } = S::start(config, common);
        Self {
            vendor,
            state,
            apis,
        }
    }
}

/// The list of vendors, once: `Variant = module::State` per vendor, in the order they are
/// served. It declares [`crate::Vendor`] (each variant named by its state's [`Serve::NAME`]),
/// [`crate::Flags`] (every vendor's flags) and the list the sandbox starts.
macro_rules! registry {
    ($( $(#[$doc:meta])* $variant:ident = $module:ident :: $state:ident ),* $(,)?) => {
        /// A vendor served by the sandbox, each under its own path prefix (`/` + its name).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum Vendor {
            $( $(#[$doc])* $variant, )*
        }

        impl Vendor {
            /// Every vendor.
            pub const ALL: &'static [Vendor] = &[$( Vendor::$variant ),*];

            /// Its name ([`vendor::Serve::NAME`]): the prefix without its `/`, the name in
            /// fault rules.
            pub fn name(self) -> &'static str {
                match self {
                    $( Vendor::$variant => <$module::$state as $crate::vendor::Serve>::NAME, )*
                }
            }

            /// The path prefix: `/` and its name.
            pub fn prefix(self) -> String {
                format!("/{}", self.name())
            }

            /// The prefix of the environment variables a client of this vendor reads: its name
            /// in capitals, `_` for `-`, as the clawkit facade's
            /// `Service::ENV_PREFIX` and the `claw` command line spell it.
            pub fn env_prefix(self) -> String {
                self.name().to_ascii_uppercase().replace('-', "_")
            }

            /// The vendor named `name` (see [`Vendor::name`]).
            pub fn named(name: &str) -> Option<Vendor> {
                Vendor::ALL.iter().copied().find(|v| v.name() == name)
            }
        }

        /// The command-line flags of every vendor (each vendor's [`vendor::Settings::Flags`]).
        #[derive(Debug, Clone, clap::Args)]
        #[group(skip)]
        pub struct Flags {
            $(
                #[allow(missing_docs)]
                #[command(flatten)]
                pub $module:
                    <<$module::$state as $crate::vendor::Serve>::Config as $crate::vendor::Settings>::Flags,
            )*
        }

        impl Flags {
            /// Applies every vendor's flags to its settings.
            pub(crate) fn apply(self, configs: &mut $crate::vendor::Configs) -> Result<(), String> {
                $( configs.apply::<$module::$state>(self.$module)?; )*
                Ok(())
            }
        }

        /// Starts every vendor, in the list's order.
        pub(crate) fn start_vendors(
            configs: &$crate::vendor::Configs,
            common: &$crate::vendor::Common,
        ) -> Vec<$crate::vendor::Started<Vendor>> {
            vec![$( $crate::vendor::Started::of::<$module::$state>(Vendor::$variant, configs, common) ),*]
        }
    };
}
pub(crate) use registry;

/// Helpers for the vendors' tests.
#[cfg(test)]
pub(crate) mod testing {
    use axum::body::Body;
    use axum::extract::Request;
    use axum::http::{StatusCode, header};
    use axum::response::Response;
    use serde_json::Value;

    /// A bodiless request to `uri` with `headers`, for an [`super::Api::authorize`].
    pub(crate) fn request(uri: &str, headers: &[(&str, &str)]) -> Request {
        let mut request = Request::builder().uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(Body::empty()).unwrap_or_default()
    }

    /// The status, the `Retry-After` header and the JSON body of an answer.
    pub(crate) async fn parts(response: Response) -> (StatusCode, Option<String>, Value) {
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, retry_after, body)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use axum::routing::get;
    use serde_json::Value;

    use super::*;
    use crate::{FaultKind, FaultRule, Sandbox, Vendor};

    /// A vendor whose protected routes want `x-pass: yes`.
    #[derive(Debug)]
    struct Gate {
        protected: bool,
    }

    impl Api for Gate {
        fn public_routes(self: Arc<Self>) -> Router {
            Router::new().route("/open", get(|| async { "open" }))
        }

        fn protected_routes(self: Arc<Self>) -> Router {
            if !self.protected {
                return Router::new();
            }
            Router::new().route("/closed", get(|| async { "closed" }))
        }

        fn authorize(&self, request: &Request) -> Result<(), Response> {
            match request.headers().get("x-pass") {
                Some(v) if v == "yes" => Ok(()),
                _ => Err((StatusCode::UNAUTHORIZED, "gate says no").into_response()),
            }
        }

        fn fault_response(&self, fault: ErrorFault) -> Response {
            fault.generic_response()
        }

        fn credentials(&self) -> Vec<Credential> {
            vec![Credential {
                how: "header x-pass",
                env: "PASS",
                value: "yes".into(),
            }]
        }
    }

    /// Serves `router` on a free port; the base URL.
    async fn serve(router: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{addr}")
    }

    async fn get_text(url: &str, pass: Option<&str>) -> (u16, String) {
        let mut request = reqwest::Client::new().get(url);
        if let Some(pass) = pass {
            request = request.header("x-pass", pass);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    #[test]
    fn every_vendors_flags_parse_and_configure() {
        use clap::{Args, FromArgMatches};
        let command = crate::Flags::augment_args(clap::Command::new("sandbox"));
        command.clone().debug_assert();
        let parse = |args: &[&str]| {
            let matches = command
                .clone()
                .try_get_matches_from(std::iter::once("sandbox").chain(args.iter().copied()))
                .expect("flags that parse");
            crate::Flags::from_arg_matches(&matches).expect("flags")
        };
        let flags = parse(&["--run-seconds", "0.5", "--devops-tier", "free"]);
        assert!(Sandbox::builder().flags(flags).is_ok());
        let refused = Sandbox::builder().flags(parse(&["--botswin-time-scale", "0"]));
        assert!(refused.unwrap_err().contains("--botswin-time-scale"));
        let refused = Sandbox::builder().flags(parse(&["--run-seconds=-1"]));
        assert!(refused.unwrap_err().contains("--run-seconds"));
    }

    #[tokio::test]
    async fn the_auth_layer_guards_only_the_protected_routes() {
        let base = serve(router(Arc::new(Gate { protected: true }))).await;
        assert_eq!(
            get_text(&format!("{base}/open"), None).await,
            (200, "open".into())
        );
        assert_eq!(
            get_text(&format!("{base}/closed"), None).await,
            (401, "gate says no".into())
        );
        assert_eq!(
            get_text(&format!("{base}/closed"), Some("no")).await,
            (401, "gate says no".into())
        );
        assert_eq!(
            get_text(&format!("{base}/closed"), Some("yes")).await,
            (200, "closed".into())
        );
        // A path no route matches is 404, credentials or not.
        assert_eq!(get_text(&format!("{base}/nowhere"), None).await.0, 404);
    }

    #[tokio::test]
    async fn a_vendor_without_protected_routes_still_serves_its_public_ones() {
        let base = serve(router(Arc::new(Gate { protected: false }))).await;
        assert_eq!(
            get_text(&format!("{base}/open"), None).await,
            (200, "open".into())
        );
        assert_eq!(get_text(&format!("{base}/closed"), None).await.0, 404);
    }

    async fn call(method: &str, url: String) -> (u16, Value) {
        let response = reqwest::Client::new()
            .request(method.parse().unwrap(), url)
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn each_vendor_refuses_with_its_own_body_and_serves_its_public_routes() {
        let sb = Sandbox::builder().start().await.unwrap();
        let coreclaw = sb.base_url(Vendor::Coreclaw);
        let bazhuayu = sb.base_url(Vendor::Bazhuayu);

        let (status, body) = call("POST", format!("{coreclaw}/api/v1/run/detail")).await;
        assert_eq!(status, 401);
        assert_eq!(body["code"], 20001);
        assert_eq!(
            body["message"],
            "Invalid API key: the api-key header is missing"
        );
        assert_eq!(body["data"], Value::Null);
        // The check comes before the method: a GET of a POST route without a key is 401 too.
        assert_eq!(
            call("GET", format!("{coreclaw}/api/v1/run/detail")).await.0,
            401
        );
        let (status, body) = call("GET", format!("{coreclaw}/api/store?search=amazon")).await;
        assert_eq!((status, body["code"].clone()), (200, 0.into()));

        let (status, body) = call("GET", format!("{bazhuayu}/api/TaskGroup")).await;
        assert_eq!(status, 401);
        assert_eq!(body["error"], "unauthorized");
        assert_eq!(body["data"], Value::Null);
        let (status, body) = call("GET", format!("{bazhuayu}/_sandbox/stats")).await;
        assert_eq!(status, 200);
        assert_eq!(body["requests"], 0);
        assert_eq!(call("GET", format!("{bazhuayu}/nowhere")).await.0, 404);
    }

    #[tokio::test]
    async fn the_banner_names_every_vendors_credentials() {
        let sb = Sandbox::builder()
            .configure(|c: &mut crate::coreclaw::Config| c.api_key = "my-key".into())
            .start()
            .await
            .unwrap();
        let banner = sb.banner();
        assert!(banner.starts_with(&format!("clawkit-sandbox listening on {}\n", sb.url())));
        for line in [
            "  Coreclaw   header api-key: my-key   (CORECLAW_API_KEY)\n",
            "  Bazhuayu   POST /token (form) username: sandbox   (BAZHUAYU_USERNAME)\n",
            "  Bazhuayu   POST /token (form) password: sandbox   (BAZHUAYU_PASSWORD)\n",
        ] {
            assert!(banner.contains(line), "{line} in {banner}");
        }
        assert_eq!(
            sb.credentials(Vendor::Bazhuayu),
            [
                ("USERNAME", "sandbox".to_string()),
                ("PASSWORD", "sandbox".to_string())
            ]
        );
        assert_eq!(
            sb.credentials(Vendor::Botswin),
            [("TOKEN", "sandbox-token".to_string())]
        );
    }

    #[tokio::test]
    async fn the_fault_middleware_answers_with_each_vendors_body() {
        let rule = |vendor: Vendor, route: &str| {
            FaultRule::new(FaultKind::Http429 {
                retry_after_secs: 2,
            })
            .vendor(vendor)
            .route(route)
            .limit(1)
        };
        let sb = Sandbox::builder()
            .fault(rule(Vendor::Coreclaw, "/api/store"))
            .fault(rule(Vendor::Bazhuayu, "/api/TaskGroup"))
            .fault(rule(Vendor::Botswin, "/anything"))
            .start()
            .await
            .unwrap();
        let answer = |vendor: Vendor, path: &str| {
            let url = format!("{}{path}", sb.base_url(vendor));
            async move {
                let response = reqwest::get(url).await.unwrap();
                let status = response.status().as_u16();
                let retry = response.headers().get("retry-after").cloned();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                (
                    status,
                    retry.map(|v| v.to_str().unwrap_or_default().to_string()),
                    body,
                )
            }
        };
        let (status, retry, body) = answer(Vendor::Coreclaw, "/api/store?search=amazon").await;
        assert_eq!((status, retry.as_deref()), (429, Some("2")));
        assert_eq!(body["code"], 4290);
        assert_eq!(body["message"], "Too many requests, please try again later");
        let (status, retry, body) = answer(Vendor::Bazhuayu, "/api/TaskGroup").await;
        assert_eq!((status, retry.as_deref()), (429, Some("2")));
        assert_eq!(body["error"], "quota_exceeded");
        assert_eq!(body["data"], Value::Null);
        let (status, retry, body) = answer(Vendor::Botswin, "/anything").await;
        assert_eq!((status, retry.as_deref()), (429, Some("2")));
        assert_eq!(body["error"], "rate_limited");
        // The limit is spent: the routes answer again.
        let (status, _, body) = answer(Vendor::Coreclaw, "/api/store?search=amazon").await;
        assert_eq!((status, &body["code"]), (200, &Value::from(0)));
    }
}
