//! Argument parsers shared by every vendor's commands.

/// A clap value parser for one of a spec's string enums: a usage error listing `allowed` for any
/// other value.
pub fn one_of<T: std::str::FromStr>(
    allowed: &'static str,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |value| {
        value
            .parse()
            .map_err(|_| format!("expected one of {allowed}, got {value:?}"))
    }
}
