//! A client for Hugging Face Jobs and Buckets that speaks the Hub API as `huggingface_hub` does.
//!
//! Main types: the client (endpoint plus token), job specs and jobs, scheduled jobs, hardware,
//! volumes, log and metric streams, and the `uv run` transport through a bucket.
//!
//! It reads no environment variables and prints nothing: binaries resolve `HF_TOKEN` and
//! `HF_ENDPOINT` and hand them in.
