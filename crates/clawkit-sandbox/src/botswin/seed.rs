//! The seeded account: the seed's example session and container, and a history of 142 ended
//! sessions whose minutes add up to the seed's usage (`totalSessions` 142, `totalMinutes` 2350,
//! so that the remaining 7650 of 10000 units agree with it).
//!
//! Session 1 is the seed's example as written (10:30:00 to 10:33:25 billed as 3 minutes, quota 3,
//! `client_closed`). Sessions 2..=142 are drawn from the builder's seed: start times increasing,
//! one per equal slot of the time between the example and one hour before the sandbox started
//! (so none overlaps another), each lasting between `durationMinutes - 1` and `durationMinutes`
//! minutes (every started minute billed), `client_closed` most often and each of the six reasons
//! at least once; a `socket_timeout` session lasts at least 5 minutes.

use super::model::{Container, MINUTE_MS, Reason, Session};

/// Unix ms of a UTC wall-clock time.
fn utc(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> i64 {
    crate::kit::clock::at(0, (year, month, day), (hour, minute, second))
}
use crate::kit::ids::{hash_str, mix, unit};

/// Sessions in the seeded history.
pub(super) const SESSIONS: u64 = 142;

/// Their billed minutes, added up.
pub(super) const MINUTES: u32 = 2350;

/// The seed's example container.
pub(super) const EXAMPLE_USER_DATA: &str = "udd_abc123xyz789defg";

/// How often each reason ends a generated session, as cumulative shares.
const REASON_SHARES: [(f64, Reason); 6] = [
    (0.55, Reason::ClientClosed),
    (0.70, Reason::ClientDisconnected),
    (0.80, Reason::SocketTimeout),
    (0.88, Reason::TcpError),
    (0.94, Reason::ServerClosed),
    (1.00, Reason::InsufficientBalance),
];

/// The seed's example container (created with the example session, last used at 12:45).
pub(super) fn containers() -> Vec<Container> {
    vec![Container {
        id: EXAMPLE_USER_DATA.to_string(),
        created_ms: utc(2025, 1, 15, 10, 30, 0),
        last_used_ms: Some(utc(2025, 1, 15, 12, 45, 0)),
        locked_by: None,
    }]
}

/// The seed's example session, then the generated ones, for a sandbox started at `start_ms`.
pub(super) fn history(seed: u64, start_ms: i64) -> Vec<Session> {
    let first = Session {
        id: 1,
        started_ms: utc(2025, 1, 15, 10, 30, 0),
        ended_ms: Some(utc(2025, 1, 15, 10, 33, 25)),
        minutes: 3,
        reason: Some(Reason::ClientClosed),
        user_data: None,
    };
    let n = (SESSIONS - 1) as usize;
    let draw = |what: &str, i: usize| unit(mix(hash_str(seed, what) ^ mix(i as u64)));
    let minutes = durations(n, MINUTES - first.minutes, |i| draw("minutes", i));
    let mut reasons: Vec<Reason> = (0..n)
        .map(|i| {
            let u = draw("reason", i);
            REASON_SHARES
                .iter()
                .find(|(share, _)| u < *share)
                .map_or(Reason::ClientClosed, |(_, r)| *r)
        })
        .collect();
    // Every reason at least once, each at its own place.
    for (k, reason) in Reason::ALL.iter().enumerate() {
        if !reasons.contains(reason) {
            reasons[(k * 23 + 3) % n] = *reason;
        }
    }
    let mut minutes = minutes;
    // A socket timed out after 5 idle minutes at least: swap a shorter duration with a longer
    // one of a session that did not time out (the total stays).
    for i in 0..n {
        if reasons[i] == Reason::SocketTimeout && minutes[i] < 5 {
            let long = (0..n).find(|&j| reasons[j] != Reason::SocketTimeout && minutes[j] >= 5);
            if let Some(j) = long {
                minutes.swap(i, j);
            }
        }
    }
    let longest = i64::from(minutes.iter().copied().max().unwrap_or(1));
    let from = first.ended_ms.unwrap_or(first.started_ms);
    let until = start_ms - 3_600_000;
    let slot = ((until - from) / n as i64).max((longest + 2) * MINUTE_MS);
    let mut sessions = vec![first];
    for i in 0..n {
        let length = i64::from(minutes[i]) * MINUTE_MS;
        let room = (slot - length - MINUTE_MS).max(0);
        let offset = (draw("start", i) * room as f64) as i64;
        let started_ms = (from + i as i64 * slot + MINUTE_MS + offset) / 1000 * 1000;
        // Somewhere in the last billed minute, to the second.
        let last_second = 1 + (draw("end", i) * 60.0) as i64;
        let ended_ms = started_ms + length - MINUTE_MS + last_second.min(60) * 1000;
        sessions.push(Session {
            id: i as u64 + 2,
            started_ms,
            ended_ms: Some(ended_ms),
            minutes: minutes[i],
            reason: Some(reasons[i]),
            user_data: None,
        });
    }
    sessions
}

/// `n` durations of at least one minute adding up to `total`, drawn by `draw(i)` in `[0, 1)`:
/// many short sessions and a few long ones.
fn durations(n: usize, total: u32, draw: impl Fn(usize) -> f64) -> Vec<u32> {
    let extra = total.saturating_sub(n as u32);
    let weights: Vec<f64> = (0..n).map(|i| 0.05 + draw(i).powi(2)).collect();
    let sum: f64 = weights.iter().sum();
    let mut minutes: Vec<u32> = weights
        .iter()
        .map(|w| 1 + (f64::from(extra) * w / sum) as u32)
        .collect();
    let mut left = total.saturating_sub(minutes.iter().sum());
    let mut k = 0;
    while left > 0 {
        minutes[(k * 37) % n] += 1;
        left -= 1;
        k += 1;
    }
    minutes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::clock::unix_millis;

    #[test]
    fn the_history_adds_up_to_the_seeds_usage() {
        let start = unix_millis();
        let sessions = history(42, start);
        assert_eq!(sessions.len() as u64, SESSIONS);
        assert_eq!(sessions.iter().map(|s| s.minutes).sum::<u32>(), MINUTES);
        assert_eq!(sessions[0].json(1.0)["endedAt"], "2025-01-15T10:33:25Z");
        for reason in Reason::ALL {
            assert!(
                sessions.iter().any(|s| s.reason == Some(reason)),
                "{reason:?}"
            );
        }
        let closed = sessions
            .iter()
            .filter(|s| s.reason == Some(Reason::ClientClosed))
            .count();
        for reason in Reason::ALL {
            let n = sessions.iter().filter(|s| s.reason == Some(reason)).count();
            assert!(n <= closed, "{reason:?} {n} > {closed}");
        }
        for pair in sessions.windows(2) {
            assert_eq!(pair[1].id, pair[0].id + 1);
            assert!(pair[1].started_ms > pair[0].ended_ms.unwrap());
        }
        for s in &sessions[1..] {
            let length = s.ended_ms.unwrap() - s.started_ms;
            let billed = i64::from(s.minutes) * MINUTE_MS;
            assert!(length > billed - MINUTE_MS && length <= billed, "{s:?}");
            assert!(s.minutes >= 1);
            assert_eq!(s.started_ms % 1000, 0);
            if s.reason == Some(Reason::SocketTimeout) {
                assert!(s.minutes >= 5, "{s:?}");
            }
        }
        assert!(sessions.last().unwrap().ended_ms.unwrap() <= start - 3_600_000);
    }

    #[test]
    fn the_history_is_the_same_for_the_same_seed() {
        let start = unix_millis();
        assert_eq!(history(7, start), history(7, start));
        assert_ne!(history(7, start), history(8, start));
    }

    #[test]
    fn durations_add_up_whatever_the_draw() {
        for skew in [0.0, 0.5, 0.999] {
            let d = durations(141, 2347, |_| skew);
            assert_eq!(d.iter().sum::<u32>(), 2347);
            assert!(d.iter().all(|m| *m >= 1));
        }
    }
}
