//! Webhook delivery: one event POSTed to one receiver, signed afresh on every attempt by the
//! vendor's function, retried with a doubling backoff until the receiver acknowledges it, the
//! subscription is gone, or the attempts are spent; a subscription can be disabled after so
//! many events in a row failed ([`Policy::disable_after`], [`Failures`]). Receiver URLs are read
//! by [`http_host`]; a host that can never answer ([`reserved_host`]) is not attempted at all.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde::Serialize;

pub use super::urls::{http_host, loopback_host, reserved_host};

/// What a receiver's answer must be to count as delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acknowledgement {
    /// Any 2xx status.
    Success,
    /// 200 with a body that is not empty.
    OkWithBody,
    /// 200, with any body (a 201 or 204 is no acknowledgement).
    Ok,
}

/// What one attempt came to, for a vendor that keeps a record of its attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered with this HTTP status (acknowledged or not).
    Answered(u16),
    /// There was no answer: the HTTP client's error.
    Failed(String),
}

/// How a vendor delivers its events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Attempts at most, the first included.
    pub attempts: u32,
    /// The wait before the second attempt, doubling after each failed one.
    pub first_delay: Duration,
    /// How long one attempt may take (none: the HTTP client's).
    pub timeout: Option<Duration>,
    /// What counts as delivered.
    pub acknowledgement: Acknowledgement,
    /// Events in a row that failed every attempt after which a subscription is disabled (none:
    /// never).
    pub disable_after: Option<u32>,
}

/// Counters of every delivery of one vendor.
#[derive(Debug, Default, Serialize)]
pub struct Counts {
    /// Attempts made.
    pub webhook_attempts: AtomicU64,
    /// Attempts after the first of their event.
    pub webhook_retries: AtomicU64,
    /// Events acknowledged.
    pub webhook_delivered: AtomicU64,
    /// Events that failed every attempt.
    pub webhook_failures: AtomicU64,
}

/// One event on its way to one receiver.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The subscription's id (for the logs).
    pub hook: String,
    /// The event's id (for the logs).
    pub event_id: String,
    /// The receiver.
    pub url: String,
    /// The JSON body, the same bytes on every attempt.
    pub body: Bytes,
}

/// Delivers events by one [`Policy`] through one HTTP client.
#[derive(Debug, Clone)]
pub struct Courier {
    http: reqwest::Client,
    policy: Policy,
}

impl Courier {
    /// A courier for `policy`.
    pub fn new(policy: Policy) -> Self {
        Self {
            http: reqwest::Client::new(),
            policy,
        }
    }

    /// A courier for `policy` that sends through `http`: the vendor's own client (one that
    /// follows no redirects, so that a 301 or 302 is a failed attempt).
    pub fn with_client(policy: Policy, http: reqwest::Client) -> Self {
        Self { http, policy }
    }

    /// The policy it follows.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Attempts `delivery` until acknowledged (true), or until `live` says the subscription no
    /// longer wants it or the attempts are spent (false). `headers` signs each attempt afresh
    /// (it is given the attempt's number, from 1).
    pub async fn deliver(
        &self,
        counts: &Counts,
        delivery: &Delivery,
        headers: impl Fn(u32) -> HeaderMap,
        live: impl Fn() -> bool,
    ) -> bool {
        self.deliver_noting(counts, delivery, headers, live, |_, _| {})
            .await
    }

    /// [`Courier::deliver`], telling `note` what each attempt came to (with its number, from 1)
    /// as soon as it is known.
    pub async fn deliver_noting(
        &self,
        counts: &Counts,
        delivery: &Delivery,
        headers: impl Fn(u32) -> HeaderMap,
        live: impl Fn() -> bool,
        note: impl Fn(u32, &Attempt),
    ) -> bool {
        let mut wait = self.policy.first_delay;
        let attempts = self.policy.attempts.max(1);
        for attempt in 1..=attempts {
            if !live() {
                return false;
            }
            counts.webhook_attempts.fetch_add(1, Ordering::Relaxed);
            if attempt > 1 {
                counts.webhook_retries.fetch_add(1, Ordering::Relaxed);
            }
            let (acknowledged, outcome) = self.attempt(delivery, headers(attempt)).await;
            note(attempt, &outcome);
            if acknowledged {
                counts.webhook_delivered.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(hook = %delivery.hook, event = %delivery.event_id, attempt, "webhook delivered");
                return true;
            }
            if attempt < attempts {
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
            }
        }
        counts.webhook_failures.fetch_add(1, Ordering::Relaxed);
        false
    }

