//! A Worker's input from the command line: a JSON file, `--set NAME=VALUE` fields and
//! `--system KEY=VALUE,...` parameters, validated by the facade against the Worker's live schema.

use std::path::PathBuf;

use clawkit::coreclaw::{Input, Worker};
use serde_json::Value;

use crate::failure::Failure;

/// A JSON value from the command line: JSON when it parses, else the text as a string.
fn cli_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

fn pair(arg: &str, flag: &str) -> Result<(String, Value), Failure> {
    match arg.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), cli_value(value)))
        }
        _ => Err(Failure::Usage(format!(
            "{flag} `{arg}`: expected NAME=VALUE"
        ))),
    }
}

/// What a start (or a saved task) says about its input and how to run it.
pub(super) struct RunRequest {
    pub(super) input: Option<PathBuf>,
    pub(super) set: Vec<String>,
    pub(super) system: Option<String>,
    pub(super) wait: bool,
    pub(super) out: Option<PathBuf>,
    pub(super) callback_url: Option<String>,
    pub(super) abort_on_interrupt: bool,
}

impl RunRequest {
    /// Only the input (a saved task's).
    pub(super) fn input(input: Option<PathBuf>, set: Vec<String>) -> Self {
        RunRequest {
            input,
            set,
            system: None,
            wait: false,
            out: None,
            callback_url: None,
            abort_on_interrupt: false,
        }
    }
}

pub(super) fn build_input(w: &Worker, request: &RunRequest) -> Result<Input, Failure> {
    let mut builder = w.input();
    if let Some(path) = &request.input {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::io(format!("cannot read {}", path.display()), e))?;
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            Failure::Other(
                format!("{} is not JSON: {e}", path.display()),
                Some(format!(
                    "`claw coreclaw worker {} --example` prints a valid skeleton",
                    w.slug
                )),
            )
        })?;
        builder = builder.set_all(value);
    }
    for arg in &request.set {
        let (name, value) = pair(arg, "--set")?;
        builder = builder.set(&name, value);
    }
    if let Some(system) = &request.system {
        for part in system.split(',').filter(|p| !p.trim().is_empty()) {
            let (name, value) = pair(part, "--system")?;
            builder = builder.set_system(&name, value);
        }
    }
    Ok(builder.build()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_json_or_text() {
        assert_eq!(cli_value("[1,2]"), json!([1, 2]));
        assert_eq!(cli_value("12"), json!(12));
        assert_eq!(cli_value("hello world"), json!("hello world"));
        assert!(pair("novalue", "--set").is_err());
        assert!(pair("=1", "--set").is_err());
        assert_eq!(
            pair("a=b=c", "--set").ok(),
            Some(("a".into(), json!("b=c")))
        );
    }
}
