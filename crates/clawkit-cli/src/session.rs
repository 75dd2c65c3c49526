//! One start-up for every vendor's commands: `--sandbox` starts the embedded sandbox and takes
//! its credentials; otherwise the library's `<PREFIX>_*` environment variables, with `--base-url`
//! over `<PREFIX>_BASE_URL`. Credentials not given are named with both ways out.

use std::time::Duration;

use clawkit::ClientConfig;
use clawkit::client::{ClientBuilder, Service};
use clawkit_sandbox::{Sandbox, Vendor};

use crate::{Failure, Globals};

/// A vendor client, and the embedded sandbox it points at with `--sandbox` (kept alive for the
/// command's duration).
pub struct Session<C> {
    /// The client.
    pub client: C,
    _sandbox: Option<Sandbox>,
}

/// Starts a session for vendor `S` (served by the sandbox as `vendor`). `builder` turns the
/// settings into the client's builder, changing them or adding the vendor's own options first
/// (e.g. a placeholder key for public endpoints, a rate-limit tier).
pub async fn start<S>(
    globals: &Globals,
    vendor: Vendor,
    builder: impl FnOnce(ClientConfig) -> ClientBuilder<S>,
) -> Result<Session<S>, Failure>
where
    S: Service,
    Failure: From<S::Error>,
{
    let (config, sandbox) = if globals.sandbox {
        let sandbox = Sandbox::builder()
            .configure(|c: &mut clawkit_sandbox::coreclaw::Config| {
                c.run_duration = Duration::from_secs(2)
            })
            .start()
            .await
            .map_err(|e| Failure::io("cannot start the embedded sandbox", e))?;
        let base = sandbox.base_url(vendor);
        eprintln!("claw: using the embedded sandbox at {base} (no account, no charges)");
        let credentials = sandbox.credentials(vendor);
        let config = ClientConfig::from_vars(S::ENV_PREFIX, |name| {
            let suffix = name.strip_prefix(S::ENV_PREFIX)?.strip_prefix('_')?;
            credentials
                .iter()
                .find(|(s, _)| *s == suffix)
                .map(|(_, v)| v.clone())
        })
        .map_err(clawkit::Error::from)?
        .base_url(base);
        (config, Some(sandbox))
    } else {
        let mut config = ClientConfig::from_env(S::ENV_PREFIX).map_err(clawkit::Error::from)?;
        if let Some(url) = &globals.base_url {
            config = config.base_url(url);
        }
        (config, None)
    };
    let client = builder(config).build()?;
    Ok(Session {
        client,
        _sandbox: sandbox,
    })
}
