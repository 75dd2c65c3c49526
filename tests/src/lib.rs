//! Shared pieces of clawkit's cross-crate tests (the tests themselves are in `tests/tests/`).

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// A `reqwest::Client` that sends `headers` on every request, the way the facade sets auth once.
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
