//! One start-up for every vendor's commands: `--sandbox` starts the embedded sandbox and takes
//! its credentials; otherwise the library's `<PREFIX>_*` environment variables, with `--base-url`
//! over `<PREFIX>_BASE_URL`. Credentials not given are named with both ways out.
//!
//! The vendor is known by its [`Service::NAME`], which is also the sandbox's name for it; the
//! embedded sandbox is a cargo feature (`sandbox`, on by default).

use std::io::IsTerminal;
use std::time::Duration;

use clawkit::client::{ClientBuilder, Service};
use clawkit::{ClientConfig, ServiceError};

use crate::failure::{Failure, Hints};

/// Global options every command sees.
pub struct Globals {
    /// `--sandbox`.
    pub sandbox: bool,
    /// `--base-url`.
    pub base_url: Option<String>,
    /// `--json`.
    pub json: bool,
}

impl Globals {
    /// Whether progress on stderr stays hidden: with `--json`, or when stderr is not a terminal.
    pub fn hidden(&self) -> bool {
        self.json || !std::io::stderr().is_terminal()
    }
}

/// A vendor client, and the embedded sandbox it points at with `--sandbox` (kept alive for the
/// command's duration).
pub struct Session<C> {
    /// The client.
    pub client: C,
    _sandbox: Option<Embedded>,
}

/// Starts a session for vendor `S`. `builder` turns the settings into the client's builder,
/// changing them or adding the vendor's own options first (e.g. a placeholder key for public
/// endpoints, a rate-limit tier).
pub async fn start<S>(
    globals: &Globals,
    builder: impl FnOnce(ClientConfig) -> ClientBuilder<S>,
) -> Result<Session<S>, Failure>
where
    S: Hints + Service<Error = ServiceError<<S as Hints>::Reason>>,
{
    let refused = |e: clawkit::ConfigError| Failure::from(ServiceError::<S::Reason>::Config(e));
    let (config, sandbox) = if globals.sandbox {
        let sandbox = Embedded::start(Duration::from_secs(2)).await?;
        let base = sandbox.base_url_of(S::NAME)?;
        eprintln!("claw: using the embedded sandbox at {base} (no account, no charges)");
        let credentials = sandbox.credentials_of(S::NAME)?;
        let config = ClientConfig::from_vars(S::ENV_PREFIX, |name| {
            let suffix = name.strip_prefix(S::ENV_PREFIX)?.strip_prefix('_')?;
            credentials
                .iter()
                .find(|(s, _)| *s == suffix)
                .map(|(_, v)| v.clone())
        })
        .map_err(refused)?
        .base_url(base);
        (config, Some(sandbox))
    } else {
        let mut config = ClientConfig::from_env(S::ENV_PREFIX).map_err(refused)?;
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

/// `claw sandbox`.
#[derive(clap::Args)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Seed for ids and generated data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Seconds a CoreClaw run takes.
    #[arg(long, default_value_t = 3.0)]
    run_seconds: f64,
}

/// Runs the sandbox in the foreground until Ctrl-C.
pub async fn serve(args: SandboxArgs) -> Result<(), Failure> {
    if !(args.run_seconds.is_finite() && args.run_seconds >= 0.0) {
        return Err(Failure::Usage("--run-seconds must be 0 or more".into()));
    }
    Embedded::serve(
        args.port,
        args.seed,
        Duration::from_secs_f64(args.run_seconds),
    )
    .await
}

pub use embedded::Embedded;

/// The embedded sandbox, known to the rest of `claw` only through vendor names.
#[cfg(feature = "sandbox")]
mod embedded {
    use std::time::Duration;

    use clawkit_sandbox::{Sandbox, Vendor};

    use crate::failure::Failure;

    /// The sandbox's vendor of a [`Service::NAME`](clawkit::client::Service::NAME) (the
    /// sandbox spells its vendors the same way).
    fn vendor(name: &str) -> Result<Vendor, Failure> {
        serde_json::from_value(serde_json::json!(name))
            .map_err(|_| Failure::Usage(format!("the embedded sandbox does not serve {name}")))
    }

    /// A running embedded sandbox.
    pub struct Embedded(Sandbox);

    impl Embedded {
        /// Starts one whose CoreClaw runs take `run`.
        pub async fn start(run: Duration) -> Result<Self, Failure> {
            Sandbox::builder()
                .run_duration(run)
                .start()
                .await
                .map(Embedded)
                .map_err(|e| Failure::io("cannot start the embedded sandbox", e))
        }

        /// The base URL of vendor `name`.
        pub fn base_url_of(&self, name: &str) -> Result<String, Failure> {
            Ok(self.0.base_url(vendor(name)?))
        }

        /// The client settings of vendor `name` (`API_KEY`, `CLIENT_SECRET`, ...).
        pub fn credentials_of(&self, name: &str) -> Result<Vec<(&'static str, String)>, Failure> {
            Ok(self.0.credentials(vendor(name)?))
        }

        /// Serves on 127.0.0.1:`port` until Ctrl-C.
        pub async fn serve(port: u16, seed: u64, run: Duration) -> Result<(), Failure> {
            let sandbox = Sandbox::builder()
                .port(port)
                .seed(seed)
                .run_duration(run)
                .start()
                .await
                .map_err(|e| Failure::cannot_listen(port, e))?;
            print!("{}", sandbox.banner());
            eprintln!("Ctrl-C stops it.");
            let _ = tokio::signal::ctrl_c().await;
            sandbox.shutdown().await;
            Ok(())
        }
    }
}

/// Without the embedded sandbox, `--sandbox` and `claw sandbox` are usage errors.
#[cfg(not(feature = "sandbox"))]
mod embedded {
    use std::time::Duration;

    use crate::failure::Failure;

    fn absent<T>(what: &str) -> Result<T, Failure> {
        Err(Failure::Usage(format!(
            "{what}: this claw was built without the embedded sandbox (cargo feature `sandbox`)"
        )))
    }

    /// No sandbox can run: nothing of this type exists.
    pub enum Embedded {}

    impl Embedded {
        /// Refused.
        pub async fn start(_run: Duration) -> Result<Self, Failure> {
            absent("--sandbox")
        }

        /// Never called (no sandbox exists).
        pub fn base_url_of(&self, _name: &str) -> Result<String, Failure> {
            match *self {}
        }

        /// Never called (no sandbox exists).
        pub fn credentials_of(&self, _name: &str) -> Result<Vec<(&'static str, String)>, Failure> {
            match *self {}
        }

        /// Refused.
        pub async fn serve(_port: u16, _seed: u64, _run: Duration) -> Result<(), Failure> {
            absent("claw sandbox")
        }
    }
}
