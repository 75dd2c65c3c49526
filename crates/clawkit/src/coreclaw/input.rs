//! Building a Worker's input, checked against its live schema before anything is sent.
//!
//! CoreClaw's most common failure is 4000 from a hand-guessed input. The builder makes that
//! impossible to send by accident: `build()` applies the Worker's defaults, pins its exact
//! version, and validates against [`Worker::json_schema`], naming every problem at once, with the
//! closest known field names for unknown ones.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::error::{Error, InputErrors, InputProblem};
use super::worker::Worker;

/// Memory sizes (MB) CoreClaw accepts.
const MEMORY_SIZES: [i64; 6] = [512, 1024, 2048, 4096, 8192, 16384];

/// The system parameters of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct System {
    /// CPUs.
    pub cpus: f64,
    /// Memory in MB (sent as `memory`).
    pub memory: i64,
    /// Time limit in seconds.
    pub execute_limit_time_seconds: i64,
    /// Spend cap in USD (0: no limit).
    pub max_total_charge: f64,
    /// Traffic cap in MB (0: no limit).
    pub max_total_traffic: f64,
    /// Proxy region, ISO 3166-1 alpha-2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_region: Option<String>,
}

/// A validated input for one Worker version: what `Client::start` sends.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// The Worker.
    pub scraper_slug: String,
    /// Its exact version.
    pub version: String,
    /// System parameters.
    pub system: System,
    /// Custom input, defaults applied.
    pub custom: Map<String, Value>,
}

impl Input {
    /// The `input` object of a start-run request.
    pub fn to_json(&self) -> Value {
        json!({"parameters": {"system": self.system, "custom": self.custom}})
    }
}

/// The JSON type name of a value.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Known names closest to `name`, best first (at most three).
fn suggestions<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let lower = name.to_lowercase();
    let mut scored: Vec<(f64, &str)> = known
        .into_iter()
        .map(|k| {
            let kl = k.to_lowercase();
            let mut score = strsim::jaro_winkler(&lower, &kl);
            if kl.contains(&lower) || lower.contains(&kl) {
                score = score.max(0.85);
            }
            (score, k)
        })
        .filter(|(s, _)| *s >= 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(3)
        .map(|(_, k)| k.to_string())
        .collect()
}

/// Builds a Worker's input: see the module docs.
#[derive(Debug, Clone)]
pub struct InputBuilder<'w> {
    worker: &'w Worker,
    custom: Map<String, Value>,
    system: Map<String, Value>,
    problems: Vec<InputProblem>,
}

const SYSTEM_KEYS: [&str; 6] = [
    "cpus",
    "memory",
    "execute_limit_time_seconds",
    "max_total_charge",
    "max_total_traffic",
    "proxy_region",
];

impl<'w> InputBuilder<'w> {
    pub(crate) fn new(worker: &'w Worker) -> Self {
        Self {
            worker,
            custom: Map::new(),
            system: Map::new(),
            problems: Vec::new(),
        }
    }

    /// Sets one custom field. The value is anything serializable.
    pub fn set(mut self, name: &str, value: impl Serialize) -> Self {
        match serde_json::to_value(value) {
            Ok(v) => {
                self.custom.insert(name.to_string(), v);
            }
            Err(e) => self.problems.push(InputProblem::Invalid {
                name: name.to_string(),
                message: format!("cannot be serialized: {e}"),
            }),
        }
        self
    }

    /// Sets every field of a serializable object (a struct or a JSON object).
    pub fn set_all(mut self, value: impl Serialize) -> Self {
        match serde_json::to_value(value) {
            Ok(Value::Object(map)) => self.custom.extend(map),
            Ok(other) => self.problems.push(InputProblem::Invalid {
                name: "input".into(),
                message: format!("expected an object of fields, got {}", type_name(&other)),
            }),
            Err(e) => self.problems.push(InputProblem::Invalid {
                name: "input".into(),
                message: format!("cannot be serialized: {e}"),
            }),
        }
        self
    }

    /// Sets one system parameter by name: `cpus`, `memory` (MB), `execute_limit_time_seconds`,
    /// `max_total_charge` (USD), `max_total_traffic` (MB) or `proxy_region`.
    pub fn set_system(mut self, name: &str, value: impl Serialize) -> Self {
        let name = if name == "memory_bytes" || name == "memory_mb" {
            "memory"
        } else {
            name
        };
        if !SYSTEM_KEYS.contains(&name) {
            self.problems.push(InputProblem::UnknownField {
                name: format!("system.{name}"),
                suggestions: suggestions(name, SYSTEM_KEYS)
                    .into_iter()
                    .map(|s| format!("system.{s}"))
                    .collect(),
            });
            return self;
        }
        match serde_json::to_value(value) {
            Ok(v) => {
                self.system.insert(name.to_string(), v);
            }
            Err(e) => self.problems.push(InputProblem::Invalid {
                name: format!("system.{name}"),
                message: format!("cannot be serialized: {e}"),
            }),
        }
        self
    }

