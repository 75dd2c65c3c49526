//! A Worker's live contract from `GET /api/scraper`, and the JSON Schema of its input built from it
//! at run time.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use coreclaw_api::types;
use serde_json::{Map, Value, json};

#[cfg(feature = "rust-types")]
use super::error::Error;

/// The JSON type of a Worker input property.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PropertyType {
    /// `string`
    String,
    /// `integer`
    Integer,
    /// `number`
    Number,
    /// `boolean`
    Boolean,
    /// `array`
    Array,
    /// `object`
    Object,
    /// A type this version of clawkit does not know: any JSON value is accepted for it.
    Other(String),
}

impl PropertyType {
    /// Reads CoreClaw's type name. Unknown names are kept (and reported once through `tracing`).
    pub fn parse(name: &str) -> Self {
        match name.to_ascii_lowercase().as_str() {
            "string" | "text" => PropertyType::String,
            "integer" | "int" => PropertyType::Integer,
            "number" | "float" | "double" => PropertyType::Number,
            "boolean" | "bool" => PropertyType::Boolean,
            "array" | "list" => PropertyType::Array,
            "object" | "json" => PropertyType::Object,
            _ => {
                static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
                let seen = SEEN.get_or_init(|| Mutex::new(HashSet::new()));
                if seen
                    .lock()
                    .map(|mut s| s.insert(name.to_string()))
                    .unwrap_or(false)
                {
                    tracing::warn!(
                        property_type = name,
                        "CoreClaw sent a Worker property type clawkit does not know; any JSON value is accepted for it"
                    );
                }
                PropertyType::Other(name.to_string())
            }
        }
    }

    /// The JSON Schema `type`, or `None` for unknown types.
    pub fn json_type(&self) -> Option<&'static str> {
        Some(match self {
            PropertyType::String => "string",
            PropertyType::Integer => "integer",
            PropertyType::Number => "number",
            PropertyType::Boolean => "boolean",
            PropertyType::Array => "array",
            PropertyType::Object => "object",
            PropertyType::Other(_) => return None,
        })
    }

    /// The name as the service spells it.
    pub fn name(&self) -> &str {
        match self {
            PropertyType::Other(name) => name,
            known => known.json_type().unwrap_or(""),
        }
    }
}

/// One input field of a Worker (`data.parameters.custom.properties[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    /// Key in the input.
    pub name: String,
    /// Value type.
    pub kind: PropertyType,
    /// Label.
    pub title: Option<String>,
    /// Whether it must be present.
    pub required: bool,
    /// Default value.
    pub default: Option<Value>,
    /// Help text.
    pub description: Option<String>,
    /// UI editor hint, e.g. `json` or `requestListSources`.
    pub editor: Option<String>,
    /// Every other field the service sent (bounds, choices, ...), kept as it came.
    pub extra: Map<String, Value>,
}

/// The Worker's default system parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemDefaults {
    /// CPUs.
    pub cpus: f64,
    /// Memory in MB (CoreClaw's `memory`, or `memory_bytes` in its docs: both hold MB).
    pub memory_mb: Option<i64>,
    /// Time limit in seconds.
    pub execute_limit_time_seconds: Option<i64>,
    /// Spend cap in USD (0: none).
    pub max_total_charge: Option<f64>,
    /// Traffic cap in MB (0: none).
    pub max_total_traffic: Option<f64>,
}

/// A Worker as `GET /api/scraper` describes it right now.
#[derive(Debug, Clone, PartialEq)]
pub struct Worker {
    /// Worker id (`scraper_slug`).
    pub slug: String,
    /// The exact version to run (copied into every start request).
    pub version: String,
    /// Markdown readme.
    pub readme: String,
    /// Default system parameters.
    pub system: SystemDefaults,
    /// Input fields.
    pub properties: Vec<Property>,
    /// The Worker's own JSON Schema of its input, when it was read through v2
    /// (`/api/v2/workers/{id}/input-schema`); `None` through v1, whose descriptor is turned into
    /// one by [`Worker::json_schema`].
    pub input_schema: Option<Value>,
}

impl Worker {
    /// Builds a Worker from the typed detail (`data` of `GET /api/scraper`).
    pub fn from_detail(slug: &str, data: types::ScraperDetailData) -> Self {
        let system = data.parameters.system;
        let properties = data
            .parameters
            .custom
            .properties
            .into_iter()
            .map(|p| Property {
                kind: PropertyType::parse(&p.type_),
                name: p.name,
                title: p.title,
                required: p.required.unwrap_or(false),
                default: p.default,
                description: p.description,
                editor: p.editor,
                extra: p.extra,
            })
            .collect();
        Worker {
            slug: slug.to_string(),
            version: data.version,
            readme: data.readme.unwrap_or_default(),
            system: SystemDefaults {
                cpus: system.cpus,
                memory_mb: system.memory.or(system.memory_bytes),
                execute_limit_time_seconds: Some(system.execute_limit_time_seconds),
                max_total_charge: system.max_total_charge,
                max_total_traffic: system.max_total_traffic,
            },
            properties,
            input_schema: None,
        }
    }

