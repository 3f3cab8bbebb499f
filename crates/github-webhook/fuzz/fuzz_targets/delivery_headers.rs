//! Any header values must be read or rejected cleanly, and accepted text stays clean.
#![no_main]

use github_webhook::{Delivery, headers};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|values: [Option<&str>; 5]| {
    let names = [
        headers::EVENT,
        headers::DELIVERY,
        headers::HOOK_ID,
        headers::TARGET_TYPE,
        headers::TARGET_ID,
    ];
    let lookup = |name: &str| {
        names
            .iter()
            .position(|known| known.eq_ignore_ascii_case(name))
            .and_then(|index| values[index])
    };
    if let Ok(delivery) = Delivery::from_headers(lookup) {
        for text in [
            Some(&delivery.event),
            Some(&delivery.id),
            delivery.target_type.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            assert!(!text.is_empty());
            assert!(text.bytes().all(|b| b.is_ascii_graphic()));
        }
    }
});
