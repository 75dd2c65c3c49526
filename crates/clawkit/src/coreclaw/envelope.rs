//! From the generated client's answer to the facade's result: the envelope's code is the truth.

use coreclaw_api::types;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::Error;
use crate::transport;

/// What the generated client returns for one request.
pub(crate) type Sent<R> =
    Result<coreclaw_api::ResponseValue<R>, coreclaw_api::Error<types::ApiError>>;

/// A generated response type: an envelope `{code, message, data}`.
pub(crate) trait Reply: DeserializeOwned {
    /// What `data` holds.
    type Data;
    fn code(&self) -> i64;
    fn message(&self) -> String;
    fn into_data(self) -> Self::Data;
}

macro_rules! replies {
    ($($response:ident => $data:ty),* $(,)?) => {$(
        impl Reply for types::$response {
            type Data = $data;
            fn code(&self) -> i64 { self.code }
            fn message(&self) -> String { self.message.clone().unwrap_or_default() }
            fn into_data(self) -> $data { self.data }
        }
    )*};
}

replies! {
    StoreSearchResponse => types::StoreSearchData,
    ScraperDetailResponse => types::ScraperDetailData,
    RunSlugResponse => types::RunSlugData,
    RunDetailResponse => types::RunSummary,
    RunListResponse => types::RunListData,
    RunResultListResponse => types::RunResultListData,
    RunResultExportResponse => types::RunResultExportData,
    RunLogsResponse => types::RunLogsData,
    AccountInfoResponse => types::AccountInfoData,
    EmptySuccessResponse => (),
}

/// Any envelope, for bodies that did not decode as the documented type.
#[derive(Deserialize)]
struct Bare {
    code: Option<i64>,
    #[serde(default)]
    message: Option<String>,
}

fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut s: String = text.chars().take(300).collect();
    if text.chars().count() > 300 {
        s.push('…');
    }
    s
}

/// A body that is not the documented type: a non-zero envelope becomes its typed error; a
/// truncated body is a (retryable) transport failure; anything else is a decode error with the
/// path of the field that failed.
fn undocumented<R: DeserializeOwned>(
    bytes: &[u8],
    status: u16,
    retry_after: Option<std::time::Duration>,
) -> Error {
    if let Ok(Bare {
        code: Some(code),
        message,
    }) = serde_json::from_slice::<Bare>(bytes)
        && code != 0
    {
        return Error::from_code(code, message.unwrap_or_default(), status, retry_after);
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, R>(de) {
        Err(e) if e.inner().is_eof() => Error::Http {
            status: None,
            message: format!(
                "the HTTP {status} response body ended early ({} bytes): {}",
                bytes.len(),
                e.inner()
            ),
            not_sent: false,
        },
        Err(e) if e.inner().is_syntax() => Error::Http {
            status: Some(status),
            message: format!("the response is not JSON: {}", snippet(bytes)),
            not_sent: false,
        },
        Err(e) => Error::Decode {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        },
        Ok(_) => Error::Decode {
            path: String::new(),
            message: "the response did not decode".into(),
        },
    }
}

/// Turns what the generated client returned into data or a typed error.
pub(crate) async fn open<R: Reply>(sent: Sent<R>) -> Result<R::Data, Error> {
    use coreclaw_api::Error as E;
    match sent {
        Ok(value) => {
            let status = value.status().as_u16();
            let retry_after = transport::retry_after(value.headers());
            let reply = value.into_inner();
            match reply.code() {
                0 => Ok(reply.into_data()),
                code => Err(Error::from_code(code, reply.message(), status, retry_after)),
            }
        }
        Err(E::ErrorResponse(value)) => {
            let status = value.status().as_u16();
            let retry_after = transport::retry_after(value.headers());
            let body = value.into_inner();
            Err(match body.code {
                Some(code) => Error::from_code(code, body.message, status, retry_after),
                None if status == 429 => Error::RateLimited {
                    message: body.message,
                    retry_after,
                },
                None => Error::Http {
                    status: Some(status),
                    message: body.message,
                    not_sent: status == 429,
                },
            })
        }
        Err(E::InvalidResponsePayload(bytes, _)) => Err(undocumented::<R>(&bytes, 200, None)),
        Err(E::UnexpectedResponse(response)) => {
            let status = response.status().as_u16();
            let retry_after = transport::retry_after(response.headers());
            match response.bytes().await {
                Ok(bytes) => {
                    let error = undocumented::<R>(&bytes, status, retry_after);
                    Err(match error {
                        Error::Decode { .. } if status == 429 => Error::RateLimited {
                            message: snippet(&bytes),
                            retry_after,
                        },
                        Error::Decode { .. } => Error::Http {
                            status: Some(status),
                            message: snippet(&bytes),
                            not_sent: false,
                        },
                        other => other,
                    })
                }
                Err(e) => Err(Error::Http {
                    status: Some(status),
                    message: format!("the response body broke off: {e}"),
                    not_sent: false,
                }),
            }
        }
        Err(E::CommunicationError(e)) if e.is_timeout() => Err(Error::Timeout {
            what: format!(
                "waiting for {}",
                e.url().map(|u| u.path()).unwrap_or("the response")
            ),
            run_slug: None,
        }),
        Err(E::CommunicationError(e)) => Err(Error::Http {
            status: e.status().map(|s| s.as_u16()),
            not_sent: e.is_connect(),
            message: e.without_url().to_string(),
        }),
        Err(E::ResponseBodyError(e)) => Err(Error::Http {
            status: None,
            message: format!("the response body broke off: {}", e.without_url()),
            not_sent: false,
        }),
        Err(E::InvalidRequest(message)) => {
            Err(Error::Config(format!("invalid request: {message}")))
        }
        Err(other) => Err(Error::Http {
            status: None,
            message: other.to_string(),
            not_sent: false,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undocumented_bodies_become_the_right_error() {
        let limited = undocumented::<types::RunSlugResponse>(
            br#"{"code":4290,"message":"slow down","data":null}"#,
            200,
            None,
        );
        assert!(matches!(limited, Error::RateLimited { .. }), "{limited:?}");
        let cut =
            undocumented::<types::RunSlugResponse>(br#"{"code":0,"message":"succ"#, 200, None);
        assert!(
            matches!(cut, Error::Http { .. }) && cut.is_retryable(),
            "{cut:?}"
        );
        let wrong = undocumented::<types::RunSlugResponse>(
            br#"{"code":0,"data":{"run_slug":7}}"#,
            200,
            None,
        );
        match wrong {
            Error::Decode { path, .. } => assert_eq!(path, "data.run_slug"),
            other => panic!("{other:?}"),
        }
    }
}
