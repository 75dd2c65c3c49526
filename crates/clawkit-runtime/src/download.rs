//! Downloads of files the API points at (exports, logs): streamed to any `AsyncWrite`, never held
//! in memory, never sent the API's credentials (they point at storage, not at the API), and
//! resumed where they broke off.
//!
//! A body that breaks off (a reset, a timeout, a transient status on the next attempt) is asked
//! for again from the first byte not written, with `Range: bytes=N-` and `If-Range` carrying the
//! file's strong `ETag` (or `Last-Modified`), the way browsers and download managers resume. The
//! writer only ever receives each byte once, in order, so the result is byte-identical to an
//! unbroken download:
//!
//! - `206 Partial Content` starting at `N`: appended;
//! - `200 OK` (a host that ignores ranges, or `If-Range` saying the file changed): when the
//!   validator is unchanged (or there is none) the first `N` bytes are read and dropped; when the
//!   file changed, [`DownloadError::Changed`], since what was written belongs to another file;
//! - `416` once everything was written: done.
//!
//! Attempts that make no progress are retried with the [`RetryPolicy`]'s backoff, at most its
//! `max_retries` in a row; any progress resets the count.

use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, ETAG, HeaderValue, IF_RANGE, LAST_MODIFIED, RANGE};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::error::{Classify, TransportError, TransportKind};
use crate::retry::RetryPolicy;

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadError {
    /// The exchange failed, or answered with an error status, more often in a row than the
    /// retry policy allows.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// Writing what arrived failed.
    #[error("writing the download failed: {0}")]
    Io(#[from] std::io::Error),
    /// The file changed on the server while it was downloaded: the bytes written belong to the
    /// old file, so the download must start again into a fresh destination.
    #[error(
        "the file changed on the server after {written} bytes were written (its validator went from {before} to {after}); download it again into a fresh destination"
    )]
    Changed {
        /// Bytes written before.
        written: u64,
        /// The validator (ETag or Last-Modified) of the first answer.
        before: String,
        /// The validator now.
        after: String,
    },
}

impl DownloadError {
    /// The failure as what a vendor error already holds: a transport error (a changed file is a
    /// final one whose message says so) or a write error.
    pub fn split(self) -> Result<TransportError, std::io::Error> {
        match self {
            DownloadError::Transport(t) => Ok(t),
            DownloadError::Io(e) => Err(e),
            changed @ DownloadError::Changed { .. } => Ok(TransportError::new(
                TransportKind::Other,
                None,
                changed.to_string(),
            )),
        }
    }
}

/// What a download did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Downloaded {
    /// Bytes written.
    pub bytes: u64,
    /// Requests that resumed a broken download (0 for an unbroken one).
    pub resumed: u32,
}

/// Streams `url` to `writer` with `http` (a plain client: no API credentials), resuming a body
/// that breaks off (see the module docs) with the default [`RetryPolicy`]; returns the bytes
/// written.
pub async fn download<W: AsyncWrite + Unpin>(
    http: &reqwest::Client,
    url: &str,
    writer: &mut W,
) -> Result<u64, DownloadError> {
    Ok(download_with(http, url, writer, &RetryPolicy::default())
        .await?
        .bytes)
}

/// The validator sent back in `If-Range`: a strong ETag, else Last-Modified.
fn validator(headers: &reqwest::header::HeaderMap) -> Option<HeaderValue> {
    headers
        .get(ETAG)
        .filter(|e| !e.as_bytes().starts_with(b"W/"))
        .or_else(|| headers.get(LAST_MODIFIED))
        .cloned()
}

fn shown(v: Option<&HeaderValue>) -> String {
    v.and_then(|v| v.to_str().ok())
        .unwrap_or("(none)")
        .to_string()
}

/// The first byte of a `Content-Range: bytes FIRST-LAST/TOTAL`.
fn range_start(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let value = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes ")?;
    range.split('-').next()?.trim().parse().ok()
}

