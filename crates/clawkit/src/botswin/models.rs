//! What the facade adds to the generated types: disconnect reasons as an enum that keeps unknown
//! values, history records that use it, and cost estimates from the pricing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use botswin_api::types;

/// Why a browser session ended (断开原因). The service may add reasons: one this version does not
/// know is [`DisconnectReason::Other`], spelled as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DisconnectReason {
    /// `client_closed`: the client closed the browser (a Close frame).
    ClientClosed,
    /// `client_disconnected`: the WebSocket dropped without a Close frame.
    ClientDisconnected,
    /// `server_closed`: the browser server closed the connection.
    ServerClosed,
    /// `insufficient_balance`: the quota ran out during the session.
    InsufficientBalance,
    /// `socket_timeout`: no data for 5 minutes.
    SocketTimeout,
    /// `tcp_error`: a network error.
    TcpError,
    /// A reason this version does not know.
    Other(String),
}

const REASONS: &[(&str, DisconnectReason)] = &[
    ("client_closed", DisconnectReason::ClientClosed),
    ("client_disconnected", DisconnectReason::ClientDisconnected),
    ("server_closed", DisconnectReason::ServerClosed),
    (
        "insufficient_balance",
        DisconnectReason::InsufficientBalance,
    ),
    ("socket_timeout", DisconnectReason::SocketTimeout),
    ("tcp_error", DisconnectReason::TcpError),
];

impl DisconnectReason {
    /// The reason of a wire value.
    pub fn parse(wire: &str) -> DisconnectReason {
        REASONS
            .iter()
            .find(|(spelling, _)| *spelling == wire)
            .map_or_else(
                || DisconnectReason::Other(wire.to_string()),
                |(_, r)| r.clone(),
            )
    }

    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            DisconnectReason::Other(s) => s,
            known => REASONS
                .iter()
                .find(|(_, r)| r == known)
                .map_or("", |(spelled, _)| spelled),
        }
    }

    /// Whether the client ended the session (closed it or dropped its connection).
    pub fn by_client(&self) -> bool {
        matches!(
            self,
            DisconnectReason::ClientClosed | DisconnectReason::ClientDisconnected
        )
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DisconnectReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DisconnectReason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(DisconnectReason::parse(&String::deserialize(d)?))
    }
}

/// One browser session of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecord {
    /// Session id.
    pub id: i64,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended (`None` while it runs).
    pub ended_at: Option<DateTime<Utc>>,
    /// Billed minutes (every started minute).
    pub duration_minutes: i64,
    /// Quota units consumed.
    pub quota_consumed: f64,
    /// Why it ended (`None` while it runs).
    pub disconnect_reason: Option<DisconnectReason>,
}

impl SessionRecord {
    /// Whether the session is still running.
    pub fn is_active(&self) -> bool {
        self.ended_at.is_none()
    }
}

impl From<types::Session> for SessionRecord {
    fn from(s: types::Session) -> Self {
        SessionRecord {
            id: s.id,
            started_at: s.started_at,
            ended_at: s.ended_at,
            duration_minutes: s.duration_minutes,
            quota_consumed: s.quota_consumed,
            disconnect_reason: s
                .disconnect_reason
                .0
                .as_deref()
                .map(DisconnectReason::parse),
        }
    }
}

/// What browser minutes cost at the account's pricing: `minutes × rate` units, where the rate is
/// `pricing.effectiveRate` (the base rate times the plan's multiplier: concurrent sessions, User
/// Data and live-URL premiums, as the breakdown shows).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// Minutes (every started minute is billed whole).
    pub minutes: u32,
    /// Units a minute.
    pub rate: f64,
    /// Units the minutes cost.
    pub units: f64,
    /// Units remaining now, when known.
    pub remaining: Option<f64>,
    /// Minutes the remaining quota pays for, when known.
    pub affordable_minutes: Option<u64>,
}

impl Estimate {
    /// The cost of `minutes` at `quota`'s pricing, and what it leaves.
    pub fn new(quota: &types::Quota, minutes: u32) -> Estimate {
        let rate = rate(&quota.pricing);
        let remaining = quota.remaining_quota.max(0.0);
        Estimate {
            minutes,
            rate,
            units: f64::from(minutes) * rate,
            remaining: Some(remaining),
            affordable_minutes: (rate > 0.0).then(|| (remaining / rate + 1e-9).floor() as u64),
        }
    }

