//! Readable summaries for the drift snapshots in `tests/`: a spec's operations and schemas, and a
//! generated crate's public surface. A change to either shows up as a snapshot diff to review.

use std::fmt::Write;

use anyhow::Result;
use quote::ToTokens;
use serde_json::Value;

use crate::document::{Prepared, escape};
use crate::generate::operations;

fn inferred(node: &Value) -> &'static str {
    if node.get("x-clawkit-inferred") == Some(&Value::Bool(true)) {
        " [inferred]"
    } else {
        ""
    }
}

fn ref_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// A one-line description of a schema: its type, shape and constraints.
pub fn describe(schema: &Value) -> String {
    let Some(map) = schema.as_object() else {
        return "any".into();
    };
    let mut out = if let Some(r) = map.get("$ref").and_then(Value::as_str) {
        ref_name(r).to_string()
    } else if let Some(variants) = ["oneOf", "anyOf", "allOf"]
        .iter()
        .find_map(|k| map.get(*k).and_then(Value::as_array).map(|v| (k, v)))
    {
        let parts: Vec<String> = variants.1.iter().map(describe).collect();
        format!("{}({})", variants.0, parts.join(" | "))
    } else {
        match map.get("type").and_then(Value::as_str) {
            Some("array") => format!("[{}]", describe(map.get("items").unwrap_or(&Value::Null))),
            Some("object") | None if map.contains_key("properties") => {
                let names: Vec<&String> = map
                    .get("properties")
                    .and_then(Value::as_object)
                    .map(|p| p.keys().collect())
                    .unwrap_or_default();
                format!(
                    "object {{{}}}",
                    names
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
            Some(t) => t.to_string(),
            None => "any".to_string(),
        }
    };
    if let Some(format) = map.get("format").and_then(Value::as_str) {
        let _ = write!(out, " ({format})");
    }
    if let Some(values) = map.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let _ = write!(out, " enum [{}]", values.join(", "));
    }
    if let Some(values) = map.get("x-extensible-enum").and_then(Value::as_array) {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let _ = write!(out, " open enum [{}]", values.join(", "));
    }
    if let Some(extra) = map.get("additionalProperties") {
        match extra {
            Value::Bool(true) => out.push_str(" +any"),
            Value::Bool(false) => out.push_str(" closed"),
            other => {
                let _ = write!(out, " +map<{}>", describe(other));
            }
        }
    }
    for key in [
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "pattern",
        "default",
    ] {
        if let Some(v) = map.get(key) {
            let _ = write!(out, " {key}={v}");
        }
    }
    if map.get("nullable") == Some(&Value::Bool(true)) {
        out.push_str(" nullable");
    }
    out
}

/// The operations and schemas of a prepared spec, one readable block each.
pub fn spec_summary(prepared: &Prepared) -> String {
    let doc = &prepared.document;
    let resolve = |node: &Value| -> Value {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => crate::document::resolve(doc, r)
                .cloned()
                .unwrap_or(Value::Null),
            None => node.clone(),
        }
    };
    let mut out = String::new();
    let title = doc
        .pointer("/info/title")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let version = doc
        .pointer("/info/version")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let _ = writeln!(
        out,
        "{title} {version} (OpenAPI {})",
        doc["openapi"].as_str().unwrap_or("?")
    );
    for server in doc
        .get("servers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let _ = writeln!(out, "server {}", server["url"].as_str().unwrap_or("?"));
    }
    if let Some(ws) = doc.get("x-clawkit-websocket") {
        let query: Vec<String> = ws
            .get("query")
            .and_then(Value::as_object)
            .map(|q| {
                q.iter()
                    .filter(|(name, _)| name.as_str() != "other")
                    .map(|(name, p)| {
                        let required = p.get("required") == Some(&Value::Bool(true));
                        format!("{name}{}", if required { " (required)" } else { "" })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let refusals: Vec<&String> = ws
            .get("refusals")
            .and_then(Value::as_object)
            .map(|r| r.keys().filter(|k| k.as_str() != "description").collect())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "websocket {} path {} query {} refusals {}{}",
            ws["url"].as_str().unwrap_or("?"),
            ws["path"].as_str().unwrap_or("?"),
            query.join(", "),
            refusals
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            inferred(ws),
        );
    }
    out.push_str("\noperations:\n");
    for (path, method) in operations(doc) {
        let op = &doc["paths"][&path][&method];
        let id = op
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or("(no operationId)");
        let _ = writeln!(
            out,
            "{} {path}  {id}{}",
            method.to_uppercase(),
            inferred(op)
        );
        let path_params = doc
            .pointer(&format!("/paths/{}/parameters", escape(&path)))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let op_params = op
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for param in path_params.iter().chain(op_params.iter()) {
            let p = resolve(param);
            let _ = writeln!(
                out,
                "  {} {}: {}{}{}",
                p["in"].as_str().unwrap_or("?"),
                p["name"].as_str().unwrap_or("?"),
                describe(p.get("schema").unwrap_or(&Value::Null)),
                if p["required"] == Value::Bool(true) {
                    ", required"
                } else {
                    ""
                },
                inferred(&p),
            );
        }
        if let Some(body) = op.get("requestBody") {
            let body = resolve(body);
            for (media, content) in body
                .get("content")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let _ = writeln!(
                    out,
                    "  body {media}: {}{}{}",
                    describe(content.get("schema").unwrap_or(&Value::Null)),
                    if body["required"] == Value::Bool(true) {
                        ", required"
                    } else {
                        ""
                    },
                    inferred(&body),
                );
            }
        }
        for (code, response) in op
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let named = response.get("$ref").and_then(Value::as_str).map(ref_name);
            let r = resolve(response);
            let bodies: Vec<String> = r
                .get("content")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(media, c)| {
                    format!(
                        "{media} {}",
                        describe(c.get("schema").unwrap_or(&Value::Null))
                    )
                })
                .collect();
            let headers: Vec<&String> = r
                .get("headers")
                .and_then(Value::as_object)
                .map(|h| h.keys().collect())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {code}: {}{}{}{}",
                if bodies.is_empty() {
                    "no body".to_string()
                } else {
                    bodies.join(", ")
                },
                named.map(|n| format!(" ({n})")).unwrap_or_default(),
                if headers.is_empty() {
                    String::new()
                } else {
                    format!(
                        " headers [{}]",
                        headers
                            .iter()
                            .map(|h| h.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
                if inferred(&r).is_empty() {
                    inferred(response)
                } else {
                    inferred(&r)
                },
            );
        }
        for (name, callback) in op
            .get("callbacks")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            for (expr, item) in callback.as_object().into_iter().flatten() {
                for (m, cb) in item.as_object().into_iter().flatten() {
                    let body = cb
                        .pointer("/requestBody/content/application~1json/schema")
                        .map(describe)
                        .unwrap_or_else(|| "no body".into());
                    let _ = writeln!(
                        out,
                        "  callback {name}: {} {expr}: {body}{}",
                        m.to_uppercase(),
                        inferred(callback).to_string() + inferred(cb)
                    );
                }
            }
        }
    }
    out.push_str("\nschemas:\n");
    for (name, schema) in doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let _ = writeln!(out, "{name}: {}{}", describe(schema), inferred(schema));
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (prop, s) in schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let _ = writeln!(
                out,
                "  {prop}: {}{}{}",
                describe(s),
                if required.contains(&prop.as_str()) {
                    ", required"
                } else {
                    ""
                },
                inferred(s),
            );
        }
    }
    out
}

