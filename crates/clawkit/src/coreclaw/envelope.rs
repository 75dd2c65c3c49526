//! CoreClaw's envelope `{code, message, data}` (v1's and v2's): the code is the truth whatever the
//! HTTP status (4000 arrives with HTTP 400, 4290 may arrive with HTTP 200), so a success status
//! whose `code` is not 0 is read by the same refusal as an error body.

use coreclaw_api::types;
use serde_json::{Value, json};

use crate::call::Reply;

/// CoreClaw's success bodies (both versions) are envelopes.
pub(crate) enum Envelope {}

/// The envelope's error fields, or its data.
fn open<T>(code: i64, message: impl FnOnce() -> String, data: T) -> Result<T, Value> {
    match code {
        0 => Ok(data),
        code => Err(json!({"code": code, "message": message()})),
    }
}

/// v1's envelopes: `message` may be absent.
macro_rules! replies {
    ($($response:ident => $data:ty),* $(,)?) => {$(
        impl Reply<Envelope> for types::$response {
            type Data = $data;
            fn open(self) -> Result<$data, Value> {
                open(self.code, || self.message.unwrap_or_default(), self.data)
            }
        }
    )*};
}

/// v2's envelopes: `message` is required.
macro_rules! v2_replies {
    ($($response:ident => $data:ty),* $(,)?) => {$(
        impl Reply<Envelope> for coreclaw_v2_api::types::$response {
            type Data = $data;
            fn open(self) -> Result<$data, Value> {
                open(self.code, || self.message, self.data)
            }
        }
    )*};
}

impl Reply<Envelope> for coreclaw_v2_api::types::DoneEnvelope {
    type Data = ();
    fn open(self) -> Result<(), Value> {
        open(self.code, || self.message, ())
    }
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
