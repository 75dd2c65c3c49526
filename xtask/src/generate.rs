//! Turning a normalized document into the files of `generated/<vendor>-api`.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Result, anyhow, bail};
use openapiv3::OpenAPI;
use proc_macro2::TokenStream;
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::quote;
use serde_json::Value;

use crate::document::{Prepared, Rewrite, escape};
use crate::normalize::{self, METHODS};

/// The files of one generated crate, by path relative to the workspace root.
pub type Files = BTreeMap<PathBuf, String>;

/// What one regeneration produced.
#[derive(Debug)]
pub struct Output {
    /// Every file of the crate.
    pub files: Files,
    /// Every in-memory rewrite made on the way.
    pub rewrites: Vec<Rewrite>,
}

/// Generates the whole crate for one vendor, in memory.
pub fn generate(prepared: &Prepared) -> Result<Output> {
    let vendor = prepared.vendor;
    let (doc, mut rewrites) = normalize::for_progenitor(prepared);
    let spec = parse(&doc).map_err(|e| anyhow!("{}: {e}", vendor.spec))?;

    let enums = crate::enums::find(&doc).map_err(|e| anyhow!("{}: {e}", vendor.spec))?;
    let settings = settings(&enums, vendor.keep_offsets);
    let client = run_progenitor(vendor.name, &doc, |spec| {
        Generator::new(&settings).generate_tokens(spec)
    })?;

    // httpmock mocks: operations whose mocks progenitor cannot emit correctly are left out.
    let mut mock_doc = doc.clone();
    for (pointer, why) in mock_exclusions(&doc) {
        if let Some((path, method)) = split_operation_pointer(&pointer)
            && let Some(item) = mock_doc
                .pointer_mut(&format!("/paths/{}", escape(&path)))
                .and_then(Value::as_object_mut)
        {
            item.shift_remove(&method);
        }
        rewrites.push(Rewrite {
            vendor: vendor.name,
            pointer,
            what: format!("no httpmock mock: {why}"),
        });
    }
    let mock = run_progenitor(vendor.name, &mock_doc, |spec| {
        Generator::new(&settings).httpmock(spec, "crate")
    })?;

    let header = header(prepared);
    let lib = render_lib(&header, &spec, client, !enums.is_empty())?;
    let mock = format!(
        "{header}\n//! httpmock mocks for every operation of this client (feature `mock`).\n\n{}",
        unparse(mock)?
    );
    let dir = vendor.crate_dir();
    let mut files = Files::new();
    files.insert(dir.join("Cargo.toml"), cargo_toml(prepared, &lib));
    files.insert(dir.join("src/lib.rs"), lib);
    files.insert(dir.join("src/mock.rs"), mock);
    if !enums.is_empty() {
        let body = unparse(crate::enums::tokens(&enums))?;
        files.insert(
            dir.join("src/enums.rs"),
            format!("{header}\n//! Integer enums of the spec (`x-enum-varnames`), unknown values kept.\n\n{body}"),
        );
    }
    Ok(Output { files, rewrites })
}

/// Every generated client carries a `clawkit_runtime::Runtime` and must send each request through
/// it: progenitor's `HooksMode::Expected` makes a missing hook impl a compile error, and
/// [`HOOKS`] is that impl.
///
/// With `keep_offsets`, `format: date-time` becomes `chrono::DateTime<FixedOffset>`: the vendor's
/// times keep the offset they were sent with, and a time without one cannot be built.
fn settings(enums: &[crate::enums::IntEnum], keep_offsets: bool) -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_derive("PartialEq")
        .with_inner_type(quote!(::clawkit_runtime::Runtime))
        .with_hooks(HooksMode::Expected);
    if keep_offsets {
        settings.with_conversion(
            schemars08::schema::SchemaObject {
                instance_type: Some(schemars08::schema::InstanceType::String.into()),
                format: Some("date-time".to_string()),
                ..Default::default()
            },
            "::chrono::DateTime<::chrono::FixedOffset>",
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        );
    }
    for e in enums {
        settings.with_replacement(
            &e.name,
            format!("crate::enums::{}", e.name),
            std::iter::empty(),
        );
    }
    settings
}

/// Parses the normalized document, naming the JSON path of the first thing openapiv3 refuses.
pub fn parse(doc: &Value) -> Result<OpenAPI> {
    let text = serde_json::to_string(doc)?;
    let de = &mut serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(de)
        .map_err(|e| anyhow!("openapiv3 cannot read {}: {}", e.path(), e.inner()))
}

