use proptest::prelude::*;

use super::*;

const GITHUB_TOKEN: &str = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";
const HF_TOKEN: &str = "hf_e2eTokenThatMustNeverLeak0123456789";
const JWT: &str =
    "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjM0NSIsImlhdCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";

fn assert_gone(text: &str, secret: &str) {
    let out = scrub(text);
    assert!(!out.contains(secret), "{secret:?} survived in {out:?}");
    assert!(out.contains(REDACTED), "nothing redacted in {out:?}");
}

#[test]
fn github_tokens_of_every_kind_are_redacted() {
    for token in [
        GITHUB_TOKEN,
        "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        "gho_16C7e42F292c6912E7710c838347Ae178B4a",
        "ghu_16C7e42F292c6912E7710c838347Ae178B4a",
        "ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123",
        "ghs_test_0",
    ] {
        let text = format!("request failed (token {token}): 401 Bad credentials");
        assert_gone(&text, token);
        assert!(
            scrub(&text).ends_with("401 Bad credentials"),
            "{}",
            scrub(&text)
        );
    }
}

#[test]
fn hf_tokens_are_redacted_but_hf_words_stay() {
    assert_gone(&format!("Invalid token {HF_TOKEN} for alice"), HF_TOKEN);
    assert_gone(
        "hf_abcdefghijklmnopqrstuvwxyzabcdefgh was revoked",
        "hf_abcdefghijklmnopqrstuvwxyzabcdefgh",
    );
    let prose = "install hf_transfer or set HF_HUB_ENABLE_HF_TRANSFER; see hf_hub_download";
    assert_eq!(scrub(prose), prose);
}

#[test]
fn jwts_are_redacted() {
    assert_gone(
        &format!("A JSON web token could not be decoded: {JWT}"),
        JWT,
    );
    assert_gone(&format!("jwt={JWT}&x=1"), "eyJpc3Mi");
    for part in JWT.split('.') {
        assert!(!scrub(&format!("token was {JWT}")).contains(part));
    }
}

