//! The long jobs: agent activations, builds, deployments and test runs. Each has a handle that
//! reads it, watches it (a `Stream` of snapshots as they change) and waits for it ([`Wait`]:
//! a progress callback, a polling interval, a timeout that keeps the id).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clawkit_runtime::Safety;
use clawkit_runtime::wait::{self, Polling};
use futures::stream::BoxStream;

use crate::call::Calls;
use openclaw_devops_api::types::{
    self, AgentProgress, AgentResult, AgentType, Build, BuildQueued, Deployment, TestReport,
    TestRun,
};

use super::client::Client;
use super::error::{Error, Flow};

type Watch<T> = Box<dyn FnOnce(Polling) -> BoxStream<'static, Result<T, Error>> + Send>;
type Progress<T> = Option<Box<dyn FnMut(&T) + Send>>;
type Finish<T, R> =
    Box<dyn FnOnce(T) -> Pin<Box<dyn Future<Output = Result<R, Error>> + Send>> + Send>;

/// A wait for a job to end: `.await` it for the final state. Set the polling, a callback for
/// each new snapshot, or take the snapshots as a stream instead.
#[must_use = "a Wait does nothing until awaited"]
pub struct Wait<T, R = T> {
    watch: Watch<T>,
    finish: Finish<T, R>,
    polling: Polling,
    progress: Progress<T>,
}

impl<T, R> std::fmt::Debug for Wait<T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wait")
            .field("polling", &self.polling)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static, R: Send + 'static> Wait<T, R> {
    /// How to poll (default: the client's).
    pub fn polling(mut self, polling: Polling) -> Self {
        self.polling = polling;
        self
    }

    /// Gives up after `timeout` with [`Flow::Timeout`], which keeps the id.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.polling.timeout = timeout;
        self
    }

    /// Called with each snapshot that differs from the one before (steps, stages, progress).
    pub fn on_progress(mut self, f: impl FnMut(&T) + Send + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    /// The snapshots as a `Stream`, ending with the final one (or the error that ended it).
    pub fn stream(self) -> BoxStream<'static, Result<T, Error>> {
        (self.watch)(self.polling)
    }
}

impl<T: Send + 'static, R: Send + 'static> IntoFuture for Wait<T, R> {
    type Output = Result<R, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<R, Error>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let mut progress = self.progress;
            let snapshots = (self.watch)(self.polling);
            let last = wait::until_final(snapshots, |s| {
                if let Some(f) = progress.as_mut() {
                    f(s)
                }
            })
            .await?;
            match last {
                Some(last) => (self.finish)(last).await,
                None => Err(Error::InvalidArgument("the wait saw no state".into())),
            }
        })
    }
}

/// What a job looks like to a waiter: its id, status and when it is over.
trait Job: Clone + PartialEq + Send + Sync + 'static {
    const WHAT: &'static str;
    fn status(&self) -> &str;
    fn is_final(&self) -> bool;
}

impl Job for AgentProgress {
    const WHAT: &'static str = "agent activation";
    fn status(&self) -> &str {
        &self.status
    }
    fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "failed" | "cancelled")
    }
}

impl Job for Build {
    const WHAT: &'static str = "build";
    fn status(&self) -> &str {
        &self.status
    }
    fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "success" | "failed" | "cancelled")
    }
}

impl Job for Deployment {
    const WHAT: &'static str = "deployment";
    fn status(&self) -> &str {
        &self.status
    }
    fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "succeeded" | "failed" | "rolled_back")
    }
}

impl Job for TestRun {
    const WHAT: &'static str = "test run";
    fn status(&self) -> &str {
        &self.status
    }
    fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "passed" | "failed" | "cancelled")
    }
}

