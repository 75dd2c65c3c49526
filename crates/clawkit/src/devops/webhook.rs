//! Webhooks: subscriptions, and the events OpenClaw POSTs to them, verified.
//!
//! Each delivery carries `X-OpenClaw-Event-Id`, `X-OpenClaw-Timestamp` and, when the
//! subscription has a secret, `X-OpenClaw-Signature: sha256=<hex HMAC-SHA256 of
//! "{timestamp}.{body}">`. A [`Receiver`] (the crate's one [`crate::webhook::Receiver`] of this
//! API's [`Event`]s) checks the signature against every secret it holds (so a
//! rotation never drops an event), refuses a timestamp more than 5 minutes away (a replay), and
//! tells a first delivery from a redelivery of the same event id; with feature `webhook-server`
//! it serves as an axum router (`Receiver::serve`).
//!
//! ```
//! use clawkit::devops::webhook::{EventKind, Receiver};
//! use reqwest::header::HeaderMap;
//!
//! // Keep the old secret while the subscription moves to the new one.
//! let receiver = Receiver::new("whsec_old").also("whsec_new");
//! # let body = br#"{"id":"evt_1","event":"build.completed","timestamp":"2026-03-14T12:15:30Z","data":{"buildId":"build_1","pipelineId":"pipe_1","status":"success"}}"#;
//! # let headers = clawkit::devops::webhook::sign_for_tests("whsec_new", "evt_1", std::time::SystemTime::now(), body);
//! // In the HTTP handler, with the raw body:
//! let delivery = receiver.verify(&headers, body).expect("signed by OpenClaw");
//! if delivery.first_time {
//!     assert_eq!(delivery.event.kind, EventKind::BuildCompleted);
//!     // queue the work, then answer 2xx quickly
//! }
//! assert!(!receiver.verify(&headers, body).unwrap().first_time); // a redelivery
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

use clawkit_runtime::Safety;
use clawkit_runtime::webhook::{self, WebhookError};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::call::Calls;
use crate::webhook::{Delivered, Incoming, header, read};
use openclaw_devops_api::types::{
    self, AgentResult, Build, Deployment, Project, Task, TestReport, Webhook, WebhookEventType,
};

use super::client::Client;
use super::error::Error;

/// The header with the event id.
pub const EVENT_ID: &str = "x-openclaw-event-id";
/// The header with the signing time (Unix seconds).
pub const TIMESTAMP: &str = "x-openclaw-timestamp";
/// The header with the signature(s).
pub const SIGNATURE: &str = "x-openclaw-signature";

/// The eight event names (可用事件), and any other kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// `project.created` (项目创建).
    ProjectCreated,
    /// `task.updated` (任务更新).
    TaskUpdated,
    /// `agent.completed` (Agent 任务完成).
    AgentCompleted,
    /// `build.started` (构建开始).
    BuildStarted,
    /// `build.completed` (构建完成).
    BuildCompleted,
    /// `deployment.success` (部署成功).
    DeploymentSuccess,
    /// `deployment.failed` (部署失败).
    DeploymentFailed,
    /// `test.failed` (测试失败).
    TestFailed,
    /// A name this client does not know.
    Other(String),
}

impl EventKind {
    fn parse(name: &str) -> Self {
        match name {
            "project.created" => EventKind::ProjectCreated,
            "task.updated" => EventKind::TaskUpdated,
            "agent.completed" => EventKind::AgentCompleted,
            "build.started" => EventKind::BuildStarted,
            "build.completed" => EventKind::BuildCompleted,
            "deployment.success" => EventKind::DeploymentSuccess,
            "deployment.failed" => EventKind::DeploymentFailed,
            "test.failed" => EventKind::TestFailed,
            other => EventKind::Other(other.to_string()),
        }
    }
}

/// One event as delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `id` (`evt_…`), the same on every redelivery.
    pub id: String,
    /// Its name.
    pub kind: EventKind,
    /// When it happened, as sent.
    pub timestamp: String,
    /// The affected resource, as sent; [`Event::payload`] types it.
    pub data: Value,
}

