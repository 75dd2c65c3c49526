//! Webhook subscriptions and their events: the spec's `Webhook` and `WebhookEvent`, and the
//! vendor's signature, `X-OpenClaw-Signature: sha256=<hex HMAC-SHA256(secret,
//! "{timestamp}.{body}")>`.

use hmac::{Hmac, Mac};
use openclaw_devops_api::types::{self, WebhookEventType};
use sha2::Sha256;

use crate::kit::clock::utc_datetime;

/// 可用事件, as a subscription names them.
pub(crate) const EVENTS: [&str; 8] = [
    "project.created",
    "task.updated",
    "agent.completed",
    "build.started",
    "build.completed",
    "deployment.success",
    "deployment.failed",
    "test.failed",
];

/// Attempts per delivery.
pub const MAX_ATTEMPTS: u32 = 8;

/// A subscription.
#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    /// `wh_…`.
    pub(crate) id: String,
    /// 回调 URL.
    pub(crate) url: String,
    /// Subscribed events.
    pub(crate) events: Vec<WebhookEventType>,
    /// 签名密钥 (never shown).
    pub(crate) secret: Option<String>,
    /// 是否启用.
    pub(crate) active: bool,
    /// Unix ms.
    pub(crate) created_ms: i64,
}

impl Webhook {
    /// The `Webhook` schema (no secret).
    pub(crate) fn wire(&self) -> types::Webhook {
        types::Webhook {
            id: self.id.clone(),
            url: self.url.clone(),
            events: self.events.clone(),
            active: self.active,
            created_at: utc_datetime(self.created_ms),
        }
    }

    /// Whether it wants `event` now.
    pub(crate) fn wants(&self, event: WebhookEventType) -> bool {
        self.active && self.events.contains(&event)
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `{timestamp}.{body}` keyed with `secret`.
pub(crate) fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_timestamp_dot_body() {
        // Checked against `printf '1710418530.{}' | openssl dgst -sha256 -hmac whsec_test`.
        assert_eq!(
            signature("whsec_test", 1_710_418_530, b"{}"),
            "sha256=beb00e366eb0a4d62c8981df754475633ec45df45725323a7afb3bc0632f41a3"
        );
    }
}