/// Runs a progenitor step, turning a panic or an error into an error that names the vendor and,
/// when it can be found, the operation responsible.
fn run_progenitor(
    vendor: &str,
    doc: &Value,
    step: impl Fn(&OpenAPI) -> Result<TokenStream, progenitor::Error>,
) -> Result<TokenStream> {
    let spec = parse(doc)?;
    match guarded(|| step(&spec)) {
        Ok(tokens) => Ok(tokens),
        Err(whole) => {
            // A failure without any operation lies in the shared schemas.
            let mut bare = doc.clone();
            bare["paths"] = Value::Object(Default::default());
            if let Ok(spec) = parse(&bare)
                && let Err(e) = guarded(|| step(&spec))
            {
                bail!("{vendor}: progenitor rejected components/schemas: {e}")
            }
            // Otherwise find the operations that fail on their own.
            let mut culprits = Vec::new();
            for (path, method) in operations(doc) {
                let mut single = doc.clone();
                if let Some(paths) = single.get_mut("paths").and_then(Value::as_object_mut) {
                    paths.retain(|p, _| *p == path);
                    if let Some(item) = paths.get_mut(&path).and_then(Value::as_object_mut) {
                        item.retain(|m, _| *m == method || !METHODS.contains(&m.as_str()));
                    }
                }
                let Ok(spec) = parse(&single) else { continue };
                if let Err(e) = guarded(|| step(&spec)) {
                    let id = doc
                        .pointer(&format!("/paths/{}/{method}/operationId", escape(&path)))
                        .and_then(Value::as_str)
                        .unwrap_or("?");
                    culprits.push(format!("  {} {path} ({id}): {e}", method.to_uppercase()));
                }
            }
            if culprits.is_empty() {
                bail!("{vendor}: progenitor rejected the spec: {whole}")
            }
            bail!(
                "{vendor}: progenitor rejected {} operation(s):\n{}",
                culprits.len(),
                culprits.join("\n")
            )
        }
    }
}

/// Runs `f`, catching a panic without letting the default hook print a backtrace.
fn guarded(
    f: impl FnOnce() -> Result<TokenStream, progenitor::Error>,
) -> Result<TokenStream, String> {
    let message = Arc::new(Mutex::new(String::new()));
    let sink = message.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into());
        let at = info
            .location()
            .map(|l| format!(" (at {l})"))
            .unwrap_or_default();
        if let Ok(mut m) = sink.lock() {
            *m = format!("{text}{at}");
        }
    }));
    let result = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    match result {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "progenitor panicked: {}",
            message.lock().map(|m| m.clone()).unwrap_or_default()
        )),
    }
}

/// Every (path, method) of the document, in order.
pub fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in METHODS {
                if item.get(*method).is_some() {
                    out.push((path.clone(), method.to_string()));
                }
            }
        }
    }
    out
}

fn split_operation_pointer(pointer: &str) -> Option<(String, String)> {
    let rest = pointer.strip_prefix("/paths/")?;
    let (path, method) = rest.rsplit_once('/')?;
    Some((
        path.replace("~1", "/").replace("~0", "~"),
        method.to_string(),
    ))
}

/// Operations whose httpmock mocks progenitor 0.15 gets wrong (see shared/reference/progenitor-notes.md):
/// a form body (the mock matches JSON), array query parameters (the mock does not compile) and
/// date-time query parameters (the mock compares a different rendering).
fn mock_exclusions(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, method) in operations(doc) {
        let pointer = format!("/paths/{}/{method}", escape(&path));
        let Some(op) = doc.pointer(&pointer) else {
            continue;
        };
        if op
            .pointer("/requestBody/content")
            .and_then(Value::as_object)
            .is_some_and(|c| c.contains_key("application/x-www-form-urlencoded"))
        {
            out.push((pointer, "form-urlencoded body".into()));
            continue;
        }
        let params = op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(
                doc.pointer(&format!("/paths/{}/parameters", escape(&path)))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            );
        for param in params {
            let param = match param.get("$ref").and_then(Value::as_str) {
                Some(r) => crate::document::resolve(doc, r).unwrap_or(param),
                None => param,
            };
            if param.get("in").and_then(Value::as_str) != Some("query") {
                continue;
            }
            let schema = match param.pointer("/schema/$ref").and_then(Value::as_str) {
                Some(r) => crate::document::resolve(doc, r),
                None => param.get("schema"),
            };
            let name = param.get("name").and_then(Value::as_str).unwrap_or("?");
            if let Some(schema) = schema {
                if schema.get("type").and_then(Value::as_str) == Some("array") {
                    out.push((pointer.clone(), format!("array query parameter `{name}`")));
                    break;
                }
                if schema.get("format").and_then(Value::as_str) == Some("date-time") {
                    out.push((
                        pointer.clone(),
                        format!("date-time query parameter `{name}`"),
                    ));
                    break;
                }
            }
        }
    }
    out
}

/// The first lines of every generated file.
pub fn header(prepared: &Prepared) -> String {
    let mut header = format!(
        "// @generated by cargo xtask regen from {}. Do not edit.\n",
        prepared.vendor.spec
    );
    if let Some(overlay) = prepared.vendor.overlay {
        header.push_str(&format!("// Merged with {overlay} before generation.\n"));
    }
    header
}

fn unparse(tokens: TokenStream) -> Result<String> {
    let file: syn::File = syn::parse2(tokens)?;
    Ok(prettyplease::unparse(&file))
}