    /// One attempt: whether the receiver acknowledged it, and what it answered.
    async fn attempt(&self, delivery: &Delivery, headers: HeaderMap) -> (bool, Attempt) {
        let mut request = self
            .http
            .post(&delivery.url)
            .header("content-type", "application/json")
            .headers(headers)
            .body(delivery.body.clone());
        if let Some(timeout) = self.policy.timeout {
            request = request.timeout(timeout);
        }
        match request.send().await {
            Ok(answer) => {
                let status = answer.status();
                let acknowledged = match self.policy.acknowledgement {
                    Acknowledgement::Success => status.is_success(),
                    Acknowledgement::Ok => status == reqwest::StatusCode::OK,
                    Acknowledgement::OkWithBody if status == reqwest::StatusCode::OK => {
                        answer.bytes().await.is_ok_and(|b| !b.is_empty())
                    }
                    Acknowledgement::OkWithBody => false,
                };
                if !acknowledged {
                    tracing::debug!(hook = %delivery.hook, event = %delivery.event_id, %status, "webhook refused");
                }
                (acknowledged, Attempt::Answered(status.as_u16()))
            }
            Err(e) => {
                tracing::debug!(hook = %delivery.hook, event = %delivery.event_id, "webhook failed: {e}");
                (false, Attempt::Failed(e.to_string()))
            }
        }
    }
}

/// Whether an event can be delivered to `url` at all: an `http(s)://` URL whose host is not one
/// reserved for documentation.
pub fn reachable(url: &str) -> bool {
    http_host(url).is_some_and(|host| !reserved_host(&host))
}

/// A subscription's events in a row that failed every attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures(pub u32);

