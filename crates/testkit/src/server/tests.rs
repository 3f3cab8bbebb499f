use std::time::{Duration, Instant};

use serde_json::json;

use super::*;

fn echo_server() -> FakeServer {
    let router =
        Router::new(|status, message| Response::json(status, &json!({ "error": message })))
            .route("GET", "/items/{id}", |_, params| {
                Response::json(200, &json!({ "id": params["id"] }))
            })
            .route("POST", "/items", |req, _| {
                Response::new(201).bytes(req.body.clone())
            })
            .route("GET", "/files/{*path}", |_, params| {
                Response::text(200, params["path"].clone())
            });
    FakeServer::start(router)
}

#[tokio::test]
async fn records_method_path_query_headers_and_body() {
    let fake = echo_server();
    let client = reqwest::Client::new();
    let answer = client
        .post(fake.url("/items?a=1&a=2&b=x%20y"))
        .header("X-Custom", "yes")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    assert_eq!(answer.text().await.unwrap(), "hello");

    let recorded = fake.requests();
    assert_eq!(recorded.len(), 1);
    let r = &recorded[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/items"));
    assert_eq!(r.query_all("a"), ["1", "2"]);
    assert_eq!(r.query("b"), Some("x y"));
    assert_eq!(r.header("x-custom"), Some("yes"));
    assert_eq!(r.header("X-CUSTOM"), Some("yes"));
    assert_eq!(&r.body[..], b"hello");
    assert_eq!(fake.requests_to("post", "/items").len(), 1);
    assert!(fake.requests_to("GET", "/items").is_empty());
    fake.clear_requests();
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn routes_capture_segments_and_answer_404_and_405_in_the_service_shape() {
    let fake = echo_server();
    let get = |path: &str| reqwest::get(fake.url(path));
    let ok: serde_json::Value = get("/items/a%2Fb").await.unwrap().json().await.unwrap();
    assert_eq!(ok, json!({ "id": "a/b" }));
    assert_eq!(
        get("/files/x/y/z.txt").await.unwrap().text().await.unwrap(),
        "x/y/z.txt"
    );

    let missing = get("/nothing").await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<serde_json::Value>().await.unwrap(),
        json!({ "error": "Not Found" })
    );
    let wrong_method = reqwest::Client::new()
        .delete(fake.url("/items/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 405);
}

#[tokio::test]
async fn faults_answer_the_next_n_matching_requests_then_stop() {
    let fake = echo_server();
    fake.inject(
        Fault::on("GET", "/items")
            .times(2)
            .status(429)
            .retry_after(7)
            .message("slow down"),
    );
    for _ in 0..2 {
        let answer = reqwest::get(fake.url("/items/1")).await.unwrap();
        assert_eq!(answer.status(), 429);
        assert_eq!(answer.headers()["retry-after"], "7");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body, json!({ "error": "slow down" }));
    }
    // A request that does not match is untouched, and the third match gets the real answer.
    let post = reqwest::Client::new()
        .post(fake.url("/items"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 201);
    assert_eq!(
        reqwest::get(fake.url("/items/1")).await.unwrap().status(),
        200
    );
    // Faulted requests are still recorded.
    assert_eq!(fake.requests_to("GET", "/items").len(), 3);
}

#[tokio::test]
async fn delay_faults_slow_the_real_answer_and_can_be_cleared() {
    let fake = echo_server();
    fake.inject(Fault::on("*", "/items/").delay(Duration::from_millis(300)));
    let started = Instant::now();
    assert_eq!(
        reqwest::get(fake.url("/items/1")).await.unwrap().status(),
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(300));

    fake.inject(
        Fault::on("*", "/")
            .times(5)
            .status(503)
            .header("x-extra", "1"),
    );
    let answer = reqwest::get(fake.url("/items/1")).await.unwrap();
    assert_eq!(
        (answer.status().as_u16(), &answer.headers()["x-extra"]),
        (503, &"1".parse().unwrap())
    );
    fake.clear_faults();
    assert_eq!(
        reqwest::get(fake.url("/items/1")).await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn streamed_bodies_arrive_in_pieces_and_an_error_cuts_the_connection() {
    let router = Router::new(|s, m| Response::text(s, m))
        .route("GET", "/whole", |_, _| {
            let chunks = vec![Ok(Bytes::from("a\n")), Ok(Bytes::from("b\n"))];
            Response::new(200).stream(futures_util::stream::iter(chunks))
        })
        .route("GET", "/cut", |_, _| {
            let chunks = vec![Ok(Bytes::from("a\n")), Err(std::io::Error::other("cut"))];
            Response::new(200).stream(futures_util::stream::iter(chunks))
        });
    let fake = FakeServer::start(router);
    assert_eq!(
        reqwest::get(fake.url("/whole"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "a\nb\n"
    );
    // The cut may surface while reading the head or the body, as with a real network failure.
    let cut = match reqwest::get(fake.url("/cut")).await {
        Ok(answer) => answer.text().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(
        cut.is_err(),
        "a cut stream must fail the reader, got {cut:?}"
    );
}

#[test]
fn serves_plain_blocking_tests_too() {
    let fake = echo_server();
    let mut stream =
        std::net::TcpStream::connect(fake.base_url().trim_start_matches("http://")).unwrap();
    use std::io::{Read, Write};
    stream
        .write_all(b"GET /items/7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(r#"{"id":"7"}"#), "{answer}");
}
