//! Rewrites for what progenitor cannot take, made in memory on a copy of the document.
//!
//! The committed spec stays the truth; this step only shapes the copy that is fed to progenitor,
//! and every change is recorded as one [`Rewrite`] line so that the effect on the generated client
//! is visible in `cargo xtask regen`'s output.

use serde_json::{Map, Value};

use crate::document::{Prepared, Rewrite, escape, resolve};

/// HTTP methods that can hold an operation in a path item.
pub const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Applies every progenitor rewrite to a copy of the prepared document.
pub fn for_progenitor(prepared: &Prepared) -> (Value, Vec<Rewrite>) {
    let mut doc = prepared.document.clone();
    let mut rewrites = prepared.rewrites.clone();
    let vendor = prepared.vendor.name;
    let components = doc.get("components").cloned().unwrap_or(Value::Null);
    let lookup = Value::Object(Map::from_iter([("components".to_string(), components)]));
    let mut note = |pointer: String, what: String| {
        rewrites.push(Rewrite {
            vendor,
            pointer,
            what,
        })
    };

    let paths: Vec<String> = doc
        .get("paths")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for path in paths {
        let item_pointer = format!("/paths/{}", escape(&path));
        let Some(item) = doc
            .pointer_mut(&item_pointer)
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        drop_cookie_parameters(item, &item_pointer, &mut note);
        drop_runtime_headers(item, &lookup, &item_pointer, &mut note);
        for method in METHODS {
            let Some(op) = item.get_mut(*method).and_then(Value::as_object_mut) else {
                continue;
            };
            let pointer = format!("{item_pointer}/{method}");
            if !op.contains_key("operationId") {
                let id = synthesize_operation_id(method, &path);
                note(
                    format!("{pointer}/operationId"),
                    format!("missing; synthesized `{id}`"),
                );
                op.insert("operationId".into(), Value::String(id));
            }
            drop_cookie_parameters(op, &pointer, &mut note);
            drop_runtime_headers(op, &lookup, &pointer, &mut note);
            if let Some(content) = op
                .get_mut("requestBody")
                .and_then(|b| b.get_mut("content"))
                .and_then(Value::as_object_mut)
            {
                keep_one_media_type(
                    content,
                    &format!("{pointer}/requestBody/content"),
                    &mut note,
                );
            }
            if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                normalize_responses(
                    responses,
                    &lookup,
                    &format!("{pointer}/responses"),
                    &mut note,
                );
            }
        }
    }
    let unmarked = unmark_date_times(&mut doc);
    if unmarked > 0 {
        note(
            "/".to_string(),
            format!(
                "dropped the x- extensions of {unmarked} date-time schema(s) (typify matches type \
                 conversions on the whole schema)"
            ),
        );
    }
    (doc, rewrites)
}

/// Removes the `x-` extensions of every `type: string, format: date-time` schema, so that a
/// date-time type conversion (see `generate::settings`) matches them too; returns how many.
fn unmark_date_times(node: &mut Value) -> usize {
    match node {
        Value::Object(map) => {
            let mut count = 0;
            if map.get("type").and_then(Value::as_str) == Some("string")
                && map.get("format").and_then(Value::as_str) == Some("date-time")
                && map.keys().any(|k| k.starts_with("x-"))
            {
                map.retain(|k, _| !k.starts_with("x-"));
                count += 1;
            }
            count + map.values_mut().map(unmark_date_times).sum::<usize>()
        }
        Value::Array(items) => items.iter_mut().map(unmark_date_times).sum(),
        _ => 0,
    }
}

/// `get /api/v1/run/list` -> `get_api_v1_run_list`.
fn synthesize_operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_string();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        id.push('_');
        let clean: String = segment
            .trim_matches(|c| c == '{' || c == '}')
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        id.push_str(&clean);
    }
    id
}

