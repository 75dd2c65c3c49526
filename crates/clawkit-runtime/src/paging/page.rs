//! What a page stream speaks of: the pages, their positions, the paging mistakes, and how often
//! a service said "too fast".

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Pages read ahead by default (page numbers; offsets and cursors read one ahead whatever the
/// depth, or none with `.prefetch(0)`).
///
/// Chosen from `cargo bench -p clawkit --bench items`: with 50 ms per page, 4 pages ahead
/// already gives most of the gain over one page at a time, and 8 takes it to the point where the
/// client, not the wait, is the bottleneck, while holding at most 10 pages (about 10,000 CoreClaw
/// items) in memory. More gains little and spends the service's rate limit in bursts.
pub const DEFAULT_PREFETCH: usize = 8;

/// How often a service has said "too fast" to a client: a count shared by the client's runtime
/// ([`crate::Runtime::throttle`]) and the streams that read it ([`super::Paged::throttle`]).
#[derive(Debug, Clone, Default)]
pub struct Throttle(Arc<AtomicU64>);

impl Throttle {
    /// A new count at 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one "too fast" answer.
    pub fn record(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// The answers counted so far.
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What one request of a page returned: its items, where the next page starts, and the total
/// when the service says.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched<T, N> {
    /// The items.
    pub items: Vec<T>,
    /// The next position (`()` for page numbers, the returned offset, the next cursor).
    pub next: N,
    /// The total number of items, as reported.
    pub total: Option<u64>,
}

/// One page of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T, P> {
    /// Its items (for page numbers, only those not delivered before).
    pub items: Vec<T>,
    /// The position it was read at.
    pub at: P,
    /// The position of the next page (`None`: this was the last).
    pub next: Option<P>,
    /// The total number of items, as reported.
    pub total: Option<u64>,
}

/// A paging mistake found by the runtime.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PagingError {
    /// The page size is outside what the service allows.
    #[error("{field}: expected 1 to {max}, got {got}")]
    PageSize {
        /// The service's name for it.
        field: &'static str,
        /// What was asked.
        got: u32,
        /// The service's maximum.
        max: u32,
    },
    /// The service returned items but pointed at the same position again.
    #[error(
        "the service returned items but the same position {at} again: the stream cannot advance"
    )]
    Stuck {
        /// The position.
        at: String,
    },
}

/// Where a stream was when it failed, for [`super::Paged::on_error`].
#[derive(Debug, Clone, Copy)]
pub struct Failed<'a, P> {
    /// The position of the page that failed: resume from here.
    pub at: &'a P,
    /// Items this stream delivered before.
    pub delivered: u64,
}

/// How items are counted for messages: page-number positions are item counts.
pub trait Position: Clone + Debug + PartialEq + Send + Sync + 'static {
    /// The index of the first item at this position, when positions count items.
    fn first_index(&self) -> u64 {
        0
    }

    /// The position of the page after a full page of `size` read at this one, when it can be
    /// known before that page is read (page numbers): what makes prefetching possible.
    fn after_full_page(&self, _size: u32) -> Option<Self> {
        None
    }
}

impl Position for u64 {
    fn first_index(&self) -> u64 {
        *self
    }

    fn after_full_page(&self, size: u32) -> Option<Self> {
        let size = u64::from(size.max(1));
        Some((self / size + 1) * size)
    }
}
impl Position for i64 {}
impl Position for Option<String> {}
