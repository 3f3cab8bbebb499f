//! `FakeGitHub`: the GitHub REST endpoints Ferry uses, with GitHub's own answers.

use serde_json::json;

use crate::server::{FakeServer, Response, Router};

/// GitHub's error body: `{"message", "documentation_url", "status"}`.
pub fn github_error(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({ "message": message,
                 "documentation_url": "https://docs.github.com/rest",
                 "status": status.to_string() }),
    )
}

/// A fake GitHub REST API on loopback. The `github-app` work fills in its endpoints.
pub struct FakeGitHub {
    pub server: FakeServer,
}

impl FakeGitHub {
    pub fn start() -> Self {
        let router = Router::new(github_error).route("GET", "/zen", |_, _| {
            Response::text(200, "Keep it logically awesome.")
        });
        Self { server: FakeServer::start(router) }
    }

    pub fn base_url(&self) -> &str {
        self.server.base_url()
    }
}
