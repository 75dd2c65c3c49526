//! A Worker: its input properties (what `/api/scraper` and v2's input schema describe, what a run
//! is checked against) and the result items it makes. Items are made on demand from the run's
//! seed and the item's index, so a run of ten million items costs no memory.
//!
//! Any string anywhere in a run's custom input that contains [`FAIL_MARKER`] makes the run fail
//! halfway, like a real navigation timeout.

use serde_json::{Map, Value, json};

use crate::kit::ids::{mix, unit};

/// Put this in any string input to make the run fail (status 4) halfway.
pub const FAIL_MARKER: &str = "sandbox:fail";

/// The largest item count the load-generator Worker accepts.
pub const MAX_LOAD_ITEMS: u64 = 10_000_000;

/// The JSON type of a Worker input property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropType {
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
}

impl PropType {
    /// The name CoreClaw uses.
    pub fn name(self) -> &'static str {
        match self {
            PropType::String => "string",
            PropType::Integer => "integer",
            PropType::Number => "number",
            PropType::Boolean => "boolean",
            PropType::Array => "array",
            PropType::Object => "object",
        }
    }

    /// Whether `value` has this type (an integer is also a number).
    pub fn accepts(self, value: &Value) -> bool {
        match self {
            PropType::String => value.is_string(),
            PropType::Integer => value.is_i64() || value.is_u64(),
            PropType::Number => value.is_number(),
            PropType::Boolean => value.is_boolean(),
            PropType::Array => value.is_array(),
            PropType::Object => value.is_object(),
        }
    }
}

/// One input property of a Worker, as `/api/scraper` describes it.
#[derive(Debug, Clone)]
pub struct Property {
    /// Key in `input.parameters.custom`.
    pub name: &'static str,
    /// Value type.
    pub kind: PropType,
    /// Label.
    pub title: &'static str,
    /// Whether it must be present.
    pub required: bool,
    /// Default value.
    pub default: Option<Value>,
    /// Help text.
    pub description: &'static str,
    /// UI editor hint.
    pub editor: Option<&'static str>,
    /// Further fields the service sends (bounds, choices), kept as they are.
    pub extra: Map<String, Value>,
    /// For arrays of objects: a key every item must carry as a string (checked, not published).
    pub item_key: Option<&'static str>,
}

impl Property {
    pub(super) fn new(name: &'static str, kind: PropType, title: &'static str) -> Self {
        Self {
            name,
            kind,
            title,
            required: false,
            default: None,
            description: "",
            editor: None,
            extra: Map::new(),
            item_key: None,
        }
    }

    pub(super) fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub(super) fn default(mut self, value: Value) -> Self {
        self.default = Some(value);
        self
    }

    pub(super) fn describe(mut self, text: &'static str) -> Self {
        self.description = text;
        self
    }

    pub(super) fn editor(mut self, editor: &'static str) -> Self {
        self.editor = Some(editor);
        self
    }

    pub(super) fn extra(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_string(), value);
        self
    }

    pub(super) fn items_with(mut self, key: &'static str) -> Self {
        self.item_key = Some(key);
        self
    }

    /// The property as `/api/scraper` sends it.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("name".into(), json!(self.name));
        out.insert("type".into(), json!(self.kind.name()));
        out.insert("title".into(), json!(self.title));
        out.insert("required".into(), json!(self.required));
        if let Some(d) = &self.default {
            out.insert("default".into(), d.clone());
        }
        if !self.description.is_empty() {
            out.insert("description".into(), json!(self.description));
        }
        if let Some(e) = self.editor {
            out.insert("editor".into(), json!(e));
        }
        for (k, v) in &self.extra {
            out.insert(k.clone(), v.clone());
        }
        Value::Object(out)
    }
}

/// How a Worker's results are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// One product per URL.
    Amazon,
    /// `max_results` places for a keyword.
    Places,
    /// `max_articles` per start URL.
    News,
    /// One item per post of a profile.
    Profile,
    /// `count` synthetic items, made lazily: the load-test Worker.
    Load,
    /// One page as text.
    PageText,
    /// `max_pages` pages per start URL.
    Crawl,
}