/// [`download`] with `policy`'s backoff and retry count (for attempts in a row that made no
/// progress); says how often it resumed.
pub async fn download_with<W: AsyncWrite + Unpin>(
    http: &reqwest::Client,
    url: &str,
    writer: &mut W,
    policy: &RetryPolicy,
) -> Result<Downloaded, DownloadError> {
    let mut written = 0u64;
    let mut resumed = 0u32;
    let mut first: Option<Option<HeaderValue>> = None;
    let mut stalled = 0usize;
    loop {
        let before = written;
        let attempt = attempt(http, url, writer, &mut written, &mut first).await;
        let error = match attempt {
            Ok(()) => {
                writer.flush().await?;
                return Ok(Downloaded {
                    bytes: written,
                    resumed,
                });
            }
            Err(Attempt::Final(e)) => return Err(e),
            Err(Attempt::Again(e)) => e,
        };
        stalled = if written > before { 0 } else { stalled + 1 };
        if stalled > policy.max_retries {
            return Err(error.into());
        }
        let delay = if stalled == 0 {
            Duration::ZERO
        } else {
            let exp = 2u32.saturating_pow(stalled.saturating_sub(1).min(16) as u32);
            policy.base.saturating_mul(exp).min(policy.max_delay)
        };
        tracing::warn!(written, ?delay, error = %error, "download broke off; resuming");
        tokio::time::sleep(delay).await;
        if written > 0 {
            resumed += 1;
        }
    }
}

enum Attempt {
    /// Worth another request (from where it got to).
    Again(TransportError),
    Final(DownloadError),
}

impl From<std::io::Error> for Attempt {
    fn from(e: std::io::Error) -> Self {
        Attempt::Final(e.into())
    }
}

