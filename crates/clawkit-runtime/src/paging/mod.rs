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

mod page;
mod walk;

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::FutureExt;
use futures::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;

use crate::error::DecodeError;

pub use page::{DEFAULT_PREFETCH, Failed, Fetched, Page, PagingError, Position, Throttle};
use walk::{Config, FetchFn};

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
        match self.state {
            State::Ready(config) => walk::pages(config),
            _ => stream::empty().boxed(),
        }
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
mod tests;
