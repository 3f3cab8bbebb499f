//! In-process fakes of the external HTTP APIs Ferry talks to, for tests only.
//!
//! Main types: [`FakeServer`], a stateful HTTP server bound to `127.0.0.1:0` with a request
//! log and fault injection; [`Router`], which maps method and path patterns to handlers; and the
//! service fakes built on them, [`FakeHub`] (Hugging Face Hub) and [`FakeGitHub`].
//!
//! The fakes answer as the real services do (status codes, headers, error bodies, pagination),
//! never as our clients hope. Nothing here touches the network beyond loopback.

pub mod github;
pub mod hub;
pub mod server;

pub use github::FakeGitHub;
pub use hub::FakeHub;
pub use server::{Body, Chunk, FakeServer, Fault, Params, Request, Response, Router};
pub mod deliveries;
pub mod dispatcher;
