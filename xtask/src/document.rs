//! Loading a vendor's spec: read the file (JSON or YAML), merge the overlay, down-convert OpenAPI 3.1.
//!
//! The result is the document every other step works on: it is what `lint` checks, what `summary`
//! snapshots, and (after [`crate::normalize`]) what progenitor generates from. Nothing here writes
//! to the spec files: every change is made in memory and reported as a [`Rewrite`].

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

/// One vendor: where its spec lives and what its generated crate is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vendor {
    /// Short name, also the folder under `specs/` (and, but for `coreclaw-v2`, which is served
    /// under `/coreclaw` beside v1, the sandbox prefix).
    pub name: &'static str,
    /// The spec file, relative to the workspace root.
    pub spec: &'static str,
    /// An overlay merged after the spec (CoreClaw: our additions to the vendor's own file).
    pub overlay: Option<&'static str>,
    /// Generate `format: date-time` as `chrono::DateTime<FixedOffset>` (the offset the server sent
    /// is kept, and a time without one cannot be built) instead of `DateTime<Utc>`.
    pub keep_offsets: bool,
}

/// Every vendor clawkit knows, in a fixed order.
pub const VENDORS: &[Vendor] = &[
    Vendor {
        name: "coreclaw",
        spec: "specs/coreclaw/openapi.json",
        overlay: Some("specs/coreclaw/overlay.yaml"),
        keep_offsets: false,
    },
    Vendor {
        name: "coreclaw-v2",
        spec: "specs/coreclaw-v2/openapi.json",
        overlay: Some("specs/coreclaw-v2/overlay.yaml"),
        keep_offsets: false,
    },
    Vendor {
        name: "bazhuayu",
        spec: "specs/bazhuayu/openapi.yaml",
        overlay: None,
        keep_offsets: false,
    },
    Vendor {
        name: "openclaw-devops",
        spec: "specs/openclaw-devops/openapi.yaml",
        overlay: None,
        keep_offsets: false,
    },
    Vendor {
        name: "openclaw-fulfillment",
        spec: "specs/openclaw-fulfillment/openapi.yaml",
        overlay: None,
        keep_offsets: true,
    },
    Vendor {
        name: "botswin",
        spec: "specs/botswin/openapi.yaml",
        overlay: None,
        keep_offsets: false,
    },
];

impl Vendor {
    /// Looks a vendor up by name.
    pub fn find(name: &str) -> Result<Vendor> {
        match VENDORS.iter().find(|v| v.name == name) {
            Some(v) => Ok(*v),
            None => bail!(
                "unknown vendor `{name}`; expected one of: {}",
                VENDORS
                    .iter()
                    .map(|v| v.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The generated crate's package name, e.g. `coreclaw-api`.
    pub fn crate_name(&self) -> String {
        format!("{}-api", self.name)
    }

    /// The generated crate's folder, relative to the workspace root.
    pub fn crate_dir(&self) -> PathBuf {
        Path::new("generated").join(self.crate_name())
    }
}

/// An in-memory change made to a spec before use, printed as one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// The vendor whose document was changed.
    pub vendor: &'static str,
    /// JSON pointer of the changed node.
    pub pointer: String,
    /// What was done.
    pub what: String,
}

impl fmt::Display for Rewrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "normalize {}: {}: {}",
            self.vendor, self.pointer, self.what
        )
    }
}

/// A vendor's document after overlay and down-conversion.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The vendor.
    pub vendor: Vendor,
    /// The merged, OpenAPI 3.0 document.
    pub document: Value,
    /// Every in-memory change made so far.
    pub rewrites: Vec<Rewrite>,
}

/// The workspace root, found from xtask's own manifest directory.
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// Reads a JSON or YAML file (by extension) into a JSON value, keeping key order.
pub fn read_value(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let is_json = path.extension().is_some_and(|e| e == "json");
    if is_json {
        serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
    } else {
        serde_yaml_ng::from_str(&text)
            .with_context(|| format!("{} is not valid YAML", path.display()))
    }
}

