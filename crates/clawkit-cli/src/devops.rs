//! `claw devops ...`: OpenClaw DevOps v2 through the clawkit facade. Every wait shows a progress
//! bar on stderr (hidden with `--json` or when stderr is not a terminal).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use clawkit::devops::types::{
    self, AgentType, Environment, Role, TaskStatus, TaskType, UserStatusFilter, WebhookEventType,
};
use clawkit::devops::{Client, NewProject, NewTask, NewUser, Tier, UserFilter, UserUpdate, Wait};
use clawkit_sandbox::Vendor;
use futures::TryStreamExt;
use indicatif::ProgressBar;
use serde::Serialize;
use serde_json::{Value, json};

use crate::output::{self, json_out, table};
use crate::{Failure, Globals, session};

/// `claw devops`.
#[derive(Debug, clap::Args)]
pub struct DevopsArgs {
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
    /// AI agents: activate (and wait), progress, result.
    Agent {
        #[command(subcommand)]
        command: AgentCommand,
    },
    /// Pipelines: trigger a build (and wait).
    Pipeline {
        #[command(subcommand)]
        command: PipelineCommand,
    },
    /// A build: its stages and artifacts (`--wait` until it ends).
    Build {
        build: String,
        #[arg(long)]
        wait: bool,
    },
    /// Starts a deployment (production needs --approver).
    #[command(disable_version_flag = true)]
    Deploy {
        #[arg(long = "app")]
        application: String,
        #[arg(long = "env", value_parser = parse_env)]
        environment: Environment,
        #[arg(long)]
        version: String,
        #[arg(long, value_parser = parse_strategy)]
        strategy: Option<types::DeploymentStrategy>,
        /// An approver's user id (repeat for several).
        #[arg(long = "approver")]
        approvers: Vec<String>,
        #[arg(long)]
        wait: bool,
    },
    /// A deployment's status (`--wait` until it ends).
    Deployment {
        deployment: String,
        #[arg(long)]
        wait: bool,
    },
    /// Rolls a deployment back.
    Rollback {
        deployment: String,
        #[arg(long)]
        reason: String,
        /// The version to go back to (default: the one before).
        #[arg(long = "to")]
        target_version: Option<String>,
        #[arg(long)]
        wait: bool,
    },
    /// Test suites: run (and wait), report.
    Tests {
        #[command(subcommand)]
        command: TestsCommand,
    },
    /// Webhook subscriptions: create, list, delete.
    Webhooks {
        #[command(subcommand)]
        command: WebhooksCommand,
    },
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    List {
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
        #[arg(long, value_parser = parse_user_status)]
        status: Option<UserStatusFilter>,
        #[arg(long)]
        search: Option<String>,
        /// At most this many users.
        #[arg(long)]
        limit: Option<usize>,
    },
    Get {
        user: String,
    },
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// The new account's password.
        #[arg(long)]
        password: String,
        #[arg(long)]
        full_name: String,
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
        #[arg(long)]
        department: Option<String>,
    },
    Update {
        user: String,
        #[arg(long)]
        full_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
        #[arg(long)]
        department: Option<String>,
    },
    Delete {
        user: String,
        #[arg(long)]
        hard: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ProjectsCommand {
    List {
        #[arg(long)]
        status: Option<String>,
    },
    Get {
        project: String,
    },
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        key: String,
        #[arg(long)]
        owner: String,
        #[arg(long = "member")]
        members: Vec<String>,
        #[arg(long)]
        description: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum TasksCommand {
    List {
        project: String,
        #[arg(long, value_parser = parse_task_status)]
        status: Option<TaskStatus>,
    },
    Get {
        task: String,
    },
    Create {
        project: String,
        #[arg(long = "type", value_parser = parse_task_type)]
        kind: TaskType,
        #[arg(long)]
        title: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        assignee: Option<String>,
    },
    /// Moves a task to another status (todo, in_progress, review, testing, done).
    Move {
        task: String,
        #[arg(value_parser = parse_task_status)]
        status: TaskStatus,
        #[arg(long)]
        comment: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AgentCommand {
    /// Activates an agent (product, architecture, api, backend, frontend, test, devops, qa).
    Activate {
        #[arg(value_parser = parse_agent)]
        agent_type: AgentType,
        #[arg(long)]
        task: String,
        /// A JSON object file with the agent's input.
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        #[arg(long)]
        wait: bool,
    },
    Progress {
        activation: String,
    },
    Result {
        activation: String,
    },
}

#[derive(Debug, Subcommand)]
enum PipelineCommand {
    Trigger {
        pipeline: String,
        #[arg(long)]
        branch: Option<String>,
        #[arg(long)]
        commit: Option<String>,
        #[arg(long = "env", value_parser = parse_env)]
        environment: Option<Environment>,
        #[arg(long)]
        skip_tests: bool,
        #[arg(long)]
        wait: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TestsCommand {
    Run {
        suite: String,
        #[arg(long = "env")]
        environment: Option<String>,
        #[arg(long = "browser")]
        browsers: Vec<String>,
        #[arg(long)]
        parallel: Option<u32>,
        #[arg(long)]
        wait: bool,
    },
    Status {
        run: String,
    },
    Report {
        run: String,
    },
}

#[derive(Debug, Subcommand)]
enum WebhooksCommand {
    Create {
        #[arg(long)]
        url: String,
        /// An event name (repeat): project.created, task.updated, agent.completed,
        /// build.started, build.completed, deployment.success, deployment.failed, test.failed.
        #[arg(long = "event", required = true, value_parser = parse_event)]
        events: Vec<WebhookEventType>,
        #[arg(long)]
        secret: Option<String>,
    },
    List,
    Delete {
        webhook: String,
    },
}

/// A value of one of the spec's string enums, or a usage error listing the allowed ones.
fn parse_enum<T: std::str::FromStr>(value: &str, allowed: &'static str) -> Result<T, String> {
    crate::args::one_of(allowed)(value)
}

fn parse_role(v: &str) -> Result<Role, String> {
    parse_enum(
        v,
        "admin, product_manager, architect, developer, tester, devops, viewer",
    )
}
fn parse_user_status(v: &str) -> Result<UserStatusFilter, String> {
    parse_enum(v, "active, inactive, suspended")
}
fn parse_task_status(v: &str) -> Result<TaskStatus, String> {
    parse_enum(v, "todo, in_progress, review, testing, done")
}
fn parse_task_type(v: &str) -> Result<TaskType, String> {
    parse_enum(v, "story, task, bug, epic")
}
fn parse_agent(v: &str) -> Result<AgentType, String> {
    parse_enum(
        v,
        "product, architecture, api, backend, frontend, test, devops, qa",
    )
}
fn parse_env(v: &str) -> Result<Environment, String> {
    parse_enum(v, "dev, test, staging, prod")
}
fn parse_strategy(v: &str) -> Result<types::DeploymentStrategy, String> {
    parse_enum(v, "rolling, blue-green, canary")
}
fn parse_event(v: &str) -> Result<WebhookEventType, String> {
    parse_enum(
        v,
        "project.created, task.updated, agent.completed, build.started, build.completed, deployment.success, deployment.failed, test.failed",
    )
}

fn show<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Prints one resource: pretty JSON either way (it is nested); `--json` keeps it compact enough
/// to pipe.
fn print_one<T: Serialize>(value: &T) {
    json_out(&show(value));
}

/// Drives a wait with a 0-100 bar, the message from each snapshot.
async fn with_bar<T, R>(
    wait: Wait<T, R>,
    hidden: bool,
    what: &'static str,
    status: impl Fn(&T) -> (u64, String) + Send + 'static,
) -> Result<R, Failure>
where
    T: Send + 'static,
    R: Send + 'static,
{
    let bar = output::bar(Some(100), hidden, what);
    let b: ProgressBar = bar.clone();
    let result = wait
        .on_progress(move |snapshot| {
            let (pos, message) = status(snapshot);
            b.set_position(pos.min(100));
            b.set_message(message);
        })
        .await;
    bar.finish_and_clear();
    Ok(result?)
}

fn percent(p: Option<i64>) -> u64 {
    p.and_then(|p| u64::try_from(p).ok()).unwrap_or(0)
}

/// Ends with exit code 3 when a job ended without success.
fn check(status: &str, what: &str, id: &str) -> Result<(), Failure> {
    match status {
        "failed" | "cancelled" | "rolled_back" => {
            Err(Failure::RunFailed(format!("{what} {id} ended {status}")))
        }
        _ => Ok(()),
    }
}

pub async fn run(globals: &Globals, args: DevopsArgs) -> Result<(), Failure> {
    // What can be checked before touching the network.
    let input = match &args.command {
        DevopsCommand::Agent {
            command: AgentCommand::Activate { input, .. },
        } => {
            let text = std::fs::read_to_string(input)
                .map_err(|e| Failure::io(format!("cannot read {}", input.display()), e))?;
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => Some(map),
                Ok(_) => {
                    return Err(Failure::Usage(format!(
                        "{}: the agent input must be a JSON object",
                        input.display()
                    )));
                }
                Err(e) => {
                    return Err(Failure::Usage(format!(
                        "{}: not JSON: {e}",
                        input.display()
                    )));
                }
            }
        }
        _ => None,
    };
    let tier = match args.tier {
        TierArg::Free => Tier::Free,
        TierArg::Pro => Tier::Pro,
        TierArg::Enterprise => Tier::Enterprise,
    };
    let session = session::start::<Client>(globals, Vendor::OpenclawDevops, |c| {
        clawkit::devops::ClientBuilder::from_config(c).tier(tier)
    })
    .await?;
    let client = &session.client;
    let hidden = globals.json || !std::io::stderr().is_terminal();
    match args.command {
        DevopsCommand::Users { command } => users(client, globals, command).await?,
        DevopsCommand::Projects { command } => projects(client, globals, command).await?,
        DevopsCommand::Tasks { command } => tasks(client, globals, command).await?,
        DevopsCommand::Agent { command } => match command {
            AgentCommand::Activate {
                agent_type,
                task,
                wait,
                ..
            } => {
                let request = types::ActivateAgentRequest {
                    task_id: task,
                    input: input.unwrap_or_default(),
                    config: Default::default(),
                    notify_on_complete: true,
                };
                let (activation, started) = client.activate_agent(agent_type, request).await?;
                if !wait {
                    print_one(&started);
                    return Ok(());
                }
                let result = with_bar(activation.wait(), hidden, "agent", |p| {
                    let step = p.current_step.clone().unwrap_or_else(|| p.status.clone());
                    let log = p.logs.last().map(|l| l.message.clone()).unwrap_or_default();
                    (percent(Some(p.progress)), format!("{step} {log}"))
                })
                .await?;
                print_one(&result);
                check(&result.status, "activation", &activation.id)?;
            }
            AgentCommand::Progress { activation } => {
                print_one(&client.activation(&activation).progress().await?)
            }
            AgentCommand::Result { activation } => {
                print_one(&client.activation(&activation).result().await?)
            }
        },
        DevopsCommand::Pipeline {
            command:
                PipelineCommand::Trigger {
                    pipeline,
                    branch,
                    commit,
                    environment,
                    skip_tests,
                    wait,
                },
        } => {
            let request = types::TriggerPipelineRequest {
                branch,
                commit,
                environment,
                skip_tests,
                variables: Default::default(),
            };
            let build = client.trigger_pipeline(&pipeline, request).await?;
            if !wait {
                print_one(&build.queued);
                return Ok(());
            }
            wait_build(&build, hidden).await?;
        }
        DevopsCommand::Build { build, wait } => {
            let build = client.build(&build);
            if wait {
                wait_build(&build, hidden).await?;
            } else {
                print_one(&build.get().await?);
            }
        }
        DevopsCommand::Deploy {
            application,
            environment,
            version,
            strategy,
            approvers,
            wait,
        } => {
            let request = types::CreateDeploymentRequest {
                application_id: application,
                environment: environment.to_string(),
                version,
                strategy,
                approvals: approvers,
            };
            let (deployment, started) = client.deploy(request).await?;
            if wait {
                wait_deployment(&deployment, hidden).await?;
            } else {
                print_one(&started);
            }
        }
        DevopsCommand::Deployment { deployment, wait } => {
            let deployment = client.deployment(&deployment);
            if wait {
                wait_deployment(&deployment, hidden).await?;
            } else {
                print_one(&deployment.get().await?);
            }
        }
        DevopsCommand::Rollback {
            deployment,
            reason,
            target_version,
            wait,
        } => {
            let (rollback, started) = client
                .deployment(&deployment)
                .rollback(&reason, target_version.as_deref())
                .await?;
            if wait {
                wait_deployment(&rollback, hidden).await?;
            } else {
                print_one(&started);
            }
        }
        DevopsCommand::Tests { command } => match command {
            TestsCommand::Run {
                suite,
                environment,
                browsers,
                parallel,
                wait,
            } => {
                let request = types::RunTestSuiteRequest {
                    environment,
                    browsers: if browsers.is_empty() {
                        vec!["chromium".into()]
                    } else {
                        browsers
                    },
                    parallel: parallel
                        .and_then(|p| std::num::NonZeroU64::new(u64::from(p)))
                        .unwrap_or(
                            std::num::NonZeroU64::new(4).unwrap_or(std::num::NonZeroU64::MIN),
                        ),
                };
                let run = client.run_test_suite(&suite, request).await?;
                if !wait {
                    print_one(&run.get().await?);
                    return Ok(());
                }
                let report = with_bar(run.wait(), hidden, "tests", |r| {
                    (percent(r.progress), r.status.clone())
                })
                .await?;
                print_one(&report);
                check(&report.status, "test run", &run.id)?;
            }
            TestsCommand::Status { run } => print_one(&client.test_run(&run).get().await?),
            TestsCommand::Report { run } => print_one(&client.test_run(&run).report().await?),
        },
        DevopsCommand::Webhooks { command } => match command {
            WebhooksCommand::Create {
                url,
                events,
                secret,
            } => print_one(
                &client
                    .create_webhook(&url, &events, secret.as_deref())
                    .await?,
            ),
            WebhooksCommand::List => {
                let hooks = client.webhooks().await?;
                if globals.json {
                    json_out(&show(&hooks));
                } else {
                    let rows: Vec<_> = hooks
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
                    table(&["WEBHOOK", "URL", "EVENTS", "ACTIVE"], &rows);
                }
            }
            WebhooksCommand::Delete { webhook } => {
                client.delete_webhook(&webhook).await?;
                done(
                    globals,
                    json!({"webhookId": webhook, "deleted": true}),
                    || format!("deleted webhook {webhook}"),
                );
            }
        },
    }
    Ok(())
}

fn done(globals: &Globals, value: Value, text: impl FnOnce() -> String) {
    if globals.json {
        json_out(&value);
    } else {
        println!("{}", text());
    }
}

async fn wait_build(build: &clawkit::devops::BuildRef, hidden: bool) -> Result<(), Failure> {
    let done = with_bar(build.wait(), hidden, "build", |b| {
        (
            percent(b.progress),
            format!(
                "{} {}",
                b.status,
                b.current_stage.clone().unwrap_or_default()
            ),
        )
    })
    .await?;
    print_one(&done);
    check(&done.status, "build", &build.id)
}

async fn wait_deployment(
    deployment: &clawkit::devops::DeploymentRef,
    hidden: bool,
) -> Result<(), Failure> {
    let done = with_bar(deployment.wait(), hidden, "deploy", |d| {
        (percent(d.progress), d.status.clone())
    })
    .await?;
    print_one(&done);
    check(&done.status, "deployment", &deployment.id)
}

async fn users(
    client: &Client,
    globals: &Globals,
    command: Option<UsersCommand>,
) -> Result<(), Failure> {
    match command.unwrap_or(UsersCommand::List {
        role: None,
        status: None,
        search: None,
        limit: None,
    }) {
        UsersCommand::List {
            role,
            status,
            search,
            limit,
        } => {
            let mut filter = UserFilter::new();
            if let Some(role) = role {
                filter = filter.role(role);
            }
            if let Some(status) = status {
                filter = filter.status(status);
            }
            if let Some(search) = search {
                filter = filter.search(search);
            }
            let mut stream = client.users(filter);
            let mut users = Vec::new();
            while let Some(user) = stream.try_next().await? {
                users.push(user);
                if limit.is_some_and(|l| users.len() >= l) {
                    break;
                }
            }
            if globals.json {
                json_out(&show(&users));
            } else {
                let rows: Vec<_> = users
                    .iter()
                    .map(|u| {
                        vec![
                            u.id.clone(),
                            u.username.clone(),
                            u.full_name.clone(),
                            u.role.to_string(),
                            u.status.to_string(),
                        ]
                    })
                    .collect();
                table(&["USER", "USERNAME", "NAME", "ROLE", "STATUS"], &rows);
            }
        }
        UsersCommand::Get { user } => print_one(&client.user(&user).await?),
        UsersCommand::Create {
            username,
            email,
            password,
            full_name,
            role,
            department,
        } => {
            let mut new = NewUser::new(username, email, password, full_name);
            if let Some(role) = role {
                new = new.role(role);
            }
            if let Some(department) = department {
                new = new.department(department);
            }
            print_one(&client.create_user(new).await?);
        }
        UsersCommand::Update {
            user,
            full_name,
            email,
            role,
            department,
        } => {
            let mut update = UserUpdate::new();
            if let Some(v) = full_name {
                update = update.full_name(v);
            }
            if let Some(v) = email {
                update = update.email(v);
            }
            if let Some(v) = role {
                update = update.role(v);
            }
            if let Some(v) = department {
                update = update.department(v);
            }
            print_one(&client.update_user(&user, update).await?);
        }
        UsersCommand::Delete { user, hard } => {
            client.delete_user(&user, hard).await?;
            done(globals, json!({"userId": user, "deleted": true}), || {
                format!("deleted user {user}")
            });
        }
    }
    Ok(())
}

async fn projects(
    client: &Client,
    globals: &Globals,
    command: Option<ProjectsCommand>,
) -> Result<(), Failure> {
    match command.unwrap_or(ProjectsCommand::List { status: None }) {
        ProjectsCommand::List { status } => {
            let projects: Vec<_> = client.projects(status, None).try_collect().await?;
            if globals.json {
                json_out(&show(&projects));
            } else {
                let rows: Vec<_> = projects
                    .iter()
                    .map(|p| {
                        vec![
                            p.id.clone(),
                            p.key.clone(),
                            p.name.clone(),
                            p.status.clone(),
                        ]
                    })
                    .collect();
                table(&["PROJECT", "KEY", "NAME", "STATUS"], &rows);
            }
        }
        ProjectsCommand::Get { project } => print_one(&client.project(&project).await?),
        ProjectsCommand::Create {
            name,
            key,
            owner,
            members,
            description,
        } => {
            let mut new = NewProject::new(name, key, owner);
            for m in members {
                new = new.member(m);
            }
            if let Some(d) = description {
                new = new.description(d);
            }
            print_one(&client.create_project(new).await?);
        }
    }
    Ok(())
}

async fn tasks(client: &Client, globals: &Globals, command: TasksCommand) -> Result<(), Failure> {
    match command {
        TasksCommand::List { project, status } => {
            let mut filter = clawkit::devops::TaskFilter::new();
            if let Some(status) = status {
                filter = filter.status(status);
            }
            let tasks: Vec<_> = client.tasks(&project, filter).try_collect().await?;
            if globals.json {
                json_out(&show(&tasks));
            } else {
                let rows: Vec<_> = tasks
                    .iter()
                    .map(|t| {
                        vec![
                            t.id.clone(),
                            t.key.clone(),
                            t.status.to_string(),
                            t.title.clone(),
                        ]
                    })
                    .collect();
                table(&["TASK", "KEY", "STATUS", "TITLE"], &rows);
            }
        }
        TasksCommand::Get { task } => print_one(&client.task(&task).await?),
        TasksCommand::Create {
            project,
            kind,
            title,
            description,
            assignee,
        } => {
            let mut new = NewTask::new(kind, title);
            if let Some(d) = description {
                new = new.description(d);
            }
            if let Some(a) = assignee {
                new = new.assignee(a);
            }
            print_one(&client.create_task(&project, new).await?);
        }
        TasksCommand::Move {
            task,
            status,
            comment,
        } => print_one(&client.move_task(&task, status, comment.as_deref()).await?),
    }
    Ok(())
}