fn tokens(t: impl ToTokens) -> String {
    let raw = t.to_token_stream().to_string();
    let mut s = raw;
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" < ", "<"),
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        (" : ", ": "),
        // a parameter whose type is an absolute path: `inner : :: clawkit_runtime :: Runtime`
        (" :::", ": ::"),
        (": ::clawkit_runtime::", ": clawkit_runtime::"),
    ] {
        s = s.replace(from, to);
    }
    for prefix in [
        "::std::string::",
        "::std::option::",
        "::std::vec::",
        "::std::collections::",
        "::std::num::",
        "::serde_json::",
    ] {
        s = s.replace(prefix, "");
    }
    s
}

fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

/// The public surface of a generated crate's `lib.rs`: client methods, builders and types.
pub fn crate_surface(source: &str) -> Result<String> {
    let file = syn::parse_file(source)?;
    let mut client = Vec::new();
    let mut types = Vec::new();
    let mut builders = Vec::new();
    for item in &file.items {
        match item {
            syn::Item::Impl(imp) if tokens(&imp.self_ty) == "Client" && imp.trait_.is_none() => {
                for it in &imp.items {
                    if let syn::ImplItem::Fn(f) = it
                        && is_pub(&f.vis)
                    {
                        let args: Vec<String> = f.sig.inputs.iter().skip(1).map(tokens).collect();
                        let ret = match &f.sig.output {
                            syn::ReturnType::Default => String::new(),
                            syn::ReturnType::Type(_, t) => format!(" -> {}", tokens(t)),
                        };
                        client.push(format!("  {}({}){ret}", f.sig.ident, args.join(", ")));
                    }
                }
            }
            syn::Item::Mod(m) if m.ident == "types" => {
                for it in m.content.iter().flat_map(|(_, items)| items) {
                    match it {
                        syn::Item::Struct(s) if is_pub(&s.vis) => {
                            let fields: Vec<String> = s
                                .fields
                                .iter()
                                .map(|f| match &f.ident {
                                    Some(id) => format!("{id}: {}", tokens(&f.ty)),
                                    None => tokens(&f.ty),
                                })
                                .collect();
                            types.push(format!("  struct {} {{ {} }}", s.ident, fields.join(", ")));
                        }
                        syn::Item::Enum(e) if is_pub(&e.vis) => {
                            let variants: Vec<String> = e
                                .variants
                                .iter()
                                .map(|v| match &v.fields {
                                    syn::Fields::Unit => v.ident.to_string(),
                                    fields => format!("{}{}", v.ident, tokens(fields)),
                                })
                                .collect();
                            types.push(format!("  enum {} {{ {} }}", e.ident, variants.join(", ")));
                        }
                        syn::Item::Type(t) if is_pub(&t.vis) => {
                            types.push(format!("  type {} = {}", t.ident, tokens(&t.ty)));
                        }
                        _ => {}
                    }
                }
            }
            syn::Item::Mod(m) if m.ident == "builder" => {
                for it in m.content.iter().flat_map(|(_, items)| items) {
                    if let syn::Item::Impl(imp) = it
                        && imp.trait_.is_none()
                    {
                        let name = tokens(&imp.self_ty);
                        let name = name.split('<').next().unwrap_or(&name).to_string();
                        let setters: Vec<String> = imp
                            .items
                            .iter()
                            .filter_map(|i| match i {
                                syn::ImplItem::Fn(f) if is_pub(&f.vis) && f.sig.ident != "new" => {
                                    Some(f.sig.ident.to_string())
                                }
                                _ => None,
                            })
                            .collect();
                        builders.push(format!("  {name}: {}", setters.join(", ")));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(format!(
        "client methods:\n{}\n\nbuilders:\n{}\n\ntypes:\n{}\n",
        client.join("\n"),
        builders.join("\n"),
        types.join("\n")
    ))
}
