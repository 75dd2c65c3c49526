//! Fault plans and the middleware that applies them.
//!
//! A [`FaultRule`] picks requests (by vendor and route, every Nth or with a probability, at most
//! `limit` times) and does one [`FaultKind`] to them. Rules come from the builder and, at run time,
//! from `POST /_sandbox/faults` (cleared by `DELETE /_sandbox/faults`). For a given seed and request
//! order the same requests are hit.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::kit::ids::{mix, unit};
use crate::registry::Vendor;
use crate::vendor::ErrorFault;

/// What a fault does to a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    /// HTTP 429 with a `Retry-After` header (and the vendor's rate-limit body).
    Http429 {
        /// Seconds in the `Retry-After` header.
        retry_after_secs: u64,
    },
    /// HTTP 200 whose envelope says code 4290 (CoreClaw's rate limit; other vendors answer 429).
    Code4290,
    /// HTTP 503 Service Unavailable.
    Http503,
    /// The request is answered normally after this delay.
    Latency {
        /// Added delay in milliseconds.
        ms: u64,
    },
    /// The response starts normally and the connection is cut halfway through the body.
    ResetMidBody,
    /// The response is complete at the HTTP level but its JSON body is cut in half.
    TruncatedJson,
    /// The body arrives in small chunks with a pause between them.
    SlowBody {
        /// Pause between chunks in milliseconds.
        chunk_delay_ms: u64,
        /// Bytes per chunk.
        chunk_size: usize,
    },
}

/// Which requests a fault hits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// Only this vendor (all vendors when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<Vendor>,
    /// Only this route: the path after the vendor prefix, e.g. `/api/v1/run/detail`; a trailing `*`
    /// matches a prefix. All routes when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// What to do.
    pub kind: FaultKind,
    /// Hit every Nth matching request (the Nth, 2Nth, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    /// Hit a matching request with this probability, drawn from the sandbox seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Hit at most this many requests in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

impl FaultKind {
    /// The error answer this fault is, if it is one (429, 4290, 503).
    pub fn error(&self) -> Option<ErrorFault> {
        match *self {
            FaultKind::Http429 { retry_after_secs } => {
                Some(ErrorFault::Http429 { retry_after_secs })
            }
            FaultKind::Code4290 => Some(ErrorFault::Code4290),
            FaultKind::Http503 => Some(ErrorFault::Http503),
            _ => None,
        }
    }
}

impl FaultRule {
    /// A rule that hits every matching request.
    pub fn new(kind: FaultKind) -> Self {
        Self {
            vendor: None,
            route: None,
            kind,
            every: None,
            probability: None,
            limit: None,
        }
    }

    /// Only for `vendor`.
    pub fn vendor(mut self, vendor: Vendor) -> Self {
        self.vendor = Some(vendor);
        self
    }

    /// Only for `route` (path after the vendor prefix; a trailing `*` matches a prefix).
    pub fn route(mut self, route: impl Into<String>) -> Self {
        self.route = Some(route.into());
        self
    }

    /// Every Nth matching request.
    pub fn every(mut self, n: u64) -> Self {
        self.every = Some(n.max(1));
        self
    }

    /// With probability `p` (0 to 1).
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p.clamp(0.0, 1.0));
        self
    }

    /// At most `n` times.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    fn matches(&self, vendor: Vendor, route: &str) -> bool {
        if self.vendor.is_some_and(|v| v != vendor) {
            return false;
        }
        match &self.route {
            None => true,
            Some(r) => match r.strip_suffix('*') {
                Some(prefix) => route.starts_with(prefix),
                None => route.eq_ignore_ascii_case(r),
            },
        }
    }
}

/// A rule with its counters, as `GET /_sandbox/faults` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ActiveRule {
    /// The rule.
    #[serde(flatten)]
    pub rule: FaultRule,
    /// Requests that matched it.
    pub seen: u64,
    /// Requests it hit.
    pub hits: u64,
}

/// The rules in force.
#[derive(Debug, Default)]
pub struct FaultPlan {
    seed: u64,
    rules: Vec<ActiveRule>,
}

impl FaultPlan {
    /// An empty plan drawing probabilities from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            rules: Vec::new(),
        }
    }

    /// Adds a rule.
    pub fn add(&mut self, rule: FaultRule) {
        self.rules.push(ActiveRule {
            rule,
            seen: 0,
            hits: 0,
        });
    }

    /// Removes every rule.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The rules and their counters.
    pub fn rules(&self) -> Vec<ActiveRule> {
        self.rules.clone()
    }

    /// Counts one request and returns the faults that hit it, in rule order.
    pub fn decide(&mut self, vendor: Vendor, route: &str) -> Vec<FaultKind> {
        let seed = self.seed;
        let mut out = Vec::new();
        for (i, active) in self.rules.iter_mut().enumerate() {
            if !active.rule.matches(vendor, route) {
                continue;
            }
            active.seen += 1;
            if active.rule.limit.is_some_and(|l| active.hits >= l) {
                continue;
            }
            let by_count = active.rule.every.is_none_or(|n| active.seen % n == 0);
            let by_chance = active
                .rule
                .probability
                .is_none_or(|p| unit(mix(seed ^ mix(i as u64) ^ mix(active.seen << 8))) < p);
            if by_count && by_chance {
                active.hits += 1;
                out.push(active.rule.kind.clone());
            }
        }
        out
    }
}

