//! The completion webhook: what CoreClaw POSTs to a run's `callback_url` when it ends.
//!
//! CoreClaw may deliver the same event more than once, and signs nothing: treat the event as a
//! hint, de-duplicate it, and confirm with [`Run::detail`](crate::coreclaw::Run::detail) before
//! acting on it. [`receiver`] is the crate's one [`crate::webhook::Receiver`] for it: it reads
//! each callback, de-duplicates it by run and status, and (feature `webhook-server`) serves as an
//! axum router that answers at once and queues the event:
//!
//! ```
//! use clawkit::coreclaw::webhook;
//! let receiver = webhook::receiver();
//! let body = br#"{"run_slug": "01KSFDS8XWTJME33C08XMCR6B9", "status": 3, "results": 20, "usage": "0.06"}"#;
//! let headers = Default::default();
//! assert!(receiver.verify(&headers, body).unwrap().first_time);
//! assert!(!receiver.verify(&headers, body).unwrap().first_time); // a redelivery
//! ```
//!
//! Or by hand, with [`parse`]:
//!
//! ```
//! use std::collections::HashSet;
//! use std::sync::Mutex;
//! use clawkit::coreclaw::webhook;
//!
//! // In your HTTP handler: parse, de-duplicate by (run slug, status), answer 200 either way.
//! fn on_callback(seen: &Mutex<HashSet<(String, i64)>>, body: &[u8]) -> u16 {
//!     let Ok(event) = webhook::parse(body) else { return 400 };
//!     let first_time = seen.lock().unwrap().insert((event.run_slug.clone(), event.status.code()));
//!     if first_time {
//!         // queue work: fetch results with client.run(&event.run_slug) ...
//!     }
//!     200
//! }
//!
//! let seen = Mutex::new(HashSet::new());
//! let body = br#"{"run_slug": "01KSFDS8XWTJME33C08XMCR6B9", "status": 3, "results": 20, "usage": "0.06"}"#;
//! assert_eq!(on_callback(&seen, body), 200);
//! assert_eq!(on_callback(&seen, body), 200); // the duplicate is answered, not processed again
//! assert_eq!(seen.lock().unwrap().len(), 1);
//! ```

use clawkit_runtime::webhook::WebhookError;
use rust_decimal::Decimal;
use secrecy::SecretString;

pub use coreclaw_api::enums::RunStatus;

use crate::webhook::{Delivered, Incoming};

use super::error::Error;

/// A run-completion event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionEvent {
    /// The run.
    pub run_slug: String,
    /// Its final status.
    pub status: RunStatus,
    /// Results it produced.
    pub results: u64,
    /// What it cost in USD, exact.
    pub usage: Decimal,
}

/// Parses a completion webhook body.
pub fn parse(body: &[u8]) -> Result<CompletionEvent, Error> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let event: coreclaw_api::types::RunCompletedEvent = serde_path_to_error::deserialize(de)
        .map_err(|e| Error::Decode {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })?;
    let usage = event
        .usage
        .trim()
        .parse::<Decimal>()
        .map_err(|e| Error::Decode {
            path: "usage".into(),
            message: format!("`{}` is not a decimal: {e}", event.usage),
        })?;
    Ok(CompletionEvent {
        results: u64::try_from(event.results).map_err(|_| Error::Decode {
            path: "results".into(),
            message: format!("{} is not a count", event.results),
        })?,
        run_slug: event.run_slug,
        status: event.status,
        usage,
    })
}

/// Reads and de-duplicates completion callbacks; see [`receiver`].
pub type Receiver = crate::webhook::Receiver<CompletionEvent>;

/// A receiver of completion callbacks (they are not signed: no secret to give).
pub fn receiver() -> Receiver {
    Receiver::new(SecretString::from(String::new()))
}

/// CoreClaw's completion callback: unsigned (only the body is read), one event a delivery,
/// de-duplicated by run slug and status.
impl Delivered for CompletionEvent {
    const VENDOR: &'static str = <super::Client as crate::client::Service>::NAME;

    fn open(delivery: Incoming<'_>) -> Result<(String, CompletionEvent), WebhookError> {
        let event = parse(delivery.body).map_err(|e| WebhookError::Body(e.to_string()))?;
        Ok((format!("{}:{}", event.run_slug, event.status.code()), event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guide_payload_parses_and_bad_ones_name_the_field() {
        let e = parse(
            br#"{"run_slug":"01KSFDS8XWTJME33C08XMCR6B9","status":3,"results":20,"usage":"0.06"}"#,
        )
        .unwrap();
        assert_eq!(e.status, RunStatus::Succeeded);
        assert_eq!(e.usage.to_string(), "0.06");
        match parse(br#"{"run_slug":"x","status":"done","results":1,"usage":"0"}"#) {
            Err(Error::Decode { path, .. }) => assert_eq!(path, "status"),
            other => panic!("{other:?}"),
        }
        assert!(parse(b"").is_err());
        assert!(parse(br#"{"run_slug":"x","status":3,"results":-1,"usage":"0"}"#).is_err());
    }
}
