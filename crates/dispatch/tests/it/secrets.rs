//! No secret leaks: not into logs, not into HF Job requests beyond the JIT secret, not into any
//! answer the dispatcher gives.

use dispatch::model::State;
use testkit::github::keys;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_anywhere_but_the_jobs_secrets() {
    let env = Env::new();
    let dispatcher = env.start().await;
    let mut answers = Vec::new();
    let job = env.queued_job(101, &["hf-jobs-cpu-basic"]);
    for (id, delivery) in [("s-1", job.clone()), ("s-1", job.clone())] {
        answers.push(
            env.deliver(&dispatcher, id, &delivery)
                .await
                .text()
                .await
                .unwrap(),
        );
    }
    let record = env.wait_for_state(101, State::Launched).await;
    answers.push(
        env.deliver(
            &dispatcher,
            "s-2",
            &job.in_progress(record.runner_name.as_deref().unwrap()),
        )
        .await
        .text()
        .await
        .unwrap(),
    );
    answers.push(
        env.send(&dispatcher, "workflow_job", "s-3", b"{}", Some("wrong"))
            .await
            .text()
            .await
            .unwrap(),
    );
    answers.push(
        env.send(
            &dispatcher,
            "workflow_job",
            "s-4",
            b"{",
            Some(WEBHOOK_SECRET),
        )
        .await
        .text()
        .await
        .unwrap(),
    );
    for path in ["/", "/?format=json", "/healthz", "/readyz"] {
        answers.push(
            env.client
                .get(format!("{}{path}", dispatcher.url))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }
    dispatcher.stop().await;

    let bodies = env.hf_create_bodies();
    assert_eq!(bodies.len(), 1);
    let jit = bodies[0]["secrets"]["RUNNER_JITCONFIG"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut job_without_secrets = bodies[0].clone();
    job_without_secrets
        .as_object_mut()
        .unwrap()
        .remove("secrets");
    let job_text = job_without_secrets.to_string();

    let mut secrets: Vec<(String, String)> = vec![
        ("webhook secret".into(), WEBHOOK_SECRET.into()),
        ("HF token".into(), HF_TOKEN.into()),
        ("JIT config".into(), jit),
        (
            "App private key".into(),
            key_body(keys::APP_PRIVATE_KEY_PKCS1),
        ),
    ];
    for token in env.github.issued_tokens() {
        secrets.push(("installation token".into(), token.token));
    }
    assert!(secrets.len() > 4, "an installation token was issued");
    let logs = logs();
    assert!(logs.contains("runner launched"), "the logs were captured");
    let hub_answers: String = env
        .hub
        .server
        .requests()
        .iter()
        .map(|r| format!("{} {} {:?}", r.method, r.path, r.query))
        .collect();
    for (name, secret) in &secrets {
        assert!(!logs.contains(secret.as_str()), "{name} in the logs");
        assert!(
            !job_text.contains(secret.as_str()),
            "{name} in the HF Job outside its secrets"
        );
        assert!(
            !hub_answers.contains(secret.as_str()),
            "{name} in an HF request line"
        );
        for answer in &answers {
            assert!(
                !answer.contains(secret.as_str()),
                "{name} in an answer: {answer}"
            );
        }
    }
    // What the Hub echoes back holds secret names only.
    let created = &env.hf_jobs()[0];
    assert_eq!(created["secrets"], serde_json::json!(["RUNNER_JITCONFIG"]));
}

/// The base64 body of a PEM key, which is what would leak.
fn key_body(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .take(2)
        .collect::<Vec<_>>()
        .join("")
}

const STATUS_TOKEN: &str = "status-token-that-must-never-leak-7f3a";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_check_runs_status_pages_or_stored_errors() {
    let env = Env::new();
    let dispatcher = env
        .start_tuned(
            [("STATUS_TOKEN".to_owned(), STATUS_TOKEN.to_owned())].into(),
            |tuning| tuning.feedback.interval = std::time::Duration::from_millis(100),
        )
        .await;
    // An API that echoes credentials in its error text: the stored reason must not.
    env.hub.inject(
        testkit::Fault::on("POST", &format!("/api/jobs/{NAMESPACE}"))
            .status(422)
            .message(&format!(
                "flavor refused for token {HF_TOKEN} (Authorization: Bearer {HF_TOKEN})"
            )),
    );
    let refused = env.queued_job(201, &["hf-jobs-cpu-basic"]);
    env.deliver(&dispatcher, "p-1", &refused).await;
    let failed = env.wait_for_state(201, State::Failed).await;
    assert!(
        failed
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("422") || r.contains("refused"))
    );
    let launched = env.queued_job(202, &["hf-jobs-cpu-basic"]);
    env.deliver(&dispatcher, "p-2", &launched).await;
    env.wait_for_state(202, State::Launched).await;
    env.deliver(
        &dispatcher,
        "p-3",
        &env.queued_job(203, &["hf-jobs-t4-smal"]),
    )
    .await;
    env.wait_for_state(203, State::Failed).await;
    wait_until("check runs for the three jobs", || async {
        env.github.check_runs().len() >= 3
    })
    .await;

    let mut texts = Vec::new();
    for path in ["/", "/?format=json", "/api/status", "/readyz"] {
        for token in [None, Some(STATUS_TOKEN)] {
            let mut request = env.client.get(format!("{}{path}", dispatcher.url));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            texts.push(request.send().await.unwrap().text().await.unwrap());
        }
    }
    for run in env.github.check_runs() {
        texts.push(format!(
            "{} {:?} {:?}",
            run.name, run.details_url, run.output
        ));
    }
    use dispatch::store::Store;
    for record in env.store().active(0).await.unwrap() {
        texts.push(format!("{record:?}"));
    }
    dispatcher.stop().await;
    texts.push(logs());

    let jit = env.hf_create_bodies()[0]["secrets"]["RUNNER_JITCONFIG"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut secrets: Vec<(String, String)> = vec![
        ("webhook secret".into(), WEBHOOK_SECRET.into()),
        ("HF token".into(), HF_TOKEN.into()),
        ("status token".into(), STATUS_TOKEN.into()),
        ("JIT config".into(), jit),
        (
            "App private key".into(),
            key_body(keys::APP_PRIVATE_KEY_PKCS1),
        ),
    ];
    for token in env.github.issued_tokens() {
        secrets.push(("installation token".into(), token.token));
    }
    for (name, secret) in &secrets {
        for text in &texts {
            assert!(
                !text.contains(secret.as_str()),
                "{name} found in: {}",
                &text[..text.len().min(400)]
            );
        }
    }
    // The page without the token names no repository; with it, it does.
    assert!(
        !texts[0].contains(REPO),
        "aggregates only without the token"
    );
    assert!(texts[1].contains(REPO), "details with the token");
}