fn drop_cookie_parameters(
    holder: &mut Map<String, Value>,
    pointer: &str,
    note: &mut impl FnMut(String, String),
) {
    if let Some(Value::Array(params)) = holder.get_mut("parameters") {
        let before = params.len();
        params.retain(|p| p.get("in").and_then(Value::as_str) != Some("cookie"));
        if params.len() != before {
            note(
                format!("{pointer}/parameters"),
                format!(
                    "dropped {} cookie parameter(s) (progenitor rejects them)",
                    before - params.len()
                ),
            );
        }
    }
}

/// The extension that marks a header parameter the runtime's request hook sets (a request
/// signature, say): it stays in the spec, for contract tools and readers, but is not an argument
/// of the generated methods.
pub const RUNTIME_HEADER: &str = "x-clawkit-runtime-header";

/// Drops the header parameters marked [`RUNTIME_HEADER`] (inline or through a `$ref`).
fn drop_runtime_headers(
    holder: &mut Map<String, Value>,
    lookup: &Value,
    pointer: &str,
    note: &mut impl FnMut(String, String),
) {
    let Some(Value::Array(params)) = holder.get_mut("parameters") else {
        return;
    };
    let mut dropped = Vec::new();
    params.retain(|p| {
        let resolved = match p.get("$ref").and_then(Value::as_str) {
            Some(reference) => resolve(lookup, reference).unwrap_or(p),
            None => p,
        };
        let marked = resolved.get(RUNTIME_HEADER).and_then(Value::as_bool) == Some(true)
            && resolved.get("in").and_then(Value::as_str) == Some("header");
        if marked {
            let name = resolved.get("name").and_then(Value::as_str).unwrap_or("?");
            dropped.push(name.to_string());
        }
        !marked
    });
    if !dropped.is_empty() {
        note(
            format!("{pointer}/parameters"),
            format!(
                "dropped header(s) {} (set by the runtime's request hook)",
                dropped.join(", ")
            ),
        );
    }
}

/// Keeps `application/json` (or else the first media type) where several are offered.
fn keep_one_media_type(
    content: &mut Map<String, Value>,
    pointer: &str,
    note: &mut impl FnMut(String, String),
) {
    if content.len() <= 1 {
        return;
    }
    let keep = if content.contains_key("application/json") {
        "application/json".to_string()
    } else {
        content.keys().next().cloned().unwrap_or_default()
    };
    let dropped: Vec<String> = content.keys().filter(|k| **k != keep).cloned().collect();
    content.retain(|k, _| *k == keep);
    note(
        pointer.to_string(),
        format!(
            "kept {keep}, dropped {} (progenitor takes one media type)",
            dropped.join(", ")
        ),
    );
}

/// What a response decodes to, as progenitor sees it: a schema (by `$ref` or inline) or nothing.
fn response_kind(response: &Value, lookup: &Value) -> String {
    let response = match response.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(lookup, r).unwrap_or(response),
        None => response,
    };
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return "no body".into();
    };
    let Some((media, body)) = content.iter().next() else {
        return "no body".into();
    };
    match body.get("schema") {
        Some(schema) => match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => format!("{media} {r}"),
            None => format!("{media} {schema}"),
        },
        None => format!("{media} (no schema)"),
    }
}

