//! Paged lists as one `Stream` builder, for the three ways services page: page numbers, offsets the
//! server returns, and opaque cursors. Each yields every item exactly once, in order, and each can
//! resume from a position.
//!
//! A [`Paged`] is a builder (`.page_size(n)`, `.start_at(position)`, `.on_error(..)`) and, once
//! polled, a `Stream` of items; [`Paged::pages`] gives the pages instead. It owns what it needs
//! (a client handle inside the fetch closure), so it can be spawned onto a task.
//!
//! - **Page numbers** ([`Paged::numbered`]): the position is the number of items delivered. Each
//!   request asks for the page that holds the next item and drops the part already delivered, so a
//!   page that came back short is asked for again (the server may have more by then) and nothing
//!   is skipped or repeated. An answer with nothing new ends the stream: a reported total is never
//!   trusted.
//! - **Returned offsets** ([`Paged::offsets`]): the position is the opaque offset the server
//!   returned with the previous page, followed exactly (never computed from counts); an empty page
//!   ends the stream.
//! - **Cursors** ([`Paged::cursors`]): the position is the cursor (`None` for the first page); no
//!   next cursor ends the stream.
//!
//! **Reading ahead** ([`Paged::prefetch`], on by default): page numbers are read
//! [`DEFAULT_PREFETCH`] pages ahead once a page has reported the total, offsets and cursors one
//! page ahead (the next request overlaps the caller's work on this page). Items still come in
//! order, exactly once; every request goes through the client's limiter and retries; a service
//! that says "too fast" ([`Paged::throttle`]) halves the depth, which grows back one page at a
//! time; dropping the stream cancels what is in flight.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;

use crate::error::DecodeError;

/// Pages read ahead by default (page numbers; offsets and cursors read one ahead whatever the
/// depth, or none with `.prefetch(0)`).
///
/// Chosen from `cargo bench -p clawkit --bench items`: with 50 ms per page, 4 pages ahead
/// already gives most of the gain over one page at a time, and 8 takes it to the point where the
/// client, not the wait, is the bottleneck, while holding at most 10 pages (about 10,000 CoreClaw
/// items) in memory. More gains little and spends the service's rate limit in bursts.
pub const DEFAULT_PREFETCH: usize = 8;

/// How often a service has said "too fast" to a client: a count shared by the client's runtime
/// ([`crate::Runtime::throttle`]) and the streams that read it ([`Paged::throttle`]).
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

/// Where a stream was when it failed, for [`Paged::on_error`].
#[derive(Debug, Clone, Copy)]
pub struct Failed<'a, P> {
    /// The position of the page that failed: resume from here.
    pub at: &'a P,
    /// Items this stream delivered before.
    pub delivered: u64,
}

type FetchFn<T, E, P> = Box<dyn FnMut(P, u32) -> BoxFuture<'static, Result<Page<T, P>, E>> + Send>;
type OnError<E, P> = Box<dyn for<'a> Fn(E, Failed<'a, P>) -> E + Send + Sync>;

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

struct Config<T, E, P> {
    fetch: FetchFn<T, E, P>,
    field: &'static str,
    max: u32,
    size: u32,
    start: P,
    end_on_empty: bool,
    prefetch: usize,
    throttle: Option<Throttle>,
    on_error: Option<OnError<E, P>>,
}

enum State<T, E, P> {
    Ready(Config<T, E, P>),
    Running(BoxStream<'static, Result<T, E>>),
    Taken,
}

/// A paged list: a builder until first polled, then a `Stream` of its items. See the module docs.
#[must_use = "a Paged does nothing until polled"]
pub struct Paged<T, E, P> {
    state: State<T, E, P>,
}

// No field is structurally pinned: the running stream is boxed.
impl<T, E, P> Unpin for Paged<T, E, P> {}

impl<T, E, P> Debug for Paged<T, E, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paged").finish_non_exhaustive()
    }
}

