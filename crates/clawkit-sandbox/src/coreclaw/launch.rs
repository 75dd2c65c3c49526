//! Launching a run: register it, schedule its completion, and wait for it in sync mode.

use std::sync::Arc;
use std::time::{Duration, Instant};

use coreclaw_api::enums::StatusCode as Code;
use coreclaw_api::types;

use super::billing::settle;
use super::error::ApiError;
use super::runs::{Run, usd};
use super::state::CoreClaw;
use super::validate::StartRequest;
use crate::kit::clock::unix_now;
use crate::kit::ids::hash_str;

/// How long a synchronous run may hold the request (the guide: up to 5 minutes).
const SYNC_LIMIT: Duration = Duration::from_secs(300);

/// A run just launched.
#[derive(Debug)]
pub(super) struct Launched {
    /// Its slug.
    pub slug: String,
    /// Its record once it ended (or the sync limit passed), when it was started synchronously.
    pub sync: Option<types::RunSummary>,
}

/// Registers a run, schedules its completion, and waits for it when asked to (sync mode).
pub(super) async fn launch(
    cc: &Arc<CoreClaw>,
    request: StartRequest,
) -> Result<Launched, ApiError> {
    let worker = cc
        .worker(&request.worker)
        .ok_or_else(ApiError::no_worker)?
        .clone();
    let slug = cc.ids.next();
    let run = Run::new(
        slug.clone(),
        hash_str(cc.config.seed, &slug),
        &worker,
        request.custom,
        request.system,
        cc.config.run_duration,
        request.callback_url,
        unix_now(),
    );
    let end = run.natural_end();
    {
        let mut inner = cc.lock();
        if inner.account.balance_micros < worker.price_micros.max(1) {
            return Err(ApiError::new(
                Code::InsufficientBalance,
                format!(
                    "Balance is not enough: {} USD",
                    usd(inner.account.balance_micros)
                ),
            ));
        }
        if inner.account.traffic <= 0 {
            return Err(ApiError::new(
                Code::InsufficientTraffic,
                "Account traffic is insufficient. Please purchase a traffic package to enable normal operation.",
            ));
        }
        inner.order.push(slug.clone());
        inner.runs.insert(slug.clone(), run);
    }
    let finisher = cc.clone();
    let finished_slug = slug.clone();
    tokio::spawn(async move {
        tokio::time::sleep_until(end.into()).await;
        settle(&finisher, &finished_slug);
    });
    if request.is_async {
        return Ok(Launched { slug, sync: None });
    }
    let deadline = tokio::time::Instant::now() + SYNC_LIMIT;
    tokio::time::sleep_until(tokio::time::Instant::from_std(end).min(deadline)).await;
    let record = cc
        .lock()
        .runs
        .get(&slug)
        .map(|run| run.record(Instant::now()));
    Ok(Launched { slug, sync: record })
}
