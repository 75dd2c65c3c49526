//! `claw devops agent|pipeline|build|deploy|deployment|rollback|tests ...`: the long jobs, each
//! waited for with a progress bar on stderr (hidden with `--json` or when stderr is not a
//! terminal), a job that ended without success being exit code 3.

use std::path::PathBuf;

use clap::Subcommand;
use clawkit::devops::types::{self, AgentType, Environment};
use clawkit::devops::{BuildRef, Client, DeploymentRef, Wait};
use indicatif::ProgressBar;
use serde_json::{Map, Value};

use crate::args::one_of;
use crate::failure::Failure;
use crate::output;

/// The environments, as the service spells them.
const ENVIRONMENTS: &str = "dev, test, staging, prod";

/// The job commands (flattened into `claw devops`).
#[derive(Debug, Subcommand)]
pub(super) enum JobsCommand {
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
        #[arg(long = "env", value_parser = one_of::<Environment>(ENVIRONMENTS))]
        environment: Environment,
        #[arg(long)]
        version: String,
        #[arg(long, value_parser = one_of::<types::DeploymentStrategy>("rolling, blue-green, canary"))]
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
}

#[derive(Debug, Subcommand)]
pub(super) enum AgentCommand {
    /// Activates an agent (product, architecture, api, backend, frontend, test, devops, qa).
    Activate {
        #[arg(value_parser = one_of::<AgentType>(
            "product, architecture, api, backend, frontend, test, devops, qa"
        ))]
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
pub(super) enum PipelineCommand {
    Trigger {
        pipeline: String,
        #[arg(long)]
        branch: Option<String>,
        #[arg(long)]
        commit: Option<String>,
        #[arg(long = "env", value_parser = one_of::<Environment>(ENVIRONMENTS))]
        environment: Option<Environment>,
        #[arg(long)]
        skip_tests: bool,
        #[arg(long)]
        wait: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum TestsCommand {
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

/// What can be checked before touching the network: the agent input file.
pub(super) fn agent_input(command: &JobsCommand) -> Result<Option<Map<String, Value>>, Failure> {
    let JobsCommand::Agent {
        command: AgentCommand::Activate { input, .. },
    } = command
    else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(input)
        .map_err(|e| Failure::io(format!("cannot read {}", input.display()), e))?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(_) => Err(Failure::Usage(format!(
            "{}: the agent input must be a JSON object",
            input.display()
        ))),
        Err(e) => Err(Failure::Usage(format!(
            "{}: not JSON: {e}",
            input.display()
        ))),
    }
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

/// Runs a job command; `input` is the agent input read before, `hidden` hides the bars.
pub(super) async fn run(
    client: &Client,
    command: JobsCommand,
    input: Option<Map<String, Value>>,
    hidden: bool,
) -> Result<(), Failure> {
    match command {
        JobsCommand::Agent { command } => match command {
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
                    output::one(&started);
                    return Ok(());
                }
                let result = with_bar(activation.wait(), hidden, "agent", |p| {
                    let step = p.current_step.clone().unwrap_or_else(|| p.status.clone());
                    let log = p.logs.last().map(|l| l.message.clone()).unwrap_or_default();
                    (percent(Some(p.progress)), format!("{step} {log}"))
                })
                .await?;
                output::one(&result);
                check(&result.status, "activation", &activation.id)?;
            }
            AgentCommand::Progress { activation } => {
                output::one(&client.activation(&activation).progress().await?)
            }
            AgentCommand::Result { activation } => {
                output::one(&client.activation(&activation).result().await?)
            }
        },
        JobsCommand::Pipeline {
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
                output::one(&build.queued);
                return Ok(());
            }
            wait_build(&build, hidden).await?;
        }
        JobsCommand::Build { build, wait } => {
            let build = client.build(&build);
            if wait {
                wait_build(&build, hidden).await?;
            } else {
                output::one(&build.get().await?);
            }
        }
        JobsCommand::Deploy {
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
                output::one(&started);
            }
        }
        JobsCommand::Deployment { deployment, wait } => {
            let deployment = client.deployment(&deployment);
            if wait {
                wait_deployment(&deployment, hidden).await?;
            } else {
                output::one(&deployment.get().await?);
            }
        }
        JobsCommand::Rollback {
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
                output::one(&started);
            }
        }
        JobsCommand::Tests { command } => match command {
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
                    output::one(&run.get().await?);
                    return Ok(());
                }
                let report = with_bar(run.wait(), hidden, "tests", |r| {
                    (percent(r.progress), r.status.clone())
                })
                .await?;
                output::one(&report);
                check(&report.status, "test run", &run.id)?;
            }
            TestsCommand::Status { run } => output::one(&client.test_run(&run).get().await?),
            TestsCommand::Report { run } => output::one(&client.test_run(&run).report().await?),
        },
    }
    Ok(())
}

async fn wait_build(build: &BuildRef, hidden: bool) -> Result<(), Failure> {
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
    output::one(&done);
    check(&done.status, "build", &build.id)
}

async fn wait_deployment(deployment: &DeploymentRef, hidden: bool) -> Result<(), Failure> {
    let done = with_bar(deployment.wait(), hidden, "deploy", |d| {
        (percent(d.progress), d.status.clone())
    })
    .await?;
    output::one(&done);
    check(&done.status, "deployment", &deployment.id)
}