impl<T, E> Paged<T, E, u64>
where
    T: Send + 'static,
    E: From<PagingError> + Send + 'static,
{
    /// Pages numbered from 1: `fetch(page, size)` returns the items of that page. `field` is the
    /// service's name of the page size and `max` its largest value (also the default).
    pub fn numbered<F, Fut>(field: &'static str, max: u32, mut fetch: F) -> Self
    where
        F: FnMut(u64, u32) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Fetched<T, ()>, E>> + Send + 'static,
    {
        let fetch = move |delivered: u64, size: u32| {
            let size64 = u64::from(size.max(1));
            let request = fetch(delivered / size64 + 1, size);
            let skip = (delivered % size64) as usize;
            async move {
                let mut got = request.await?;
                // A server that sends more than a page is cut back to the page: positions stay exact.
                got.items.truncate(size64 as usize);
                let skip = skip.min(got.items.len());
                got.items.drain(..skip);
                let fresh = got.items;
                Ok(Page {
                    next: Some(delivered + fresh.len() as u64),
                    items: fresh,
                    at: delivered,
                    total: got.total,
                })
            }
            .boxed()
        };
        Self::new(field, max, 0, Box::new(fetch), true)
    }
}

impl<T, E> Paged<T, E, i64>
where
    T: Send + 'static,
    E: From<PagingError> + Send + 'static,
{
    /// Offsets the server returns: `fetch(offset, size)` returns the items and the offset to ask
    /// for next. Starts at offset 0.
    pub fn offsets<F, Fut>(field: &'static str, max: u32, mut fetch: F) -> Self
    where
        F: FnMut(i64, u32) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Fetched<T, i64>, E>> + Send + 'static,
    {
        let fetch = move |offset: i64, size: u32| {
            let request = fetch(offset, size);
            async move {
                let got = request.await?;
                if !got.items.is_empty() && got.next == offset {
                    return Err(PagingError::Stuck {
                        at: offset.to_string(),
                    }
                    .into());
                }
                Ok(Page {
                    items: got.items,
                    at: offset,
                    next: Some(got.next),
                    total: got.total,
                })
            }
            .boxed()
        };
        Self::new(field, max, 0, Box::new(fetch), true)
    }
}

impl<T, E> Paged<T, E, Option<String>>
where
    T: Send + 'static,
    E: From<PagingError> + Send + 'static,
{
    /// Opaque cursors: `fetch(cursor, size)` returns the items and the next cursor (`None` at the
    /// end). Starts with no cursor; an empty page with a next cursor goes on.
    pub fn cursors<F, Fut>(field: &'static str, max: u32, mut fetch: F) -> Self
    where
        F: FnMut(Option<String>, u32) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Fetched<T, Option<String>>, E>> + Send + 'static,
    {
        let fetch = move |cursor: Option<String>, size: u32| {
            let request = fetch(cursor.clone(), size);
            async move {
                let got = request.await?;
                if got.next.is_some() && got.next == cursor {
                    return Err(PagingError::Stuck {
                        at: cursor.unwrap_or_default(),
                    }
                    .into());
                }
                Ok(Page {
                    items: got.items,
                    at: cursor,
                    next: got.next.map(Some),
                    total: got.total,
                })
            }
            .boxed()
        };
        Self::new(field, max, None, Box::new(fetch), false)
    }
}

impl<T, E, P> Paged<T, E, P>
where
    T: Send + 'static,
    E: From<PagingError> + Send + 'static,
    P: Position,
{
    fn new(
        field: &'static str,
        max: u32,
        start: P,
        fetch: FetchFn<T, E, P>,
        end_on_empty: bool,
    ) -> Self {
        Self {
            state: State::Ready(Config {
                fetch,
                field,
                max,
                size: max,
                start,
                end_on_empty,
                prefetch: DEFAULT_PREFETCH,
                throttle: None,
                on_error: None,
            }),
        }
    }

    fn config(&mut self) -> Option<&mut Config<T, E, P>> {
        match &mut self.state {
            State::Ready(c) => Some(c),
            _ => None,
        }
    }

    /// Items per request, 1 to the service's maximum (the default). A size out of range is an
    /// error when the stream is polled, naming the service's field.
    pub fn page_size(mut self, n: u32) -> Self {
        if let Some(c) = self.config() {
            c.size = n;
        }
        self
    }

    /// Starts at `position` instead of the beginning: a count of items already received (page
    /// numbers), an offset the service returned earlier, or a cursor.
    pub fn start_at(mut self, position: P) -> Self {
        if let Some(c) = self.config() {
            c.start = position;
        }
        self
    }

    /// Rewrites an error before it is yielded, knowing where the stream was (to name the position
    /// to resume from, or to tell a missing resource from a broken stream).
    pub fn on_error(
        mut self,
        f: impl for<'a> Fn(E, Failed<'a, P>) -> E + Send + Sync + 'static,
    ) -> Self {
        if let Some(c) = self.config() {
            c.on_error = Some(Box::new(f));
        }
        self
    }

    /// Reads ahead of the page being delivered (default [`DEFAULT_PREFETCH`]; `0` reads one
    /// page at a time, only when asked). Items still come in order, exactly once.
    ///
    /// - **Page numbers**: once a page has reported the total, up to `pages` later pages are
    ///   requested concurrently (each request still waits for the client's limiter and is
    ///   retried like any other). The page just past the total is requested with them, so the
    ///   end is confirmed by an empty page without an extra round trip and a list that grew
    ///   while read is read to its new end: the total is never trusted to end the stream. Should
    ///   a page come back short (the list changed), the pages read ahead are dropped and reading
    ///   goes on from the exact position: nothing is skipped or repeated.
    /// - **Offsets and cursors**: the next position is only known from a page, so any depth
    ///   above 0 reads one page ahead: the next request is sent as soon as a page arrives, while
    ///   the caller works on it.
    ///
    /// Up to `pages + 2` pages are held in memory: the one being delivered, the next one and
    /// `pages` after it. Dropping the stream cancels the requests in flight.
    pub fn prefetch(mut self, pages: usize) -> Self {
        if let Some(c) = self.config() {
            c.prefetch = pages;
        }
        self
    }

    /// Reads fewer pages ahead while the service says "too fast": each time `throttle` has
    /// counted more such answers since the last page, the depth is halved; after each page
    /// delivered without one it grows by one, back up to [`Paged::prefetch`]. Facade clients pass
    /// their runtime's count ([`crate::Runtime::throttle`]).
    pub fn throttle(mut self, throttle: Throttle) -> Self {
        if let Some(c) = self.config() {
            c.throttle = Some(throttle);
        }
        self
    }

    /// The pages, each with its position and the next one. An error ends the stream.
    pub fn pages(self) -> BoxStream<'static, Result<Page<T, P>, E>> {
        let State::Ready(config) = self.state else {
            return stream::empty().boxed();
        };
        let Config {
            fetch,
            field,
            max,
            size,
            start,
            end_on_empty,
            prefetch,
            throttle,
            on_error,
        } = config;
        let bad_size = (size == 0 || size > max).then_some(PagingError::PageSize {
            field,
            got: size,
            max,
        });
        type Pending<T, E, P> = BoxFuture<'static, Result<Page<T, P>, E>>;
        struct Walk<T, E, P> {
            fetch: FetchFn<T, E, P>,
            at: Option<P>,
            delivered: u64,
            total: Option<u64>,
            on_error: Option<OnError<E, P>>,
            bad_size: Option<PagingError>,
            // Requests in flight, in order, with their positions.
            ahead: stream::FuturesOrdered<Pending<T, E, P>>,
            queued: std::collections::VecDeque<P>,
            // The depth now (at most `prefetch`) and the throttle count it was set at.
            depth: usize,
            throttled: u64,
            calm: usize,
            throttle: Option<Throttle>,
        }
        impl<T, E, P: Position> Walk<T, E, P> {
            fn queue(&mut self, at: P, size: u32) {
                self.ahead.push_back((self.fetch)(at.clone(), size));
                self.queued.push_back(at);
            }
            fn drop_ahead(&mut self) {
                self.ahead = stream::FuturesOrdered::new();
                self.queued.clear();
            }
            /// Makes sure the page at `at` is requested first (what is in flight must start
            /// exactly there, or it is stale) and, for page numbers with a total, the pages after
            /// it up to the one just past the total, `depth` ahead.
            fn read_ahead_from(&mut self, at: &P, size: u32) {
                if self.queued.front() != Some(at) {
                    self.drop_ahead();
                    self.queue(at.clone(), size);
                }
                let Some(total) = self.total else {
                    return;
                };
                while self.queued.len() <= self.depth {
                    let Some(next) = self.queued.back().and_then(|p| p.after_full_page(size))
                    else {
                        break;
                    };
                    if next.first_index() > total {
                        break;
                    }
                    self.queue(next, size);
                }
            }
            /// Halves the depth when the service said "too fast" since the last page, else
            /// grows it by one, up to `most`.
            fn adapt(&mut self, most: usize) {
                let Some(throttle) = &self.throttle else {
                    return;
                };
                let count = throttle.count();
                if count > self.throttled {
                    self.throttled = count;
                    self.depth /= 2;
                    self.calm = 0;
                    tracing::debug!(depth = self.depth, "throttled: reading fewer pages ahead");
                } else if self.depth < most {
                    // One more page ahead after a full round of pages without a complaint.
                    self.calm += 1;
                    if self.calm > self.depth {
                        self.depth += 1;
                        self.calm = 0;
                    }
                }
            }
        }
        let walk = Walk {
            fetch,
            at: Some(start),
            delivered: 0,
            total: None,
            on_error,
            bad_size,
            ahead: stream::FuturesOrdered::new(),
            queued: Default::default(),
            depth: prefetch,
            throttled: throttle.as_ref().map_or(0, Throttle::count),
            calm: 0,
            throttle,
        };
        stream::try_unfold(walk, move |mut walk| async move {
            loop {
                let Some(at) = walk.at.take() else {
                    return Ok(None);
                };
                if let Some(e) = walk.bad_size.take() {
                    // Reported like any failure of the first page (through `on_error`).
                    let failed = Failed {
                        at: &at,
                        delivered: walk.delivered,
                    };
                    return Err(match &walk.on_error {
                        Some(f) => f(E::from(e), failed),
                        None => E::from(e),
                    });
                }
                walk.read_ahead_from(&at, size);
                walk.queued.pop_front();
                let fetched = match walk.ahead.next().await {
                    Some(result) => result,
                    None => return Ok(None),
                };
                let page = match fetched {
                    Ok(page) => page,
                    Err(e) => {
                        let failed = Failed {
                            at: &at,
                            delivered: walk.delivered,
                        };
                        return Err(match &walk.on_error {
                            Some(f) => f(e, failed),
                            None => e,
                        });
                    }
                };
                walk.adapt(prefetch);
                walk.total = page.total.or(walk.total);
                walk.at = page.next.clone();
                // The next pages are requested now, while the caller works on this one.
                if walk.depth > 0
                    && !(end_on_empty && page.items.is_empty())
                    && let Some(next) = &page.next
                {
                    walk.read_ahead_from(next, size);
                }
                if page.items.is_empty() {
                    if end_on_empty {
                        return Ok(None);
                    }
                    continue;
                }
                walk.delivered += page.items.len() as u64;
                return Ok(Some((page, walk)));
            }
        })
        .boxed()
    }

    /// Each item decoded as `U`; a decode error names the item and the field.
    pub fn decoded<U>(self) -> BoxStream<'static, Result<U, E>>
    where
        T: Into<serde_json::Value>,
        U: DeserializeOwned + Send + 'static,
        E: From<DecodeError>,
    {
        let first = match &self.state {
            State::Ready(c) => c.start.first_index(),
            _ => 0,
        };
        self.enumerate()
            .map(move |(i, item)| {
                let value: serde_json::Value = item?.into();
                U::deserialize(&value).map_err(|_| {
                    // Decode again, only on failure, to name the field.
                    let (path, message) = serde_path_to_error::deserialize::<_, U>(&value)
                        .err()
                        .map(|e| (e.path().to_string(), e.inner().to_string()))
                        .unwrap_or_default();
                    E::from(DecodeError {
                        path: format!("item {}: {path}", first + i as u64),
                        message,
                    })
                })
            })
            .boxed()
    }
}

impl<T, E, P> Stream for Paged<T, E, P>
where
    T: Send + 'static,
    E: From<PagingError> + Send + 'static,
    P: Position,
{
    type Item = Result<T, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let State::Ready(_) = self.state {
            let State::Ready(config) = std::mem::replace(&mut self.state, State::Taken) else {
                return Poll::Ready(None);
            };
            let pages = Paged {
                state: State::Ready(config),
            }
            .pages();
            self.state = State::Running(
                pages
                    .map_ok(|p| stream::iter(p.items.into_iter().map(Ok)))
                    .try_flatten()
                    .boxed(),
            );
        }
        match &mut self.state {
            State::Running(s) => s.poll_next_unpin(cx),
            _ => Poll::Ready(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Debug, PartialEq)]
    enum E {
        Paging(PagingError),
        Decode(DecodeError),
        Boom(u64),
    }
    impl From<PagingError> for E {
        fn from(e: PagingError) -> Self {
            E::Paging(e)
        }
    }
    impl From<DecodeError> for E {
        fn from(e: DecodeError) -> Self {
            E::Decode(e)
        }
    }

    /// A numbered server with `total` items whose page `short_once` is cut once; counts requests.
    fn numbered(
        total: u64,
        short_once: Option<u64>,
        calls: Arc<Mutex<usize>>,
    ) -> Paged<u64, E, u64> {
        let cut = Arc::new(Mutex::new(short_once));
        Paged::numbered("page_size", 1000, move |page, size| {
            let (calls, cut) = (calls.clone(), cut.clone());
            async move {
                *calls.lock().unwrap() += 1;
                let size = u64::from(size);
                let from = (page - 1) * size;
                let mut to = (from + size).min(total);
                let mut cut = cut.lock().unwrap();
                if *cut == Some(page) {
                    // cut to half, never to nothing (an empty page is the end by definition)
                    to = from + ((to - from) / 2).max((to - from).min(1));
                    *cut = None;
                }
                Ok(Fetched {
                    items: (from..to).collect(),
                    next: (),
                    total: Some(total),
                })
            }
        })
    }

    async fn collect(s: impl Stream<Item = Result<u64, E>>) -> Vec<u64> {
        s.map(|r| r.unwrap()).collect().await
    }

    #[tokio::test]
    async fn page_numbers_every_item_once_even_after_a_short_page() {
        for (total, size) in [(0, 10), (1, 10), (10, 10), (95, 10), (1000, 7)] {
            for short in [None, Some(1), Some(3)] {
                let s = numbered(total, short, Default::default()).page_size(size);
                assert_eq!(
                    collect(s).await,
                    (0..total).collect::<Vec<_>>(),
                    "{total} {size} {short:?}"
                );
            }
        }
    }

    #[tokio::test]
    async fn prefetching_reads_ahead_in_order_and_confirms_the_end_in_parallel() {
        let calls = Arc::new(Mutex::new(0));
        let s = numbered(1000, None, calls.clone())
            .page_size(100)
            .prefetch(3);
        assert_eq!(collect(s).await, (0..1000).collect::<Vec<_>>());
        assert_eq!(
            *calls.lock().unwrap(),
            11,
            "the empty page past the total, read ahead with the others"
        );
        // A short page mid-way drops what was read ahead; nothing skipped or repeated.
        for (total, size, short) in [(1000, 100, 2), (95, 10, 1), (95, 10, 9), (7, 3, 1)] {
            for ahead in [1, 2, 5] {
                let s = numbered(total, Some(short), Default::default())
                    .page_size(size)
                    .prefetch(ahead);
                assert_eq!(
                    collect(s).await,
                    (0..total).collect::<Vec<_>>(),
                    "{total} {size} short {short} ahead {ahead}"
                );
            }
        }
        let s = numbered(95, None, Default::default())
            .page_size(10)
            .prefetch(2)
            .start_at(42);
        assert_eq!(collect(s).await, (42..95).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn prefetched_pages_are_in_flight_together() {
        let (now, most) = (Arc::new(Mutex::new(0usize)), Arc::new(Mutex::new(0usize)));
        let (n, m) = (now.clone(), most.clone());
        let s = Paged::<u64, E, u64>::numbered("size", 10, move |page, size| {
            let (n, m) = (n.clone(), m.clone());
            async move {
                {
                    let mut n = n.lock().unwrap();
                    *n += 1;
                    let mut m = m.lock().unwrap();
                    *m = (*m).max(*n);
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                *n.lock().unwrap() -= 1;
                let from = (page - 1) * u64::from(size);
                Ok(Fetched {
                    items: (from..(from + u64::from(size)).min(60)).collect(),
                    next: (),
                    total: Some(60),
                })
            }
        })
        .prefetch(2);
        assert_eq!(collect(s).await, (0..60).collect::<Vec<_>>());
        assert_eq!(
            *most.lock().unwrap(),
            3,
            "the page being read and two ahead"
        );
    }

    /// Counts requests in flight (now, most) around a 20 ms answer.
    #[derive(Clone, Default)]
    struct InFlight(Arc<Mutex<(usize, usize)>>);
    impl InFlight {
        async fn around<F: Future>(self, f: F) -> F::Output {
            {
                let mut g = self.0.lock().unwrap();
                g.0 += 1;
                g.1 = g.1.max(g.0);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let out = f.await;
            self.0.lock().unwrap().0 -= 1;
            out
        }
        fn most(&self) -> usize {
            self.0.lock().unwrap().1
        }
    }

    #[tokio::test]
    async fn offsets_and_cursors_read_one_page_ahead() {
        let live = InFlight::default();
        let l = live.clone();
        let s = Paged::<i64, E, i64>::offsets("size", 10, move |offset, size| {
            let l = l.clone();
            l.clone().around(async move {
                let end = (offset + i64::from(size)).min(55);
                Ok(Fetched {
                    items: (offset..end).collect(),
                    next: end,
                    total: None,
                })
            })
        });
        // A slow consumer: the next page is read while this one is used.
        let got: Vec<i64> = s
            .then(|r| async move {
                tokio::time::sleep(std::time::Duration::from_millis(3)).await;
                r.unwrap()
            })
            .collect()
            .await;
        assert_eq!(got, (0..55).collect::<Vec<_>>());
        assert_eq!(live.most(), 1, "one ahead, never two requests at once");
        // Unlike `.prefetch(0)`, the next request starts before the caller asks for it.
        let asked = Arc::new(Mutex::new(Vec::new()));
        let a = asked.clone();
        let mut s = Paged::<u8, E, Option<String>>::cursors("limit", 2, move |cursor, _| {
            a.lock().unwrap().push(cursor.clone());
            async move {
                let (items, next) = match cursor.as_deref() {
                    None => (vec![1, 2], Some("b".to_string())),
                    _ => (vec![3], None),
                };
                Ok(Fetched {
                    items,
                    next,
                    total: None,
                })
            }
        });
        assert_eq!(s.next().await, Some(Ok(1)));
        assert_eq!(asked.lock().unwrap().len(), 2, "page b asked with page a");
        assert_eq!(s.collect::<Vec<_>>().await, vec![Ok(2), Ok(3)]);
    }

    #[tokio::test]
    async fn the_depth_halves_when_throttled_and_grows_back() {
        let throttle = Throttle::new();
        let live = InFlight::default();
        let (t, l) = (throttle.clone(), live.clone());
        // While pages 10 to 40 are read, the service says "too fast" to any request made while
        // more than 2 are in flight. Records (page, requests in flight when it was made).
        let seen = Arc::new(Mutex::new(Vec::new()));
        let d = seen.clone();
        let s = Paged::<u64, E, u64>::numbered("size", 10, move |page, size| {
            let (t, l, d) = (t.clone(), l.clone(), d.clone());
            async move {
                let now = l.0.lock().unwrap().0;
                d.lock().unwrap().push((page, now));
                if (10..=40).contains(&page) && now > 2 {
                    t.record();
                }
                l.around(async move {
                    let from = (page - 1) * u64::from(size);
                    Ok(Fetched {
                        items: (from..(from + u64::from(size)).min(1000)).collect(),
                        next: (),
                        total: Some(1000),
                    })
                })
                .await
            }
        })
        .prefetch(8)
        .throttle(throttle.clone());
        assert_eq!(collect(s).await, (0..1000).collect::<Vec<_>>());
        assert!(throttle.count() > 0);
        let seen = seen.lock().unwrap().clone();
        let during: Vec<usize> = seen
            .iter()
            .filter(|(p, _)| (20..=40).contains(p))
            .map(|(_, n)| *n)
            .collect();
        let mean = during.iter().sum::<usize>() as f64 / during.len() as f64;
        assert!(mean < 3.0, "shallow while throttled: {seen:?}");
        let after = seen.iter().filter(|(p, _)| *p > 80).map(|(_, n)| *n).max();
        assert_eq!(after, Some(8), "grown back to 8 ahead: {seen:?}");
    }

    #[tokio::test]
    async fn dropping_the_stream_cancels_what_is_in_flight() {
        struct Gone(Arc<Mutex<usize>>);
        impl Drop for Gone {
            fn drop(&mut self) {
                *self.0.lock().unwrap() += 1;
            }
        }
        let (started, gone) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
        let (st, g) = (started.clone(), gone.clone());
        let mut s = Paged::<u64, E, u64>::numbered("size", 10, move |page, size| {
            *st.lock().unwrap() += 1;
            let guard = Gone(g.clone());
            async move {
                if page > 1 {
                    tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                }
                drop(guard);
                let from = (page - 1) * u64::from(size);
                Ok(Fetched {
                    items: (from..from + u64::from(size)).collect(),
                    next: (),
                    total: Some(1000),
                })
            }
        });
        assert_eq!(s.next().await, Some(Ok(0)));
        // Page 1 delivered; the next page and `DEFAULT_PREFETCH` after it already asked for.
        assert_eq!(*started.lock().unwrap(), 2 + DEFAULT_PREFETCH);
        assert_eq!(*gone.lock().unwrap(), 1, "only page 1 finished");
        drop(s);
        assert_eq!(
            *gone.lock().unwrap(),
            2 + DEFAULT_PREFETCH,
            "the pages in flight were dropped with the stream, not left running"
        );
    }

    #[tokio::test]
    async fn page_numbers_resume_and_confirm_the_end_with_one_request() {
        let s = numbered(95, None, Default::default())
            .page_size(10)
            .start_at(42);
        assert_eq!(collect(s).await, (42..95).collect::<Vec<_>>());
        let calls = Arc::new(Mutex::new(0));
        collect(numbered(95, None, calls.clone()).page_size(10)).await;
        assert_eq!(
            *calls.lock().unwrap(),
            11,
            "10 pages, the short last one asked again"
        );
        let calls = Arc::new(Mutex::new(0));
        collect(numbered(100, None, calls.clone()).page_size(10)).await;
        assert_eq!(*calls.lock().unwrap(), 11, "10 full pages and one empty");
        let calls = Arc::new(Mutex::new(0));
        collect(numbered(2500, None, calls.clone())).await;
        assert_eq!(
            *calls.lock().unwrap(),
            4,
            "pages of the maximum size by default: 3 and one to confirm the end"
        );
    }

    #[tokio::test]
    async fn a_bad_page_size_names_the_field() {
        for size in [0, 1001] {
            let got: Vec<_> = numbered(5, None, Default::default())
                .page_size(size)
                .collect()
                .await;
            assert_eq!(
                got,
                vec![Err(E::Paging(PagingError::PageSize {
                    field: "page_size",
                    got: size,
                    max: 1000
                }))]
            );
        }
    }

    /// An offset server: offsets are 1000 + 3 * rows read; fails once at `fail_at`.
    fn offsets(total: i64, fail_at: Option<i64>) -> Paged<i64, E, i64> {
        let fail = Arc::new(Mutex::new(fail_at));
        Paged::offsets("size", 100, move |offset, size| {
            let fail = fail.clone();
            async move {
                let start = if offset <= 1000 {
                    0
                } else {
                    (offset - 1000) / 3
                };
                if fail.lock().unwrap().take_if(|f| *f == start).is_some() {
                    return Err(E::Boom(start as u64));
                }
                let end = (start + i64::from(size)).min(total);
                Ok(Fetched {
                    items: (start..end).collect(),
                    next: 1000 + 3 * end,
                    total: Some(total as u64),
                })
            }
        })
    }

    #[tokio::test]
    async fn offsets_follow_the_server_and_report_where_to_resume() {
        let all: Vec<i64> = offsets(250, None).map(|r| r.unwrap()).collect().await;
        assert_eq!(all, (0..250).collect::<Vec<_>>());
        let mut pages = offsets(250, Some(100))
            .on_error(|e, failed: Failed<'_, i64>| match e {
                E::Boom(_) => E::Boom(*failed.at as u64 * 1_000_000 + failed.delivered),
                other => other,
            })
            .pages();
        let first = pages.next().await.unwrap().unwrap();
        assert_eq!((first.at, first.next), (0, Some(1300)));
        let err = pages.next().await.unwrap().unwrap_err();
        assert_eq!(err, E::Boom(1300 * 1_000_000 + 100));
        assert!(pages.next().await.is_none(), "an error ends the stream");
        let rest: Vec<i64> = offsets(250, None)
            .start_at(1300)
            .map(|r| r.unwrap())
            .collect()
            .await;
        assert_eq!(rest, (100..250).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn an_offset_that_does_not_move_is_an_error_not_a_loop() {
        let stuck: Paged<u8, E, i64> = Paged::offsets("size", 10, |offset, _| async move {
            Ok(Fetched {
                items: vec![1],
                next: offset,
                total: None,
            })
        });
        let got: Vec<_> = stuck.collect().await;
        assert!(
            matches!(got.as_slice(), [Err(E::Paging(PagingError::Stuck { .. }))]),
            "{got:?}"
        );
    }

    #[tokio::test]
    async fn cursors_end_without_a_next_cursor_and_skip_empty_pages() {
        let s: Paged<u32, E, Option<String>> =
            Paged::cursors("limit", 50, |cursor, _| async move {
                let (items, next) = match cursor.as_deref() {
                    None => (vec![1, 2], Some("a")),
                    Some("a") => (vec![], Some("b")),
                    Some("b") => (vec![3], None),
                    _ => unreachable!(),
                };
                Ok(Fetched {
                    items,
                    next: next.map(str::to_string),
                    total: None,
                })
            });
        let got: Vec<u32> = s.map(|r| r.unwrap()).collect().await;
        assert_eq!(got, vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn decoded_items_name_the_item_and_field() {
        let s: Paged<serde_json::Map<String, serde_json::Value>, E, u64> =
            Paged::numbered("page_size", 10, |page, _| async move {
                let items = if page == 1 {
                    (0..3)
                        .map(|i| {
                            let mut m = serde_json::Map::new();
                            m.insert("n".into(), if i == 1 { "x".into() } else { i.into() });
                            m
                        })
                        .collect()
                } else {
                    vec![]
                };
                Ok(Fetched {
                    items,
                    next: (),
                    total: None,
                })
            });
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct N {
            n: u32,
        }
        let got: Vec<Result<N, E>> = s.start_at(0).decoded::<N>().collect().await;
        assert!(got[0].is_ok());
        match &got[1] {
            Err(E::Decode(d)) => assert_eq!(d.path, "item 1: n"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn streams_are_static_and_can_be_spawned() {
        let s = numbered(30, None, Default::default()).page_size(7);
        let n = tokio::spawn(async move { s.count().await }).await.unwrap();
        assert_eq!(n, 30);
    }
}