/// Splits a request path into its vendor and the route after the prefix.
pub fn vendor_of(path: &str) -> Option<(Vendor, &str)> {
    Vendor::ALL.iter().find_map(|v| {
        let rest = path.strip_prefix(v.prefix().as_str())?;
        (rest.is_empty() || rest.starts_with('/')).then_some((*v, rest))
    })
}

/// `response` with the damage a body fault does to it.
pub async fn damage_body(response: Response, fault: FaultKind) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let half = bytes.slice(..bytes.len() / 2);
    let body = match fault {
        FaultKind::ResetMidBody => {
            // Keep the promised length so the client sees the body end early, then fail the stream:
            // hyper aborts the connection.
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            // The pause lets hyper flush the headers and the first half before the cut.
            let first = futures::stream::iter([Ok::<Bytes, std::io::Error>(half)]);
            let cut = futures::stream::once(async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "sandbox fault: connection reset mid-body",
                ))
            });
            Body::from_stream(first.chain(cut))
        }
        FaultKind::TruncatedJson => {
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(half.len()));
            Body::from(half)
        }
        FaultKind::SlowBody {
            chunk_delay_ms,
            chunk_size,
        } => {
            let size = chunk_size.max(1);
            let chunks: Vec<Bytes> = (0..bytes.len())
                .step_by(size)
                .map(|start| bytes.slice(start..(start + size).min(bytes.len())))
                .collect();
            let delay = Duration::from_millis(chunk_delay_ms);
            let stream = futures::stream::iter(chunks).then(move |chunk| async move {
                tokio::time::sleep(delay).await;
                Ok::<_, std::io::Error>(chunk)
            });
            Body::from_stream(stream)
        }
        _ => Body::from(bytes),
    };
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_nth_with_a_limit() {
        let mut plan = FaultPlan::new(1);
        plan.add(
            FaultRule::new(FaultKind::Http503)
                .vendor(Vendor::Coreclaw)
                .route("/api/v1/run/detail")
                .every(3)
                .limit(2),
        );
        let hits: Vec<bool> = (0..12)
            .map(|_| {
                !plan
                    .decide(Vendor::Coreclaw, "/api/v1/run/detail")
                    .is_empty()
            })
            .collect();
        let expected = [
            false, false, true, false, false, true, false, false, false, false, false, false,
        ];
        assert_eq!(hits, expected);
        assert!(
            plan.decide(Vendor::Bazhuayu, "/api/v1/run/detail")
                .is_empty()
        );
        assert!(plan.decide(Vendor::Coreclaw, "/api/store").is_empty());
    }

    #[test]
    fn probability_is_deterministic_per_seed() {
        let run = |seed| {
            let mut plan = FaultPlan::new(seed);
            plan.add(
                FaultRule::new(FaultKind::Code4290)
                    .probability(0.3)
                    .route("/api/*"),
            );
            (0..200)
                .map(|_| !plan.decide(Vendor::Coreclaw, "/api/store").is_empty())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
        let hits = run(5).iter().filter(|h| **h).count();
        assert!((30..90).contains(&hits), "{hits}");
    }

    #[test]
    fn rules_round_trip_as_json() {
        let rule: FaultRule = serde_json::from_value(json!({
            "vendor": "coreclaw", "route": "/api/v1/run/detail",
            "kind": {"type": "http429", "retry_after_secs": 2}, "every": 2
        }))
        .unwrap();
        assert_eq!(
            rule.kind,
            FaultKind::Http429 {
                retry_after_secs: 2
            }
        );
        assert_eq!(rule.vendor, Some(Vendor::Coreclaw));
    }

    #[tokio::test]
    async fn vendors_not_served_yet_answer_the_generic_bodies() {
        let answer = |fault: ErrorFault| async move {
            let response = fault.generic_response();
            let status = response.status().as_u16();
            let retry = response.headers().get(header::RETRY_AFTER).cloned();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            (
                status,
                retry,
                body["error"].as_str().unwrap_or_default().to_string(),
            )
        };
        let (status, retry, error) = answer(ErrorFault::Http429 {
            retry_after_secs: 5,
        })
        .await;
        assert_eq!((status, error.as_str()), (429, "rate_limited"));
        assert_eq!(retry, Some(HeaderValue::from(5u64)));
        let (status, retry, error) = answer(ErrorFault::Code4290).await;
        assert_eq!((status, retry, error.as_str()), (429, None, "rate_limited"));
        let (status, _, error) = answer(ErrorFault::Http503).await;
        assert_eq!((status, error.as_str()), (503, "service_unavailable"));
        assert_eq!(FaultKind::ResetMidBody.error(), None);
    }

    #[test]
    fn paths_split_by_vendor_prefix() {
        assert_eq!(
            vendor_of("/coreclaw/api/store"),
            Some((Vendor::Coreclaw, "/api/store"))
        );
        assert_eq!(vendor_of("/coreclawx/api"), None);
        assert_eq!(vendor_of("/_sandbox/health"), None);
    }
}
