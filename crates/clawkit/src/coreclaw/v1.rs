//! CoreClaw's v1 API (`/api/store`, `/api/scraper`, `/api/v1/...`, the `api-key` header): the
//! guide's API, one implementation of [`Api`].

use std::num::NonZeroU64;

use clawkit_runtime::paging::Throttle;
use clawkit_runtime::{Fetched, Paged, Runtime, Safety};
use coreclaw_api::types;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::call::Calls;

use super::api::{Api, Call, StartRequest};
use super::envelope::Envelope;
use super::error::{Error, Reason, refusal};
use super::model::{
    Account, ApiVersion, ExportFormat, LogEntry, MAX_HISTORY_PAGE, RunLog, RunRecord, RunStatus,
    StoreItem, SyncPage,
};
use super::worker::Worker;

/// The largest result page.
pub(crate) const MAX_PAGE: u32 = 1000;

/// The v1 API: its generated client, the same with the synchronous-run timeout, and the runtime
/// (the `api-key` header, retries, limits).
#[derive(Debug, Clone)]
pub(crate) struct V1 {
    pub(crate) api: coreclaw_api::Client,
    pub(crate) long: coreclaw_api::Client,
    pub(crate) runtime: Runtime,
}

// v1's calls read CoreClaw's envelope; error bodies are its `ApiError`.
crate::call::calls!(V1: Reason, coreclaw_api::Client, types::ApiError, Envelope, refusal);

fn at_least_one(n: u64) -> NonZeroU64 {
    NonZeroU64::new(n).unwrap_or(NonZeroU64::MIN)
}

fn slug_body(slug: &str) -> types::RunSlugRequest {
    types::RunSlugRequest {
        run_slug: slug.to_string(),
    }
}

impl Api for V1 {
    fn version(&self) -> ApiVersion {
        ApiVersion::V1
    }

    fn throttle(&self) -> Throttle {
        self.runtime.throttle()
    }

    fn search<'a>(&'a self, query: &'a str, limit: u64) -> Call<'a, Vec<StoreItem>> {
        Box::pin(async move {
            let limit = at_least_one(limit);
            let data: types::StoreSearchData = self
                .call("searching the store", Safety::Idempotent, |api| {
                    api.search_store().search(query).limit(limit).send()
                })
                .await?;
            Ok(data
                .scraper
                .into_iter()
                .map(|s| StoreItem {
                    slug: s.slug,
                    title: s.title,
                    description: s.description,
                })
                .collect())
        })
    }

    fn worker<'a>(&'a self, slug: &'a str) -> Call<'a, Worker> {
        Box::pin(async move {
            let data = self
                .call("reading the Worker", Safety::Idempotent, |api| {
                    api.get_scraper().slug(slug).send()
                })
                .await?;
            Ok(Worker::from_detail(slug, data))
        })
    }

