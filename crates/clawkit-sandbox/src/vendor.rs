//! What each vendor's module provides, and what the sandbox builds from it.
//!
//! A vendor implements [`Api`] once: its public routes, its protected routes, its own credential
//! check and its own error bodies for the faults that answer in a route's place. [`router`] puts
//! the protected routes behind [`require`], the one auth middleware; the sandbox nests the result
//! under [`Vendor::prefix`] and gives the fault middleware [`Api::fault_response`].

use std::fmt::Debug;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::Vendor;
use crate::faults::ErrorFault;

/// One vendor's API as the sandbox serves it. Paths are relative to the vendor's prefix.
pub trait Api: Debug + Send + Sync + 'static {
    /// Which vendor: its prefix, and its name in fault rules.
    fn vendor(&self) -> Vendor;

    /// Routes that need no credentials (token endpoints, public catalogs, download links).
    fn public_routes(self: Arc<Self>) -> Router;

    /// Routes behind [`Api::authorize`].
    fn protected_routes(self: Arc<Self>) -> Router;

    /// The vendor's credential check of a request to a protected route: `Err` is the vendor's own
    /// refusal (its 401 body, or its own rate limit).
    // The refusal is the whole answer, built once per refused request: no reason to box it.
    #[allow(clippy::result_large_err)]
    fn authorize(&self, request: &Request) -> Result<(), Response>;

    /// The vendor's own answer to a fault that replaces a route's answer (a rate limit or an
    /// unavailable service), as its spec documents it.
    fn fault_response(&self, fault: ErrorFault) -> Response;

    /// The credentials the sandbox accepts for this vendor (for the banner, and for clients
    /// configured the way users configure them: `<PREFIX>_<env>` variables).
    fn credentials(&self) -> Vec<Credential>;
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

/// The auth middleware of every vendor: the request goes on if [`Api::authorize`] accepts it,
/// otherwise the vendor's refusal is the answer.
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

/// Helpers for the vendors' tests.
#[cfg(test)]
pub(crate) mod testing {
    use axum::http::{StatusCode, header};
    use axum::response::Response;
    use serde_json::Value;

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
    use crate::{FaultKind, FaultRule, Sandbox};

    /// A vendor whose protected routes want `x-pass: yes`.
    #[derive(Debug)]
    struct Gate {
        protected: bool,
    }

    impl Api for Gate {
        fn vendor(&self) -> Vendor {
            Vendor::Botswin
        }

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
        let sb = Sandbox::builder().api_key("my-key").start().await.unwrap();
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