/// Loads a vendor's document: spec, then overlay, then 3.1 -> 3.0 down-conversion.
pub fn load(root: &Path, vendor: Vendor) -> Result<Prepared> {
    let mut document = read_value(&root.join(vendor.spec))?;
    if let Some(overlay) = vendor.overlay {
        let overlay = read_value(&root.join(overlay))?;
        merge(&mut document, overlay);
    }
    let mut rewrites = Vec::new();
    downconvert(vendor, &mut document, &mut rewrites);
    Ok(Prepared {
        vendor,
        document,
        rewrites,
    })
}

/// Deep-merges `overlay` into `base`: objects merge key by key (an overlay `null` deletes the key),
/// anything else replaces.
pub fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                if value.is_null() {
                    base.shift_remove(&key);
                } else if let Some(slot) = base.get_mut(&key) {
                    merge(slot, value);
                } else {
                    base.insert(key, value);
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

/// Escapes one JSON pointer token.
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Down-converts an OpenAPI 3.1 document to 3.0.3 in place, recording each change.
///
/// Handles what 3.1 allows and 3.0 does not: the version string, `type` arrays and `type: "null"`,
/// `const`, schema `examples` arrays, numeric `exclusiveMinimum`/`exclusiveMaximum`, and the
/// top-level `webhooks` (kept as `x-webhooks`). A 3.0 document is left as it is.
pub fn downconvert(vendor: Vendor, doc: &mut Value, rewrites: &mut Vec<Rewrite>) {
    let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("3.1") {
        return;
    }
    let mut note = |pointer: String, what: String| {
        rewrites.push(Rewrite {
            vendor: vendor.name,
            pointer,
            what,
        })
    };
    note(
        "/openapi".into(),
        format!("{version} -> 3.0.3 (openapiv3 reads 3.0 only)"),
    );
    doc["openapi"] = Value::String("3.0.3".into());
    if let Some(map) = doc.as_object_mut() {
        if let Some(webhooks) = map.shift_remove("webhooks") {
            map.insert("x-webhooks".into(), webhooks);
            note(
                "/webhooks".into(),
                "moved to x-webhooks (3.0 has no webhooks)".into(),
            );
        }
        map.shift_remove("jsonSchemaDialect");
    }
    if let Some(license) = doc
        .pointer_mut("/info/license")
        .and_then(Value::as_object_mut)
    {
        license.shift_remove("identifier");
    }
    walk_schemas(doc, String::new(), false, &mut note);
}

/// Visits every object of the document except example payloads and rewrites 3.1-only schema keywords.
/// `names` is true for a map whose keys are names (`properties`, `schemas`), not keywords.
fn walk_schemas(
    node: &mut Value,
    pointer: String,
    names: bool,
    note: &mut impl FnMut(String, String),
) {
    match node {
        Value::Object(map) => {
            if !names {
                downconvert_schema(map, &pointer, note);
            }
            for (key, child) in map.iter_mut() {
                if !names && (key == "example" || key == "examples" && child.is_object()) {
                    continue;
                }
                let child_names = !names && matches!(key.as_str(), "properties" | "schemas");
                walk_schemas(
                    child,
                    format!("{pointer}/{}", escape(key)),
                    child_names,
                    note,
                );
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                walk_schemas(child, format!("{pointer}/{i}"), false, note);
            }
        }
        _ => {}
    }
}

fn downconvert_schema(
    map: &mut Map<String, Value>,
    pointer: &str,
    note: &mut impl FnMut(String, String),
) {
    match map.get("type") {
        Some(Value::Array(types)) => {
            let nullable = types.iter().any(|t| t == "null");
            let rest: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
            let shown = serde_json::to_string(types).unwrap_or_default();
            match rest.as_slice() {
                [single] => {
                    map.insert("type".into(), single.clone());
                    note(
                        format!("{pointer}/type"),
                        format!(
                            "type {shown} -> type {single}{}",
                            if nullable { " + nullable" } else { "" }
                        ),
                    );
                }
                _ => {
                    map.shift_remove("type");
                    note(
                        format!("{pointer}/type"),
                        format!(
                            "type {shown} -> any type{}",
                            if nullable { " + nullable" } else { "" }
                        ),
                    );
                }
            }
            if nullable {
                map.insert("nullable".into(), Value::Bool(true));
            }
        }
        Some(Value::String(t)) if t == "null" => {
            // 3.0 has no null type and `nullable` needs a type beside it: a nullable object that
            // can only be null says the same.
            map.insert("type".into(), Value::String("object".into()));
            map.insert("nullable".into(), Value::Bool(true));
            map.insert("enum".into(), Value::Array(vec![Value::Null]));
            note(
                format!("{pointer}/type"),
                "type \"null\" -> type object + nullable + enum [null]".into(),
            );
        }
        _ => {}
    }
    if let Some(value) = map.shift_remove("const") {
        map.insert("enum".into(), Value::Array(vec![value]));
        note(
            format!("{pointer}/const"),
            "const -> single-value enum".into(),
        );
    }
    if let Some(Value::Array(examples)) = map.get("examples") {
        let first = examples.first().cloned();
        map.shift_remove("examples");
        if let Some(first) = first {
            map.insert("example".into(), first);
        }
        note(
            format!("{pointer}/examples"),
            "schema examples array -> example".into(),
        );
    }
    for (keyword, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(limit) = map.get(keyword).filter(|v| v.is_number()).cloned() {
            map.insert(bound.into(), limit);
            map.insert(keyword.into(), Value::Bool(true));
            note(
                format!("{pointer}/{keyword}"),
                format!("numeric {keyword} -> {bound} + {keyword}: true"),
            );
        }
    }
}

/// Resolves a local `$ref` (`#/...`) against the document.
pub fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    reference.strip_prefix('#').and_then(|p| doc.pointer(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const V: Vendor = VENDORS[0];

    #[test]
    fn merge_is_deep_and_null_deletes() {
        let mut base = json!({"a": {"b": 1, "c": [1, 2]}, "d": 1});
        merge(&mut base, json!({"a": {"c": [3], "e": true}, "d": null}));
        assert_eq!(base, json!({"a": {"b": 1, "c": [3], "e": true}}));
    }

    #[test]
    fn downconvert_rewrites_type_arrays_and_null() {
        let mut doc = json!({
            "openapi": "3.1.0",
            "components": {"schemas": {
                "A": {"type": ["integer", "null"]},
                "B": {"type": "null"},
                "C": {"type": "object", "properties": {"type": {"type": "string"}}},
                "D": {"type": "integer", "exclusiveMinimum": 0},
            }},
        });
        let mut rewrites = Vec::new();
        downconvert(V, &mut doc, &mut rewrites);
        assert_eq!(doc["openapi"], "3.0.3");
        assert_eq!(
            doc["components"]["schemas"]["A"],
            json!({"type": "integer", "nullable": true})
        );
        assert_eq!(
            doc["components"]["schemas"]["B"],
            json!({"type": "object", "nullable": true, "enum": [null]})
        );
        assert_eq!(
            doc["components"]["schemas"]["C"]["properties"]["type"],
            json!({"type": "string"})
        );
        assert_eq!(
            doc["components"]["schemas"]["D"],
            json!({"type": "integer", "exclusiveMinimum": true, "minimum": 0})
        );
        assert_eq!(rewrites.len(), 4);
    }

    #[test]
    fn downconvert_leaves_30_alone() {
        let mut doc = json!({"openapi": "3.0.3", "x": {"type": ["a", "null"]}});
        let before = doc.clone();
        let mut rewrites = Vec::new();
        downconvert(V, &mut doc, &mut rewrites);
        assert_eq!(doc, before);
        assert!(rewrites.is_empty());
    }
}
