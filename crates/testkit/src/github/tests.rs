use super::*;

fn jwt(key_pem: &str, iat: i64, exp: i64, iss: Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(key_pem.as_bytes()).unwrap();
    let claims = json!({ "iat": iat, "exp": exp, "iss": iss });
    jsonwebtoken::encode(&jsonwebtoken::Header::new(Algorithm::RS256), &claims, &key).unwrap()
}

pub(super) fn valid_jwt() -> String {
    let now = Timestamp::now().as_second();
    jwt(
        keys::APP_PRIVATE_KEY_PKCS1,
        now - 60,
        now + 540,
        json!(APP_ID),
    )
}

async fn get(url: &str, bearer: Option<&str>, user_agent: bool) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    if user_agent {
        request = request.header("user-agent", "testkit");
    }
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn message(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status.to_string());
    (status, body["message"].as_str().unwrap().to_owned())
}

#[test]
fn base64_matches_the_standard_alphabet_and_padding() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
}

#[tokio::test]
async fn requests_without_user_agent_are_refused() {
    let fake = FakeGitHub::start();
    let (status, message) = message(
        get(
            &format!("{}/app", fake.base_url()),
            Some(&valid_jwt()),
            false,
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    assert!(message.contains("User-Agent"), "{message}");
}

#[tokio::test]
async fn app_endpoints_check_the_jwt() {
    let fake = FakeGitHub::start();
    let url = format!("{}/app", fake.base_url());
    let now = Timestamp::now().as_second();

    let ok = get(&url, Some(&valid_jwt()), true).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["x-ratelimit-limit"], "5000");
    let by_client_id = jwt(
        keys::APP_PRIVATE_KEY_PKCS8,
        now - 60,
        now + 540,
        json!(CLIENT_ID),
    );
    let response = get(&url, Some(&by_client_id), true).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    let cases = [
        (None, 401, "JSON web token"),
        (
            Some(jwt(
                keys::OTHER_PRIVATE_KEY_PKCS1,
                now - 60,
                now + 540,
                json!(APP_ID),
            )),
            401,
            "could not be decoded",
        ),
        (
            Some(jwt(
                keys::APP_PRIVATE_KEY_PKCS1,
                now - 700,
                now - 10,
                json!(APP_ID),
            )),
            401,
            "future time",
        ),
        (
            Some(jwt(
                keys::APP_PRIVATE_KEY_PKCS1,
                now,
                now + 3600,
                json!(APP_ID),
            )),
            401,
            "too far in the future",
        ),
        (
            Some(jwt(
                keys::APP_PRIVATE_KEY_PKCS1,
                now + 300,
                now + 540,
                json!(APP_ID),
            )),
            401,
            "'Issued at'",
        ),
        (
            Some(jwt(
                keys::APP_PRIVATE_KEY_PKCS1,
                now - 60,
                now + 540,
                json!(1),
            )),
            404,
            "Integration not found",
        ),
        (Some("ghs_notajwt".to_owned()), 401, "could not be decoded"),
    ];
    for (token, want_status, want_message) in cases {
        let (status, message) = message(get(&url, token.as_deref(), true).await).await;
        assert_eq!(status, want_status, "{message}");
        assert!(
            message.contains(want_message),
            "{message} should contain {want_message}"
        );
    }
}

#[tokio::test]
async fn runners_paginate_with_link_headers() {
    let fake = FakeGitHub::start();
    fake.add_installation(7, "octo-org", &["octo-org/repo"]);
    for i in 0..5 {
        fake.add_runner("octo-org/repo", &format!("runner-{i}"), &["self-hosted"]);
    }
    let token = fake.with_state(|s| {
        let token = "ghs_test".to_owned();
        s.tokens.insert(
            token.clone(),
            IssuedToken {
                token: token.clone(),
                installation_id: 7,
                expires_at: s.now().checked_add(Duration::from_secs(60)).unwrap(),
                repositories: None,
                permissions: s.installations[&7].permissions.clone(),
                revoked: false,
            },
        );
        token
    });
    let base = fake.base_url();
    let first = get(
        &format!("{base}/repos/octo-org/repo/actions/runners?per_page=2"),
        Some(&token),
        true,
    )
    .await;
    let link = first.headers()["link"].to_str().unwrap().to_owned();
    assert_eq!(
        link,
        format!(
            "<{base}/repos/octo-org/repo/actions/runners?per_page=2&page=2>; rel=\"next\", \
             <{base}/repos/octo-org/repo/actions/runners?per_page=2&page=3>; rel=\"last\""
        )
    );
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["total_count"], 5);
    assert_eq!(body["runners"].as_array().unwrap().len(), 2);

    let last = get(
        &format!("{base}/repos/octo-org/repo/actions/runners?per_page=2&page=3"),
        Some(&token),
        true,
    )
    .await;
    let link = last.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.contains("rel=\"prev\"")
            && link.contains("rel=\"first\"")
            && !link.contains("rel=\"next\"")
    );
    let body: Value = last.json().await.unwrap();
    assert_eq!(body["runners"][0]["name"], "runner-4");

    // Another repository of nobody's installation is invisible.
    let other = get(
        &format!("{base}/repos/octo-org/other/actions/runners"),
        Some(&token),
        true,
    )
    .await;
    assert_eq!(other.status(), 404);
    // Expired tokens are refused.
    fake.advance_time(Duration::from_secs(61));
    let expired = get(
        &format!("{base}/repos/octo-org/repo/actions/runners"),
        Some(&token),
        true,
    )
    .await;
    assert_eq!(message(expired).await, (401, "Bad credentials".to_owned()));
}

