//! v1's public catalog: the store search and a Worker's detail with its live input descriptor.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use coreclaw_api::enums::StatusCode as Code;
use coreclaw_api::types;
use serde_json::Value;

use super::envelope::ok;
use crate::coreclaw::error::ApiError;
use crate::coreclaw::state::CoreClaw;
use crate::kit::read::positive_integer;

type Shared = State<Arc<CoreClaw>>;
type Answer = Result<Response, ApiError>;

pub(super) async fn store(
    State(cc): Shared,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let mut problems = Vec::new();
    let search = match query.get("search").map(|s| s.trim()) {
        Some(s) if !s.is_empty() => s.to_lowercase(),
        Some(_) => {
            problems.push("search: must not be empty".to_string());
            String::new()
        }
        None => {
            problems.push("search: required".to_string());
            String::new()
        }
    };
    let limit = match query.get("limit") {
        None => 10,
        // An integer too large for u64 is still a valid limit: everything.
        Some(l) => match positive_integer(l) {
            Some(n) => n,
            None => {
                problems.push(format!(
                    "limit: expected an integer of at least 1, got `{l}`"
                ));
                10
            }
        },
    };
    if !problems.is_empty() {
        return Err(ApiError::invalid(&problems));
    }
    let scraper: Vec<types::ScraperStoreItem> = cc
        .workers
        .iter()
        .filter(|w| {
            w.title.to_lowercase().contains(&search)
                || w.description.to_lowercase().contains(&search)
                || w.slug.to_lowercase() == search
        })
        .take(limit.min(usize::MAX as u64) as usize)
        .map(|w| types::ScraperStoreItem {
            slug: w.slug.to_string(),
            title: w.title.to_string(),
            description: w.description.to_string(),
        })
        .collect();
    Ok(ok(types::StoreSearchData { scraper }))
}

pub(super) async fn scraper(
    State(cc): Shared,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let slug = match query.get("slug") {
        Some(s) if !s.is_empty() => s,
        _ => return Err(ApiError::invalid(&["slug: required".to_string()])),
    };
    let worker = cc.worker(slug).ok_or_else(|| {
        ApiError::new(
            Code::WorkerNotFound,
            format!("Script does not exist: {slug}"),
        )
    })?;
    let data = types::ScraperDetailData {
        version: worker.version.to_string(),
        readme: Some(worker.readme.to_string()),
        parameters: types::ScraperParameters {
            system: types::ScraperSystemDefaults {
                cpus: worker.cpus,
                memory: Some(worker.memory),
                memory_bytes: None,
                max_total_charge: Some(0.0),
                max_total_traffic: Some(0.0),
                execute_limit_time_seconds: worker.execute_limit_time_seconds,
            },
            custom: types::CustomParameterDescriptor {
                properties: Vec::new(),
                description: Some(
                    "Live custom parameter descriptor: build input.parameters.custom from properties[].name."
                        .into(),
                ),
            },
        },
    };
    // The typed descriptor has no room for the extra fields a property may carry (bounds,
    // choices): those are added as the service sends them.
    let mut data = serde_json::to_value(data).unwrap_or_default();
    data["parameters"]["custom"]["properties"] =
        Value::Array(worker.properties.iter().map(|p| p.to_json()).collect());
    Ok(ok(data))
}