/// The resource an event is about, typed by its name.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Payload {
    /// `project.created`.
    ProjectCreated(Box<Project>),
    /// `task.updated`.
    TaskUpdated(Box<Task>),
    /// `agent.completed`.
    AgentCompleted(Box<AgentResult>),
    /// `build.started`.
    BuildStarted(Box<Build>),
    /// `build.completed`.
    BuildCompleted(Box<Build>),
    /// `deployment.success`.
    DeploymentSuccess(Box<Deployment>),
    /// `deployment.failed`.
    DeploymentFailed(Box<Deployment>),
    /// `test.failed`.
    TestFailed(Box<TestReport>),
    /// An event this client does not know.
    Other(Value),
}

fn typed<T: DeserializeOwned>(event: &Event) -> Result<Box<T>, Error> {
    serde_path_to_error::deserialize(&event.data)
        .map(Box::new)
        .map_err(|e| Error::Decode {
            path: format!("event {} data: {}", event.id, e.path()),
            message: e.inner().to_string(),
        })
}

impl Event {
    /// Parses a delivery's body (without checking anything: see [`Receiver::verify`]).
    pub fn parse(body: &[u8]) -> Result<Event, WebhookError> {
        #[derive(Deserialize)]
        struct Wire {
            id: String,
            event: String,
            timestamp: String,
            data: Value,
        }
        let wire: Wire = read(body)?;
        Ok(Event {
            id: wire.id,
            kind: EventKind::parse(&wire.event),
            timestamp: wire.timestamp,
            data: wire.data,
        })
    }

    /// The resource, typed by the event's name.
    pub fn payload(&self) -> Result<Payload, Error> {
        Ok(match self.kind {
            EventKind::ProjectCreated => Payload::ProjectCreated(typed(self)?),
            EventKind::TaskUpdated => Payload::TaskUpdated(typed(self)?),
            EventKind::AgentCompleted => Payload::AgentCompleted(typed(self)?),
            EventKind::BuildStarted => Payload::BuildStarted(typed(self)?),
            EventKind::BuildCompleted => Payload::BuildCompleted(typed(self)?),
            EventKind::DeploymentSuccess => Payload::DeploymentSuccess(typed(self)?),
            EventKind::DeploymentFailed => Payload::DeploymentFailed(typed(self)?),
            EventKind::TestFailed => Payload::TestFailed(typed(self)?),
            EventKind::Other(_) => Payload::Other(self.data.clone()),
        })
    }
}

/// Verifies deliveries and remembers their ids (see the module docs). Share one per endpoint.
pub type Receiver = crate::webhook::Receiver<Event>;

/// OpenClaw DevOps' signature scheme: `sha256=` hex HMAC-SHA256 over `{timestamp}.{body}`, a
/// timestamp in Unix seconds within the tolerance, the body an event whose id is the
/// `X-OpenClaw-Event-Id` header's (the id deliveries are de-duplicated by).
impl Delivered for Event {
    const VENDOR: &'static str = <super::Client as crate::client::Service>::NAME;

    fn open(delivery: Incoming<'_>) -> Result<(String, Event), WebhookError> {
        let (headers, body) = (delivery.headers, delivery.body);
        let id = header(headers, EVENT_ID, EVENT_ID)?;
        let stamp = header(headers, TIMESTAMP, TIMESTAMP)?;
        let ts: i64 = stamp.trim().parse().map_err(|_| WebhookError::BadHeader {
            header: TIMESTAMP,
            reason: format!("expected Unix seconds, got {stamp:?}"),
        })?;
        delivery.keys.check_time(ts, delivery.now)?;
        let sent =
            webhook::hex_signatures(SIGNATURE, header(headers, SIGNATURE, SIGNATURE)?, "sha256=")?;
        delivery
            .keys
            .check_signature(&[stamp.trim().as_bytes(), b".", body], &sent)?;
        let event = Event::parse(body)?;
        if event.id != id {
            return Err(WebhookError::Body(format!(
                "the body's id {} is not the header's {id}",
                event.id
            )));
        }
        Ok((event.id.clone(), event))
    }
}