    /// CPUs for the run.
    pub fn cpus(self, cpus: f64) -> Self {
        self.set_system("cpus", cpus)
    }

    /// Memory for the run in MB (512, 1024, 2048, 4096, 8192 or 16384).
    pub fn memory_mb(self, mb: i64) -> Self {
        self.set_system("memory", mb)
    }

    /// Time limit in seconds.
    pub fn execute_limit_time_seconds(self, seconds: i64) -> Self {
        self.set_system("execute_limit_time_seconds", seconds)
    }

    /// Spend cap in USD (0: no limit).
    pub fn max_total_charge(self, usd: f64) -> Self {
        self.set_system("max_total_charge", usd)
    }

    /// Traffic cap in MB (0: no limit).
    pub fn max_total_traffic(self, mb: f64) -> Self {
        self.set_system("max_total_traffic", mb)
    }

    /// Proxy region, ISO 3166-1 alpha-2 (`US`, `DE`, ...).
    pub fn proxy_region(self, region: &str) -> Self {
        self.set_system("proxy_region", region)
    }

    fn system(&self, problems: &mut Vec<InputProblem>) -> System {
        let d = &self.worker.system;
        let number = |key: &str, default: f64, problems: &mut Vec<InputProblem>| match self
            .system
            .get(key)
        {
            None => default,
            Some(v) => v.as_f64().unwrap_or_else(|| {
                problems.push(InputProblem::WrongType {
                    name: format!("system.{key}"),
                    expected: "number".into(),
                    got: type_name(v).into(),
                });
                default
            }),
        };
        let integer = |key: &str, default: i64, problems: &mut Vec<InputProblem>| match self
            .system
            .get(key)
        {
            None => default,
            Some(v) => v.as_i64().unwrap_or_else(|| {
                problems.push(InputProblem::WrongType {
                    name: format!("system.{key}"),
                    expected: "integer".into(),
                    got: type_name(v).into(),
                });
                default
            }),
        };
        let cpus = number("cpus", d.cpus, problems);
        if !(cpus > 0.0 && cpus.is_finite()) {
            problems.push(InputProblem::Invalid {
                name: "system.cpus".into(),
                message: format!("must be more than 0, got {cpus}"),
            });
        }
        let memory = integer("memory", d.memory_mb.unwrap_or(512), problems);
        if !MEMORY_SIZES.contains(&memory) {
            problems.push(InputProblem::Invalid {
                name: "system.memory".into(),
                message: format!("must be one of {MEMORY_SIZES:?} (MB), got {memory}"),
            });
        }
        let limit = integer(
            "execute_limit_time_seconds",
            d.execute_limit_time_seconds.unwrap_or(1800),
            problems,
        );
        if limit <= 0 {
            problems.push(InputProblem::Invalid {
                name: "system.execute_limit_time_seconds".into(),
                message: format!("must be more than 0, got {limit}"),
            });
        }
        let mut caps = [0.0; 2];
        for (i, (key, default)) in [
            ("max_total_charge", d.max_total_charge),
            ("max_total_traffic", d.max_total_traffic),
        ]
        .into_iter()
        .enumerate()
        {
            caps[i] = number(key, default.unwrap_or(0.0), problems);
            if !(caps[i] >= 0.0 && caps[i].is_finite()) {
                problems.push(InputProblem::Invalid {
                    name: format!("system.{key}"),
                    message: format!("must be 0 (no limit) or more, got {}", caps[i]),
                });
            }
        }
        let proxy_region = match self.system.get("proxy_region") {
            None => None,
            Some(Value::String(r)) if r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()) => {
                Some(r.clone())
            }
            Some(v) => {
                problems.push(InputProblem::Invalid {
                    name: "system.proxy_region".into(),
                    message: format!(
                        "expected a two-letter upper-case country code such as US, got {v}"
                    ),
                });
                None
            }
        };
        System {
            cpus,
            memory,
            execute_limit_time_seconds: limit,
            max_total_charge: caps[0],
            max_total_traffic: caps[1],
            proxy_region,
        }
    }

    /// Applies defaults, pins the Worker's exact version and validates everything, reporting
    /// every problem at once.
    pub fn build(self) -> Result<Input, Error> {
        let mut problems = self.problems.clone();
        let system = self.system(&mut problems);
        let mut custom = self.custom.clone();
        for p in &self.worker.properties {
            if !custom.contains_key(&p.name)
                && let Some(d) = &p.default
            {
                custom.insert(p.name.clone(), d.clone());
            }
        }
        problems.extend(validate_custom(self.worker, &custom));
        if !problems.is_empty() {
            return Err(InputErrors {
                worker: self.worker.slug.clone(),
                version: self.worker.version.clone(),
                problems,
            }
            .into());
        }
        Ok(Input {
            scraper_slug: self.worker.slug.clone(),
            version: self.worker.version.clone(),
            system,
            custom,
        })
    }
}

