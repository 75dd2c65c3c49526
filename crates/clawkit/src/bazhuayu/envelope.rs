//! Bazhuayu's envelope `{data, error, error_Description}`: a success status may carry an error
//! (`error` other than `success`), which [`refusal`](super::error) reads like an error body.

use bazhuayu_api::types;
use serde_json::{Value, json};

use crate::call::Reply;

/// Bazhuayu's success bodies are envelopes.
pub(crate) enum Envelope {}

macro_rules! replies {
    ($($response:ident => $data:ty, |$r:ident| $get:expr;)*) => {$(
        impl Reply<Envelope> for types::$response {
            type Data = $data;
            fn open(self) -> Result<$data, Value> {
                if !self.error.eq_ignore_ascii_case("success") {
                    return Err(json!({"error": self.error, "error_Description": self.error_description}));
                }
                let $r = self;
                Ok($get)
            }
        }
    )*};
}

replies! {
    TaskGroupListResponse => Vec<types::TaskGroup>, |r| r.data;
    TaskListResponse => Vec<types::Task>, |r| r.data;
    ClearTaskDataResponse => (), |_r| ();
    ExportDataBatchResponse => types::ExportDataBatch, |r| r.data;
    MarkDataExportedResponse => (), |_r| ();
    DataByOffsetResponse => types::DataByOffsetPage, |r| r.data;
    StartTaskResponse => Option<i32>, |r| r.data;
    StopTaskResponse => (), |_r| ();
    TaskStatusListResponse => Vec<types::TaskStatus>, |r| r.data;
}