/// A Worker of the catalog.
#[derive(Debug, Clone)]
pub struct Worker {
    /// Worker id (`scraper_slug`).
    pub slug: &'static str,
    /// Store title.
    pub title: &'static str,
    /// Store description.
    pub description: &'static str,
    /// The only version that can be run.
    pub version: &'static str,
    /// Markdown readme.
    pub readme: &'static str,
    /// Default CPUs.
    pub cpus: f64,
    /// Default memory in MB.
    pub memory: i64,
    /// Default time limit.
    pub execute_limit_time_seconds: i64,
    /// Input properties.
    pub properties: Vec<Property>,
    /// Result columns: (key, label, format).
    pub headers: Vec<(&'static str, &'static str, &'static str)>,
    /// Price per result item in micro-USD.
    pub price_micros: i64,
    /// Traffic per result item in bytes.
    pub bytes_per_item: i64,
    /// How results are made.
    pub output: Output,
}

fn items_of<'a>(custom: &'a Map<String, Value>, name: &str) -> &'a [Value] {
    custom
        .get(name)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn int_of(custom: &Map<String, Value>, name: &str, default: u64) -> u64 {
    custom.get(name).and_then(Value::as_u64).unwrap_or(default)
}

/// The owner of every sandbox Worker (v2 names a Worker `owner~name`).
pub const OWNER: &str = "coreclaw";

impl Worker {
    /// The Worker's name: its title in lower case, words joined by `-`.
    pub fn name(&self) -> String {
        self.title
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
            .join("-")
    }

    /// The Worker's path, `owner~name` (v2).
    pub fn path(&self) -> String {
        format!("{OWNER}~{}", self.name())
    }

    /// Whether `id` names this Worker: its slug, or its path (`owner~name`, v2).
    pub fn is(&self, id: &str) -> bool {
        self.slug == id || self.path() == id
    }

