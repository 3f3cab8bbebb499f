use proptest::prelude::*;

use super::*;

#[test]
fn accepts_what_hf_jobs_timeout_accepts() {
    let cases = [
        ("300", 300),
        ("0", 0),
        ("90s", 90),
        ("3600s", 3600),
        ("1.5s", 1),
        ("10m", 600),
        ("90m", 5400),
        ("30m", 1800),
        ("2h", 7200),
        ("1.5h", 5400),
        ("1d", 86_400),
        (" 45m ", 2700),
        (".5h", 1800),
    ];
    for (text, seconds) in cases {
        assert_eq!(parse_seconds(text), Ok(seconds), "{text}");
    }
    assert_eq!(parse("10m"), Ok(Duration::from_secs(600)));
}

#[test]
fn refuses_what_hf_jobs_refuses_with_a_message_naming_the_forms() {
    for text in [
        "1.5", "2H", "1h30m", "-5", "+5", "abc", "m", ".", "1e3", "inf", "nan", "5 m", "1w",
    ] {
        let error = parse_seconds(text).unwrap_err();
        assert!(matches!(error, Error::Invalid(_)), "{text}: {error:?}");
        assert!(error.to_string().contains("90s, 10m, 1.5h, 1d"), "{error}");
    }
    assert_eq!(parse_seconds("  "), Err(Error::Empty));
    assert!(matches!(
        parse_seconds("99999999999999999999999d"),
        Err(Error::TooLong(_))
    ));
}

#[test]
fn formats_in_the_shortest_exact_form() {
    assert_eq!(format_seconds(0), "0s");
    assert_eq!(format_seconds(45), "45s");
    assert_eq!(format_seconds(5400), "90m");
    assert_eq!(format_seconds(7200), "2h");
    assert_eq!(format_seconds(172_800), "2d");
}

proptest! {
    #[test]
    fn never_panics(text in "\\PC{0,12}") {
        let _ = parse_seconds(&text);
    }

    #[test]
    fn formatting_round_trips(seconds in 0u64..10_000_000_000) {
        prop_assert_eq!(parse_seconds(&format_seconds(seconds)), Ok(seconds));
    }
}

#[test]
fn backoff_doubles_from_the_base_and_stops_at_the_cap() {
    let ms = Duration::from_millis;
    let waits: Vec<Duration> = (1..=6).map(|a| backoff(ms(100), ms(1_000), a)).collect();
    assert_eq!(
        waits,
        [ms(100), ms(200), ms(400), ms(800), ms(1_000), ms(1_000)]
    );
    assert_eq!(backoff(ms(100), ms(1_000), 0), ms(100));
    assert_eq!(
        backoff(ms(100), ms(50), 1),
        ms(50),
        "the cap wins over the base"
    );
    assert_eq!(backoff(Duration::ZERO, ms(1_000), 9), Duration::ZERO);
}

proptest! {
    #[test]
    fn backoff_grows_never_past_the_cap(
        base in 0u64..10_000_000,
        max in 0u64..10_000_000_000,
        attempt in any::<u32>(),
    ) {
        let (base, max) = (Duration::from_micros(base), Duration::from_micros(max));
        let wait = backoff(base, max, attempt);
        prop_assert!(wait <= max);
        prop_assert!(wait >= base.min(max));
        prop_assert!(backoff(base, max, attempt.saturating_add(1)) >= wait);
    }
}
