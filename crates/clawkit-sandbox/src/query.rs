//! Query parameters as the specs type them, read the same way by every vendor.

/// An integer of at least 1, as a spec's `type: integer, minimum: 1` allows it: a string of
/// digits that is not all zeros. One too large for `u64` is still valid (it means "more than
/// there is") and reads as `u64::MAX`. Anything else is `None`.
pub fn positive_integer(value: &str) -> Option<u64> {
    match value.parse::<u64>() {
        Ok(n) if n >= 1 => Some(n),
        _ if !value.is_empty()
            && value.bytes().all(|b| b.is_ascii_digit())
            && !value.trim_start_matches('0').is_empty() =>
        {
            Some(u64::MAX)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn digits_of_at_least_one_saturating() {
        use super::positive_integer as p;
        assert_eq!(p("7"), Some(7));
        assert_eq!(p("007"), Some(7));
        assert_eq!(p("99999999999999999999999"), Some(u64::MAX));
        for bad in ["0", "000", "", "-1", "1.5", "x", " 1"] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }
}