async fn attempt<W: AsyncWrite + Unpin>(
    http: &reqwest::Client,
    url: &str,
    writer: &mut W,
    written: &mut u64,
    first: &mut Option<Option<HeaderValue>>,
) -> Result<(), Attempt> {
    let mut request = http.get(url);
    if *written > 0 {
        request = request.header(RANGE, format!("bytes={written}-"));
        if let Some(Some(v)) = first {
            request = request.header(IF_RANGE, v.clone());
        }
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            let e = TransportError::from_reqwest(e);
            return Err(if e.is_retryable() {
                Attempt::Again(e)
            } else {
                Attempt::Final(e.into())
            });
        }
    };
    let status = response.status();
    let path = response.url().path().to_string();
    let mut skip = 0u64;
    match status {
        StatusCode::PARTIAL_CONTENT if *written > 0 => {
            let start = range_start(response.headers());
            if start != Some(*written) {
                return Err(Attempt::Final(
                    TransportError::new(
                        TransportKind::Other,
                        Some(206),
                        format!(
                            "downloading {path}: asked to resume at byte {written}, the server sent a range starting at {}",
                            start.map_or("(no Content-Range)".to_string(), |s| s.to_string())
                        ),
                    )
                    .into(),
                ));
            }
        }
        StatusCode::RANGE_NOT_SATISFIABLE if *written > 0 => {
            // Everything was written before the connection broke.
            return Ok(());
        }
        s if s.is_success() => {
            let now = validator(response.headers());
            match first {
                None => *first = Some(now),
                Some(before) if *before != now && (before.is_some() || now.is_some()) => {
                    return Err(Attempt::Final(DownloadError::Changed {
                        written: *written,
                        before: shown(before.as_ref()),
                        after: shown(now.as_ref()),
                    }));
                }
                // The host ignored the range: the first bytes again, dropped.
                Some(_) => skip = *written,
            }
        }
        s => {
            let e = TransportError::new(
                TransportKind::Status,
                Some(s.as_u16()),
                format!("downloading {path}"),
            );
            return Err(if e.is_retryable() {
                Attempt::Again(e)
            } else {
                Attempt::Final(e.into())
            });
        }
    }
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|e| {
            Attempt::Again(TransportError::broken_body(
                e,
                format!("the download of {path} broke off after {written} bytes (HTTP {status})"),
            ))
        })?;
        if skip > 0 {
            let drop = skip.min(chunk.len() as u64);
            let _ = chunk.split_to(drop as usize);
            skip -= drop;
        }
        writer.write_all(&chunk).await?;
        *written += chunk.len() as u64;
    }
    if skip > 0 {
        // A 200 shorter than what was already written: not the same file.
        return Err(Attempt::Final(DownloadError::Changed {
            written: *written,
            before: "a longer file".into(),
            after: "a shorter one".into(),
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::extract::State;
    use axum::http::{HeaderMap, Response};
    use std::sync::{Arc, Mutex};

    /// A file host: `file` with ETag `"v{version}"`; the first `breaks` answers are cut after
    /// `cut` bytes; `ranges` says whether Range is honoured; `change` bumps the version after the
    /// first request. Records each request's Range header.
    #[derive(Clone)]
    struct Host {
        file: Arc<Vec<u8>>,
        breaks: Arc<Mutex<u32>>,
        cut: usize,
        ranges: bool,
        change: bool,
        version: Arc<Mutex<u32>>,
        seen: Arc<Mutex<Vec<Option<String>>>>,
    }

    async fn serve(State(h): State<Host>, headers: HeaderMap) -> Response<Body> {
        let range = headers
            .get("range")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        h.seen.lock().unwrap().push(range.clone());
        let etag = format!("\"v{}\"", h.version.lock().unwrap());
        if h.change {
            *h.version.lock().unwrap() += 1;
        }
        let if_range_ok = headers
            .get("if-range")
            .is_none_or(|v| v.to_str().ok() == Some(etag.as_str()));
        let file: Vec<u8> = if etag == "\"v1\"" {
            h.file.to_vec()
        } else {
            h.file.iter().map(|b| b.wrapping_add(1)).collect()
        };
        let start = match (&range, h.ranges && if_range_ok) {
            (Some(r), true) => r
                .trim_start_matches("bytes=")
                .trim_end_matches('-')
                .parse::<usize>()
                .unwrap(),
            _ => 0,
        };
        let builder = Response::builder().header("etag", &etag);
        if start >= file.len() && start > 0 {
            return builder.status(416).body(Body::empty()).unwrap();
        }
        let part = file[start..].to_vec();
        let builder = if start > 0 {
            builder.status(206).header(
                "content-range",
                format!("bytes {start}-{}/{}", file.len() - 1, file.len()),
            )
        } else {
            builder.status(200)
        }
        .header("content-length", part.len());
        let broken = {
            let mut b = h.breaks.lock().unwrap();
            let broken = *b > 0;
            *b = b.saturating_sub(1);
            broken
        };
        if broken {
            let head = part[..h.cut.min(part.len())].to_vec();
            let stream = futures::stream::iter([Ok::<_, std::io::Error>(head)]).chain(
                futures::stream::once(async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Err(std::io::Error::other("cut"))
                }),
            );
            return builder.body(Body::from_stream(stream)).unwrap();
        }
        builder.body(Body::from(part)).unwrap()
    }

    fn host(breaks: u32, ranges: bool, change: bool) -> Host {
        Host {
            file: Arc::new((0..300_000u32).map(|i| (i * 7 % 251) as u8).collect()),
            breaks: Arc::new(Mutex::new(breaks)),
            cut: 100_000,
            ranges,
            change,
            version: Arc::new(Mutex::new(1)),
            seen: Default::default(),
        }
    }

    async fn start(h: Host) -> String {
        let app = axum::Router::new()
            .route("/file.csv", axum::routing::get(serve))
            .with_state(h);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/file.csv")
    }

    /// Downloads `url` into `out` with the fast retry policy.
    async fn fetch(url: &str, out: &mut Vec<u8>) -> Result<Downloaded, DownloadError> {
        download_with(&reqwest::Client::new(), url, out, &RetryPolicy::fast()).await
    }

    #[tokio::test]
    async fn a_broken_download_resumes_from_the_last_byte_written() {
        let h = host(2, true, false);
        let url = start(h.clone()).await;
        let mut out = Vec::new();
        let got = fetch(&url, &mut out).await.unwrap();
        assert_eq!(out, *h.file, "byte-identical");
        assert_eq!(got.bytes, 300_000);
        assert_eq!(got.resumed, 2);
        assert_eq!(
            *h.seen.lock().unwrap(),
            vec![
                None,
                Some("bytes=100000-".to_string()),
                Some("bytes=200000-".to_string())
            ]
        );
    }

    #[tokio::test]
    async fn a_host_that_ignores_ranges_still_gives_an_identical_file() {
        let h = host(2, false, false);
        let url = start(h.clone()).await;
        let mut out = Vec::new();
        fetch(&url, &mut out).await.unwrap();
        assert_eq!(out, *h.file);
    }

    #[tokio::test]
    async fn a_file_that_changed_is_an_error_not_a_mix() {
        let h = host(1, true, true);
        let url = start(h.clone()).await;
        let mut out = Vec::new();
        let e = fetch(&url, &mut out).await.unwrap_err();
        assert!(
            matches!(&e, DownloadError::Changed { written: 100_000, before, after }
                if before == "\"v1\"" && after == "\"v2\""),
            "{e:?}"
        );
        assert_eq!(out.len(), 100_000);
    }

    #[tokio::test]
    async fn a_download_that_never_progresses_gives_up_after_the_policy() {
        let mut h = host(100, true, false);
        h.cut = 0;
        let url = start(h.clone()).await;
        let mut out = Vec::new();
        let e = fetch(&url, &mut out).await.unwrap_err();
        assert!(matches!(e, DownloadError::Transport(_)), "{e:?}");
        assert_eq!(
            h.seen.lock().unwrap().len(),
            6,
            "the first attempt and 5 retries"
        );
    }
}
