//! v2's Workers, account and proxy regions: the store and the user's Worker list (one page of
//! the catalog), a Worker's detail and input schema.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use coreclaw_v2_api::types;
use serde_json::{Map, json};

use super::envelope::{Answer, V2Error, ok};
use super::request::{check, window};
use super::wire::summary;
use crate::coreclaw::runs::usd;
use crate::coreclaw::state::CoreClaw;
use crate::coreclaw::validate::System;
use crate::coreclaw::worker::{OWNER, Worker};
use crate::kit::pages::from_offset;

type Shared = State<Arc<CoreClaw>>;
type Params = Query<HashMap<String, String>>;

/// (code, English name, Chinese name).
const REGIONS: [(&str, &str, &str); 8] = [
    ("US", "United States", "美国"),
    ("GB", "United Kingdom", "英国"),
    ("DE", "Germany", "德国"),
    ("FR", "France", "法国"),
    ("JP", "Japan", "日本"),
    ("SG", "Singapore", "新加坡"),
    ("BR", "Brazil", "巴西"),
    ("IN", "India", "印度"),
];

/// The Worker `id` names (its slug, or its path `owner~name`), or 50001.
pub(super) fn worker_of<'a>(cc: &'a CoreClaw, id: &str) -> Result<&'a Worker, V2Error> {
    cc.workers.iter().find(|w| w.is(id)).ok_or_else(|| {
        V2Error::of(
            50001,
            StatusCode::NOT_FOUND,
            format!("worker does not exist: {id} (a Worker slug, or a path owner~name)"),
        )
    })
}

/// The `worker_id` filter as a Worker slug (an unknown id filters everything out).
pub(super) fn worker_filter(cc: &CoreClaw, q: &HashMap<String, String>) -> Option<String> {
    q.get("worker_id").map(|id| {
        cc.workers
            .iter()
            .find(|w| w.is(id))
            .map(|w| w.slug.to_string())
            .unwrap_or_else(|| id.clone())
    })
}

pub(super) async fn proxy_regions(Query(q): Params) -> Answer {
    let zh = q.get("language").is_some_and(|l| l.starts_with("zh"));
    let list = REGIONS
        .iter()
        .map(|(code, en, cn)| types::ProxyRegion {
            code: code.to_string(),
            name: if zh { cn } else { en }.to_string(),
        })
        .collect();
    ok(types::ProxyRegionList { list })
}

pub(super) async fn account(State(cc): Shared) -> Answer {
    let inner = cc.lock();
    ok(types::Account {
        balance: usd(inner.account.balance_micros),
        balance_expiration_at: Some(inner.account.traffic_expiration_at),
    })
}

/// The store, and the user's Worker list (inferred: the sandbox account has every catalog
/// Worker in its list): a page of the Workers whose title, slug or path has the `keyword`.
pub(super) async fn list(State(cc): Shared, Query(q): Params) -> Answer {
    let mut problems = Vec::new();
    let (offset, limit) = window(&q, &mut problems);
    check(problems)?;
    let keyword = q.get("keyword").map(|k| k.trim().to_lowercase());
    let matching: Vec<&Worker> = cc
        .workers
        .iter()
        .filter(|w| {
            keyword.as_deref().is_none_or(|k| {
                w.title.to_lowercase().contains(k)
                    || w.slug.to_lowercase().contains(k)
                    || w.path().contains(k)
            })
        })
        .collect();
    let scraper = from_offset(matching, offset, limit)
        .into_iter()
        .map(summary)
        .collect();
    ok(types::WorkerList { scraper })
}

pub(super) async fn worker(State(cc): Shared, Path(id): Path<String>) -> Answer {
    let w = worker_of(&cc, &id)?;
    let system = System::defaults(w);
    let mut defaults = Map::new();
    defaults.insert("cpus".into(), json!(system.cpus));
    defaults.insert("memory".into(), json!(system.memory));
    defaults.insert(
        "execute_limit_time_seconds".into(),
        json!(system.execute_limit_time_seconds),
    );
    defaults.insert("proxy_region".into(), json!(system.proxy_region));
    ok(types::WorkerDetail {
        name: w.name(),
        username: OWNER.to_string(),
        version: w.version.to_string(),
        readme: Some(w.readme.to_string()),
        parameters: types::WorkerDetailParameters {
            custom: w.input_schema(),
            system: defaults,
        },
    })
}

pub(super) async fn input_schema(State(cc): Shared, Path(id): Path<String>) -> Answer {
    let w = worker_of(&cc, &id)?;
    ok(types::WorkerInputSchema {
        input_schema: w.input_schema(),
    })
}
