//! `cargo xtask lint`: checks that a spec can be trusted before anything is generated from it.
//!
//! Each problem names the file, the JSON pointer and the reason.

use std::fmt;

use serde_json::{Map, Value, json};

use crate::document::{Prepared, escape, resolve};
use crate::generate::{operations, parse};

/// One thing wrong with a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The spec file (and overlay) the document came from.
    pub file: String,
    /// Where in the (merged) document.
    pub pointer: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.pointer, self.reason)
    }
}

/// Runs every check on a prepared document.
pub fn lint(prepared: &Prepared) -> Vec<Problem> {
    let file = match prepared.vendor.overlay {
        Some(overlay) => format!("{} + {overlay}", prepared.vendor.spec),
        None => prepared.vendor.spec.to_string(),
    };
    let doc = &prepared.document;
    let mut problems = Vec::new();
    let mut add = |pointer: String, reason: String| {
        problems.push(Problem {
            file: file.clone(),
            pointer,
            reason,
        })
    };
    if let Err(e) = parse(doc) {
        add("/".into(), e.to_string());
    }
    check_refs(doc, doc, String::new(), &mut add);
    check_operations(doc, &mut add);
    check_examples(doc, doc, String::new(), &mut add);
    check_inferred(doc, String::new(), &mut add);
    problems
}

/// specs/CONVENTIONS.md: an inferred node's description *starts* with `Inferred:` (so a reader sees
/// at once that it is an assumption, and why); the word is not buried mid-text.
fn check_inferred(node: &Value, pointer: String, add: &mut impl FnMut(String, String)) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(d)) = map.get("description")
                && d.contains("Inferred:")
                && !d.trim_start().starts_with("Inferred:")
            {
                add(
                    format!("{pointer}/description"),
                    "`Inferred:` must start the description (specs/CONVENTIONS.md)".into(),
                );
            }
            for (key, child) in map {
                // `info` explains the convention itself.
                if key == "example" || key == "examples" || (pointer.is_empty() && key == "info") {
                    continue;
                }
                check_inferred(child, format!("{pointer}/{}", escape(key)), add);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                check_inferred(child, format!("{pointer}/{i}"), add);
            }
        }
        _ => {}
    }
}

fn check_refs(doc: &Value, node: &Value, pointer: String, add: &mut impl FnMut(String, String)) {
    match node {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{pointer}/{}", escape(key));
                if key == "example" {
                    continue;
                }
                if key == "$ref" {
                    match child.as_str() {
                        Some(r) if !r.starts_with('#') => {
                            add(here, format!("external $ref `{r}` is not supported"))
                        }
                        Some(r) if resolve(doc, r).is_none() => {
                            add(here, format!("$ref `{r}` does not resolve"))
                        }
                        Some(_) => {}
                        None => add(here, "$ref is not a string".into()),
                    }
                } else {
                    check_refs(doc, child, here, add);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                check_refs(doc, child, format!("{pointer}/{i}"), add);
            }
        }
        _ => {}
    }
}

