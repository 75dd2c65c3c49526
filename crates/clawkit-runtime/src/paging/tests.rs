//! The page streams against scripted services: order, exactly-once, resumption, read-ahead.

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
fn numbered(total: u64, short_once: Option<u64>, calls: Arc<Mutex<usize>>) -> Paged<u64, E, u64> {
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
    let s: Paged<u32, E, Option<String>> = Paged::cursors("limit", 50, |cursor, _| async move {
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
