//! Start-run validation, as the real service does it: every problem named, 4000 when any.

use serde_json::{Map, Value};

use super::worker::{PropType, Property, Worker};
use crate::kit::read::json_type;

/// Memory sizes (MB) a run may ask for.
pub const MEMORY_SIZES: [i64; 6] = [512, 1024, 2048, 4096, 8192, 16384];

/// The system parameters of a run, after defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct System {
    /// CPUs.
    pub cpus: f64,
    /// Memory in MB.
    pub memory: i64,
    /// Time limit.
    pub execute_limit_time_seconds: i64,
    /// Spend cap in USD (0: none).
    pub max_total_charge: f64,
    /// Traffic cap in MB (0: none).
    pub max_total_traffic: f64,
    /// Proxy region.
    pub proxy_region: String,
}

impl System {
    /// The Worker's defaults, no caps, region US: what task templates and seeded runs use.
    pub fn defaults(worker: &Worker) -> Self {
        System {
            cpus: worker.cpus,
            memory: worker.memory,
            execute_limit_time_seconds: worker.execute_limit_time_seconds,
            max_total_charge: 0.0,
            max_total_traffic: 0.0,
            proxy_region: "US".into(),
        }
    }
}

/// A start-run request that passed validation.
#[derive(Debug, Clone)]
pub struct StartRequest {
    /// The Worker's slug.
    pub worker: String,
    /// `is_async`.
    pub is_async: bool,
    /// System parameters.
    pub system: System,
    /// Custom input with the Worker's defaults applied.
    pub custom: Map<String, Value>,
    /// Webhook for completion.
    pub callback_url: Option<String>,
}

/// Why a start-run request was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// 4000: every problem found.
    Invalid(Vec<String>),
    /// 50001: no such Worker.
    UnknownWorker(String),
}

/// A callback URL: an absolute http(s) URL, or what is wrong with it.
pub fn callback_url(value: &Value) -> Result<String, String> {
    match value.as_str() {
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            Ok(url.to_string())
        }
        Some(url) => Err(format!("expected an absolute http(s) URL, got `{url}`")),
        None => Err(format!("expected string, got {}", json_type(value))),
    }
}

fn number(system: &Map<String, Value>, key: &str, default: f64, problems: &mut Vec<String>) -> f64 {
    match system.get(key) {
        None => default,
        Some(v) => v.as_f64().unwrap_or_else(|| {
            problems.push(format!(
                "input.parameters.system.{key}: expected number, got {}",
                json_type(v)
            ));
            default
        }),
    }
}

fn validate_system(
    worker: &Worker,
    system: &Map<String, Value>,
    problems: &mut Vec<String>,
) -> System {
    let known = [
        "cpus",
        "memory",
        "execute_limit_time_seconds",
        "max_total_charge",
        "max_total_traffic",
        "proxy_region",
    ];
    for key in system.keys() {
        if !known.contains(&key.as_str()) {
            problems.push(format!(
                "input.parameters.system.{key}: unknown field (known: {})",
                known.join(", ")
            ));
        }
    }
    for key in ["cpus", "memory"] {
        if !system.contains_key(key) {
            problems.push(format!(
                "input.parameters.system.{key}: required (start from /api/scraper's data.parameters.system)"
            ));
        }
    }
    let cpus = number(system, "cpus", worker.cpus, problems);
    if cpus <= 0.0 {
        problems.push(format!(
            "input.parameters.system.cpus: must be greater than 0, got {cpus}"
        ));
    }
    let memory = match system.get("memory") {
        None => worker.memory,
        Some(v) => match v.as_i64() {
            Some(m) if MEMORY_SIZES.contains(&m) => m,
            _ => {
                problems.push(format!(
                    "input.parameters.system.memory: expected one of {MEMORY_SIZES:?} (MB), got {v}"
                ));
                worker.memory
            }
        },
    };
    let limit = match system.get("execute_limit_time_seconds") {
        None => worker.execute_limit_time_seconds,
        Some(v) => match v.as_i64() {
            Some(s) if s > 0 => s,
            _ => {
                problems.push(format!(
                    "input.parameters.system.execute_limit_time_seconds: expected a positive integer, got {v}"
                ));
                worker.execute_limit_time_seconds
            }
        },
    };
    let max_total_charge = number(system, "max_total_charge", 0.0, problems);
    let max_total_traffic = number(system, "max_total_traffic", 0.0, problems);
    for (key, value) in [
        ("max_total_charge", max_total_charge),
        ("max_total_traffic", max_total_traffic),
    ] {
        if value < 0.0 {
            problems.push(format!(
                "input.parameters.system.{key}: must be 0 (no limit) or more, got {value}"
            ));
        }
    }
    let proxy_region = match system.get("proxy_region") {
        None => "US".to_string(),
        Some(Value::String(r)) if r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()) => {
            r.clone()
        }
        Some(v) => {
            problems.push(format!(
                "input.parameters.system.proxy_region: expected an ISO 3166-1 alpha-2 code such as US, got {v}"
            ));
            "US".to_string()
        }
    };
    System {
        cpus,
        memory,
        execute_limit_time_seconds: limit,
        max_total_charge,
        max_total_traffic,
        proxy_region,
    }
}

