//! The list endpoints a reconciler walks: the App's installations, an installation's
//! repositories, a repository's workflow runs and a run's jobs. All paginate with `Link`
//! headers (`per_page` clamped to 100, default 30), as GitHub does.

use serde_json::{Value, json};

use super::{
    Caller, FakeJob, FakeWorkflowRun, GitHubState, authorize, github_error, installation_json,
    job_json, numeric_param, paginate, with_link, workflow_run_json,
};
use crate::server::{Params, Request, Response};

/// `GET /app/installations` (App JWT): a bare array, oldest installation first.
pub(super) fn list_installations(
    state: &mut GitHubState,
    request: &Request,
    _: &Params,
    _: &Caller,
    base: &str,
) -> Response {
    let installations: Vec<Value> = state
        .installations
        .values()
        .map(installation_json)
        .collect();
    let (page, link) = paginate(&installations, request, base);
    with_link(Response::json(200, &page), link)
}

/// A repository in the short form list endpoints use. The fake does not model visibility:
/// every repository is private, as GitHub advises for self-hosted runners.
fn repository_json(state: &mut GitHubState, full_name: &str) -> Value {
    let (owner, name) = full_name.split_once('/').unwrap_or((full_name, full_name));
    let id = state.repo_id(full_name);
    json!({
        "id": id, "node_id": format!("R_fake{id}"), "name": name, "full_name": full_name,
        "owner": { "login": owner, "id": id + 1, "type": "Organization" },
        "private": true, "visibility": "private", "fork": false, "archived": false,
        "disabled": false, "default_branch": "main",
        "html_url": format!("https://github.com/{full_name}"),
        "url": format!("https://api.github.com/repos/{full_name}"),
    })
}

/// `GET /installation/repositories` (installation token): the repositories of the token's
/// installation, only those the token was narrowed to if it was.
pub(super) fn list_installation_repositories(
    state: &mut GitHubState,
    request: &Request,
    _: &Params,
    caller: &Caller,
    base: &str,
) -> Response {
    let Caller::Installation(token) = caller else {
        return github_error(401, "Bad credentials");
    };
    let Some(installation) = state.installations.get(&token.installation_id) else {
        return github_error(404, "Not Found");
    };
    let visible: Vec<String> = installation
        .repositories
        .iter()
        .filter(|full_name| {
            let name = full_name
                .split_once('/')
                .map_or(full_name.as_str(), |p| p.1);
            token
                .repositories
                .as_ref()
                .is_none_or(|names| names.iter().any(|n| n.eq_ignore_ascii_case(name)))
        })
        .cloned()
        .collect();
    let repositories: Vec<Value> = visible
        .iter()
        .map(|full_name| repository_json(state, full_name))
        .collect();
    let (page, link) = paginate(&repositories, request, base);
    with_link(
        Response::json(
            200,
            &json!({ "total_count": repositories.len(), "repository_selection": "selected",
                     "repositories": page }),
        ),
        link,
    )
}

/// `GET /repos/{owner}/{repo}/actions/runs` (Actions: read): newest first; `status` matches a
/// run's status or its conclusion, as GitHub's filter does.
pub(super) fn list_workflow_runs(
    state: &mut GitHubState,
    request: &Request,
    params: &Params,
    caller: &Caller,
    base: &str,
) -> Response {
    let repo = match authorize(state, caller, params, "actions", "read") {
        Ok(repo) => repo,
        Err(response) => return response,
    };
    let key = repo.to_ascii_lowercase();
    let status = request.query("status");
    let mut runs: Vec<FakeWorkflowRun> = state
        .workflow_runs
        .iter()
        .filter(|((r, _), _)| *r == key)
        .map(|(_, run)| run)
        .filter(|run| {
            status.is_none_or(|s| run.status == s || run.conclusion.as_deref() == Some(s))
        })
        .cloned()
        .collect();
    runs.sort_by_key(|run| std::cmp::Reverse(run.id));
    let runs: Vec<Value> = runs
        .iter()
        .map(|run| workflow_run_json(state, &repo, run))
        .collect();
    let (page, link) = paginate(&runs, request, base);
    with_link(
        Response::json(
            200,
            &json!({ "total_count": runs.len(), "workflow_runs": page }),
        ),
        link,
    )
}

/// `GET /repos/{owner}/{repo}/actions/runs/{id}/jobs` (Actions: read): the jobs of the run's
/// latest attempt (`filter=latest`, the default) or of every attempt (`filter=all`), by id.
/// 404 when the fake knows neither the run nor any of its jobs.
pub(super) fn list_run_jobs(
    state: &mut GitHubState,
    request: &Request,
    params: &Params,
    caller: &Caller,
    base: &str,
) -> Response {
    let repo = match authorize(state, caller, params, "actions", "read") {
        Ok(repo) => repo,
        Err(response) => return response,
    };
    let Ok(run_id) = numeric_param(params, "id") else {
        return github_error(404, "Not Found");
    };
    let key = repo.to_ascii_lowercase();
    let mut jobs: Vec<FakeJob> = state
        .jobs
        .iter()
        .filter(|((r, _), job)| *r == key && job.run_id == run_id)
        .map(|(_, job)| job.clone())
        .collect();
    let run = state.workflow_runs.get(&(key, run_id));
    if jobs.is_empty() && run.is_none() {
        return github_error(404, "Not Found");
    }
    if request.query("filter") != Some("all") {
        let latest = jobs.iter().map(|j| j.run_attempt).max().unwrap_or(1);
        jobs.retain(|j| j.run_attempt == latest);
    }
    jobs.sort_by_key(|job| job.id);
    let jobs: Vec<Value> = jobs.iter().map(|job| job_json(&repo, job)).collect();
    let (page, link) = paginate(&jobs, request, base);
    with_link(
        Response::json(200, &json!({ "total_count": jobs.len(), "jobs": page })),
        link,
    )
}
