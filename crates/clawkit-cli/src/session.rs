//! One start-up for every vendor's commands: `--sandbox` starts the embedded sandbox and takes
//! its credentials; otherwise the library's `<PREFIX>_*` environment variables, with `--base-url`
//! over `<PREFIX>_BASE_URL`. Credentials not given are named with both ways out.
//!
//! The vendor is known by its [`Service::NAME`], which is also the sandbox's name for it; the
//! embedded sandbox is a cargo feature (`sandbox`, on by default).

use std::io::IsTerminal;

use clawkit::client::{ClientBuilder, Service};
use clawkit::runtime::config::STATE_ENV;
use clawkit::runtime::state::StateUrl;
use clawkit::{ClientConfig, ServiceError};

use crate::failure::{Failure, Hints};

/// Global options every command sees.
pub struct Globals {
    /// `--sandbox`.
    pub sandbox: bool,
    /// `--base-url`.
    pub base_url: Option<String>,
    /// `--state`.
    pub state: Option<StateUrl>,
    /// `--json`.
    pub json: bool,
}

impl Globals {
    /// The state store a command uses, when it is not the library's own choice: `--state`; else,
    /// unless `CLAWKIT_STATE` is set or the command runs on the embedded sandbox (a new one each
    /// time, whose tokens no other process can use), the user's SQLite file when it can be
    /// opened. `None` leaves the choice to `CLAWKIT_STATE` (or memory).
    pub fn state_for(&self, sandbox: bool) -> Option<StateUrl> {
        if let Some(url) = &self.state {
            return Some(url.clone());
        }
        if sandbox || std::env::var_os(STATE_ENV).is_some_and(|v| !v.is_empty()) {
            return None;
        }
        let path = default_state_file()?;
        let url = StateUrl::Sqlite(path);
        match url.open() {
            Ok(_) => Some(url),
            Err(e) => {
                eprintln!(
                    "claw: warning: {e}; limits and tokens are not shared with other claw \
                     processes (--state or {STATE_ENV} chooses another store)"
                );
                None
            }
        }
    }

    /// Whether progress on stderr stays hidden: with `--json`, or when stderr is not a terminal.
    pub fn hidden(&self) -> bool {
        self.json || !std::io::stderr().is_terminal()
    }
}

/// `$XDG_CACHE_HOME/clawkit/state.db`, else `~/.cache/clawkit/state.db`.
pub fn default_state_file() -> Option<std::path::PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let cache = non_empty("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| non_empty("HOME").map(|home| std::path::Path::new(&home).join(".cache")))?;
    Some(cache.join("clawkit").join("state.db"))
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
        let sandbox = Embedded::start().await?;
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
    let config = match globals.state_for(globals.sandbox) {
        Some(url) => config.state(url.to_url_string()),
        None => config,
    };
    let client = builder(config).build()?;
    Ok(Session {
        client,
        _sandbox: sandbox,
    })
}

/// `claw sandbox`: every vendor's own flags (`--run-seconds`, `--devops-tier`, ...) come from
/// the sandbox itself.
#[derive(clap::Args)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Seed for ids and generated data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Each vendor's settings.
    #[cfg(feature = "sandbox")]
    #[command(flatten)]
    vendors: clawkit_sandbox::Flags,
}

/// Runs the sandbox in the foreground until Ctrl-C.
pub async fn serve(args: SandboxArgs) -> Result<(), Failure> {
    Embedded::serve(args).await
}

pub use embedded::Embedded;

/// The embedded sandbox, known to the rest of `claw` only through vendor names.
#[cfg(feature = "sandbox")]
mod embedded {
    use clawkit_sandbox::Sandbox;

    use super::SandboxArgs;
    use crate::failure::Failure;

    /// A running embedded sandbox.
    pub struct Embedded(Sandbox);

    /// What the sandbox says when it does not serve a vendor `claw` knows.
    fn unserved(name: &str) -> Failure {
        Failure::Usage(format!("the embedded sandbox does not serve {name}"))
    }

    impl Embedded {
        /// Starts one with every vendor's default settings.
        pub async fn start() -> Result<Self, Failure> {
            Sandbox::builder()
                .start()
                .await
                .map(Embedded)
                .map_err(|e| Failure::io("cannot start the embedded sandbox", e))
        }

        /// The base URL of vendor `name`.
        pub fn base_url_of(&self, name: &str) -> Result<String, Failure> {
            self.0.base_url_of(name).ok_or_else(|| unserved(name))
        }

        /// The client settings of vendor `name` (`API_KEY`, `CLIENT_SECRET`, ...).
        pub fn credentials_of(&self, name: &str) -> Result<Vec<(&'static str, String)>, Failure> {
            let credentials = self.0.credentials_of(name);
            if credentials.is_empty() {
                return Err(unserved(name));
            }
            Ok(credentials)
        }

        /// Serves on 127.0.0.1 until Ctrl-C.
        pub async fn serve(args: SandboxArgs) -> Result<(), Failure> {
            let sandbox = Sandbox::builder()
                .port(args.port)
                .seed(args.seed)
                .flags(args.vendors)
                .map_err(Failure::Usage)?
                .start()
                .await
                .map_err(|e| Failure::cannot_listen(args.port, e))?;
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
    use super::SandboxArgs;
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
        pub async fn start() -> Result<Self, Failure> {
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
        pub async fn serve(_args: SandboxArgs) -> Result<(), Failure> {
            absent("claw sandbox")
        }
    }
}
