//! How the state changes: every change, a handler's or a timer's, goes through
//! [`Fulfillment::with`], under one lock at the server's now, after the reservations past their
//! `expires_at` lapsed; the events it queued are delivered once the lock is released. The changes
//! that come later by themselves (parcels moving on, returns progressing, a reservation lapsing
//! on time) are timers that call it.

use std::sync::Arc;

use crate::fulfillment::state::{Fulfillment, Inner};

impl Fulfillment {
    /// Runs one change of the state at the server's now, then delivers the events it queued.
    pub(crate) fn with<R>(self: &Arc<Self>, change: impl FnOnce(&mut Inner, i64) -> R) -> R {
        let now = self.clock.now_ms();
        let (result, events) = {
            let mut inner = self.lock();
            inner.expire_reservations(now);
            let result = change(&mut inner, now);
            (result, std::mem::take(&mut inner.outbox))
        };
        self.dispatch(events);
        result
    }

    /// Moves the parcel `tracking` on every logistics step until its route ends.
    pub(crate) fn follow_parcel(self: &Arc<Self>, tracking: String) {
        self.every_step(move |inner, now, _| inner.advance(&tracking, now));
    }

    /// Moves the return `rma` on every logistics step until it is refunded.
    pub(crate) fn follow_return(self: &Arc<Self>, rma: String) {
        self.every_step(move |inner, now, seed| inner.advance_return(&rma, now, seed));
    }

    /// Runs `step` (given the state, the server's now and the seed) every logistics step while
    /// it says there is more.
    fn every_step(self: &Arc<Self>, step: impl Fn(&mut Inner, i64, u64) -> bool + Send + 'static) {
        let f = self.clone();
        tokio::spawn(async move {
            let (every, seed) = (f.config.logistics_step, f.config.seed);
            loop {
                tokio::time::sleep(every).await;
                if !f.with(|inner, now| step(inner, now, seed)) {
                    break;
                }
            }
        });
    }

    /// Looks at the state when the server clock shows `at_ms`, so that what lapses then (a
    /// reservation and its `inventory.changed`) happens without waiting for a request.
    pub(crate) fn wake_at(self: &Arc<Self>, at_ms: i64) {
        let f = self.clone();
        tokio::spawn(async move {
            f.clock.sleep_until(at_ms).await;
            f.with(|_, _| ());
        });
    }
}
