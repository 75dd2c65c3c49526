//! GCRA, the arithmetic the memory and SQLite stores share (Redis runs the same in Lua): a
//! bucket is its theoretical arrival time (TAT) in microseconds of the store's clock.

use std::time::Duration;

use super::store::Bucket;

/// Microseconds of a duration, saturating.
pub(super) fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// A duration of `us` microseconds (0 when negative).
pub(super) fn duration(us: i64) -> Duration {
    Duration::from_micros(u64::try_from(us).unwrap_or(0))
}

/// Takes one request from every bucket or from none, at `now`. `tats` are the buckets' stored
/// TATs (`None`: never used, or expired). `Ok(new_tats)` when taken, `Err(wait)` when not.
pub(super) fn take(
    now: i64,
    hold_until: Option<i64>,
    buckets: &[Bucket],
    tats: &[Option<i64>],
) -> Result<Vec<i64>, Duration> {
    if let Some(until) = hold_until
        && until > now
    {
        return Err(duration(until - now));
    }
    let mut wait = 0i64;
    let mut next = Vec::with_capacity(buckets.len());
    for (bucket, tat) in buckets.iter().zip(tats) {
        let interval = micros(bucket.interval).max(1);
        let tat = tat.unwrap_or(now).max(now);
        let new = tat.saturating_add(interval);
        let over = new - now - interval.saturating_mul(i64::from(bucket.burst.max(1)));
        wait = wait.max(over);
        next.push(new);
    }
    if wait > 0 {
        Err(duration(wait))
    } else {
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_interval_and_all_or_nothing() {
        let a = Bucket::new("a", Duration::from_millis(100), 2);
        let b = Bucket::new("b", Duration::from_millis(10), 1);
        let both = [a.clone(), b.clone()];
        let t1 = take(0, None, &both, &[None, None]).unwrap();
        assert_eq!(t1, vec![100_000, 10_000]);
        // b is empty for 10 ms: nothing is taken from a either.
        assert_eq!(
            take(0, None, &both, &[Some(t1[0]), Some(t1[1])]),
            Err(Duration::from_millis(10))
        );
        let t2 = take(10_000, None, &both, &[Some(t1[0]), Some(t1[1])]).unwrap();
        assert_eq!(t2[0], 200_000);
        // a's burst of 2 is spent: the next fits at 100 ms.
        assert_eq!(
            take(20_000, None, std::slice::from_ref(&a), &[Some(t2[0])]),
            Err(Duration::from_millis(80))
        );
        assert!(take(100_000, None, &[a], &[Some(t2[0])]).is_ok());
    }

    #[test]
    fn a_hold_waits_for_its_end() {
        let a = Bucket::new("a", Duration::from_millis(1), 10);
        assert_eq!(
            take(0, Some(5_000), std::slice::from_ref(&a), &[None]),
            Err(Duration::from_millis(5))
        );
        assert!(take(5_000, Some(5_000), &[a], &[None]).is_ok());
    }
}
