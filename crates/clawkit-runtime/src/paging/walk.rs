//! The engine of every page stream: it asks for pages in order (reading ahead as deep as the
//! stream allows and the service tolerates), hands each page out once, and ends where the paging
//! kind says a list ends.

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt};

use super::page::{Failed, Page, PagingError, Position, Throttle};

pub(super) type FetchFn<T, E, P> =
    Box<dyn FnMut(P, u32) -> BoxFuture<'static, Result<Page<T, P>, E>> + Send>;
pub(super) type OnError<E, P> = Box<dyn for<'a> Fn(E, Failed<'a, P>) -> E + Send + Sync>;

/// What a page stream was built with.
pub(super) struct Config<T, E, P> {
    pub(super) fetch: FetchFn<T, E, P>,
    pub(super) field: &'static str,
    pub(super) max: u32,
    pub(super) size: u32,
    pub(super) start: P,
    pub(super) end_on_empty: bool,
    pub(super) prefetch: usize,
    pub(super) throttle: Option<Throttle>,
    pub(super) on_error: Option<OnError<E, P>>,
}

/// The pages of `config`, each with its position and the next one; an error ends the stream.
pub(super) fn pages<T, E, P>(config: Config<T, E, P>) -> BoxStream<'static, Result<Page<T, P>, E>>
where
    T: Send + 'static,
    E: From<PagingError> + Send + 'static,
    P: Position,
{
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
                let Some(next) = self.queued.back().and_then(|p| p.after_full_page(size)) else {
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
