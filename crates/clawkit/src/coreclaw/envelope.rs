//! CoreClaw's envelope `{code, message, data}`: the code is the truth whatever the HTTP status
//! (4000 arrives with HTTP 400, 4290 may arrive with HTTP 200).

use clawkit_runtime::reply::{self, Answer, Head};
use coreclaw_api::types;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::Error;
use clawkit_runtime::{TransportError, TransportKind};

/// What a generated client (v1 or v2) returns for one request.
pub(crate) type Sent<R, E = types::ApiError> = reply::Sent<R, E>;

/// A documented error body: v1's `ApiError` or v2's `ErrorEnvelope`.
pub(crate) trait ErrorBody {
    fn code(&self) -> Option<i64>;
    fn into_message(self) -> String;
}

impl ErrorBody for types::ApiError {
    fn code(&self) -> Option<i64> {
        self.code.map(|c| c.code())
    }
    fn into_message(self) -> String {
        self.message
    }
}

impl ErrorBody for coreclaw_v2_api::types::ErrorEnvelope {
    fn code(&self) -> Option<i64> {
        Some(self.code)
    }
    fn into_message(self) -> String {
        self.message
    }
}

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

/// v2's envelopes: `message` is required, `data` may be absent.
macro_rules! v2_replies {
    ($($response:ident => $data:ty),* $(,)?) => {$(
        impl Reply for coreclaw_v2_api::types::$response {
            type Data = $data;
            fn code(&self) -> i64 { self.code }
            fn message(&self) -> String { self.message.clone() }
            fn into_data(self) -> $data { self.data }
        }
    )*};
}

impl Reply for coreclaw_v2_api::types::DoneEnvelope {
    type Data = ();
    fn code(&self) -> i64 {
        self.code
    }
    fn message(&self) -> String {
        self.message.clone()
    }
    fn into_data(self) {}
}

v2_replies! {
    ProxyRegionListEnvelope => coreclaw_v2_api::types::ProxyRegionList,
    WorkerListEnvelope => coreclaw_v2_api::types::WorkerList,
    AccountEnvelope => coreclaw_v2_api::types::Account,
    WorkerRunPageEnvelope => coreclaw_v2_api::types::WorkerRunPage,
    WorkerRunEnvelope => coreclaw_v2_api::types::WorkerRun,
    ExportLinkEnvelope => coreclaw_v2_api::types::ExportLink,
    RunLogEnvelope => coreclaw_v2_api::types::RunLog,
    RunStartedEnvelope => coreclaw_v2_api::types::RunStarted,
    ResultPageEnvelope => coreclaw_v2_api::types::ResultPage,
    WorkerTaskPageEnvelope => coreclaw_v2_api::types::WorkerTaskPage,
    WorkerTaskCreatedEnvelope => coreclaw_v2_api::types::WorkerTaskCreated,
    WorkerTaskEnvelope => coreclaw_v2_api::types::WorkerTask,
    WorkerTaskInputEnvelope => coreclaw_v2_api::types::WorkerTaskInput,
    WorkerDetailEnvelope => coreclaw_v2_api::types::WorkerDetail,
    WorkerInputSchemaEnvelope => coreclaw_v2_api::types::WorkerInputSchema,
}

replies! {
    RunStartResponse => types::RunStartData,
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

/// A body that is not the documented type: a non-zero envelope becomes its typed error, anything
/// else what the runtime makes of it (truncated, not JSON, a field of the wrong shape).
fn undocumented<R: DeserializeOwned>(head: &Head, bytes: &[u8]) -> Error {
    match serde_json::from_slice::<Bare>(bytes) {
        Ok(Bare {
            code: Some(code),
            message,
        }) if code != 0 => Error::from_code(
            code,
            message.unwrap_or_default(),
            head.status,
            head.retry_after(),
        ),
        _ => reply::undocumented::<R, Error>(head, bytes),
    }
}

/// Turns what the generated client returned into data or a typed error.
pub(crate) async fn open<R: Reply, E: ErrorBody>(sent: Sent<R, E>) -> Result<R::Data, Error> {
    match reply::answer::<_, _, Error>(sent).await? {
        Answer::Ok(head, reply) => match reply.code() {
            0 => Ok(reply.into_data()),
            code => Err(Error::from_code(
                code,
                reply.message(),
                head.status,
                head.retry_after(),
            )),
        },
        Answer::Documented(head, body) => Err(match body.code() {
            Some(code) => {
                Error::from_code(code, body.into_message(), head.status, head.retry_after())
            }
            None => TransportError::new(
                TransportKind::Status,
                Some(head.status),
                body.into_message(),
            )
            .into(),
        }),
        Answer::Undocumented(head, bytes) => Err(undocumented::<R>(&head, &bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(status: u16) -> Head {
        Head {
            status,
            headers: Default::default(),
        }
    }

    #[test]
    fn undocumented_bodies_become_the_right_error() {
        let limited = undocumented::<types::RunSlugResponse>(
            &head(200),
            br#"{"code":4290,"message":"slow down","data":null}"#,
        );
        assert!(matches!(limited, Error::RateLimited { .. }), "{limited:?}");
        let cut =
            undocumented::<types::RunSlugResponse>(&head(200), br#"{"code":0,"message":"succ"#);
        assert!(
            matches!(cut, Error::Transport(_)) && cut.is_retryable(),
            "{cut:?}"
        );
        let wrong = undocumented::<types::RunSlugResponse>(
            &head(200),
            br#"{"code":0,"data":{"run_slug":7}}"#,
        );
        match wrong {
            Error::Decode { path, .. } => assert_eq!(path, "data.run_slug"),
            other => panic!("{other:?}"),
        }
        let page = undocumented::<types::RunSlugResponse>(&head(502), b"<html>bad gateway</html>");
        assert!(
            matches!(page, Error::Transport(_)) && page.is_retryable(),
            "{page:?}"
        );
    }
}