/// A wait for job `id` read by `read`, ending with `finish` of its final state.
fn wait_for<T, R, F, Fut>(client: &Client, id: &str, read: F, finish: Finish<T, R>) -> Wait<T, R>
where
    T: Job,
    R: Send + 'static,
    F: Fn(Client, String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, Error>> + Send + 'static,
{
    let (client, id) = (client.clone(), id.to_string());
    let polling = client.inner.options.polling;
    let watch: Watch<T> = Box::new(move |polling| {
        let last = Arc::new(Mutex::new(String::from("unknown")));
        let seen = last.clone();
        let read = Arc::new(read);
        let reader = {
            let id = id.clone();
            move || {
                let (client, id, seen, read) =
                    (client.clone(), id.clone(), seen.clone(), read.clone());
                async move {
                    let now = read(client, id).await?;
                    if let Ok(mut s) = seen.lock() {
                        *s = now.status().to_string();
                    }
                    Ok(now)
                }
            }
        };
        wait::watch(polling, reader, T::is_final, move |waited| {
            Flow::Timeout {
                what: T::WHAT,
                id: id.clone(),
                waited,
                last_status: last.lock().map(|s| s.clone()).unwrap_or_default(),
            }
            .into()
        })
    });
    Wait {
        watch,
        finish,
        polling,
        progress: None,
    }
}

fn itself<T: Send + 'static>() -> Finish<T, T> {
    Box::new(|t| Box::pin(async move { Ok(t) }))
}

/// An agent activation (`act_…`).
#[derive(Debug, Clone)]
pub struct Activation {
    client: Client,
    /// `activationId`.
    pub id: String,
}

impl Activation {
    /// Its progress now: steps, current step, logs.
    pub async fn progress(&self) -> Result<AgentProgress, Error> {
        self.client
            .call("reading agent progress", Safety::Idempotent, |api| {
                api.get_agent_progress().activation_id(&self.id).send()
            })
            .await
    }

    /// Its output (once completed).
    pub async fn result(&self) -> Result<AgentResult, Error> {
        self.client
            .call("reading an agent result", Safety::Idempotent, |api| {
                api.get_agent_result().activation_id(&self.id).send()
            })
            .await
    }

    /// Waits until the agent has completed (or failed), reporting each new progress snapshot,
    /// then reads its result.
    pub fn wait(&self) -> Wait<AgentProgress, AgentResult> {
        let me = self.clone();
        wait_for(
            &self.client,
            &self.id,
            |client, id| async move { Activation { client, id }.progress().await },
            Box::new(move |_| Box::pin(async move { me.result().await })),
        )
    }
}

/// A build (`build_…`) of a pipeline.
#[derive(Debug, Clone)]
pub struct BuildRef {
    client: Client,
    /// `buildId`.
    pub id: String,
    /// The trigger's answer (queue position, estimated start), when this handle came from one.
    pub queued: Option<BuildQueued>,
}

impl BuildRef {
    /// The build now: stages, progress, artifacts.
    pub async fn get(&self) -> Result<Build, Error> {
        self.client
            .call("reading a build", Safety::Idempotent, |api| {
                api.get_build().build_id(&self.id).send()
            })
            .await
    }

    /// Waits until the build has succeeded or failed, reporting each new snapshot (stages).
    pub fn wait(&self) -> Wait<Build> {
        wait_for(
            &self.client,
            &self.id,
            |client, id| async move {
                BuildRef {
                    client,
                    id,
                    queued: None,
                }
                .get()
                .await
            },
            itself(),
        )
    }
}

/// A deployment (`dep_…`).
#[derive(Debug, Clone)]
pub struct DeploymentRef {
    client: Client,
    /// Its id.
    pub id: String,
}

impl DeploymentRef {
    /// The deployment now.
    pub async fn get(&self) -> Result<Deployment, Error> {
        self.client
            .call("reading a deployment", Safety::Idempotent, |api| {
                api.get_deployment().deployment_id(&self.id).send()
            })
            .await
    }

    /// Waits until the deployment has succeeded, failed or been rolled back (a production
    /// deployment first waits for its approvals).
    pub fn wait(&self) -> Wait<Deployment> {
        wait_for(
            &self.client,
            &self.id,
            |client, id| async move { DeploymentRef { client, id }.get().await },
            itself(),
        )
    }

    /// Rolls back to `target_version` (default: the version before) for `reason`; the rollback
    /// is a deployment of its own.
    pub async fn rollback(
        &self,
        reason: &str,
        target_version: Option<&str>,
    ) -> Result<(DeploymentRef, Deployment), Error> {
        if reason.trim().is_empty() {
            return Err(Error::InvalidArgument(
                "reason: a rollback needs a reason".into(),
            ));
        }
        let body = types::RollbackDeploymentRequest {
            reason: reason.to_string(),
            target_version: target_version.map(str::to_string),
        };
        let rollback: Deployment = self
            .client
            .call("rolling back a deployment", Safety::Creates, |api| {
                api.rollback_deployment()
                    .deployment_id(&self.id)
                    .body(body.clone())
                    .send()
            })
            .await?;
        Ok((self.client.deployment(&rollback.id), rollback))
    }
}