    /// The JSON Schema (2020-12) of `input.parameters.custom`, as v2's `input-schema` answers it:
    /// what the sandbox's validation checks, stated as a schema.
    pub fn input_schema(&self) -> Map<String, Value> {
        let mut properties = Map::new();
        for p in &self.properties {
            let mut s = Map::new();
            s.insert("type".into(), json!(p.kind.name()));
            s.insert("title".into(), json!(p.title));
            if !p.description.is_empty() {
                s.insert("description".into(), json!(p.description));
            }
            if let Some(d) = &p.default {
                s.insert("default".into(), d.clone());
            }
            for (k, v) in &p.extra {
                s.insert(k.clone(), v.clone());
            }
            if let Some(key) = p.item_key {
                s.insert(
                    "items".into(),
                    json!({"type": "object", "required": [key], "properties": {key: {"type": "string"}}}),
                );
                if p.required {
                    s.insert("minItems".into(), json!(1));
                }
            }
            properties.insert(p.name.to_string(), Value::Object(s));
        }
        let required: Vec<&str> = self
            .properties
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name)
            .collect();
        let mut schema = Map::new();
        schema.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        schema.insert("title".into(), json!(self.title));
        schema.insert("type".into(), json!("object"));
        schema.insert("properties".into(), Value::Object(properties));
        schema.insert("required".into(), json!(required));
        schema.insert("additionalProperties".into(), json!(false));
        schema
    }

    /// A property by name.
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// How many items a run with this input produces in all.
    pub fn result_count(&self, custom: &Map<String, Value>) -> u64 {
        match self.output {
            Output::Amazon => items_of(custom, "urls").len() as u64,
            Output::Places => int_of(custom, "max_results", 20),
            Output::News => {
                int_of(custom, "max_articles", 10)
                    * items_of(custom, "startURLs").len().max(1) as u64
            }
            Output::Profile => {
                if custom
                    .get("include_posts")
                    .and_then(Value::as_bool)
                    .unwrap_or(true)
                {
                    int_of(custom, "max_posts", 5)
                } else {
                    1
                }
            }
            Output::Load => int_of(custom, "count", 0).min(MAX_LOAD_ITEMS),
            Output::PageText => 1,
            Output::Crawl => {
                int_of(custom, "max_pages", 5) * items_of(custom, "startURLs").len() as u64
            }
        }
    }

    /// Result item `index` of the run whose slug hashes to `run_hash`.
    pub fn item(
        &self,
        run_hash: u64,
        index: u64,
        custom: &Map<String, Value>,
    ) -> Map<String, Value> {
        let h = mix(run_hash ^ mix(index));
        let r = |k: u64| unit(mix(h ^ k));
        let round2 = |x: f64| (x * 100.0).round() / 100.0;
        let mut item = Map::new();
        item.insert(
            "__coreclaw_data_id__".into(),
            json!(format!("{:016x}{:08x}", run_hash, index)),
        );
        let fields = match self.output {
            Output::Amazon => {
                let url = items_of(custom, "urls")
                    .get(index as usize)
                    .and_then(|u| u.get("url"))
                    .and_then(Value::as_str)
                    .unwrap_or("https://www.amazon.com/dp/B0CHHSFMRL");
                let asin = url
                    .rsplit('/')
                    .find(|s| !s.is_empty())
                    .unwrap_or("B0CHHSFMRL")
                    .to_string();
                json!({
                    "url": url,
                    "asin": asin,
                    "title": format!("Sandbox product {asin}"),
                    "price": round2(5.0 + r(1) * 195.0),
                    "currency": "USD",
                    "rating": round2(1.0 + r(2) * 4.0),
                    "reviews": (r(3) * 20_000.0) as u64,
                    "in_stock": r(4) > 0.2,
                })
            }
            Output::Places => {
                let keyword = custom
                    .get("keyword")
                    .and_then(Value::as_str)
                    .unwrap_or("place");
                let location = custom
                    .get("location")
                    .and_then(Value::as_str)
                    .unwrap_or("New York");
                json!({
                    "name": format!("{keyword} #{}", index + 1),
                    "address": format!("{} Sandbox Street, {location}", 1 + (r(1) * 999.0) as u64),
                    "rating": round2(1.0 + r(2) * 4.0),
                    "reviews_count": (r(3) * 5_000.0) as u64,
                    "phone": format!("+1 555 {:04}", (r(4) * 10_000.0) as u64),
                    "latitude": round2(40.0 + r(5)),
                    "longitude": round2(-74.0 + r(6)),
                })
            }
            Output::News => json!({
                "title": format!("Sandbox headline {}", index + 1),
                "url": format!("https://news.example.com/{run_hash:x}/{index}"),
                "author": format!("reporter{}", (r(1) * 50.0) as u64),
                "score": round2(r(2)),
                "published_at": format!("2026-11-{:02}T{:02}:00:00Z", 1 + (r(3) * 27.0) as u64, (r(4) * 23.0) as u64),
            }),
            Output::Profile => {
                let handle = custom
                    .get("profile")
                    .and_then(|p| p.get("handle"))
                    .and_then(Value::as_str)
                    .unwrap_or("coreclaw");
                json!({
                    "handle": handle,
                    "post_id": format!("{}", mix(h) % 10_000_000_000),
                    "text": format!("Post {} by @{handle}", index + 1),
                    "likes": (r(1) * 10_000.0) as u64,
                })
            }
            Output::Load => {
                let size = int_of(custom, "payload_bytes", 16).min(1024) as usize;
                let payload: String = (0..size)
                    .map(|i| (b'a' + ((h >> (i % 60)) % 26) as u8) as char)
                    .collect();
                json!({
                    "index": index,
                    "name": format!("item-{index}"),
                    "value": round2(r(1) * 1000.0),
                    "payload": payload,
                })
            }
            Output::Crawl => {
                let starts = items_of(custom, "startURLs");
                let per = int_of(custom, "max_pages", 5).max(1);
                let base = starts
                    .get((index / per) as usize)
                    .and_then(|u| u.get("url"))
                    .and_then(Value::as_str)
                    .unwrap_or("https://example.com");
                json!({
                    "url": format!("{}/page-{}", base.trim_end_matches('/'), index % per),
                    "depth": index % per,
                    "title": format!("Page {} of {base}", index % per + 1),
                    "text_length": 500 + (r(1) * 20_000.0) as u64,
                })
            }
            Output::PageText => {
                let url = custom
                    .get("url")
                    .and_then(Value::as_str)
                    .unwrap_or("https://example.com");
                let text = format!("Example text of {url}, rendered by the sandbox.");
                json!({"url": url, "title": "Example Domain", "length": text.len(), "text": text})
            }
        };
        if let Value::Object(fields) = fields {
            item.extend(fields);
        }
        item
    }
}
