//! Downloads of files the API points at (exports, logs): streamed to any `AsyncWrite`, never held
//! in memory, and never sent the API's credentials (they point at storage, not at the API).

use futures::StreamExt;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::error::{TransportError, TransportKind};

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The exchange failed, or answered with an error status.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// Writing what arrived failed.
    #[error("writing the download failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Streams `url` to `writer` with `http` (a plain client: no API credentials); returns the bytes
/// written. A body that breaks off is a retryable transport error that says how far it got.
pub async fn download<W: AsyncWrite + Unpin>(
    http: &reqwest::Client,
    url: &str,
    writer: &mut W,
) -> Result<u64, DownloadError> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(TransportError::from_reqwest)?;
    let status = response.status();
    if !status.is_success() {
        return Err(TransportError::new(
            TransportKind::Status,
            Some(status.as_u16()),
            format!("downloading {}", response.url().path()),
        )
        .into());
    }
    let mut body = response.bytes_stream();
    let mut written = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            TransportError::broken_body(
                e,
                format!("the download broke off after {written} bytes (HTTP {status})"),
            )
        })?;
        writer.write_all(&chunk).await?;
        written += chunk.len() as u64;
    }
    writer.flush().await?;
    Ok(written)
}
