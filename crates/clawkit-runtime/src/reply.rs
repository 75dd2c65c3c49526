//! The vendor-neutral half of reading a generated client's answer: transport failures, requests
//! refused before sending and bodies that are not what the spec documents become the vendor's
//! error here; what remains (a success body, a documented error body, or an undocumented body
//! that may carry the vendor's error envelope) is the vendor's to read.

use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use crate::error::{BodyFault, DecodeError, TransportError, TransportKind, decode, snippet};

/// What the generated client returns for one call.
pub type Sent<T, E> = Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<E>>;

/// An HTTP answer's status and headers.
#[derive(Debug, Clone)]
pub struct Head {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
}

impl Head {
    /// The `Retry-After` the answer carries.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        crate::limit::retry_after(&self.headers)
    }
}

/// A request the generated client or a hook refused before sending (a parameter out of range, a
/// signature that could not be made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRequest(pub String);

/// An answer for the vendor to read.
#[derive(Debug)]
pub enum Answer<T, D> {
    /// The documented success type.
    Ok(Head, T),
    /// An error body the spec documents, decoded.
    Documented(Head, D),
    /// A body that is not what the spec documents for its status (an in-band error envelope, a
    /// proxy's page, truncated JSON): the raw bytes. See [`undocumented`].
    Undocumented(Head, Bytes),
}

/// Sorts what the generated client returned; reads the body of an unexpected answer. Transport
/// failures and refused requests are the vendor's error already.
pub async fn answer<T, D, E>(sent: Sent<T, D>) -> Result<Answer<T, D>, E>
where
    E: From<TransportError> + From<InvalidRequest>,
{
    use progenitor_client::Error as G;
    let head = |status: reqwest::StatusCode, headers: &HeaderMap| Head {
        status: status.as_u16(),
        headers: headers.clone(),
    };
    match sent {
        Ok(value) => Ok(Answer::Ok(
            head(value.status(), value.headers()),
            value.into_inner(),
        )),
        Err(G::ErrorResponse(value)) => Ok(Answer::Documented(
            head(value.status(), value.headers()),
            value.into_inner(),
        )),
        Err(G::UnexpectedResponse(response)) => {
            let head = head(response.status(), response.headers());
            match response.bytes().await {
                Ok(bytes) => Ok(Answer::Undocumented(head, bytes)),
                Err(e) => Err(TransportError::broken_body(
                    e,
                    format!("the HTTP {} response body broke off", head.status),
                )
                .into()),
            }
        }
        // progenitor reports only the payload of a success status as invalid.
        Err(G::InvalidResponsePayload(bytes, _)) => Ok(Answer::Undocumented(
            Head {
                status: 200,
                headers: HeaderMap::new(),
            },
            bytes,
        )),
        Err(G::CommunicationError(e)) | Err(G::InvalidUpgrade(e)) => {
            Err(TransportError::from_reqwest(e).into())
        }
        Err(G::ResponseBodyError(e)) => {
            Err(TransportError::broken_body(e, "the response body broke off").into())
        }
        Err(G::InvalidRequest(m)) => Err(InvalidRequest(m).into()),
        Err(G::Custom(m)) => Err(TransportError::new(TransportKind::Other, None, m).into()),
    }
}

/// The error for a body that is neither the documented type `R` nor the vendor's error envelope:
/// a truncated body (retryable), text that is not JSON, JSON of the wrong shape (a decode error
/// naming the field, for a success status), or a documented body at an undocumented status.
pub fn undocumented<R, E>(head: &Head, bytes: &[u8]) -> E
where
    R: DeserializeOwned,
    E: From<TransportError> + From<DecodeError>,
{
    let other_status =
        || TransportError::new(TransportKind::Status, Some(head.status), snippet(bytes)).into();
    match decode::<R>(bytes, head.status) {
        Err(BodyFault::Transport(t)) => t.into(),
        Err(BodyFault::Decode(d)) if (200..300).contains(&head.status) => d.into(),
        Err(BodyFault::Decode(_)) | Ok(_) => other_status(),
    }
}