    fn account(&self) -> Call<'_, Account> {
        Box::pin(async move {
            let data: types::AccountInfoData = self
                .call("reading the account", Safety::Idempotent, |api| {
                    api.get_account_info()
                        .body(types::GetAccountInfoBody::default())
                        .send()
                })
                .await?;
            let balance = data
                .balance
                .trim()
                .parse::<Decimal>()
                .map_err(|e| Error::Decode {
                    path: "data.balance".into(),
                    message: format!("`{}` is not a decimal: {e}", data.balance),
                })?;
            let traffic_bytes = match &data.traffic {
                types::AccountInfoDataTraffic::Integer(n) => u64::try_from(*n).unwrap_or(0),
                types::AccountInfoDataTraffic::String(s) => {
                    s.parse::<u64>().map_err(|e| Error::Decode {
                        path: "data.traffic".into(),
                        message: format!("`{}` is not a byte count: {e}", s.as_str()),
                    })?
                }
            };
            Ok(Account {
                balance,
                traffic_bytes: Some(traffic_bytes),
                traffic_expires_at: data.traffic_expiration_at.or(data.traffic_expires_at),
                balance_expires_at: None,
            })
        })
    }

    fn start<'a>(&'a self, start: StartRequest<'a>) -> Call<'a, (String, Option<SyncPage>)> {
        Box::pin(async move {
            let body: types::StartScraperRunRequest = serde_json::from_value(serde_json::json!({
                "scraper_slug": start.input.scraper_slug,
                "version": start.input.version,
                "is_async": start.is_async,
                "input": start.input.to_json(),
                "callback_url": start.callback_url,
            }))
            .map_err(|e| {
                Error::InvalidArgument(format!(
                    "input: the start request does not fit the spec: {e}"
                ))
            })?;
            let api = if start.is_async {
                &self.api
            } else {
                &self.long
            };
            let data: types::RunStartData = self
                .call("starting a run", Safety::Creates, |_| {
                    api.start_run().body(body.clone()).send()
                })
                .await?;
            // An asynchronous answer has neither; a synchronous one has both.
            let page = (!data.list.is_empty() || data.count.is_some()).then(|| SyncPage {
                items: data.list.into_iter().map(|r| r.0).collect(),
                total: data.count.and_then(|c| u64::try_from(c).ok()),
            });
            Ok((data.run_slug, page))
        })
    }

    fn detail<'a>(&'a self, run: &'a str) -> Call<'a, RunRecord> {
        Box::pin(async move {
            let data = self
                .call("reading the run", Safety::Idempotent, |api| {
                    api.get_run().body(slug_body(run)).send()
                })
                .await?;
            Ok(RunRecord::from(data))
        })
    }

    fn abort<'a>(&'a self, run: &'a str) -> Call<'a, ()> {
        // Not retried after a broken connection: the abort may have happened. A rate limit is.
        Box::pin(self.call("aborting the run", Safety::Creates, move |api| {
            api.abort_run().body(slug_body(run)).send()
        }))
    }

    fn rerun<'a>(&'a self, run: &'a str, callback_url: &'a str) -> Call<'a, String> {
        Box::pin(async move {
            let body = types::RerunRequest {
                run_slug: run.to_string(),
                callback_url: callback_url.to_string(),
            };
            let data: types::RunSlugData = self
                .call("rerunning", Safety::Creates, |api| {
                    api.rerun().body(body.clone()).send()
                })
                .await?;
            Ok(data.run_slug)
        })
    }

    fn run_task<'a>(&'a self, task: &'a str, callback_url: &'a str) -> Call<'a, String> {
        Box::pin(async move {
            let body = types::TaskRunRequest {
                task_slug: task.to_string(),
                callback_url: callback_url.to_string(),
            };
            let data: types::RunSlugData = self
                .call("running the task", Safety::Creates, |api| {
                    api.run_task().body(body.clone()).send()
                })
                .await?;
            Ok(data.run_slug)
        })
    }

    fn log<'a>(&'a self, run: &'a str) -> Call<'a, RunLog> {
        Box::pin(async move {
            let data: types::RunLogsData = self
                .call("reading the log", Safety::Idempotent, |api| {
                    api.get_run_log().body(slug_body(run)).send()
                })
                .await?;
            Ok(RunLog {
                entries: data
                    .list
                    .into_iter()
                    .map(|e| LogEntry {
                        level: e.type_,
                        group: e.group,
                        content: e.content,
                        timestamp: e.timestamp,
                    })
                    .collect(),
                all_logs_url: data.all_logs_url,
                result_count: u64::try_from(data.result_count).unwrap_or(0),
            })
        })
    }

    fn max_page(&self) -> u32 {
        MAX_PAGE
    }

    fn results<'a>(
        &'a self,
        run: &'a str,
        page: u64,
        size: u32,
    ) -> Call<'a, Fetched<Map<String, Value>, ()>> {
        Box::pin(async move {
            let body = types::RunResultListRequest {
                run_slug: run.to_string(),
                page_index: at_least_one(page),
                page_size: at_least_one(u64::from(size)),
            };
            let data: types::RunResultListData = self
                .call("reading a result page", Safety::Idempotent, |api| {
                    api.list_run_results().body(body.clone()).send()
                })
                .await?;
            Ok(Fetched {
                items: data.list.into_iter().map(|record| record.0).collect(),
                next: (),
                total: u64::try_from(data.count).ok(),
            })
        })
    }

    fn export_url<'a>(
        &'a self,
        run: &'a str,
        format: ExportFormat,
        keys: &'a [&'a str],
    ) -> Call<'a, String> {
        Box::pin(async move {
            let body = types::RunResultExportRequest {
                run_slug: run.to_string(),
                format: match format {
                    ExportFormat::Csv => types::RunResultExportRequestFormat::Csv,
                    ExportFormat::Json => types::RunResultExportRequestFormat::Json,
                },
                filter_keys: keys.iter().map(|k| k.to_string()).collect(),
            };
            let data: types::RunResultExportData = self
                .call("requesting an export", Safety::Idempotent, |api| {
                    api.export_run_results().body(body.clone()).send()
                })
                .await?;
            Ok(data.download_url)
        })
    }

    fn runs(
        &self,
        worker: Option<&str>,
        status: Option<RunStatus>,
    ) -> Paged<RunRecord, Error, u64> {
        let v1 = self.clone();
        let worker = worker.map(str::to_string);
        let status = types::RunListRequestStatus::try_from(status.map(|s| s.code()).unwrap_or(0))
            .map_err(|e| e.to_string());
        Paged::numbered("page_size", MAX_HISTORY_PAGE, move |page, size| {
            let v1 = v1.clone();
            let body = status.clone().map(|status| types::RunListRequest {
                page: None,
                page_index: at_least_one(page),
                page_size: at_least_one(u64::from(size)),
                scraper_slug: worker.clone(),
                status: Some(status),
            });
            async move {
                let body = body.map_err(|e| Error::InvalidArgument(format!("status: {e}")))?;
                let data: types::RunListData = v1
                    .call("listing runs", Safety::Idempotent, |api| {
                        api.list_runs().body(body.clone()).send()
                    })
                    .await?;
                Ok(Fetched {
                    items: data.list.into_iter().map(RunRecord::from).collect(),
                    next: (),
                    total: u64::try_from(data.count).ok(),
                })
            }
        })
        .throttle(self.runtime.throttle())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::undocumented;
    use clawkit_runtime::reply::Head;

    fn head(status: u16) -> Head {
        Head {
            status,
            headers: Default::default(),
        }
    }

    fn read(status: u16, bytes: &[u8]) -> Error {
        undocumented::<V1, types::RunSlugResponse>(&head(status), bytes)
    }

    #[test]
    fn undocumented_bodies_become_the_right_error() {
        let limited = read(200, br#"{"code":4290,"message":"slow down","data":null}"#);
        assert_eq!(limited.reason(), Some(Reason::RateLimited), "{limited:?}");
        let cut = read(200, br#"{"code":0,"message":"succ"#);
        assert!(
            matches!(cut, Error::Transport(_)) && cut.is_retryable(),
            "{cut:?}"
        );
        let wrong = read(200, br#"{"code":0,"data":{"run_slug":7}}"#);
        match wrong {
            Error::Decode { path, .. } => assert_eq!(path, "data.run_slug"),
            other => panic!("{other:?}"),
        }
        let page = read(502, b"<html>bad gateway</html>");
        assert!(
            matches!(page, Error::Transport(_)) && page.is_retryable(),
            "{page:?}"
        );
    }
}