/// A test run (`run_…`).
#[derive(Debug, Clone)]
pub struct TestRunRef {
    client: Client,
    /// `runId`.
    pub id: String,
}

impl TestRunRef {
    /// The run now.
    pub async fn get(&self) -> Result<TestRun, Error> {
        self.client
            .call("reading a test run", Safety::Idempotent, |api| {
                api.get_test_run().run_id(&self.id).send()
            })
            .await
    }

    /// Its report (final once the run is).
    pub async fn report(&self) -> Result<TestReport, Error> {
        self.client
            .call("reading a test report", Safety::Idempotent, |api| {
                api.get_test_report().run_id(&self.id).send()
            })
            .await
    }

    /// Waits until the run has passed or failed, then reads its report.
    pub fn wait(&self) -> Wait<TestRun, TestReport> {
        let me = self.clone();
        wait_for(
            &self.client,
            &self.id,
            |client, id| async move { TestRunRef { client, id }.get().await },
            Box::new(move |_| Box::pin(async move { me.report().await })),
        )
    }
}

impl Client {
    /// Activates an agent of `agent_type` on a task (202: it works in the background).
    pub async fn activate_agent(
        &self,
        agent_type: AgentType,
        request: types::ActivateAgentRequest,
    ) -> Result<(Activation, types::AgentActivation), Error> {
        let started: types::AgentActivation = self
            .call("activating an agent", Safety::Creates, |api| {
                api.activate_agent()
                    .agent_type(agent_type)
                    .body(request.clone())
                    .send()
            })
            .await?;
        Ok((self.activation(&started.activation_id), started))
    }

    /// An activation by id.
    pub fn activation(&self, id: &str) -> Activation {
        Activation {
            client: self.clone(),
            id: id.to_string(),
        }
    }

    /// Triggers a pipeline: a build is queued.
    pub async fn trigger_pipeline(
        &self,
        pipeline_id: &str,
        request: types::TriggerPipelineRequest,
    ) -> Result<BuildRef, Error> {
        let queued: BuildQueued = self
            .call("triggering a pipeline", Safety::Creates, |api| {
                api.trigger_pipeline()
                    .pipeline_id(pipeline_id)
                    .body(request.clone())
                    .send()
            })
            .await?;
        Ok(BuildRef {
            client: self.clone(),
            id: queued.build_id.clone(),
            queued: Some(queued),
        })
    }

    /// A build by id.
    pub fn build(&self, id: &str) -> BuildRef {
        BuildRef {
            client: self.clone(),
            id: id.to_string(),
            queued: None,
        }
    }

    /// Starts a deployment. Production needs `approvals` (approvers' user ids).
    pub async fn deploy(
        &self,
        request: types::CreateDeploymentRequest,
    ) -> Result<(DeploymentRef, Deployment), Error> {
        let deployment: Deployment = self
            .call("creating a deployment", Safety::Creates, |api| {
                api.create_deployment().body(request.clone()).send()
            })
            .await?;
        Ok((self.deployment(&deployment.id), deployment))
    }

    /// A deployment by id.
    pub fn deployment(&self, id: &str) -> DeploymentRef {
        DeploymentRef {
            client: self.clone(),
            id: id.to_string(),
        }
    }

    /// Runs a test suite.
    pub async fn run_test_suite(
        &self,
        suite_id: &str,
        request: types::RunTestSuiteRequest,
    ) -> Result<TestRunRef, Error> {
        let run: TestRun = self
            .call("running a test suite", Safety::Creates, |api| {
                api.run_test_suite()
                    .suite_id(suite_id)
                    .body(request.clone())
                    .send()
            })
            .await?;
        Ok(self.test_run(&run.run_id))
    }

    /// A test run by id.
    pub fn test_run(&self, id: &str) -> TestRunRef {
        TestRunRef {
            client: self.clone(),
            id: id.to_string(),
        }
    }
}