fn check_operations(doc: &Value, add: &mut impl FnMut(String, String)) {
    let mut seen: Vec<(String, String)> = Vec::new();
    for (path, method) in operations(doc) {
        let pointer = format!("/paths/{}/{method}", escape(&path));
        let Some(op) = doc.pointer(&pointer) else {
            continue;
        };
        match op.get("operationId").and_then(Value::as_str) {
            None => add(pointer.clone(), "operation has no operationId".into()),
            Some(id) => {
                if let Some((_, first)) = seen.iter().find(|(i, _)| i == id) {
                    add(
                        format!("{pointer}/operationId"),
                        format!("operationId `{id}` is also used by {first}"),
                    );
                }
                seen.push((id.to_string(), pointer.clone()));
            }
        }
        let responses = op.get("responses").and_then(Value::as_object);
        let success: Vec<(&String, &Value)> = responses
            .into_iter()
            .flatten()
            .filter(|(code, _)| code.starts_with('2'))
            .collect();
        if success.is_empty() {
            add(
                format!("{pointer}/responses"),
                "no 2xx (success) response".into(),
            );
        }
        for (code, response) in success {
            let here = format!("{pointer}/responses/{code}");
            let response = match response.get("$ref").and_then(Value::as_str) {
                Some(r) => resolve(doc, r).unwrap_or(response),
                None => response,
            };
            let content = response.get("content").and_then(Value::as_object);
            match content {
                None if code == "204" || code == "202" => {}
                None => add(
                    here,
                    format!("{code} response has no content (only 204/202 may be empty)"),
                ),
                Some(content) => {
                    for (media, body) in content {
                        if body.get("schema").is_none() {
                            add(
                                format!("{here}/content/{}", escape(media)),
                                "success response has no schema".into(),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Finds every `example` and `examples` and validates it against its schema.
fn check_examples(
    doc: &Value,
    node: &Value,
    pointer: String,
    add: &mut impl FnMut(String, String),
) {
    let Some(map) = node.as_object() else {
        if let Value::Array(items) = node {
            for (i, child) in items.iter().enumerate() {
                check_examples(doc, child, format!("{pointer}/{i}"), add);
            }
        }
        return;
    };
    // A media type, parameter or header: the example sits beside `schema`.
    if let Some(schema) = map.get("schema") {
        if let Some(example) = map.get("example") {
            validate(doc, schema, example, &format!("{pointer}/example"), add);
        }
        if let Some(Value::Object(examples)) = map.get("examples") {
            for (name, ex) in examples {
                let ex = match ex.get("$ref").and_then(Value::as_str) {
                    Some(r) => resolve(doc, r).unwrap_or(ex),
                    None => ex,
                };
                if let Some(value) = ex.get("value") {
                    validate(
                        doc,
                        schema,
                        value,
                        &format!("{pointer}/examples/{}/value", escape(name)),
                        add,
                    );
                }
            }
        }
    } else if let Some(example) = map.get("example")
        && is_schema(map)
    {
        validate(doc, node, example, &format!("{pointer}/example"), add);
    }
    for (key, child) in map {
        if key == "example" || key == "examples" {
            continue;
        }
        check_examples(doc, child, format!("{pointer}/{}", escape(key)), add);
    }
}

fn is_schema(map: &Map<String, Value>) -> bool {
    [
        "type",
        "properties",
        "items",
        "$ref",
        "enum",
        "oneOf",
        "anyOf",
        "allOf",
        "format",
        "nullable",
        "additionalProperties",
    ]
    .iter()
    .any(|k| map.contains_key(*k))
}

/// Compiles `schema` (an OpenAPI 3.0 schema inside `doc`, `$ref`s included) into a JSON Schema
/// draft 4 validator that also checks `format`.
pub fn compile(doc: &Value, schema: &Value) -> Result<jsonschema::Validator, String> {
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), to_json_schema(v)))
                .collect::<Map<String, Value>>()
        })
        .unwrap_or_default();
    let mut root = to_json_schema(schema);
    if let Value::Object(root) = &mut root {
        root.insert("components".into(), json!({ "schemas": schemas }));
    } else {
        root = json!({ "allOf": [root], "components": { "schemas": schemas } });
    }
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&root)
        .map_err(|e| e.to_string())
}

fn validate(
    doc: &Value,
    schema: &Value,
    example: &Value,
    pointer: &str,
    add: &mut impl FnMut(String, String),
) {
    let validator = match compile(doc, schema) {
        Ok(v) => v,
        Err(e) => {
            add(
                pointer.to_string(),
                format!("schema is not valid JSON Schema: {e}"),
            );
            return;
        }
    };
    for error in validator.iter_errors(example) {
        add(
            pointer.to_string(),
            format!(
                "example does not match its schema at `{}`: {error}",
                error.instance_path()
            ),
        );
    }
}

/// Converts an OpenAPI 3.0 schema to JSON Schema draft 4: `nullable` becomes a `null` type (or an
/// `anyOf` with null beside a `$ref`), OpenAPI-only keywords are dropped.
pub fn to_json_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                let converted = match key.as_str() {
                    "example" | "discriminator" | "xml" | "externalDocs" | "readOnly"
                    | "writeOnly" | "deprecated" | "nullable" | "default" => continue,
                    k if k.starts_with("x-") => continue,
                    "properties" | "patternProperties" | "definitions" => Value::Object(
                        value
                            .as_object()
                            .map(|m| {
                                m.iter()
                                    .map(|(k, v)| (k.clone(), to_json_schema(v)))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    ),
                    "items" | "additionalProperties" | "not" | "allOf" | "oneOf" | "anyOf" => {
                        to_json_schema(value)
                    }
                    "enum" | "required" | "type" => value.clone(),
                    _ if value.is_object() || value.is_array() => to_json_schema(value),
                    _ => value.clone(),
                };
                out.insert(key.clone(), converted);
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                if let Some(reference) = out.shift_remove("$ref") {
                    return json!({ "anyOf": [{ "$ref": reference }, { "type": "null" }] });
                }
                if let Some(Value::String(t)) = out.get("type").cloned() {
                    out.insert("type".into(), json!([t, "null"]));
                }
                if let Some(Value::Array(values)) = out.get_mut("enum")
                    && !values.contains(&Value::Null)
                {
                    values.push(Value::Null);
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(to_json_schema).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::VENDORS;

    fn lint_doc(doc: Value) -> Vec<String> {
        let prepared = Prepared {
            vendor: VENDORS[1],
            document: doc,
            rewrites: vec![],
        };
        lint(&prepared)
            .iter()
            .map(|p| format!("{}: {}", p.pointer, p.reason))
            .collect()
    }

    fn base() -> Value {
        json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": {
                "operationId": "get_a",
                "parameters": [{"name": "when", "in": "query", "schema": {"type": "string", "format": "date-time"}, "example": "2026-01-01T00:00:00Z"}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/A"},
                    "example": {"n": 1, "s": null}
                }}}}
            }}},
            "components": {"schemas": {"A": {"type": "object", "required": ["n"], "properties": {
                "n": {"type": "integer", "minimum": 0},
                "s": {"type": "string", "nullable": true}
            }}}}
        })
    }

    #[test]
    fn a_good_document_passes() {
        assert_eq!(lint_doc(base()), Vec::<String>::new());
    }

    #[test]
    fn inferred_must_start_the_description() {
        let doc = serde_json::json!({
            "info": {"description": "Nodes whose description starts with `Inferred:` are ..."},
            "components": {"schemas": {
                "Good": {"description": "Inferred: why. What.", "x-clawkit-inferred": true},
                "Bad": {"description": "What. Inferred: why.", "x-clawkit-inferred": true},
                "Ex": {"example": {"description": "data, Inferred: anywhere"}}
            }}
        });
        let mut found = Vec::new();
        check_inferred(&doc, String::new(), &mut |p, _| found.push(p));
        assert_eq!(found, ["/components/schemas/Bad/description"]);
    }

    #[test]
    fn bad_examples_are_named_by_pointer() {
        let mut doc = base();
        doc["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["example"] =
            json!({"n": -1});
        doc["paths"]["/a"]["get"]["parameters"][0]["example"] = json!("yesterday");
        let problems = lint_doc(doc);
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(
            problems[0].starts_with("/paths/~1a/get/parameters/0/example"),
            "{problems:#?}"
        );
        assert!(problems[1].contains("/responses/200/content/application~1json/example"));
        assert!(problems[1].contains("at `/n`"));
    }

    #[test]
    fn missing_operation_id_dangling_ref_and_no_success_are_reported() {
        let mut doc = base();
        let op = doc["paths"]["/a"]["get"].as_object_mut().unwrap();
        op.remove("operationId");
        op.insert(
            "responses".into(),
            json!({"404": {"description": "x", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Nope"}}}}}),
        );
        let problems = lint_doc(doc).join("\n");
        assert!(
            problems.contains("operation has no operationId"),
            "{problems}"
        );
        assert!(
            problems.contains("`#/components/schemas/Nope` does not resolve"),
            "{problems}"
        );
        assert!(problems.contains("no 2xx (success) response"), "{problems}");
    }
}