    /// The cost of `minutes` at `pricing`, remaining quota unknown.
    pub fn at(pricing: &types::Pricing, minutes: u32) -> Estimate {
        let rate = rate(pricing);
        Estimate {
            minutes,
            rate,
            units: f64::from(minutes) * rate,
            remaining: None,
            affordable_minutes: None,
        }
    }

    /// The minutes billed for a session that lasts `duration`: every started minute, at least 1.
    pub fn billed_minutes(duration: std::time::Duration) -> u32 {
        let minutes = duration.as_nanos().div_ceil(60_000_000_000);
        u32::try_from(minutes.max(1)).unwrap_or(u32::MAX)
    }

    /// What would remain after the minutes, when the remaining quota is known.
    pub fn remaining_after(&self) -> Option<f64> {
        self.remaining.map(|r| r - self.units)
    }
}

/// Units a minute: the effective rate, or base rate × multiplier when the effective rate is not
/// a positive number.
fn rate(pricing: &types::Pricing) -> f64 {
    if pricing.effective_rate.is_finite() && pricing.effective_rate > 0.0 {
        pricing.effective_rate
    } else {
        (pricing.base_rate * pricing.multiplier).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_round_trips_and_unknown_ones_are_kept() {
        for (wire, reason) in REASONS {
            assert_eq!(&DisconnectReason::parse(wire), reason);
            assert_eq!(reason.as_str(), *wire);
        }
        let new = DisconnectReason::parse("maintenance");
        assert_eq!(new, DisconnectReason::Other("maintenance".into()));
        assert_eq!(serde_json::to_string(&new).unwrap(), r#""maintenance""#);
        let back: DisconnectReason = serde_json::from_str(r#""socket_timeout""#).unwrap();
        assert_eq!(back, DisconnectReason::SocketTimeout);
    }

    #[test]
    fn history_records_decode_the_seed_and_an_active_session() {
        let seed: types::Session = serde_json::from_value(serde_json::json!({
            "id": 1, "startedAt": "2025-01-15T10:30:00Z", "endedAt": "2025-01-15T10:33:25Z",
            "durationMinutes": 3, "quotaConsumed": 3, "disconnectReason": "client_closed"
        }))
        .unwrap();
        let record = SessionRecord::from(seed);
        assert_eq!(
            record.disconnect_reason,
            Some(DisconnectReason::ClientClosed)
        );
        assert!(!record.is_active());
        let active: types::Session = serde_json::from_value(serde_json::json!({
            "id": 2, "startedAt": "2025-01-15T10:30:00Z", "endedAt": null,
            "durationMinutes": 1, "quotaConsumed": 1, "disconnectReason": null
        }))
        .unwrap();
        let record = SessionRecord::from(active);
        assert!(record.is_active());
        assert_eq!(record.disconnect_reason, None);
    }

    #[test]
    fn estimates_use_the_effective_rate() {
        let quota: types::Quota = serde_json::from_value(serde_json::json!({
            "remainingQuota": 7650,
            "pricing": {"baseRate": 1, "multiplier": 1.5, "effectiveRate": 1.5, "breakdown": {
                "base": 1.0, "maxSessions": 2, "sessionMultiplier": 1.5, "userDataMax": 5,
                "userDataPremium": 0, "hasLiveURLAccess": false, "liveURLPremium": 0}}
        }))
        .unwrap();
        let e = Estimate::new(&quota, 10);
        assert_eq!((e.rate, e.units), (1.5, 15.0));
        assert_eq!(e.remaining_after(), Some(7635.0));
        assert_eq!(e.affordable_minutes, Some(5100));
        assert_eq!(
            Estimate::billed_minutes(std::time::Duration::from_secs(10)),
            1
        );
        assert_eq!(
            Estimate::billed_minutes(std::time::Duration::from_secs(60)),
            1
        );
        assert_eq!(
            Estimate::billed_minutes(std::time::Duration::from_millis(60_001)),
            2
        );
        assert_eq!(
            Estimate::billed_minutes(std::time::Duration::from_secs(205)),
            4
        );
    }
}