    /// A Worker read through v2: its detail and its own input JSON Schema. The properties are
    /// read from the schema (`properties`, `required`, each property's `type`, `title`,
    /// `description`, `default`; every other keyword is kept in `extra`).
    pub fn from_schema(
        id: &str,
        version: String,
        readme: String,
        system: &Map<String, Value>,
        schema: Value,
    ) -> Self {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|props| {
                props
                    .iter()
                    .map(|(name, p)| {
                        let text = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
                        let mut extra = p.as_object().cloned().unwrap_or_default();
                        for k in ["type", "title", "description", "default"] {
                            extra.remove(k);
                        }
                        Property {
                            name: name.clone(),
                            kind: match p.get("type").and_then(Value::as_str) {
                                Some(t) => PropertyType::parse(t),
                                None => PropertyType::Other("any".into()),
                            },
                            title: text("title"),
                            required: required.contains(&name.as_str()),
                            default: p.get("default").cloned(),
                            description: text("description"),
                            editor: text("editor"),
                            extra,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let int = |k: &str| system.get(k).and_then(Value::as_i64);
        let float = |k: &str| system.get(k).and_then(Value::as_f64);
        Worker {
            slug: id.to_string(),
            version,
            readme,
            system: SystemDefaults {
                cpus: float("cpus").unwrap_or(0.125),
                memory_mb: int("memory").or(int("memory_bytes")),
                execute_limit_time_seconds: int("execute_limit_time_seconds"),
                max_total_charge: float("max_total_charge"),
                max_total_traffic: float("max_total_traffic"),
            },
            properties,
            input_schema: Some(schema),
        }
    }

    /// A Rust module of serde types for this Worker's input, generated from its JSON Schema
    /// ([`Worker::json_schema`]) by typify, the generator progenitor uses: one `Input` struct
    /// with a field per property, documented with each property's title and description, with
    /// its defaults, and a type for each nested object. Build a value of it with the compiler
    /// checking every field name, then pass it to [`Worker::input_from`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = clawkit_sandbox::Sandbox::builder().start().await?;
    /// # let base_url = sandbox.base_url(clawkit_sandbox::Vendor::Coreclaw);
    /// let client = clawkit::coreclaw::Client::builder()
    ///     .api_key("sandbox-key")
    ///     .base_url(&base_url)
    ///     .api(clawkit::coreclaw::ApiVersion::V2)
    ///     .build()?;
    /// let worker = client.worker("01KNXSHE0Y7DZKF1N8B1EMFX35").await?;
    /// let module = worker.rust_types()?;
    /// assert!(module.contains("pub struct Input"));
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "rust-types")]
    pub fn rust_types(&self) -> Result<String, Error> {
        let mut schema = self.json_schema().as_value().clone();
        if let Some(root) = schema.as_object_mut() {
            root.remove("$schema");
            root.insert("title".into(), json!("Input"));
            root.insert(
                "description".into(),
                json!(format!(
                    "Input of CoreClaw Worker {} {} (`input.parameters.custom`).",
                    self.slug, self.version
                )),
            );
        }
        let failed = |what: &str, e: String| {
            Error::InvalidArgument(format!(
                "the input schema of Worker {}: {what}: {e}",
                self.slug
            ))
        };
        let root: schemars08::schema::RootSchema = serde_json::from_value(schema)
            .map_err(|e| failed("not a JSON Schema", e.to_string()))?;
        let mut settings = typify::TypeSpaceSettings::default();
        settings.with_struct_builder(false);
        let mut space = typify::TypeSpace::new(&settings);
        space
            .add_root_schema(root)
            .map_err(|e| failed("typify", e.to_string()))?;
        let file: syn::File =
            syn::parse2(space.to_stream()).map_err(|e| failed("generated code", e.to_string()))?;
        Ok(format!(
            "//! Input of CoreClaw Worker {} {}, generated by clawkit from its live schema\n//! (`claw coreclaw worker {} --rust`). Regenerate when the Worker's version changes.\n\n{}",
            self.slug,
            self.version,
            self.slug,
            prettyplease::unparse(&file)
        ))
    }

    /// A property by name.
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// The JSON Schema (2020-12) of the Worker's custom input. Read through v2, it is the
    /// Worker's own schema, as CoreClaw sent it. Read through v1, it is built from the live
    /// properties: types, required fields, defaults, titles as descriptions, and the bounds and
    /// choices the service sends (`minimum`, `maximum`, `enum`, ...); unknown fields are not
    /// allowed.
    pub fn json_schema(&self) -> schemars::Schema {
        if let Some(schema) = &self.input_schema
            && let Ok(schema) = schemars::Schema::try_from(schema.clone())
        {
            return schema;
        }
        let mut properties = Map::new();
        for p in &self.properties {
            let mut s = Map::new();
            if let Some(t) = p.kind.json_type() {
                s.insert("type".into(), json!(t));
            }
            if let Some(title) = &p.title {
                s.insert("title".into(), json!(title));
            }
            let description = match (&p.title, &p.description) {
                (Some(t), Some(d)) => Some(format!("{t}: {d}")),
                (Some(t), None) => Some(t.clone()),
                (None, Some(d)) => Some(d.clone()),
                (None, None) => None,
            };
            if let Some(d) = description {
                s.insert("description".into(), json!(d));
            }
            if let Some(d) = &p.default {
                s.insert("default".into(), d.clone());
            }
            for key in [
                "enum",
                "minimum",
                "maximum",
                "exclusiveMinimum",
                "exclusiveMaximum",
                "minLength",
                "maxLength",
                "pattern",
                "minItems",
                "maxItems",
                "format",
            ] {
                if let Some(v) = p.extra.get(key) {
                    s.insert(key.into(), v.clone());
                }
            }
            properties.insert(p.name.clone(), Value::Object(s));
        }
        let required: Vec<&str> = self
            .properties
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name.as_str())
            .collect();
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": format!("Input of CoreClaw Worker {} {}", self.slug, self.version),
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        });
        schemars::Schema::try_from(schema).unwrap_or_default()
    }

    /// A skeleton input: required fields with their defaults (or an empty value of their type),
    /// optional fields with defaults.
    pub fn example_input(&self) -> Map<String, Value> {
        let mut out = Map::new();
        for p in &self.properties {
            let value = match (&p.default, p.required) {
                (Some(d), _) => d.clone(),
                (None, true) => match p.kind {
                    PropertyType::String => json!(""),
                    PropertyType::Integer | PropertyType::Number => json!(0),
                    PropertyType::Boolean => json!(false),
                    PropertyType::Array => json!([]),
                    PropertyType::Object => json!({}),
                    PropertyType::Other(_) => Value::Null,
                },
                (None, false) => continue,
            };
            out.insert(p.name.clone(), value);
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn amazon() -> Worker {
        let data: types::ScraperDetailData = serde_json::from_value(json!({
            "version": "v1.0.1",
            "parameters": {
                "system": {"cpus": 0.125, "memory_bytes": 512, "execute_limit_time_seconds": 1800},
                "custom": {"properties": [
                    {"name": "urls", "type": "array", "title": "URLs", "required": true},
                    {"name": "max_items", "type": "integer", "title": "Max items", "default": 10, "minimum": 1},
                    {"name": "mode", "type": "string", "enum": ["fast", "full"], "editor": "select", "x-future": 1},
                    {"name": "shape", "type": "polygon"}
                ]}
            }
        }))
        .unwrap();
        Worker::from_detail("01KNXSHE0Y7DZKF1N8B1EMFX35", data)
    }

    #[test]
    fn detail_is_read_with_both_memory_names_and_extra_fields_kept() {
        let w = amazon();
        assert_eq!(w.system.memory_mb, Some(512));
        assert_eq!(w.property("mode").unwrap().extra["x-future"], json!(1));
        assert_eq!(
            w.property("shape").unwrap().kind,
            PropertyType::Other("polygon".into())
        );
    }

    #[test]
    fn json_schema_has_types_required_defaults_and_bounds() {
        let schema = amazon().json_schema();
        let v = schema.as_value();
        assert_eq!(v["required"], json!(["urls"]));
        assert_eq!(v["properties"]["urls"]["type"], "array");
        assert_eq!(v["properties"]["urls"]["description"], "URLs");
        assert_eq!(v["properties"]["max_items"]["default"], 10);
        assert_eq!(v["properties"]["max_items"]["minimum"], 1);
        assert_eq!(v["properties"]["mode"]["enum"], json!(["fast", "full"]));
        assert!(v["properties"]["shape"].get("type").is_none());
        assert_eq!(v["additionalProperties"], false);
    }
}