/// Validates a custom input against the Worker's JSON Schema.
fn validate_custom(worker: &Worker, custom: &Map<String, Value>) -> Vec<InputProblem> {
    let schema = worker.json_schema();
    let validator = match jsonschema::options().build(schema.as_value()) {
        Ok(v) => v,
        Err(e) => {
            return vec![InputProblem::Invalid {
                name: "schema".into(),
                message: format!("the Worker's schema cannot be used for validation: {e}"),
            }];
        }
    };
    let instance = Value::Object(custom.clone());
    let known: Vec<&str> = worker.properties.iter().map(|p| p.name.as_str()).collect();
    let mut problems = Vec::new();
    for error in validator.iter_errors(&instance) {
        let path = error.instance_path().to_string();
        let name = path.trim_start_matches('/').replace('/', ".");
        match error.kind() {
            jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                for field in unexpected {
                    problems.push(InputProblem::UnknownField {
                        name: field.clone(),
                        suggestions: suggestions(field, known.iter().copied()),
                    });
                }
            }
            jsonschema::error::ValidationErrorKind::Required { property } => {
                problems.push(InputProblem::MissingRequired {
                    name: property
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| property.to_string()),
                });
            }
            jsonschema::error::ValidationErrorKind::Type { .. } => {
                let declared = worker
                    .property(name.split('.').next().unwrap_or(""))
                    .and_then(|p| p.kind.json_type())
                    .unwrap_or("another type");
                problems.push(InputProblem::WrongType {
                    name: name.clone(),
                    expected: if name.contains('.') {
                        error.to_string()
                    } else {
                        declared.to_string()
                    },
                    got: type_name(error.instance()).to_string(),
                });
            }
            _ => problems.push(InputProblem::Invalid {
                name: if name.is_empty() {
                    "input".into()
                } else {
                    name
                },
                message: error.to_string(),
            }),
        }
    }
    problems
}

impl Worker {
    /// A builder for this Worker's input, starting from its defaults.
    pub fn input(&self) -> InputBuilder<'_> {
        InputBuilder::new(self)
    }

    /// Validates any serializable value (a user's typed struct, a `serde_json::Value`) as the
    /// Worker's custom input, the same way as [`InputBuilder::build`].
    pub fn input_from<T: serde::Serialize>(&self, value: &T) -> Result<Input, Error> {
        self.input().set_all(value).build()
    }
}

#[cfg(test)]
mod tests {
    use super::super::worker::tests::amazon;
    use super::*;

    #[test]
    fn defaults_version_and_system_are_applied() {
        let w = amazon();
        let input = w
            .input()
            .set(
                "urls",
                json!([{"url": "https://www.amazon.com/dp/B0CHHSFMRL"}]),
            )
            .build()
            .unwrap();
        assert_eq!(input.version, "v1.0.1");
        assert_eq!(input.custom["max_items"], 10);
        assert_eq!(input.system.memory, 512);
        assert_eq!(input.system.execute_limit_time_seconds, 1800);
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let w = amazon();
        let err = w
            .input()
            .set("startURLs", json!([]))
            .set("max_items", "ten")
            .set("mode", "slow")
            .memory_mb(768)
            .set_system("cpu", 1)
            .build()
            .unwrap_err();
        let Error::Flow(super::super::error::Flow::InvalidInput(errors)) = err else {
            panic!("expected InvalidInput")
        };
        let text = errors.to_string();
        for needle in [
            "`startURLs`: unknown field; did you mean `urls`?",
            "`max_items`: expected integer, got string",
            "`urls`: required field is missing",
            "`mode`",
            "`system.memory`",
            "`system.cpu`: unknown field; did you mean `system.cpus`?",
        ] {
            assert!(text.contains(needle), "`{needle}` missing from: {text}");
        }
    }

    #[test]
    fn input_from_a_typed_struct() {
        #[derive(Serialize)]
        struct Url {
            url: String,
        }
        #[derive(Serialize)]
        struct AmazonInput {
            urls: Vec<Url>,
            max_items: u32,
        }
        let w = amazon();
        let ok = w
            .input_from(&AmazonInput {
                urls: vec![Url {
                    url: "https://a".into(),
                }],
                max_items: 3,
            })
            .unwrap();
        assert_eq!(ok.custom["max_items"], 3);
        assert!(w.input_from(&json!(["not", "an", "object"])).is_err());
    }

    #[test]
    fn suggestions_find_close_names() {
        assert_eq!(suggestions("URL", ["urls", "mode"]), ["urls"]);
        assert_eq!(suggestions("zzz", ["urls", "mode"]), Vec::<String>::new());
    }
}