#[test]
fn bearer_basic_and_token_values_are_redacted() {
    assert_gone("Authorization: Bearer abc123def456", "abc123def456");
    assert_gone("authorization: bearer OpaqueTokenValue", "OpaqueTokenValue");
    assert_gone("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz");
    assert_gone("Authorization: token 0123456789abcdef", "0123456789abcdef");
    assert_gone("sent access_token=plainlowercase", "plainlowercase");
    assert_gone("client_secret = hunter2&grant=x", "hunter2");
    assert_gone(
        r#"{"token": "not a word at all", "ok": false}"#,
        "not a word at all",
    );
    assert_gone(r#"{"encoded_jit_config":"ZXhhbXBsZQ=="}"#, "ZXhhbXBsZQ==");
    assert_gone("password: Tr0ub4dor&3", "Tr0ub4dor");
    assert_gone("HF_TOKEN=abc", "abc");
}

#[test]
fn words_after_token_and_bearer_in_sentences_stay() {
    for prose in [
        "the token expired; ask for a new token",
        "HF_TOKEN: the Hub refused the token",
        "GH_APP_PRIVATE_KEY: could not parse the key",
        "Bearer token required",
        r#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}"#,
        "secret scanning found nothing",
        "token: null",
    ] {
        assert_eq!(scrub(prose), prose);
    }
}

#[test]
fn pem_blocks_are_redacted_whole_even_unterminated() {
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1x\nabcdefg==\n-----END RSA PRIVATE KEY-----";
    let out = scrub(&format!("cannot parse {pem} as a key"));
    assert_eq!(out, format!("cannot parse {REDACTED} as a key"));
    let out = scrub("key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nmore");
    assert_eq!(out, format!("key: {REDACTED}"));
}

#[test]
fn urls_lose_user_information_query_and_fragment() {
    let out = scrub(
        "cannot fetch https://x-access-token:s3cret@github.com/octo/ml.git?ref=main#frag: 403",
    );
    assert_eq!(
        out,
        format!("cannot fetch https://{REDACTED}@github.com/octo/ml.git?{REDACTED} 403")
    );
    assert_eq!(
        scrub("see https://huggingface.co/api/jobs/alice#token=abc and retry"),
        format!("see https://huggingface.co/api/jobs/alice#{REDACTED} and retry")
    );
    let plain = "POST https://api.github.com/repos/octo/ml/actions/runners/generate-jitconfig: 422";
    assert_eq!(scrub(plain), plain);
    assert_eq!(
        scrub("https://user@example.com/"),
        format!("https://{REDACTED}@example.com/")
    );
}

#[test]
fn long_hex_and_base64_runs_are_redacted_but_ids_and_paths_stay() {
    let hex = "0123456789abcdef0123456789abcdef01234567";
    assert_gone(&format!("webhook secret {hex} rejected"), hex);
    let base64 = "q2JxN8vT0pLmZ4yWc7RkH1sAeF9uXo3bGdVi6nKt";
    assert_gone(&format!("bad signature {base64}"), base64);
    assert_gone(&format!("/hooks/{hex}/deliver"), hex);
    for kept in [
        "HF Job 6789abcdef0123456789abcd failed",
        "job id 123e4567-e89b-12d3-a456-426614174000",
        "/repos/octo/ml/actions/jobs/5000000001 answered 404",
        "the label hf-jobs-t4-smal names no flavor; did you mean t4-small?",
        "a_very_long_snake_case_identifier_that_is_no_secret",
    ] {
        assert_eq!(scrub(kept), kept);
    }
}

#[test]
fn text_is_put_on_one_line_without_invisible_characters() {
    assert_eq!(
        scrub("line one\r\n\tline\u{7} two\u{202E}reversed\u{200B}  end\n"),
        "line one line two reversed end"
    );
}

#[test]
fn long_text_is_cut_on_a_character_boundary_with_an_ellipsis() {
    let text = "é".repeat(1000);
    let out = scrub(&text);
    assert_eq!(out.chars().count(), MAX_CHARS);
    assert!(out.ends_with('…'));
    assert!(out.starts_with("éé"));
    assert_eq!(scrub_to("abcdef", 4), "abc…");
    assert_eq!(scrub_to("abcd", 4), "abcd");
    assert_eq!(scrub_to("abcd", 0), "");
    let exact = "x".repeat(MAX_CHARS);
    assert_eq!(scrub(&exact), exact);
}

#[test]
fn huge_input_is_bounded_and_a_token_at_the_limit_never_half_survives() {
    let padding = "word ".repeat(MAX_INPUT_BYTES / 5 - 2);
    let text = format!("{padding}{GITHUB_TOKEN}{GITHUB_TOKEN} and more");
    let (bounded, cut) = bound(&text);
    assert!(cut && bounded.len() <= MAX_INPUT_BYTES);
    assert!(
        !bounded.contains("ghs_"),
        "{}",
        &bounded[bounded.len() - 40..]
    );
    let all_secret = format!("-----BEGIN PRIVATE KEY-----{}", "A".repeat(MAX_INPUT_BYTES));
    assert_eq!(scrub(&all_secret), format!("{REDACTED}…"));
}

#[test]
fn scrubbing_twice_changes_nothing_more() {
    let text = format!(
        "Bearer {GITHUB_TOKEN} at https://u:p@h.example/x?y=1 with {HF_TOKEN} and {JWT} password=x"
    );
    let once = scrub(&text);
    assert_eq!(scrub(&once), once);
    assert_eq!(redact(&once), once);
    // A value redacted inside a URL's user information: one round alone left the URL whole.
    let nested = redact("https://token=https://[redacted]@");
    assert_eq!(nested, format!("https://{REDACTED}@"));
    assert_eq!(redact(&nested), nested);
}

proptest! {
    #[test]
    fn any_text_gives_a_short_single_line(text in "\\PC{0,600}") {
        let out = scrub(&text);
        prop_assert!(out.chars().count() <= MAX_CHARS);
        prop_assert!(!out.contains('\n') && !out.contains('\r'));
        let again = scrub(&out);
        prop_assert_eq!(again, out);
    }

    #[test]
    fn a_planted_token_never_survives(
        before in "[a-zA-Z ,.:;=]{0,120}",
        after in "[a-zA-Z ,.:;=]{0,120}",
        prefix in prop::sample::select(vec!["ghp_", "ghs_", "gho_", "ghu_", "ghr_", "github_pat_"]),
        body in "[A-Za-z0-9]{36}",
    ) {
        let token = format!("{prefix}{body}");
        let out = scrub(&format!("{before} {token} {after}"));
        prop_assert!(!out.contains(&body), "{}", out);
    }

    #[test]
    fn a_planted_hf_token_never_survives(
        before in "[a-zA-Z ,.:;=]{0,120}",
        body in "[A-Za-z]{34}",
    ) {
        let out = scrub(&format!("{before} hf_{body}"));
        prop_assert!(!out.contains(&body), "{}", out);
    }
}

/// Pieces that make the patterns meet, overlap and get cut.
const PIECES: &[&str] = &[
    "token",
    "Bearer",
    "password",
    "=",
    ":",
    " ",
    "\"",
    "'",
    "https://",
    "@",
    "?",
    "#",
    "/",
    "ghs_",
    "hf_",
    "eyJ",
    "-----BEGIN",
    "-----END",
    "-----",
    "\n",
    "abc",
    "XYZ",
    "123",
    "0f",
    "[redacted]",
    "é",
    "…",
    "&",
    ".",
    "_",
    "-",
];

proptest! {
    #[test]
    fn scrubbing_is_stable_when_patterns_meet(
        pieces in prop::collection::vec(prop::sample::select(PIECES), 0..120),
        max in 1usize..80,
    ) {
        let text = pieces.concat();
        let once = redact(&text);
        prop_assert_eq!(redact(&once), once.clone());
        let cut = scrub_to(&text, max);
        prop_assert!(cut.chars().count() <= max);
        prop_assert!(!cut.contains("[reda…"), "{}", cut);
    }
}
