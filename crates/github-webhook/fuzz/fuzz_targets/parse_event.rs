//! Any bytes, announced as any event, must parse or fail cleanly: never panic.
#![no_main]

use github_webhook::{Error, Event};
use libfuzzer_sys::fuzz_target;

const EVENTS: [&str; 5] = [
    "workflow_job",
    "ping",
    "installation",
    "installation_repositories",
    "workflow_run",
];

fuzz_target!(|data: &[u8]| {
    // The first byte picks the event name, the rest is the body.
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let name = EVENTS[usize::from(selector) % EVENTS.len()];
    match Event::parse(name, body) {
        Ok(event) => assert_eq!(event.name(), name),
        Err(Error::MalformedJson { event, .. }) => assert_eq!(event, name),
        Err(other) => panic!("unexpected error kind: {other:?}"),
    }
});