/// Progenitor takes one type for all success responses and one for all error responses.
fn normalize_responses(
    responses: &mut Map<String, Value>,
    lookup: &Value,
    pointer: &str,
    note: &mut impl FnMut(String, String),
) {
    for (code, response) in responses.iter_mut() {
        if response.get("$ref").is_none()
            && let Some(content) = response.get_mut("content").and_then(Value::as_object_mut)
        {
            keep_one_media_type(content, &format!("{pointer}/{code}/content"), note);
        }
    }
    let is_success = |code: &str| code.starts_with('2');
    for success in [true, false] {
        let class: Vec<(String, String)> = responses
            .iter()
            .filter(|(code, _)| is_success(code) == success)
            .map(|(code, r)| (code.clone(), response_kind(r, lookup)))
            .collect();
        let mut kinds: Vec<(&str, usize)> = Vec::new();
        for (_, kind) in &class {
            match kinds.iter_mut().find(|(k, _)| k == kind) {
                Some((_, n)) => *n += 1,
                None => kinds.push((kind, 1)),
            }
        }
        if kinds.len() <= 1 {
            continue;
        }
        // Success: the first (lowest) 2xx wins. Errors: the schema most responses share wins.
        let keep = if success {
            class[0].1.clone()
        } else {
            let best = kinds.iter().map(|(_, n)| *n).max().unwrap_or(0);
            kinds
                .iter()
                .find(|(_, n)| *n == best)
                .map(|(k, _)| k.to_string())
                .unwrap_or_default()
        };
        for (code, kind) in &class {
            if *kind != keep {
                responses.shift_remove(code);
                note(
                    format!("{pointer}/{}", escape(code)),
                    format!(
                        "dropped {} response ({kind}); progenitor takes one {} type ({keep}); \
                         it arrives as an unexpected response",
                        code,
                        if success { "success" } else { "error" },
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::VENDORS;
    use serde_json::json;

    fn prepared(doc: Value) -> Prepared {
        Prepared {
            vendor: VENDORS[1],
            document: doc,
            rewrites: vec![],
        }
    }

    #[test]
    fn one_success_and_one_error_type_survive() {
        let doc = json!({
            "openapi": "3.0.3",
            "components": {"responses": {"E": {"description": "e", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Err"}}}}}},
            "paths": {"/a": {"post": {
                "requestBody": {"content": {"text/plain": {}, "application/json": {"schema": {}}}},
                "parameters": [{"name": "s", "in": "cookie"}],
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}},
                    "201": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/B"}}}},
                    "400": {"$ref": "#/components/responses/E"},
                    "404": {"$ref": "#/components/responses/E"},
                    "405": {"description": "no body"},
                }
            }}}
        });
        let (out, rewrites) = for_progenitor(&prepared(doc));
        let op = &out["paths"]["/a"]["post"];
        assert_eq!(op["operationId"], "post_a");
        assert_eq!(op["parameters"], json!([]));
        assert_eq!(op["requestBody"]["content"].as_object().unwrap().len(), 1);
        let codes: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
        assert_eq!(codes, ["200", "400", "404"]);
        assert_eq!(rewrites.len(), 5, "{rewrites:#?}");
    }

    #[test]
    fn runtime_headers_are_dropped_inline_and_by_reference() {
        let doc = json!({
            "openapi": "3.0.3",
            "components": {"parameters": {
                "Sig": {"name": "X-Sig", "in": "header", "required": true, "x-clawkit-runtime-header": true, "schema": {"type": "string"}},
                "Keep": {"name": "X-Keep", "in": "header", "schema": {"type": "string"}}
            }},
            "paths": {"/a": {"get": {
                "operationId": "a",
                "parameters": [
                    {"$ref": "#/components/parameters/Sig"},
                    {"$ref": "#/components/parameters/Keep"},
                    {"name": "X-Nonce", "in": "header", "x-clawkit-runtime-header": true, "schema": {"type": "string"}},
                    {"name": "q", "in": "query", "x-clawkit-runtime-header": true, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "ok"}}
            }}}
        });
        let (out, rewrites) = for_progenitor(&prepared(doc));
        let params = &out["paths"]["/a"]["get"]["parameters"];
        assert_eq!(
            params,
            &json!([
                {"$ref": "#/components/parameters/Keep"},
                {"name": "q", "in": "query", "x-clawkit-runtime-header": true, "schema": {"type": "string"}}
            ])
        );
        assert!(
            rewrites
                .iter()
                .any(|r| r.what.contains("X-Sig, X-Nonce") && r.what.contains("runtime")),
            "{rewrites:#?}"
        );
    }
}