/// The request hooks of every generated client: the runtime prepares each request (limits, auth,
/// signing over the final bytes) and sends it (rate-limit headers, clock skew, one replay after a
/// refused token).
const HOOKS: &str = "
/// Every request passes through the client's [`clawkit_runtime::Runtime`]: `pre` applies limits,
/// auth and signing to the final request, `exec` sends it (and replays it once with a renewed
/// token if the service refused the old one).
impl ClientHooks<::clawkit_runtime::Runtime> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        self.inner.prepare(request, info.operation_id).await
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        self.inner.execute(&self.client, request, info.operation_id).await
    }
}
";

fn render_lib(header: &str, spec: &OpenAPI, client: TokenStream, enums: bool) -> Result<String> {
    let enums = if enums {
        "/// Integer enums of the spec, with unknown values kept.\n#[rustfmt::skip]\npub mod enums;\n"
    } else {
        ""
    };
    let title = &spec.info.title;
    let version = &spec.info.version;
    let body = unparse(client)?;
    Ok(format!(
        "{header}\
//! Low-level client for {title} (API version {version}), generated by progenitor.
//!
//! Every operation of the spec is a builder method on [`Client`]; request and response shapes
//! are in [`types`]. The handwritten `clawkit` facade adds auth, typed errors, retries and
//! pagination on top: most users want that crate instead.
//!
//! The crate uses `reqwest` without a TLS backend: pass a `reqwest::Client` built by the
//! application (or the facade) to [`Client::new_with_client`], with the
//! [`clawkit_runtime::Runtime`] that authenticates (and, where the vendor needs it, signs) every
//! request.
// prettyplease formatted this file; rustfmt leaves it as generated so `regen --check` stays exact.
#![cfg_attr(rustfmt, rustfmt::skip)]
#![allow(clippy::all, clippy::pedantic, rustdoc::all, unused_imports, irrefutable_let_patterns)]

{body}{HOOKS}
{enums}/// httpmock mocks of every operation, for tests (feature `mock`).
#[cfg(feature = \"mock\")]
#[rustfmt::skip]
pub mod mock;
"
    ))
}

fn cargo_toml(prepared: &Prepared, lib: &str) -> String {
    let mut deps = vec![
        "clawkit-runtime.workspace = true".to_string(),
        "progenitor-client.workspace = true".to_string(),
        "reqwest = { workspace = true, features = [\"json\", \"query\", \"stream\"] }".to_string(),
        "serde.workspace = true".to_string(),
        "serde_json.workspace = true".to_string(),
    ];
    for (needle, dep) in [
        ("chrono::", "chrono.workspace = true"),
        ("regress::", "regress.workspace = true"),
        ("uuid::", "uuid.workspace = true"),
        ("futures::", "futures.workspace = true"),
    ] {
        if lib.contains(needle) {
            deps.push(dep.to_string());
        }
    }
    deps.sort();
    format!(
        "# @generated by cargo xtask regen from {spec}. Do not edit.\n\
[package]\n\
name = \"{name}\"\n\
description = \"Low-level {vendor} client generated from {spec}\"\n\
version.workspace = true\n\
edition.workspace = true\n\
rust-version.workspace = true\n\
license.workspace = true\n\
publish = false\n\
\n\
# Spec descriptions become doc comments; their code blocks (curl, canonical strings) are not Rust.\n\
[lib]\n\
doctest = false\n\
\n\
[dependencies]\n\
{deps}\n\
httpmock = {{ workspace = true, optional = true }}\n\
regex = {{ workspace = true, optional = true }}\n\
\n\
[features]\n\
mock = [\"dep:httpmock\", \"dep:regex\"]\n",
        spec = prepared.vendor.spec,
        name = prepared.vendor.crate_name(),
        vendor = prepared.vendor.name,
        deps = deps.join("\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Vendor;
    use serde_json::json;

    fn prepared(document: Value) -> Prepared {
        Prepared {
            vendor: Vendor::find("bazhuayu").expect("a vendor"),
            document,
            rewrites: vec![],
        }
    }

    fn op(id: &str, schema: Value) -> Value {
        json!({"get": {"operationId": id, "responses": {"200": {"description": "ok",
            "content": {"application/json": {"schema": schema}}}}}})
    }

    #[test]
    fn a_rejected_operation_is_named_without_a_backtrace() {
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/good": op("get_good", json!({"type": "string"})),
                "/bad": op("get_bad", json!({"$ref": "#/components/schemas/Missing"})),
            },
            "components": {"schemas": {}}
        });
        let err = generate(&prepared(doc)).unwrap_err().to_string();
        assert!(
            err.starts_with("bazhuayu: progenitor rejected 1 operation(s)"),
            "{err}"
        );
        assert!(err.contains("GET /bad (get_bad)"), "{err}");
        assert!(!err.contains("/good"), "{err}");
    }

    #[test]
    fn generation_is_deterministic_and_headed() {
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": op("get_a", json!({"type": "object", "properties": {"n": {"type": "integer"}}}))},
        });
        let first = generate(&prepared(doc.clone())).unwrap().files;
        let second = generate(&prepared(doc)).unwrap().files;
        assert_eq!(first, second);
        for (path, text) in &first {
            assert!(
                text.starts_with("# @generated") || text.starts_with("// @generated"),
                "{} has no header",
                path.display()
            );
        }
    }
}