/// Checks the custom input against the Worker's properties and applies defaults.
pub fn validate_custom(
    worker: &Worker,
    custom: &Map<String, Value>,
    problems: &mut Vec<String>,
) -> Map<String, Value> {
    let known: Vec<&str> = worker.properties.iter().map(|p| p.name).collect();
    for key in custom.keys() {
        if worker.property(key).is_none() {
            problems.push(format!(
                "input.parameters.custom.{key}: unknown field for Worker {} (known: {})",
                worker.slug,
                known.join(", ")
            ));
        }
    }
    let mut out = Map::new();
    for prop in &worker.properties {
        let field = format!("input.parameters.custom.{}", prop.name);
        match custom.get(prop.name) {
            None if prop.required => problems.push(format!(
                "{field}: required ({}, \"{}\")",
                prop.kind.name(),
                prop.title
            )),
            None => {
                if let Some(default) = &prop.default {
                    out.insert(prop.name.to_string(), default.clone());
                }
            }
            Some(value) => {
                if !prop.kind.accepts(value) {
                    problems.push(format!(
                        "{field}: expected {}, got {}",
                        prop.kind.name(),
                        json_type(value)
                    ));
                    continue;
                }
                check_bounds(prop, value, &field, problems);
                out.insert(prop.name.to_string(), value.clone());
            }
        }
    }
    out
}

fn check_bounds(prop: &Property, value: &Value, field: &str, problems: &mut Vec<String>) {
    if let (Some(min), Some(v)) = (
        prop.extra.get("minimum").and_then(Value::as_f64),
        value.as_f64(),
    ) && v < min
    {
        problems.push(format!("{field}: must be at least {min}, got {value}"));
    }
    if let (Some(max), Some(v)) = (
        prop.extra.get("maximum").and_then(Value::as_f64),
        value.as_f64(),
    ) && v > max
    {
        problems.push(format!("{field}: must be at most {max}, got {value}"));
    }
    if let Some(Value::Array(choices)) = prop.extra.get("enum")
        && !choices.contains(value)
    {
        problems.push(format!(
            "{field}: expected one of {}, got {value}",
            Value::Array(choices.clone())
        ));
    }
    if prop.kind == PropType::Array
        && let (Some(key), Some(items)) = (prop.item_key, value.as_array())
    {
        if prop.required && items.is_empty() {
            problems.push(format!("{field}: must not be empty"));
        }
        for (i, item) in items.iter().enumerate() {
            if item.get(key).and_then(Value::as_str).is_none() {
                problems.push(format!(
                    "{field}[{i}]: expected an object with a string `{key}`, got {item}"
                ));
            }
        }
    }
}