impl Failures {
    /// Counts one event's outcome (a delivery starts the count again); whether the subscription
    /// stays active under `policy`.
    pub fn settle(&mut self, delivered: bool, policy: &Policy) -> bool {
        if delivered {
            self.0 = 0;
        } else {
            self.0 = self.0.saturating_add(1);
        }
        policy.disable_after.is_none_or(|n| self.0 < n)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicU32;

    use axum::Router;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::routing::post;

    use super::*;

    fn policy(acknowledgement: Acknowledgement) -> Policy {
        Policy {
            attempts: 3,
            first_delay: Duration::from_millis(10),
            timeout: Some(Duration::from_secs(2)),
            acknowledgement,
            disable_after: Some(2),
        }
    }

    /// What the test receiver answers, in turn, and how often it was called.
    type Script = (Arc<AtomicU32>, Arc<Vec<(u16, &'static str)>>);

    /// A receiver answering the `answers` in turn (then the last one), counting its requests.
    async fn receiver(answers: Vec<(u16, &'static str)>) -> (String, Arc<AtomicU32>) {
        let calls = Arc::new(AtomicU32::new(0));
        let state: Script = (calls.clone(), Arc::new(answers));
        async fn answer(
            State((calls, answers)): State<Script>,
            headers: HeaderMap,
        ) -> (StatusCode, &'static str) {
            let n = calls.fetch_add(1, Ordering::SeqCst) as usize;
            assert_eq!(headers["x-attempt"], (n + 1).to_string().as_str());
            let (status, body) = answers[n.min(answers.len() - 1)];
            (StatusCode::from_u16(status).unwrap(), body)
        }
        let app = Router::new().route("/hook", post(answer)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}/hook"), calls)
    }

    fn delivery(url: String) -> Delivery {
        Delivery {
            hook: "wh_1".into(),
            event_id: "evt_1".into(),
            url,
            body: Bytes::from_static(b"{}"),
        }
    }

    fn numbered(attempt: u32) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-attempt", attempt.into());
        headers
    }

    #[tokio::test]
    async fn attempts_until_acknowledged_signing_each_afresh() {
        let (url, calls) = receiver(vec![(500, "no"), (200, "")]).await;
        let courier = Courier::new(policy(Acknowledgement::Success));
        let counts = Counts::default();
        assert!(
            courier
                .deliver(&counts, &delivery(url), numbered, || true)
                .await
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(counts.webhook_retries.load(Ordering::Relaxed), 1);
        assert_eq!(counts.webhook_delivered.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn an_empty_200_is_no_acknowledgement_when_a_body_is_wanted() {
        let (url, calls) = receiver(vec![(200, ""), (204, ""), (200, "ok")]).await;
        let courier = Courier::new(policy(Acknowledgement::OkWithBody));
        let counts = Counts::default();
        assert!(
            courier
                .deliver(&counts, &delivery(url), numbered, || true)
                .await
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn only_a_200_acknowledges_and_each_attempt_is_noted() {
        let (url, calls) = receiver(vec![(204, ""), (500, "no"), (200, "")]).await;
        let courier = Courier::new(policy(Acknowledgement::Ok));
        let counts = Counts::default();
        let noted = std::sync::Mutex::new(Vec::new());
        let note = |n: u32, a: &Attempt| noted.lock().unwrap().push((n, a.clone()));
        assert!(
            courier
                .deliver_noting(&counts, &delivery(url), numbered, || true, note)
                .await
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(
            noted.into_inner().unwrap(),
            [
                (1, Attempt::Answered(204)),
                (2, Attempt::Answered(500)),
                (3, Attempt::Answered(200))
            ]
        );
        let noted = std::sync::Mutex::new(Vec::new());
        let note = |_: u32, a: &Attempt| noted.lock().unwrap().push(a.clone());
        let nobody = delivery("http://127.0.0.1:9/hook".into());
        assert!(
            !courier
                .deliver_noting(&counts, &nobody, numbered, || true, note)
                .await
        );
        let noted = noted.into_inner().unwrap();
        assert_eq!(noted.len(), 3);
        assert!(
            matches!(&noted[0], Attempt::Failed(e) if !e.is_empty()),
            "{noted:?}"
        );
    }

    #[tokio::test]
    async fn gives_up_after_the_attempts_or_when_no_longer_wanted() {
        let (url, calls) = receiver(vec![(503, "")]).await;
        let courier = Courier::new(policy(Acknowledgement::Success));
        let counts = Counts::default();
        assert!(
            !courier
                .deliver(&counts, &delivery(url.clone()), numbered, || true)
                .await
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(counts.webhook_failures.load(Ordering::Relaxed), 1);
        assert!(
            !courier
                .deliver(&counts, &delivery(url), numbered, || false)
                .await
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_courier_sends_through_the_vendors_client() {
        let (url, calls) = receiver(vec![(200, "ok")]).await;
        // A receiver that moved: 307 keeps the method and the body.
        let app = Router::new().route(
            "/moved",
            post(move || {
                let url = url.clone();
                async move {
                    (
                        StatusCode::TEMPORARY_REDIRECT,
                        [(axum::http::header::LOCATION, url)],
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let moved = format!("http://{}/moved", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let policy = Policy {
            attempts: 1,
            ..policy(Acknowledgement::Success)
        };
        let counts = Counts::default();
        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let strict = Courier::with_client(policy, no_redirects);
        assert_eq!(strict.policy(), &policy);
        let moved = delivery(moved);
        assert!(!strict.deliver(&counts, &moved, numbered, || true).await);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "the redirect is not followed"
        );
        // The default client follows it.
        assert!(
            Courier::new(policy)
                .deliver(&counts, &moved, numbered, || true)
                .await
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_subscription_is_disabled_after_failures_in_a_row() {
        let policy = policy(Acknowledgement::Success);
        let mut failures = Failures::default();
        assert!(failures.settle(false, &policy));
        assert!(failures.settle(true, &policy));
        assert!(failures.settle(false, &policy));
        assert!(!failures.settle(false, &policy));
        let never = Policy {
            disable_after: None,
            ..policy
        };
        assert!(Failures(100).settle(false, &never));
        assert!(reachable("http://127.0.0.1:9/x"));
        assert!(!reachable("https://hooks.example.com/x"));
        assert!(!reachable("ftp://x.org/"));
    }
}
