//! Page-numbered APIs as `Stream`s of items, exactly once each.
//!
//! The stream's position is the number of items delivered so far. Each request asks for the page
//! that holds the next item and drops the part of it already delivered, so a page that came back
//! short is asked for again (the server may have more by then) and nothing is skipped or repeated.
//! An answer with nothing new ends the stream: a reported total is never trusted.

use std::future::Future;

use futures::stream::{self, Stream, TryStreamExt};

/// Streams items from `fetch(page_index, page_size)` (pages numbered from 1), starting after the
/// first `start` items.
pub fn items<T, E, F, Fut>(page_size: u64, start: u64, fetch: F) -> impl Stream<Item = Result<T, E>>
where
    F: FnMut(u64, u64) -> Fut,
    Fut: Future<Output = Result<Vec<T>, E>>,
{
    let size = page_size.max(1);
    stream::try_unfold(
        (start, fetch, false),
        move |(delivered, mut fetch, done)| async move {
            if done {
                return Ok(None);
            }
            let page = delivered / size + 1;
            let skip = (delivered % size) as usize;
            let mut items = fetch(page, size).await?;
            // A server that sends more than a page is cut back to the page, so positions stay exact.
            items.truncate(size as usize);
            let fresh: Vec<T> = if skip < items.len() {
                items.split_off(skip)
            } else {
                Vec::new()
            };
            if fresh.is_empty() {
                return Ok(None);
            }
            let next = delivered + fresh.len() as u64;
            Ok(Some((fresh, (next, fetch, false))))
        },
    )
    .map_ok(|page| stream::iter(page.into_iter().map(Ok)))
    .try_flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use std::sync::{Arc, Mutex};

    /// A server with `total` items whose page `short_page` is cut once.
    async fn collect(
        total: u64,
        size: u64,
        start: u64,
        short_once: Option<u64>,
    ) -> (Vec<u64>, usize) {
        let calls = Arc::new(Mutex::new(0usize));
        let cut = Arc::new(Mutex::new(short_once));
        let c = calls.clone();
        let s = items(size, start, move |page, size| {
            let (c, cut) = (c.clone(), cut.clone());
            async move {
                *c.lock().unwrap() += 1;
                let from = (page - 1) * size;
                let mut to = (from + size).min(total);
                let mut cut = cut.lock().unwrap();
                if *cut == Some(page) {
                    // cut to half, never to nothing (an empty page is the end by definition)
                    to = from + ((to - from) / 2).max((to - from).min(1));
                    *cut = None;
                }
                Ok::<_, ()>((from..to).collect::<Vec<u64>>())
            }
        });
        let got: Vec<u64> = s.map(|r| r.unwrap()).collect().await;
        let n = *calls.lock().unwrap();
        (got, n)
    }

    #[tokio::test]
    async fn every_item_once_even_after_a_short_page() {
        for (total, size) in [(0, 10), (1, 10), (10, 10), (95, 10), (1000, 7)] {
            for short in [None, Some(1), Some(3)] {
                let (got, _) = collect(total, size, 0, short).await;
                assert_eq!(
                    got,
                    (0..total).collect::<Vec<_>>(),
                    "total {total} size {size} short {short:?}"
                );
            }
        }
    }

    #[tokio::test]
    async fn resumes_from_a_position() {
        let (got, _) = collect(95, 10, 42, None).await;
        assert_eq!(got, (42..95).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn one_extra_request_confirms_the_end() {
        let (_, calls) = collect(95, 10, 0, None).await;
        assert_eq!(calls, 11, "10 pages, the short last one asked again");
        let (_, calls) = collect(100, 10, 0, None).await;
        assert_eq!(calls, 11, "10 full pages and one empty");
    }

    #[tokio::test]
    async fn an_error_ends_the_stream_after_yielding_it() {
        let s = items(10, 0, |page, _| async move {
            if page == 2 {
                Err("boom")
            } else {
                Ok((0..10).collect::<Vec<u32>>())
            }
        });
        let got: Vec<Result<u32, &str>> = s.collect().await;
        assert_eq!(got.len(), 11);
        assert_eq!(got[10], Err("boom"));
    }
}
