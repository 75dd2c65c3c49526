//! What a request reader finds wrong, and how a vendor words it: the [`Problem`]s that
//! the `read` module collects, and the vendor's [`Wording`].

use serde_json::Value;

/// One thing wrong with a request, naming its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The field, parameter or JSON path (`body` for the whole body).
    pub field: String,
    /// What is wrong, in the vendor's words.
    pub message: String,
    /// A machine code: `required`, `invalid_type`, `invalid_value`, `min_value`, or one a
    /// deserializer gave with [`coded`].
    pub code: &'static str,
}

impl Problem {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>, code: &'static str) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            code,
        }
    }
}

/// How a vendor words the problems the readers find.
pub trait Wording: Sync {
    /// `field` is required and missing.
    fn required(&self, field: &str) -> String {
        format!("{field} is required")
    }
    /// The value is not of the `expected` JSON type.
    fn wrong_type(&self, expected: &str) -> String {
        format!("expected {expected}")
    }
    /// The value `got` is not of the `expected` JSON type (for a vendor that names what was
    /// sent; by default [`Wording::wrong_type`]).
    fn wrong_type_of(&self, expected: &str, got: &Value) -> String {
        let _ = got;
        self.wrong_type(expected)
    }
    /// The value `value` is not one of `allowed`.
    fn not_one_of(&self, value: &str, allowed: &[&str]) -> String {
        format!("{value:?} is not one of {}", allowed.join(", "))
    }
    /// The number is below `min`.
    fn below(&self, min: i64) -> String {
        format!("must be at least {min}")
    }
}

/// English, as [`Wording`]'s defaults say it.
#[derive(Debug, Clone, Copy, Default)]
pub struct English;

impl Wording for English {}

impl std::fmt::Debug for dyn Wording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Wording")
    }
}

/// The JSON type of `value` as a schema names it: `null`, `boolean`, `integer` (a number with no
/// fraction part), `number`, `string`, `array` or `object`; for messages naming what was sent.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
