//! `claw devops ...`: OpenClaw DevOps v2 through the clawkit facade. Every wait shows a progress
//! bar on stderr (hidden with `--json` or when stderr is not a terminal).

mod jobs;
mod projects;
mod users;

use clap::{Subcommand, ValueEnum};
use clawkit::ErrorKind;
use clawkit::devops::types::WebhookEventType;
use clawkit::devops::{Client, Error, Flow, Reason, Tier};
use serde_json::json;

use crate::args::one_of;
use crate::failure::{Failure, Hints};
use crate::output;
use crate::session::{self, Globals};

use jobs::JobsCommand;
use projects::{ProjectsCommand, TasksCommand};
use users::UsersCommand;

/// `claw devops`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The account's rate-limit tier (sets concurrency and write spacing).
    #[arg(long, value_enum, default_value_t = TierArg::Free, global = true)]
    tier: TierArg,
    #[command(subcommand)]
    command: DevopsCommand,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TierArg {
    Free,
    Pro,
    Enterprise,
}

#[derive(Debug, Subcommand)]
enum DevopsCommand {
    /// Users: list (default), get, create, update, delete.
    Users {
        #[command(subcommand)]
        command: Option<UsersCommand>,
    },
    /// Projects: list (default), get, create.
    Projects {
        #[command(subcommand)]
        command: Option<ProjectsCommand>,
    },
    /// Tasks of a project: list, get, create, move.
    Tasks {
        #[command(subcommand)]
        command: TasksCommand,
    },
    #[command(flatten)]
    Jobs(JobsCommand),
    /// Webhook subscriptions: create, list, delete.
    Webhooks {
        #[command(subcommand)]
        command: WebhooksCommand,
    },
}

#[derive(Debug, Subcommand)]
enum WebhooksCommand {
    Create {
        #[arg(long)]
        url: String,
        /// An event name (repeat): project.created, task.updated, agent.completed,
        /// build.started, build.completed, deployment.success, deployment.failed, test.failed.
        #[arg(long = "event", required = true, value_parser = one_of::<WebhookEventType>(
            "project.created, task.updated, agent.completed, build.started, build.completed, deployment.success, deployment.failed, test.failed"
        ))]
        events: Vec<WebhookEventType>,
        #[arg(long)]
        secret: Option<String>,
    },
    List,
    Delete {
        webhook: String,
    },
}

/// What only the DevOps commands know about its failures.
impl Hints for Client {
    type Reason = Reason;
    const CREDENTIALS: &'static str = " (the API client's id and secret)";
    const BY_KIND: &'static [(ErrorKind, &'static str)] = &[
        (
            ErrorKind::Auth,
            "set OPENCLAW_DEVOPS_CLIENT_ID and OPENCLAW_DEVOPS_CLIENT_SECRET (a 403 means the role lacks the right), or pass --sandbox",
        ),
        (
            ErrorKind::NotFound,
            "list ids with `claw devops users`, `claw devops projects` or `claw devops tasks list PROJECT`",
        ),
    ];

    fn specific(e: &Error) -> Option<String> {
        match (e.flow(), e.reason()) {
            (Some(Flow::Timeout { what, id, .. }), _) => {
                Some(format!("the {what} goes on; look again with its id {id}"))
            }
            (_, Some(Reason::Forbidden)) => Some(
                "the account's role does not allow this (RBAC); use an account with the right role"
                    .into(),
            ),
            _ => None,
        }
    }
}

pub async fn run(globals: &Globals, args: Args) -> Result<(), Failure> {
    // What can be checked before touching the network.
    let input = match &args.command {
        DevopsCommand::Jobs(command) => jobs::agent_input(command)?,
        _ => None,
    };
    let tier = match args.tier {
        TierArg::Free => Tier::Free,
        TierArg::Pro => Tier::Pro,
        TierArg::Enterprise => Tier::Enterprise,
    };
    let session = session::start::<Client>(globals, |c| {
        clawkit::devops::ClientBuilder::from_config(c).tier(tier)
    })
    .await?;
    let client = &session.client;
    match args.command {
        DevopsCommand::Users { command } => users::run(client, globals, command).await?,
        DevopsCommand::Projects { command } => projects::projects(client, globals, command).await?,
        DevopsCommand::Tasks { command } => projects::tasks(client, globals, command).await?,
        DevopsCommand::Jobs(command) => jobs::run(client, command, input, globals.hidden()).await?,
        DevopsCommand::Webhooks { command } => match command {
            WebhooksCommand::Create {
                url,
                events,
                secret,
            } => output::one(
                &client
                    .create_webhook(&url, &events, secret.as_deref())
                    .await?,
            ),
            WebhooksCommand::List => {
                let hooks = client.webhooks().await?;
                let rows = hooks
                    .iter()
                    .map(|h| {
                        vec![
                            h.id.clone(),
                            h.url.clone(),
                            h.events
                                .iter()
                                .map(|e| e.to_string())
                                .collect::<Vec<_>>()
                                .join(","),
                            h.active.to_string(),
                        ]
                    })
                    .collect();
                output::rows(
                    globals.json,
                    &hooks,
                    &["WEBHOOK", "URL", "EVENTS", "ACTIVE"],
                    rows,
                );
            }
            WebhooksCommand::Delete { webhook } => {
                client.delete_webhook(&webhook).await?;
                output::done(
                    globals.json,
                    json!({"webhookId": webhook, "deleted": true}),
                    || format!("deleted webhook {webhook}"),
                );
            }
        },
    }
    Ok(())
}
