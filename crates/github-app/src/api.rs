//! [`GitHubApi`]: the calls the dispatcher makes, as a trait it can hold as `Arc<dyn GitHubApi>`.

use async_trait::async_trait;

use crate::client::GitHubAppClient;
use crate::error::Error;
use crate::models::{
    CheckRun, CheckRunUpdate, DeliveryPage, DeliveryQuery, Installation, InstallationToken,
    JitOutcome, JitRequest, Job, NewCheckRun, RepoRef, Runner, RunnerScope, WorkflowRun,
};
use crate::tokens::TokenScope;

/// What the dispatcher needs from GitHub. [`GitHubAppClient`] implements it against the real
/// API; tests may implement it by hand or point the real client at `testkit::FakeGitHub`.
#[async_trait]
pub trait GitHubApi: Send + Sync {
    /// The installation covering a repository (App JWT).
    async fn repository_installation(&self, repo: &RepoRef) -> Result<Installation, Error>;

    /// A cached or fresh installation token for `scope`.
    async fn installation_token(
        &self,
        installation_id: u64,
        scope: &TokenScope,
    ) -> Result<InstallationToken, Error>;

    /// A JIT runner config, or the runner that already has this name.
    async fn generate_jit_config(
        &self,
        installation_id: u64,
        scope: &RunnerScope,
        request: &JitRequest,
    ) -> Result<JitOutcome, Error>;

    /// Every runner of the scope, or only those named `name`.
    async fn list_runners(
        &self,
        installation_id: u64,
        scope: &RunnerScope,
        name: Option<&str>,
    ) -> Result<Vec<Runner>, Error>;

    async fn get_runner(
        &self,
        installation_id: u64,
        scope: &RunnerScope,
        runner_id: u64,
    ) -> Result<Runner, Error>;

    async fn delete_runner(
        &self,
        installation_id: u64,
        scope: &RunnerScope,
        runner_id: u64,
    ) -> Result<(), Error>;

    async fn get_job(
        &self,
        installation_id: u64,
        repo: &RepoRef,
        job_id: u64,
    ) -> Result<Job, Error>;

    async fn get_workflow_run(
        &self,
        installation_id: u64,
        repo: &RepoRef,
        run_id: u64,
    ) -> Result<WorkflowRun, Error>;

    /// One page of the App's webhook deliveries (App JWT).
    async fn list_deliveries(&self, query: &DeliveryQuery) -> Result<DeliveryPage, Error>;

    /// Asks GitHub to deliver a webhook again (App JWT).
    async fn redeliver(&self, delivery_id: u64) -> Result<(), Error>;

    async fn create_check_run(
        &self,
        installation_id: u64,
        repo: &RepoRef,
        check_run: &NewCheckRun,
    ) -> Result<CheckRun, Error>;

    async fn update_check_run(
        &self,
        installation_id: u64,
        repo: &RepoRef,
        check_run_id: u64,
        update: &CheckRunUpdate,
    ) -> Result<CheckRun, Error>;
}

#[async_trait]
impl GitHubApi for GitHubAppClient {
    async fn repository_installation(&self, repo: &RepoRef) -> Result<Installation, Error> {
        GitHubAppClient::repository_installation(self, repo).await
    }

    async fn installation_token(
        &self,
        installation_id: u64,
        scope: &TokenScope,
    ) -> Result<InstallationToken, Error> {
        GitHubAppClient::installation_token(self, installation_id, scope).await
    }

    async fn generate_jit_config(
        &self,
        installation_id: u64,
        scope: &RunnerScope,
        request: &JitRequest,
    ) -> Result<JitOutcome, Error> {
        GitHubAppClient::generate_jit_config(self, installation_id, scope, request).await
    }

    async fn list_runners(
        &self,
        installation_id: u64,
        scope: &RunnerScope,
        name: Option<&str>,
    ) -> Result<Vec<Runner>, Error> {
        GitHubAppClient::list_runners(self, installation_id, scope, name).await
    }

    async fn get_runner(
        &self,
        installation_id: u64,
        scope: &RunnerScope,
        runner_id: u64,
    ) -> Result<Runner, Error> {
        GitHubAppClient::get_runner(self, installation_id, scope, runner_id).await
    }

    async fn delete_runner(
        &self,
        installation_id: u64,
        scope: &RunnerScope,
        runner_id: u64,
    ) -> Result<(), Error> {
        GitHubAppClient::delete_runner(self, installation_id, scope, runner_id).await
    }

    async fn get_job(
        &self,
        installation_id: u64,
        repo: &RepoRef,
        job_id: u64,
    ) -> Result<Job, Error> {
        GitHubAppClient::get_job(self, installation_id, repo, job_id).await
    }

    async fn get_workflow_run(
        &self,
        installation_id: u64,
        repo: &RepoRef,
        run_id: u64,
    ) -> Result<WorkflowRun, Error> {
        GitHubAppClient::get_workflow_run(self, installation_id, repo, run_id).await
    }

    async fn list_deliveries(&self, query: &DeliveryQuery) -> Result<DeliveryPage, Error> {
        GitHubAppClient::list_deliveries(self, query).await
    }

    async fn redeliver(&self, delivery_id: u64) -> Result<(), Error> {
        GitHubAppClient::redeliver(self, delivery_id).await
    }

    async fn create_check_run(
        &self,
        installation_id: u64,
        repo: &RepoRef,
        check_run: &NewCheckRun,
    ) -> Result<CheckRun, Error> {
        GitHubAppClient::create_check_run(self, installation_id, repo, check_run).await
    }

    async fn update_check_run(
        &self,
        installation_id: u64,
        repo: &RepoRef,
        check_run_id: u64,
        update: &CheckRunUpdate,
    ) -> Result<CheckRun, Error> {
        GitHubAppClient::update_check_run(self, installation_id, repo, check_run_id, update).await
    }
}