/// Validates a start-run body against the catalog. `is_run_or_task` tells whether a slug names a
/// run or a saved task (passing one as `scraper_slug` is a validation error, not 50001).
pub fn validate_start(
    workers: &[Worker],
    body: &Map<String, Value>,
    is_run_or_task: impl Fn(&str) -> bool,
) -> Result<StartRequest, Refusal> {
    let mut problems = Vec::new();
    let slug = match body.get("scraper_slug") {
        Some(Value::String(s)) => s.clone(),
        Some(v) if !v.is_string() => {
            return Err(Refusal::Invalid(vec![format!(
                "scraper_slug: expected string, got {}",
                json_type(v)
            )]));
        }
        _ => {
            return Err(Refusal::Invalid(vec![
                "scraper_slug: required (the Worker id from /api/store)".into(),
            ]));
        }
    };
    let Some(worker) = workers.iter().find(|w| w.slug == slug) else {
        if is_run_or_task(&slug) {
            return Err(Refusal::Invalid(vec![format!(
                "scraper_slug: `{slug}` is a run or task slug, not a Worker id"
            )]));
        }
        return Err(Refusal::UnknownWorker(slug));
    };
    match body.get("version") {
        None => problems.push(format!(
            "version: required; copy data.version from /api/scraper (currently {})",
            worker.version
        )),
        Some(Value::String(v)) if v == worker.version => {}
        Some(v) => problems.push(format!(
            "version: {v} does not match the Worker's current version {}; copy data.version from /api/scraper",
            worker.version
        )),
    }
    let is_async = match body.get("is_async") {
        None => {
            problems.push("is_async: required (true or false)".into());
            true
        }
        Some(Value::Bool(b)) => *b,
        Some(v) => {
            problems.push(format!("is_async: expected boolean, got {}", json_type(v)));
            true
        }
    };
    let callback_url = body.get("callback_url").and_then(|v| {
        callback_url(v)
            .map_err(|why| problems.push(format!("callback_url: {why}")))
            .ok()
    });
    let empty = Map::new();
    let parameters = match body.get("input").map(|i| (i, i.get("parameters"))) {
        None => {
            problems.push(
                "input: required ({\"parameters\": {\"system\": {...}, \"custom\": {...}}})".into(),
            );
            None
        }
        Some((_, None)) => {
            problems.push("input.parameters: required".into());
            None
        }
        Some((_, Some(p))) if !p.is_object() => {
            problems.push(format!(
                "input.parameters: expected object, got {}",
                json_type(p)
            ));
            None
        }
        Some((_, Some(p))) => p.as_object(),
    };
    let (system, custom) = match parameters {
        None => (validate_system(worker, &empty, &mut Vec::new()), Map::new()),
        Some(p) => {
            let system = match p.get("system") {
                None => {
                    problems.push("input.parameters.system: required (start from /api/scraper's data.parameters.system)".into());
                    validate_system(worker, &empty, &mut Vec::new())
                }
                Some(Value::Object(s)) => validate_system(worker, s, &mut problems),
                Some(v) => {
                    problems.push(format!(
                        "input.parameters.system: expected object, got {}",
                        json_type(v)
                    ));
                    validate_system(worker, &empty, &mut Vec::new())
                }
            };
            let custom = match p.get("custom") {
                None => {
                    problems.push("input.parameters.custom: required (build it from /api/scraper's data.parameters.custom.properties)".into());
                    Map::new()
                }
                Some(Value::Object(c)) => validate_custom(worker, c, &mut problems),
                Some(v) => {
                    problems.push(format!(
                        "input.parameters.custom: expected object, got {}",
                        json_type(v)
                    ));
                    Map::new()
                }
            };
            (system, custom)
        }
    };
    if !problems.is_empty() {
        return Err(Refusal::Invalid(problems));
    }
    Ok(StartRequest {
        worker: worker.slug.to_string(),
        is_async,
        system,
        custom,
        callback_url,
    })
}

#[cfg(test)]
mod tests {
    use super::super::catalog::{AMAZON_WORKER, workers};
    use super::*;
    use serde_json::json;

    fn guide_body() -> Value {
        json!({
            "scraper_slug": AMAZON_WORKER,
            "version": "v1.0.1",
            "is_async": true,
            "input": {"parameters": {
                "system": {"cpus": 0.125, "memory": 512, "execute_limit_time_seconds": 1800,
                           "max_total_charge": 0, "max_total_traffic": 0, "proxy_region": "US"},
                "custom": {"urls": [{"url": "https://www.amazon.com/dp/B0CHHSFMRL"}]}
            }}
        })
    }

    fn problems(body: Value) -> Vec<String> {
        match validate_start(&workers(), body.as_object().unwrap(), |_| false) {
            Err(Refusal::Invalid(p)) => p,
            other => panic!("expected 4000, got {other:?}"),
        }
    }

    #[test]
    fn the_guide_request_passes() {
        let ok = validate_start(&workers(), guide_body().as_object().unwrap(), |_| false).unwrap();
        assert!(ok.is_async);
        assert_eq!(ok.system.memory, 512);
    }

    #[test]
    fn every_problem_is_named() {
        let mut body = guide_body();
        body["version"] = json!("v9");
        body.as_object_mut().unwrap().remove("is_async");
        body["input"]["parameters"]["system"]["memory"] = json!(300);
        body["input"]["parameters"]["custom"] = json!({"urls": "x", "startURLs": []});
        let p = problems(body).join("\n");
        for needle in [
            "version:",
            "is_async: required",
            "system.memory: expected one of",
            "custom.startURLs: unknown field",
            "custom.urls: expected array, got string",
        ] {
            assert!(p.contains(needle), "{needle} missing in\n{p}");
        }
    }

    #[test]
    fn missing_required_and_unknown_worker() {
        let mut body = guide_body();
        body["input"]["parameters"]["custom"] = json!({});
        assert!(problems(body)[0].contains("custom.urls: required"));
        let mut body = guide_body();
        body["scraper_slug"] = json!("01NOPE");
        assert_eq!(
            validate_start(&workers(), body.as_object().unwrap(), |_| false).unwrap_err(),
            Refusal::UnknownWorker("01NOPE".into())
        );
        assert!(matches!(
            validate_start(&workers(), body.as_object().unwrap(), |_| true),
            Err(Refusal::Invalid(_))
        ));
    }
}