/// A token of `installation`, narrowed to `repositories` when given, valid for a minute.
fn insert_token(fake: &FakeGitHub, installation: u64, repositories: Option<&[&str]>) -> String {
    fake.with_state(|s| {
        let token = format!("ghs_test_{}", s.tokens.len());
        s.tokens.insert(
            token.clone(),
            IssuedToken {
                token: token.clone(),
                installation_id: installation,
                expires_at: s.now().checked_add(Duration::from_secs(60)).unwrap(),
                repositories: repositories.map(|r| r.iter().map(|n| n.to_string()).collect()),
                permissions: s.installations[&installation].permissions.clone(),
                revoked: false,
            },
        );
        token
    })
}

#[tokio::test]
async fn list_endpoints_clamp_per_page_to_100() {
    let fake = FakeGitHub::start();
    for id in 1..=130 {
        fake.add_installation(id, &format!("org-{id}"), &[]);
    }
    let base = fake.base_url();
    let first = get(
        &format!("{base}/app/installations?per_page=500"),
        Some(&valid_jwt()),
        true,
    )
    .await;
    let link = first.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.contains(&format!(
            "<{base}/app/installations?per_page=100&page=2>; rel=\"next\""
        )),
        "{link}"
    );
    let body: Value = first.json().await.unwrap();
    assert_eq!(body.as_array().unwrap().len(), 100);
    assert_eq!(body[0]["account"]["login"], "org-1");
    let second: Value = get(
        &format!("{base}/app/installations?per_page=100&page=2"),
        Some(&valid_jwt()),
        true,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(second.as_array().unwrap().len(), 30);
    // GitHub's default page is 30.
    let default: Value = get(
        &format!("{base}/app/installations"),
        Some(&valid_jwt()),
        true,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(default.as_array().unwrap().len(), 30);
}

#[tokio::test]
async fn list_endpoints_check_the_credential_they_need() {
    let fake = FakeGitHub::start();
    fake.add_installation(7, "octo-org", &["octo-org/repo"]);
    let token = insert_token(&fake, 7, None);
    let base = fake.base_url();
    let installations = format!("{base}/app/installations");
    let repositories = format!("{base}/installation/repositories");
    let runs = format!("{base}/repos/octo-org/repo/actions/runs");
    let jobs = format!("{base}/repos/octo-org/repo/actions/runs/1/jobs");

    // No credential.
    for url in [&repositories, &runs, &jobs] {
        let (status, text) = message(get(url, None, true).await).await;
        assert_eq!(
            (status, text.as_str()),
            (401, "Requires authentication"),
            "{url}"
        );
    }
    let (status, _) = message(get(&installations, None, true).await).await;
    assert_eq!(status, 401);
    // A token nobody issued.
    for url in [&repositories, &runs, &jobs] {
        let (status, text) = message(get(url, Some("ghs_forged"), true).await).await;
        assert_eq!((status, text.as_str()), (401, "Bad credentials"), "{url}");
    }
    // The wrong kind of credential.
    let (status, _) = message(get(&installations, Some(&token), true).await).await;
    assert_eq!(status, 401);
    let (status, _) = message(get(&runs, Some(&valid_jwt()), true).await).await;
    assert_eq!(status, 403);
    // The right one.
    assert_eq!(
        get(&installations, Some(&valid_jwt()), true).await.status(),
        200
    );
    let body: Value = get(&runs, Some(&token), true).await.json().await.unwrap();
    assert_eq!(body, json!({ "total_count": 0, "workflow_runs": [] }));
}

#[tokio::test]
async fn installation_tokens_see_only_their_repositories() {
    let fake = FakeGitHub::start();
    fake.add_installation(7, "octo-org", &["octo-org/one", "octo-org/two"]);
    fake.add_installation(8, "other-org", &["other-org/three"]);
    fake.add_workflow_run(
        "other-org/three",
        FakeWorkflowRun::queued(1, "push", "other-org/three"),
    );
    fake.add_job("other-org/three", FakeJob::queued(10, 1, &["self-hosted"]));
    let base = fake.base_url();
    let names = |body: &Value| -> Vec<String> {
        body["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["full_name"].as_str().unwrap().to_owned())
            .collect()
    };

    let all = insert_token(&fake, 7, None);
    let body: Value = get(
        &format!("{base}/installation/repositories"),
        Some(&all),
        true,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["total_count"], 2);
    assert_eq!(names(&body), ["octo-org/one", "octo-org/two"]);

    let narrowed = insert_token(&fake, 7, Some(&["two"]));
    let body: Value = get(
        &format!("{base}/installation/repositories"),
        Some(&narrowed),
        true,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(names(&body), ["octo-org/two"]);

    // Another installation's repository is invisible, runs and jobs alike.
    for path in [
        "/repos/other-org/three/actions/runs",
        "/repos/other-org/three/actions/runs/1/jobs",
        "/repos/nobody/nothing/actions/runs",
    ] {
        let (status, text) = message(get(&format!("{base}{path}"), Some(&all), true).await).await;
        assert_eq!((status, text.as_str()), (404, "Not Found"), "{path}");
    }
    let own = insert_token(&fake, 8, None);
    let body: Value = get(
        &format!("{base}/repos/other-org/three/actions/runs/1/jobs"),
        Some(&own),
        true,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["total_count"], 1);
    assert_eq!(body["jobs"][0]["run_attempt"], 1);
}

#[tokio::test]
async fn run_jobs_filter_latest_or_all_attempts() {
    let fake = FakeGitHub::start();
    fake.add_installation(7, "octo-org", &["octo-org/repo"]);
    fake.add_job("octo-org/repo", FakeJob::queued(1, 5, &["a"]));
    fake.add_job(
        "octo-org/repo",
        FakeJob::queued(2, 5, &["a"]).with_attempt(2),
    );
    fake.add_job(
        "octo-org/repo",
        FakeJob::queued(3, 5, &["a"]).with_attempt(2),
    );
    let token = insert_token(&fake, 7, None);
    let base = fake.base_url();
    let ids = |body: Value| -> Vec<u64> {
        body["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["id"].as_u64().unwrap())
            .collect()
    };
    let url = format!("{base}/repos/octo-org/repo/actions/runs/5/jobs");
    let latest = get(&url, Some(&token), true).await.json().await.unwrap();
    assert_eq!(ids(latest), [2, 3]);
    let all = get(&format!("{url}?filter=all"), Some(&token), true)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(all), [1, 2, 3]);
}

/// A token minted through the fake's own endpoint with this request body.
async fn mint(fake: &FakeGitHub, installation: u64, body: Value) -> String {
    let answer: Value = reqwest::Client::new()
        .post(format!(
            "{}/app/installations/{installation}/access_tokens",
            fake.base_url()
        ))
        .header("user-agent", "testkit")
        .bearer_auth(valid_jwt())
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["token"].as_str().unwrap().to_owned()
}

/// `(status, x-accepted-github-permissions)` of a call with `token`.
async fn call(
    fake: &FakeGitHub,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Option<String>) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", fake.base_url()))
        .header("user-agent", "testkit")
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let accepted = response
        .headers()
        .get("x-accepted-github-permissions")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), accepted)
}

