//! The generic fake: an HTTP server on loopback with a router, a request log and faults.

use std::collections::HashMap;
use std::net::TcpListener;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bytes::Bytes;
use futures_util::Stream;

#[cfg(test)]
mod tests;

/// One request as the fake received it. Header names are lower-case.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Request {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated query parameter, in order.
    pub fn query_all(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body parsed as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_slice(&self.body)
    }

    /// The bearer token of the `Authorization` header, if any.
    pub fn bearer(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim())
    }
}

/// A streamed body chunk; an `Err` cuts the connection, as a network failure would.
pub type Chunk = Result<Bytes, std::io::Error>;

/// The body of a fake answer.
pub enum Body {
    Bytes(Bytes),
    Stream(Pin<Box<dyn Stream<Item = Chunk> + Send>>),
}

/// An answer built by a handler.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::Bytes(Bytes::new()),
        }
    }

    /// A JSON answer with `Content-Type: application/json`.
    pub fn json(status: u16, value: &impl serde::Serialize) -> Self {
        let body = serde_json::to_vec(value).expect("fake answers serialise");
        Self::new(status)
            .header("content-type", "application/json; charset=utf-8")
            .bytes(body)
    }

    pub fn text(status: u16, text: impl Into<String>) -> Self {
        Self::new(status)
            .header("content-type", "text/plain; charset=utf-8")
            .bytes(text.into())
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn bytes(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Body::Bytes(body.into());
        self
    }

    pub fn stream(mut self, stream: impl Stream<Item = Chunk> + Send + 'static) -> Self {
        self.body = Body::Stream(Box::pin(stream));
        self
    }
}

/// Path parameters captured by `{name}` and `{*name}` segments.
pub type Params = HashMap<String, String>;

type Handler = Arc<dyn Fn(&Request, &Params) -> Response + Send + Sync>;

/// Builds an error answer in a service's own shape (GitHub and the Hub differ).
pub type ErrorShape = Arc<dyn Fn(u16, &str) -> Response + Send + Sync>;

struct Route {
    method: String,
    segments: Vec<String>,
    handler: Handler,
}

/// Maps a method and a path pattern to a handler. Patterns are `/`-separated segments where
/// `{name}` captures one segment and a final `{*name}` captures the rest.
pub struct Router {
    routes: Vec<Route>,
    errors: ErrorShape,
}

impl Router {
    /// A router whose unmatched requests, and injected faults, answer in `errors`' shape.
    pub fn new(errors: impl Fn(u16, &str) -> Response + Send + Sync + 'static) -> Self {
        Self {
            routes: Vec::new(),
            errors: Arc::new(errors),
        }
    }

    pub fn route(
        mut self,
        method: &str,
        pattern: &str,
        handler: impl Fn(&Request, &Params) -> Response + Send + Sync + 'static,
    ) -> Self {
        self.routes.push(Route {
            method: method.to_ascii_uppercase(),
            segments: split_path(pattern).map(str::to_owned).collect(),
            handler: Arc::new(handler),
        });
        self
    }

    fn dispatch(&self, request: &Request) -> Response {
        let path: Vec<&str> = split_path(&request.path).collect();
        let mut path_matched = false;
        for route in &self.routes {
            let Some(params) = match_segments(&route.segments, &path) else {
                continue;
            };
            path_matched = true;
            if route.method == request.method {
                return (route.handler)(request, &params);
            }
        }
        if path_matched {
            (self.errors)(405, "Method Not Allowed")
        } else {
            (self.errors)(404, "Not Found")
        }
    }
}

fn split_path(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn match_segments(pattern: &[String], path: &[&str]) -> Option<Params> {
    let mut params = Params::new();
    for (i, segment) in pattern.iter().enumerate() {
        if let Some(name) = segment.strip_prefix("{*").and_then(|s| s.strip_suffix('}')) {
            if i >= path.len() {
                return None;
            }
            params.insert(name.to_owned(), path[i..].join("/"));
            return Some(params);
        }
        let actual = path.get(i)?;
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                params.insert(name.to_owned(), percent_decode(actual));
            }
            None if segment == actual => {}
            None => return None,
        }
    }
    (pattern.len() == path.len()).then_some(params)
}

fn percent_decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| segment.to_owned())
}

/// A fault to inject: the next `times` requests that match answer with a status, or wait first.
#[derive(Debug, Clone)]
pub struct Fault {
    method: Option<String>,
    path_prefix: String,
    times: usize,
    status: Option<u16>,
    retry_after: Option<String>,
    headers: Vec<(String, String)>,
    message: Option<String>,
    delay: Option<Duration>,
}

impl Fault {
    /// Matches requests with this method (`*` for any) whose path starts with `path_prefix`.
    pub fn on(method: &str, path_prefix: &str) -> Self {
        Self {
            method: (method != "*").then(|| method.to_ascii_uppercase()),
            path_prefix: path_prefix.to_owned(),
            times: 1,
            status: None,
            retry_after: None,
            headers: Vec::new(),
            message: None,
            delay: None,
        }
    }

    /// How many matching requests the fault applies to (default 1).
    pub fn times(mut self, times: usize) -> Self {
        self.times = times;
        self
    }

