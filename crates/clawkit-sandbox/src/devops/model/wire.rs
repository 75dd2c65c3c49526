//! How the model's answers go on the wire: as the generated types of the spec, serialized. Where
//! such a type leaves an empty list or object out (`skip_serializing_if`) and the sandbox has
//! always sent it, [`keeping`] puts it back.

use serde::Serialize;
use serde_json::Value;

/// `body` as JSON with each of `empty` (a field and its empty value) present even when the
/// generated type left it out.
pub(crate) fn keeping<T: Serialize>(body: &T, empty: &[(&str, Value)]) -> Value {
    let mut value = serde_json::to_value(body).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        for (field, nothing) in empty {
            map.entry(*field).or_insert_with(|| nothing.clone());
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use openclaw_devops_api::types::BuildLogs;
    use serde_json::json;

    use super::*;

    #[test]
    fn empty_fields_are_kept() {
        let logs = BuildLogs {
            console: Some("c".into()),
            test_report: None,
        };
        assert_eq!(
            keeping(&logs, &[("testReport", json!([])), ("console", json!([]))]),
            json!({"console": "c", "testReport": []})
        );
    }
}
