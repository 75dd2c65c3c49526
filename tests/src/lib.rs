//! Shared pieces of clawkit's cross-crate tests (the tests themselves are in `tests/tests/`).

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// A runtime that sends one header on every request (marked sensitive), the way a vendor's
/// auth does, for the generated clients.
pub fn runtime_with_header(name: &'static str, value: &str) -> clawkit_runtime::Runtime {
    let mut value = HeaderValue::from_str(value).expect("test header values are ASCII");
    value.set_sensitive(true);
    clawkit_runtime::Runtime::builder()
        .auth(clawkit_runtime::Auth::Header(
            HeaderName::from_static(name),
            value,
        ))
        .build()
}

/// A `reqwest::Client` that sends `headers` on every request.
pub fn client_with_headers(headers: &[(&'static str, &str)]) -> reqwest::Client {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).expect("test header values are ASCII"),
        );
    }
    reqwest::Client::builder()
        .default_headers(map)
        .build()
        .expect("a plain-HTTP reqwest client builds")
}

pub mod contract {
    //! Every response a test sees, checked against the vendor's merged spec.

    use std::path::Path;

    use serde_json::Value;
    use xtask::document::{self, Vendor};

    /// One vendor's spec, ready to check responses.
    pub struct Contract {
        doc: Value,
    }

    impl Contract {
        /// Loads the merged spec (overlay applied) of `vendor`.
        pub fn load(vendor: &str) -> Self {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let vendor = Vendor::find(vendor).expect("a known vendor");
            let prepared = document::load(&root, vendor).expect("the spec loads");
            Self {
                doc: prepared.document,
            }
        }

        /// The spec path template that `path` (without query) matches.
        fn template(&self, path: &str) -> Option<String> {
            let paths = self.doc.get("paths")?.as_object()?;
            let segments: Vec<&str> = path.split('/').collect();
            paths
                .keys()
                .find(|t| {
                    let ts: Vec<&str> = t.split('/').collect();
                    ts.len() == segments.len()
                        && ts
                            .iter()
                            .zip(&segments)
                            .all(|(t, s)| (t.starts_with('{') && t.ends_with('}')) || t == s)
                })
                .cloned()
        }

        /// Panics unless `status` is documented for the operation and `body` matches its schema.
        pub fn check(&self, method: &str, path: &str, status: u16, body: &Value) {
            let path = path.split('?').next().unwrap_or(path);
            let template = self
                .template(path)
                .unwrap_or_else(|| panic!("{path} is not in the spec"));
            let op = &self.doc["paths"][&template][method.to_lowercase()];
            assert!(op.is_object(), "{method} {template} is not in the spec");
            let responses = &op["responses"];
            let response = responses
                .get(status.to_string())
                .or_else(|| responses.get("default"))
                .unwrap_or_else(|| {
                    panic!("{method} {template}: HTTP {status} is not documented; body {body}")
                });
            let response = match response.get("$ref").and_then(Value::as_str) {
                Some(r) => document::resolve(&self.doc, r).expect("response $ref resolves"),
                None => response,
            };
            let Some(schema) = response.pointer("/content/application~1json/schema") else {
                return;
            };
            let validator = xtask::lint::compile(&self.doc, schema).expect("schema compiles");
            let errors: Vec<String> = validator
                .iter_errors(body)
                .map(|e| format!("at `{}`: {e}", e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{method} {template} HTTP {status}: the response does not match the spec:\n{}\nbody: {body}",
                errors.join("\n")
            );
        }
    }
}

pub mod http {
    //! A small JSON client that checks every response against the spec.

    use serde_json::Value;

    use crate::contract::Contract;

    /// Calls one vendor's API on a base URL and checks each response against its spec.
    pub struct Api {
        /// The underlying client.
        pub http: reqwest::Client,
        /// Vendor base URL, e.g. `http://127.0.0.1:PORT/coreclaw`.
        pub base: String,
        contract: Contract,
    }

    /// Status and JSON body of a response.
    #[derive(Debug, Clone)]
    pub struct Reply {
        /// HTTP status.
        pub status: u16,
        /// Parsed body.
        pub body: Value,
    }

    impl Reply {
        /// The envelope's `code` (CoreClaw), if any.
        pub fn code(&self) -> i64 {
            self.body["code"].as_i64().unwrap_or(-1)
        }

        /// The envelope's `message`.
        pub fn message(&self) -> &str {
            self.body["message"].as_str().unwrap_or("")
        }

        /// The envelope's `data`.
        pub fn data(&self) -> &Value {
            &self.body["data"]
        }
    }

    impl Api {
        /// A client for `vendor` at `base`, sending `headers` on every request.
        pub fn new(vendor: &str, base: &str, headers: &[(&'static str, &str)]) -> Self {
            Self {
                http: crate::client_with_headers(headers),
                base: base.to_string(),
                contract: Contract::load(vendor),
            }
        }

        async fn finish(&self, method: &str, path: &str, response: reqwest::Response) -> Reply {
            let status = response.status().as_u16();
            let text = response.text().await.expect("the body arrives");
            let body: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{method} {path}: body is not JSON ({e}): {text}"));
            self.contract.check(method, path, status, &body);
            Reply { status, body }
        }

        /// POSTs a JSON body.
        pub async fn post(&self, path: &str, body: Value) -> Reply {
            let response = self
                .http
                .post(format!("{}{path}", self.base))
                .json(&body)
                .send()
                .await
                .expect("the sandbox answers");
            self.finish("POST", path, response).await
        }

        /// PUTs a JSON body.
        pub async fn put(&self, path: &str, body: Value) -> Reply {
            let response = self
                .http
                .put(format!("{}{path}", self.base))
                .json(&body)
                .send()
                .await
                .expect("the sandbox answers");
            self.finish("PUT", path, response).await
        }

        /// DELETEs a path.
        pub async fn delete(&self, path: &str) -> Reply {
            let response = self
                .http
                .delete(format!("{}{path}", self.base))
                .send()
                .await
                .expect("the sandbox answers");
            self.finish("DELETE", path, response).await
        }

        /// GETs a path (with its query).
        pub async fn get(&self, path: &str) -> Reply {
            let response = self
                .http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .expect("the sandbox answers");
            self.finish("GET", path, response).await
        }
    }
}