    /// Answer with this status and the service's error body instead of the real answer.
    pub fn status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Add a `Retry-After` header (seconds) to the injected answer.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.to_string());
        self
    }

    /// Add any header to the injected answer (for example rate-limit headers).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// The message put in the service's error body.
    pub fn message(mut self, message: &str) -> Self {
        self.message = Some(message.to_owned());
        self
    }

    /// Wait this long before answering (with the fault status, or else the real answer).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    fn matches(&self, request: &Request) -> bool {
        self.times > 0
            && self.method.as_ref().is_none_or(|m| *m == request.method)
            && request.path.starts_with(&self.path_prefix)
    }
}

struct Shared {
    router: Router,
    log: Mutex<Vec<Request>>,
    faults: Mutex<Vec<Fault>>,
}

/// A running fake HTTP service on `127.0.0.1:<random port>`, stopped when dropped.
///
/// It runs on its own thread and runtime, so it serves sync tests, async tests and child
/// processes (such as the Python client) alike.
pub struct FakeServer {
    base_url: String,
    shared: Arc<Shared>,
    handle: actix_web::dev::ServerHandle,
}

impl FakeServer {
    /// Binds `127.0.0.1:0` and serves `router` until the server is dropped.
    pub fn start(router: Router) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            router,
            log: Mutex::default(),
            faults: Mutex::default(),
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let for_thread = shared.clone();
        std::thread::Builder::new()
            .name(format!("fake-{}", addr.port()))
            .spawn(move || {
                let system = actix_web::rt::System::new();
                system.block_on(async move {
                    let data = web::Data::from(for_thread);
                    let server = HttpServer::new(move || {
                        App::new()
                            .app_data(data.clone())
                            .app_data(web::PayloadConfig::new(256 * 1024 * 1024))
                            .default_service(web::to(serve))
                    })
                    .workers(2)
                    .disable_signals()
                    .shutdown_timeout(1)
                    .listen(listener)
                    .expect("listen")
                    .run();
                    tx.send(server.handle())
                        .expect("hand back the server handle");
                    let _ = server.await;
                });
            })
            .expect("spawn fake server thread");
        let handle = rx.recv().expect("fake server started");
        Self {
            base_url: format!("http://{addr}"),
            shared,
            handle,
        }
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The base URL joined with `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.log.lock().unwrap().clone()
    }

    /// The requests with this method whose path starts with `path_prefix`.
    pub fn requests_to(&self, method: &str, path_prefix: &str) -> Vec<Request> {
        let method = method.to_ascii_uppercase();
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.starts_with(path_prefix))
            .collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.log.lock().unwrap().clear();
    }

    /// Adds a fault; faults are tried in the order they were added.
    pub fn inject(&self, fault: Fault) {
        self.shared.faults.lock().unwrap().push(fault);
    }

    /// Removes every fault not yet used up.
    pub fn clear_faults(&self) {
        self.shared.faults.lock().unwrap().clear();
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        // The stop command is sent at once; the returned future only waits for completion.
        drop(self.handle.stop(false));
    }
}

async fn serve(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let request = Request {
        method: req.method().as_str().to_owned(),
        path: req.path().to_owned(),
        query: url::form_urlencoded::parse(req.query_string().as_bytes())
            .into_owned()
            .collect(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: Bytes::copy_from_slice(&body),
    };
    shared.log.lock().unwrap().push(request.clone());

    let fault = {
        let mut faults = shared.faults.lock().unwrap();
        let found = faults.iter_mut().find(|f| f.matches(&request));
        found.map(|f| {
            f.times -= 1;
            f.clone()
        })
    };
    if let Some(delay) = fault.as_ref().and_then(|f| f.delay) {
        actix_web::rt::time::sleep(delay).await;
    }
    let response = match fault.as_ref().and_then(|f| f.status.map(|s| (f, s))) {
        Some((fault, status)) => {
            let message = fault
                .message
                .clone()
                .unwrap_or_else(|| default_message(status));
            let mut response = (shared.router.errors)(status, &message);
            if let Some(seconds) = &fault.retry_after {
                response
                    .headers
                    .push(("retry-after".into(), seconds.clone()));
            }
            response.headers.extend(fault.headers.iter().cloned());
            response
        }
        None => shared.router.dispatch(&request),
    };
    into_actix(response)
}

fn default_message(status: u16) -> String {
    match status {
        401 => "Unauthorized".into(),
        403 => "Forbidden".into(),
        404 => "Not Found".into(),
        429 => "Too Many Requests".into(),
        500 => "Internal Server Error".into(),
        502 => "Bad Gateway".into(),
        503 => "Service Unavailable".into(),
        other => format!("HTTP {other}"),
    }
}

fn into_actix(response: Response) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(response.status).expect("valid status");
    let mut builder = HttpResponse::build(status);
    for (name, value) in &response.headers {
        builder.append_header((name.as_str(), value.as_str()));
    }
    match response.body {
        Body::Bytes(bytes) => builder.body(bytes),
        Body::Stream(stream) => builder.streaming(stream),
    }
}
