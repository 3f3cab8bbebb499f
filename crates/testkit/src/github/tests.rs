use super::*;

fn jwt(key_pem: &str, iat: i64, exp: i64, iss: Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(key_pem.as_bytes()).unwrap();
    let claims = json!({ "iat": iat, "exp": exp, "iss": iss });
    jsonwebtoken::encode(&jsonwebtoken::Header::new(Algorithm::RS256), &claims, &key).unwrap()
}

fn valid_jwt() -> String {
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
