//! What the bots.win sandbox holds: the account's pricing, the browser sessions (ended or live)
//! and the User Data containers, with the JSON the API shows of each.

use serde_json::{Value, json};

use botswin_api::types::UserDataItem;

use crate::kit::clock::{utc as rfc3339, utc_datetime};

/// A sandbox minute, in milliseconds.
pub(super) const MINUTE_MS: i64 = 60_000;

/// User Data containers an account may hold (the seed's `userDataMax`).
pub const USER_DATA_MAX: usize = 5;

/// The remaining quota units at start unless the builder sets them (the seed's example).
pub const DEFAULT_QUOTA: f64 = 7650.0;

/// The total quota units of the account (at least the remaining units at start).
pub const TOTAL_QUOTA: f64 = 10_000.0;

/// A JSON number without a needless fraction: `7650` for 7650.0 (as the seed writes quota
/// units), `7649.5` otherwise.
pub(super) fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// Why a session ended: the seed's six disconnect reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The client sent a Close frame (`browser.close()`).
    ClientClosed,
    /// The socket ended without a Close frame.
    ClientDisconnected,
    /// The sandbox ended the session (shutdown, or `Botswin::close_sessions`).
    ServerClosed,
    /// The quota could not pay the next minute.
    InsufficientBalance,
    /// No data either way for 5 sandbox minutes.
    SocketTimeout,
    /// A network error on the socket.
    TcpError,
}

impl Reason {
    /// Every reason.
    pub const ALL: [Reason; 6] = [
        Reason::ClientClosed,
        Reason::ClientDisconnected,
        Reason::ServerClosed,
        Reason::InsufficientBalance,
        Reason::SocketTimeout,
        Reason::TcpError,
    ];

    /// The API's name, e.g. `client_closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::ClientClosed => "client_closed",
            Reason::ClientDisconnected => "client_disconnected",
            Reason::ServerClosed => "server_closed",
            Reason::InsufficientBalance => "insufficient_balance",
            Reason::SocketTimeout => "socket_timeout",
            Reason::TcpError => "tcp_error",
        }
    }
}

/// One browser session, ended or live.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Session {
    /// 1, 2, ...
    pub(super) id: u64,
    /// Unix ms (sandbox clock).
    pub(super) started_ms: i64,
    /// Unix ms, `None` while live.
    pub(super) ended_ms: Option<i64>,
    /// Minutes billed (started minutes).
    pub(super) minutes: u32,
    /// `None` while live.
    pub(super) reason: Option<Reason>,
    /// The container the session holds locked while live.
    pub(super) user_data: Option<String>,
}

impl Session {
    /// Whether it is still running.
    pub(super) fn live(&self) -> bool {
        self.ended_ms.is_none()
    }

    /// The spec's `Session`.
    pub(super) fn json(&self, rate: f64) -> Value {
        json!({
            "id": self.id,
            "startedAt": rfc3339(self.started_ms),
            "endedAt": self.ended_ms.map(rfc3339),
            "durationMinutes": self.minutes,
            "quotaConsumed": number(f64::from(self.minutes) * rate),
            "disconnectReason": self.reason.map(Reason::as_str),
        })
    }
}

/// A User Data container.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Container {
    /// `udd_` and 16 lowercase alphanumerics.
    pub(super) id: String,
    /// Unix ms.
    pub(super) created_ms: i64,
    /// Unix ms; `None` until a session uses it.
    pub(super) last_used_ms: Option<i64>,
    /// The live session that holds it.
    pub(super) locked_by: Option<u64>,
}

impl Container {
    /// The spec's `UserDataItem`.
    pub(super) fn item(&self) -> UserDataItem {
        UserDataItem {
            id: self.id.clone(),
            created_at: utc_datetime(self.created_ms),
            last_used_at: self.last_used_ms.map(utc_datetime),
            is_locked: self.locked_by.is_some(),
        }
    }
}

/// The account's pricing, as the seed's example shows it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pricing {
    /// Live sessions allowed at once.
    pub(super) max_sessions: u32,
}

impl Pricing {
    /// Quota units per session minute: `baseRate` × `multiplier`.
    pub(super) const EFFECTIVE_RATE: f64 = 1.0;

    /// The spec's `Pricing`, written as the seed writes it (`1` for the base rate, `1.0` for the
    /// factors).
    pub(super) fn json(&self) -> Value {
        json!({
            "baseRate": 1,
            "multiplier": 1.0,
            "effectiveRate": Self::EFFECTIVE_RATE,
            "breakdown": {
                "base": 1.0,
                "maxSessions": self.max_sessions,
                "sessionMultiplier": 1.0,
                "userDataMax": USER_DATA_MAX,
                "userDataPremium": 0,
                "hasLiveURLAccess": false,
                "liveURLPremium": 0
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_written_without_a_fraction() {
        assert_eq!(number(7650.0).to_string(), "7650");
        assert_eq!(number(7649.5).to_string(), "7649.5");
        assert_eq!(number(0.0).to_string(), "0");
        assert_eq!(number(23.5).to_string(), "23.5");
    }
}