/// The headers OpenClaw would send for `body` signed with `secret` at `at` (for tests and
/// local tools).
pub fn sign_for_tests(secret: &str, id: &str, at: SystemTime, body: &[u8]) -> HeaderMap {
    let ts = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .to_string();
    let signature = webhook::hmac_sha256(secret.as_bytes(), &[ts.as_bytes(), b".", body]);
    let mut headers = HeaderMap::new();
    for (name, value) in [
        (EVENT_ID, id.to_string()),
        (TIMESTAMP, ts),
        (SIGNATURE, format!("sha256={}", hex::encode(signature))),
    ] {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    }
    headers
}

impl Client {
    /// Subscribes `url` to `events`; deliveries are signed when `secret` is given.
    pub async fn create_webhook(
        &self,
        url: &str,
        events: &[WebhookEventType],
        secret: Option<&str>,
    ) -> Result<Webhook, Error> {
        if events.is_empty() {
            return Err(Error::InvalidArgument(
                "events: expected at least one event name".into(),
            ));
        }
        let body = types::CreateWebhookRequest {
            url: url.to_string(),
            events: events.to_vec(),
            secret: secret.map(str::to_string),
            active: true,
        };
        self.call("creating a webhook", Safety::Creates, |api| {
            api.create_webhook().body(body.clone()).send()
        })
        .await
    }

    /// The subscriptions.
    pub async fn webhooks(&self) -> Result<Vec<Webhook>, Error> {
        let list: types::WebhookList = self
            .call("listing webhooks", Safety::Idempotent, |api| {
                api.list_webhooks().send()
            })
            .await?;
        Ok(list.data)
    }

    /// Removes a subscription.
    pub async fn delete_webhook(&self, id: &str) -> Result<(), Error> {
        self.call("deleting a webhook", Safety::Idempotent, |api| {
            api.delete_webhook().webhook_id(id).send()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const BODY: &[u8] = br#"{"id":"evt_9","event":"deployment.failed","timestamp":"2026-03-14T12:15:30Z","data":{"id":"dep_1","applicationId":"app","environment":"prod","version":"1.0.0-bad","status":"failed","createdAt":"2026-03-14T12:00:00Z"}}"#;

    #[test]
    fn a_rotated_secret_a_replay_and_a_duplicate() {
        let now = SystemTime::now();
        let receiver = Receiver::new("old").also("new");
        let headers = sign_for_tests("new", "evt_9", now, BODY);
        let first = receiver.verify_at(&headers, BODY, now).unwrap();
        assert!(first.first_time);
        assert!(matches!(
            first.event.payload().unwrap(),
            Payload::DeploymentFailed(d) if d.status == "failed"
        ));
        assert!(!receiver.verify_at(&headers, BODY, now).unwrap().first_time);
        // Signed with the old secret: still accepted during the rotation.
        let old = sign_for_tests("old", "evt_9", now, BODY);
        assert!(receiver.verify_at(&old, BODY, now).is_ok());
        // Ten minutes later the same delivery is a replay.
        let later = now + Duration::from_secs(600);
        assert!(matches!(
            receiver.verify_at(&headers, BODY, later),
            Err(WebhookError::Stale { .. })
        ));
        // Another secret, or a changed body: refused.
        let other = sign_for_tests("other", "evt_9", now, BODY);
        assert!(matches!(
            receiver.verify_at(&other, BODY, now),
            Err(WebhookError::BadSignature)
        ));
        let tampered = BODY
            .to_vec()
            .into_iter()
            .map(|b| if b == b'9' { b'8' } else { b })
            .collect::<Vec<_>>();
        assert!(receiver.verify_at(&headers, &tampered, now).is_err());
        let mut missing = headers.clone();
        missing.remove(SIGNATURE);
        assert!(matches!(
            receiver.verify_at(&missing, BODY, now),
            Err(WebhookError::MissingHeader(SIGNATURE))
        ));
    }
}