#[tokio::test]
async fn narrowed_tokens_are_refused_what_their_scope_lacks() {
    let fake = FakeGitHub::start();
    fake.add_installation(7, "octo-org", &["octo-org/one", "octo-org/two"]);
    fake.add_runner_group("octo-org", 5);
    fake.add_job("octo-org/one", FakeJob::queued(1, 10, &["self-hosted"]));
    fake.add_job("octo-org/two", FakeJob::queued(2, 20, &["self-hosted"]));
    let jit = |name: &str, group: u64| {
        Some(json!({ "name": name, "runner_group_id": group, "labels": ["self-hosted"] }))
    };
    let check_run = || Some(json!({ "name": "ferry", "head_sha": "f00d" }));
    let refused = |permission: &str| (403, Some(permission.to_owned()));

    // Actions (read) on `one`: its jobs, nothing else.
    let actions = mint(
        &fake,
        7,
        json!({ "repositories": ["one"], "permissions": { "actions": "read" } }),
    )
    .await;
    let one_job = "/repos/octo-org/one/actions/jobs/1";
    assert_eq!(
        call(&fake, "GET", one_job, &actions, None).await,
        (200, None)
    );
    let one_jit = "/repos/octo-org/one/actions/runners/generate-jitconfig";
    assert_eq!(
        call(&fake, "POST", one_jit, &actions, jit("a", 1)).await,
        refused("administration=write")
    );
    let one_checks = "/repos/octo-org/one/check-runs";
    assert_eq!(
        call(&fake, "POST", one_checks, &actions, check_run()).await,
        refused("checks=write")
    );
    // Another repository of the same installation is out of the token's sight.
    let two_job = "/repos/octo-org/two/actions/jobs/2";
    assert_eq!(call(&fake, "GET", two_job, &actions, None).await.0, 404);

    // Administration (write) on `one`, even with the organisation permission: repository
    // runners only, since a token narrowed to repositories cannot act on the organisation.
    let administration = mint(
        &fake,
        7,
        json!({ "repositories": ["one"],
                "permissions": { "administration": "write",
                                 "organization_self_hosted_runners": "write" } }),
    )
    .await;
    let one_runners = "/repos/octo-org/one/actions/runners";
    assert_eq!(
        call(&fake, "GET", one_runners, &administration, None).await,
        (200, None)
    );
    assert_eq!(
        call(&fake, "POST", one_jit, &administration, jit("b", 1))
            .await
            .0,
        201
    );
    assert_eq!(
        call(&fake, "GET", one_job, &administration, None).await,
        refused("actions=read")
    );
    let org_runners = "/orgs/octo-org/actions/runners";
    assert_eq!(
        call(&fake, "GET", org_runners, &administration, None).await,
        refused("organization_self_hosted_runners=read")
    );

    // Organisation Self-hosted runners (write) alone: organisation runners, no repository.
    let org = mint(
        &fake,
        7,
        json!({ "permissions": { "organization_self_hosted_runners": "write" } }),
    )
    .await;
    let org_jit = "/orgs/octo-org/actions/runners/generate-jitconfig";
    assert_eq!(call(&fake, "POST", org_jit, &org, jit("c", 5)).await.0, 201);
    assert_eq!(
        call(&fake, "GET", org_runners, &org, None).await,
        (200, None)
    );
    assert_eq!(
        call(&fake, "GET", one_runners, &org, None).await,
        refused("administration=read")
    );
    assert_eq!(
        call(&fake, "GET", one_job, &org, None).await,
        refused("actions=read")
    );
    // Another organisation's runners are invisible.
    assert_eq!(
        call(&fake, "GET", "/orgs/other-org/actions/runners", &org, None)
            .await
            .0,
        404
    );

    // Checks (write) on `one`: check runs, nothing else.
    let checks = mint(
        &fake,
        7,
        json!({ "repositories": ["one"], "permissions": { "checks": "write" } }),
    )
    .await;
    assert_eq!(
        call(&fake, "POST", one_checks, &checks, check_run())
            .await
            .0,
        201
    );
    assert_eq!(
        call(&fake, "GET", one_runners, &checks, None).await,
        refused("administration=read")
    );

    let runners: Vec<(String, u64)> = fake
        .runners()
        .into_iter()
        .map(|r| (r.scope, r.runner_group_id))
        .collect();
    assert_eq!(
        runners,
        [("octo-org/one".to_owned(), 1), ("octo-org".to_owned(), 5)]
    );
}
