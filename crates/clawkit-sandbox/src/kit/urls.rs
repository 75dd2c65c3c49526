//! Webhook receiver URLs, read the same way by every vendor that delivers events: the host of an
//! `http(s)://` URL, and whether a host is reserved for documentation (so no delivery could ever
//! reach it and none is attempted).

/// The host of an `http(s)://` URL, lower-cased (an IPv6 literal without its brackets), or `None`
/// for any other URL.
pub fn http_host(url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let ok = !host.is_empty() && !url.chars().any(char::is_whitespace);
    ok.then(|| host.to_string())
}

/// Whether `host` is reserved for documentation or invalid by definition (RFC 2606), so no
/// delivery could ever reach it.
pub fn reserved_host(host: &str) -> bool {
    ["example.com", "example.net", "example.org"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
        || host.ends_with(".example")
        || host.ends_with(".invalid")
        || host == "invalid"
}

/// Whether `host` is one of the loopback names a receiver may use over http (`localhost`,
/// `127.0.0.1`, `::1`: the fulfillment spec's pattern for webhook URLs).
pub fn loopback_host(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_reserved_names() {
        assert_eq!(
            http_host("http://127.0.0.1:9/hook").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(
            http_host("HTTPS://user@Hooks.Example.com/x").as_deref(),
            Some("hooks.example.com")
        );
        assert_eq!(http_host("http://[::1]:80/").as_deref(), Some("::1"));
        assert_eq!(http_host("ftp://x.org/"), None);
        assert_eq!(http_host("http:///nohost"), None);
        assert!(reserved_host("hooks.example.com"));
        assert!(!reserved_host("example.company.cn"));
        assert!(!reserved_host("127.0.0.1"));
    }

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "127.0.0.1", "::1"] {
            assert!(loopback_host(host), "{host}");
        }
        // 127.1.2.3 is loopback too, but the spec's URL pattern names 127.0.0.1 only.
        for host in [
            "10.0.0.1",
            "127.1.2.3",
            "localhost.evil.com",
            "example.com",
            "::2",
        ] {
            assert!(!loopback_host(host), "{host}");
        }
    }
}
