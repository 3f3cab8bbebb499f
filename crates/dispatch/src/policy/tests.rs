use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn policy(toml: &str) -> Policy {
    Policy::parse(Some(toml), &BTreeMap::new()).unwrap()
}

fn error(toml: &str) -> PolicyError {
    Policy::parse(Some(toml), &BTreeMap::new()).unwrap_err()
}

fn env_error(pairs: &[(&str, &str)]) -> PolicyError {
    Policy::parse(None, &env(pairs)).unwrap_err()
}

fn request<'a>(repo: &'a str, flavor: &'a str) -> Request<'a> {
    Request {
        repo,
        flavor,
        is_gpu: is_gpu(flavor),
        label_timeout: None,
        label_chose_image: false,
        fork: None,
    }
}

fn is_gpu(flavor: &str) -> bool {
    !flavor.starts_with("cpu")
}

fn fork(author: &str) -> Option<Fork> {
    Some(Fork {
        author: author.to_owned(),
    })
}

fn minutes(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

fn cap_keys(caps: &[Cap]) -> Vec<(CapKey, u32)> {
    caps.iter()
        .map(|cap| (cap.key.clone(), cap.limit))
        .collect()
}

// The two configurations of the module docs, checked to be there word for word.
const OPEN_SOURCE: &str = r#"[policy]
allowed_repositories = ["octo/lib"]
fork_pull_requests = "cpu"
trusted_fork_authors = ["alice"]
max_running_jobs = 4
max_running_per_repository = 3

[policy.flavors.t4-small]
max_timeout = "1h"
max_running = 1

[[policy.scope]]
match = "octo/lib"
flavors = ["cpu-basic", "cpu-upgrade", "t4-small"]
timeout = "20m"
"#;

const ORGANISATION: &str = r#"[policy]
allowed_repositories = ["acme/*"]
max_running_jobs = 40
max_running_per_repository = 8

[[policy.scope]]
match = "acme/*"
flavors = ["cpu"]
namespace = "acme-ci"
cache = { bucket = "acme-ci/cache-{repo}" }

[[policy.scope]]
match = "acme/research"
flavors = ["cpu", "gpu"]
namespace = "acme-research"
image_gpu = "ghcr.io/acme/ci:cuda"
max_running = 16
"#;

#[test]
fn the_examples_are_the_ones_in_the_module_docs() {
    let docs: String = include_str!("mod.rs")
        .lines()
        .filter_map(|line| line.strip_prefix("//!"))
        .map(|line| format!("{}\n", line.strip_prefix(' ').unwrap_or(line)))
        .collect();
    for example in [OPEN_SOURCE, ORGANISATION] {
        assert!(docs.contains(example), "the docs lost:\n{example}");
    }
    // The reference example at the top of the docs parses too.
    let start = docs.find("```toml\n").unwrap() + "```toml\n".len();
    let end = start + docs[start..].find("```").unwrap();
    let reference = policy(&docs[start..end]);
    assert!(reference.repository_allowed("octo/app"));
}

#[test]
fn the_open_source_example() {
    let policy = policy(OPEN_SOURCE);
    assert!(policy.repository_allowed("octo/lib"));
    assert!(policy.repository_allowed("Octo/Lib"));
    assert!(!policy.repository_allowed("octo/other"));

    // The repository's own runs may use the GPU, within its maximum, with the default timeout.
    let grant = policy.decide(&request("octo/lib", "t4-small")).unwrap();
    assert_eq!(grant.timeout, Some(minutes(20)));
    assert_eq!(grant.max_timeout, Some(minutes(60)));
    let long = Request {
        label_timeout: Some(minutes(90)),
        ..request("octo/lib", "t4-small")
    };
    assert!(matches!(
        policy.decide(&long),
        Err(Refusal::TimeoutTooLong { .. })
    ));
    assert!(matches!(
        policy.decide(&request("octo/lib", "a10g-large")),
        Err(Refusal::FlavorNotAllowed { .. })
    ));

    // Forks run on CPU only, unless their author is trusted.
    let from_fork = |flavor, author| Request {
        fork: fork(author),
        ..request("octo/lib", flavor)
    };
    assert!(policy.decide(&from_fork("cpu-basic", "mallory")).is_ok());
    assert!(matches!(
        policy.decide(&from_fork("t4-small", "mallory")),
        Err(Refusal::ForkGpuRefused { .. })
    ));
    assert!(policy.decide(&from_fork("t4-small", "Alice")).is_ok());

    // Tight caps.
    assert_eq!(
        cap_keys(&policy.caps("octo/lib", Some(7), "t4-small")),
        vec![
            (CapKey::Global, 4),
            (CapKey::Repository("octo/lib".into()), 3),
            (CapKey::Flavor("t4-small".into()), 1),
        ]
    );
}

#[test]
fn the_organisation_example() {
    let policy = policy(ORGANISATION);
    assert!(policy.repository_allowed("acme/web"));
    assert!(policy.repository_allowed("ACME/research"));
    assert!(!policy.repository_allowed("octo/web"));

    let web = policy.decide(&request("acme/Web", "cpu-upgrade")).unwrap();
    assert_eq!(web.namespace.as_deref(), Some("acme-ci"));
    let cache = web.cache.unwrap();
    assert_eq!(cache.bucket, "acme-ci/cache-web");
    assert_eq!(cache.mount, "/cache");
    assert!(matches!(
        policy.decide(&request("acme/web", "t4-small")),
        Err(Refusal::FlavorNotAllowed { .. })
    ));

    let research = policy
        .decide(&request("acme/research", "a100-large"))
        .unwrap();
    assert_eq!(research.namespace.as_deref(), Some("acme-research"));
    assert_eq!(research.image.as_deref(), Some("ghcr.io/acme/ci:cuda"));
    assert_eq!(research.cache.unwrap().bucket, "acme-ci/cache-research");
    let research_cpu = policy
        .decide(&request("acme/research", "cpu-basic"))
        .unwrap();
    assert_eq!(research_cpu.image, None, "the GPU image is for GPU flavors");

    assert_eq!(
        cap_keys(&policy.caps("acme/research", None, "a100-large")),
        vec![
            (CapKey::Global, 40),
            (CapKey::Repository("acme/research".into()), 16),
        ]
    );
    assert_eq!(
        cap_keys(&policy.caps("acme/web", None, "cpu-basic")),
        vec![
            (CapKey::Global, 40),
            (CapKey::Repository("acme/web".into()), 8)
        ]
    );
}

#[test]
fn nothing_configured_allows_everything_but_forks() {
    for policy in [
        Policy::parse(None, &BTreeMap::new()).unwrap(),
        policy(""),
        policy("PORT = 7860\nallowed_github_repositories = [\"x/y\"]\n"),
        policy("[policy]\n"),
    ] {
        assert_eq!(policy, Policy::default());
        assert!(policy.repository_allowed("anyone/anything"));
        assert_eq!(
            policy.decide(&request("a/b", "h200x8")).unwrap(),
            Grant::default()
        );
        assert!(policy.caps("a/b", Some(1), "h200x8").is_empty());
        assert_eq!(policy.fork_mode(), ForkMode::Refuse);
        let from_fork = Request {
            fork: fork("bob"),
            ..request("a/b", "cpu-basic")
        };
        assert!(matches!(
            policy.decide(&from_fork),
            Err(Refusal::ForkRefused { .. })
        ));
    }
}

#[test]
fn flat_settings_reach_the_policy_through_env() {
    // The caller merges FERRY_CONFIG's flat keys into `env`, as config::Sources does.
    let policy = Policy::parse(
        Some("ALLOWED_GITHUB_REPOSITORIES = \"x/y\"\n"),
        &env(&[("ALLOWED_GITHUB_REPOSITORIES", "x/y")]),
    )
    .unwrap();
    assert!(policy.repository_allowed("x/y"));
    assert!(!policy.repository_allowed("x/z"));
}

#[test]
fn wildcards_and_exact_names() {
    let policy = policy("[policy]\nallowed_repositories = [\"octo/*\", \"Other/Repo\"]\n");
    assert!(policy.repository_allowed("octo/anything"));
    assert!(policy.repository_allowed("OCTO/Anything"));
    assert!(policy.repository_allowed("other/repo"));
    assert!(!policy.repository_allowed("other/repo2"));
    assert!(!policy.repository_allowed("octopus/app"));
    assert!(!policy.repository_allowed("octo"));
    assert!(!policy.repository_allowed("octo/"));
    assert!(matches!(
        policy.decide(&request("other/else", "cpu-basic")),
        Err(Refusal::RepositoryNotAllowed { repo }) if repo == "other/else"
    ));

    let everyone = policy_from_env(&[("ALLOWED_GITHUB_REPOSITORIES", "*")]);
    assert!(everyone.repository_allowed("who/ever"));
}

fn policy_from_env(pairs: &[(&str, &str)]) -> Policy {
    Policy::parse(None, &env(pairs)).unwrap()
}

#[test]
fn the_environment_wins_over_the_file() {
    let file = r#"
[policy]
allowed_repositories = ["octo/*"]
fork_pull_requests = "allow"
trusted_fork_authors = ["alice"]
max_running_jobs = 20
max_running_per_installation = 10
max_running_per_repository = 5
"#;
    let policy = Policy::parse(
        Some(file),
        &env(&[
            ("ALLOWED_GITHUB_REPOSITORIES", " other/repo , third/* "),
            ("FORK_PULL_REQUESTS", "CPU"),
            ("FORK_TRUSTED_AUTHORS", "bob,dependabot[bot]"),
            ("MAX_RUNNING_JOBS", "3"),
            ("MAX_RUNNING_PER_INSTALLATION", "2"),
            ("MAX_RUNNING_PER_REPOSITORY", "1"),
        ]),
    )
    .unwrap();
    assert!(!policy.repository_allowed("octo/app"), "lists are replaced");
    assert!(policy.repository_allowed("other/repo"));
    assert!(policy.repository_allowed("third/x"));
    assert_eq!(policy.fork_mode(), ForkMode::Cpu);
    let from = |author| Request {
        fork: fork(author),
        ..request("other/repo", "t4-small")
    };
    assert!(
        policy.decide(&from("alice")).is_err(),
        "alice was the file's"
    );
    assert!(policy.decide(&from("Bob")).is_ok());
    let caps = policy.caps("other/repo", Some(9), "t4-small");
    assert_eq!(
        cap_keys(&caps),
        vec![
            (CapKey::Global, 3),
            (CapKey::Installation(9), 2),
            (CapKey::Repository("other/repo".into()), 1),
        ]
    );
    assert_eq!(caps[0].setting, "MAX_RUNNING_JOBS");
    assert_eq!(caps[0].label(), "the global cap MAX_RUNNING_JOBS=3");

    // Blank variables count as unset: the file applies.
    let blank = Policy::parse(
        Some(file),
        &env(&[
            ("ALLOWED_GITHUB_REPOSITORIES", " "),
            ("MAX_RUNNING_JOBS", ""),
        ]),
    )
    .unwrap();
    assert!(blank.repository_allowed("octo/app"));
    assert!(!blank.repository_allowed("other/repo"));
    let caps = blank.caps("octo/app", None, "cpu-basic");
    assert_eq!(caps[0].setting, "policy.max_running_jobs");
    assert_eq!(caps[0].label(), "the global cap policy.max_running_jobs=20");
}

#[test]
fn most_specific_scope_wins_field_by_field() {
    let policy = policy(
        r#"
[[policy.scope]]
match = "*"
timeout = "10m"
image = "everyone"
namespace = "ns-all"
max_running = 9

[[policy.scope]]
match = "octo/*"
image = "octo"

[[policy.scope]]
match = "Octo/App"
namespace = "ns-app"
"#,
    );
    let app = policy.decide(&request("octo/app", "cpu-basic")).unwrap();
    assert_eq!(app.timeout, Some(minutes(10)), "from *");
    assert_eq!(app.image.as_deref(), Some("octo"), "from octo/*");
    assert_eq!(app.namespace.as_deref(), Some("ns-app"), "from octo/app");

    let other = policy.decide(&request("octo/other", "cpu-basic")).unwrap();
    assert_eq!(other.image.as_deref(), Some("octo"));
    assert_eq!(other.namespace.as_deref(), Some("ns-all"));

    let elsewhere = policy.decide(&request("else/where", "cpu-basic")).unwrap();
    assert_eq!(elsewhere.image.as_deref(), Some("everyone"));
    assert_eq!(
        cap_keys(&policy.caps("else/where", None, "cpu-basic")),
        vec![(CapKey::Repository("else/where".into()), 9)]
    );
}

#[test]
fn the_order_of_scopes_in_the_file_does_not_matter() {
    let policy = policy(
        r#"
[[policy.scope]]
match = "octo/app"
image = "app"

[[policy.scope]]
match = "octo/*"
image = "octo"

[[policy.scope]]
match = "*"
image = "all"
"#,
    );
    let image = |repo| policy.decide(&request(repo, "cpu-basic")).unwrap().image;
    assert_eq!(image("octo/app").as_deref(), Some("app"));
    assert_eq!(image("octo/lib").as_deref(), Some("octo"));
    assert_eq!(image("else/lib").as_deref(), Some("all"));
}

#[test]
fn scopes_never_admit_a_repository() {
    let policy = policy(
        r#"
[policy]
allowed_repositories = ["octo/app"]
[[policy.scope]]
match = "other/*"
flavors = ["cpu"]
"#,
    );
    assert!(!policy.repository_allowed("other/app"));
}

#[test]
fn flavor_groups() {
    let policy = policy(
        r#"
[[policy.scope]]
match = "cpu/*"
flavors = ["cpu"]
[[policy.scope]]
match = "gpu/*"
flavors = ["GPU"]
[[policy.scope]]
match = "named/*"
flavors = ["cpu-basic", "t4-small", "t4-small"]
[[policy.scope]]
match = "none/*"
flavors = []
"#,
    );
    let allowed = |repo, flavor| policy.decide(&request(repo, flavor)).is_ok();
    assert!(allowed("cpu/a", "cpu-basic") && allowed("cpu/a", "cpu-performance"));
    assert!(!allowed("cpu/a", "t4-small"));
    assert!(allowed("gpu/a", "a100-large") && !allowed("gpu/a", "cpu-basic"));
    assert!(allowed("named/a", "T4-Small") && allowed("named/a", "cpu-basic"));
    assert!(!allowed("named/a", "cpu-upgrade"));
    assert!(!allowed("none/a", "cpu-basic"));
    assert!(allowed("other/a", "h200x8"), "no scope: every flavor");

    let Err(refusal) = policy.decide(&request("named/a", "a10g-large")) else {
        panic!("a10g-large is not listed");
    };
    assert_eq!(
        refusal,
        Refusal::FlavorNotAllowed {
            flavor: "a10g-large".into(),
            allowed: vec!["cpu-basic".into(), "t4-small".into()],
        }
    );
    let text = refusal.to_string();
    assert!(
        text.contains("allows `cpu-basic` and `t4-small` here"),
        "{text}"
    );
    assert!(text.contains("flavors"), "{text}");
    let text = policy
        .decide(&request("cpu/a", "t4-small"))
        .unwrap_err()
        .to_string();
    assert!(text.contains("every CPU flavor (`cpu`)"), "{text}");
    let text = policy
        .decide(&request("none/a", "t4-small"))
        .unwrap_err()
        .to_string();
    assert!(text.contains("no flavor"), "{text}");
    assert_eq!(
        policy.named_flavors(),
        BTreeSet::from(["cpu-basic".to_owned(), "t4-small".to_owned()])
    );
}

#[test]
fn gpu_is_opt_in_per_repository() {
    let policy = policy(
        r#"
[[policy.scope]]
match = "*"
flavors = ["cpu"]
[[policy.scope]]
match = "octo/ml"
flavors = ["cpu", "gpu"]
"#,
    );
    assert!(policy.decide(&request("octo/ml", "a10g-large")).is_ok());
    assert!(policy.decide(&request("octo/web", "a10g-large")).is_err());
    assert!(policy.decide(&request("octo/web", "cpu-xl")).is_ok());
}

#[test]
fn a_label_timeout_over_the_maximum_is_refused_and_the_default_is_clamped() {
    let policy = policy(
        r#"
[policy.flavors.A10G-large]
max_timeout = "2h"
[[policy.scope]]
match = "*"
timeout = "3h"
"#,
    );
    let with = |timeout| Request {
        label_timeout: timeout,
        ..request("a/b", "a10g-large")
    };
    let refusal = policy.decide(&with(Some(minutes(121)))).unwrap_err();
    assert_eq!(
        refusal,
        Refusal::TimeoutTooLong {
            flavor: "a10g-large".into(),
            asked: minutes(121),
            max: minutes(120),
        }
    );
    let text = refusal.to_string();
    assert!(
        text.contains("2h") && text.contains("max_timeout") && text.contains("/timeout="),
        "{text}"
    );

    let exact = policy.decide(&with(Some(minutes(120)))).unwrap();
    assert_eq!(exact.timeout, Some(minutes(120)));
    let short = policy.decide(&with(Some(minutes(5)))).unwrap();
    assert_eq!(short.timeout, Some(minutes(5)));
    let default = policy.decide(&with(None)).unwrap();
    assert_eq!(default.timeout, Some(minutes(120)), "3h clamped to 2h");

    // Another flavor: the scope's default as it is.
    let other = policy.decide(&request("a/b", "t4-small")).unwrap();
    assert_eq!(other.timeout, Some(minutes(180)));
    assert_eq!(other.max_timeout, None);
}

#[test]
fn the_dispatcher_default_timeout_is_clamped_too() {
    let policy = policy("[policy.flavors.a10g-large]\nmax_timeout = 1800\n");
    let grant = policy.decide(&request("a/b", "a10g-large")).unwrap();
    assert_eq!(grant.timeout, None);
    assert_eq!(grant.timeout_or(minutes(60)), minutes(30));
    assert_eq!(grant.timeout_or(minutes(10)), minutes(10));
    let unbounded = Grant::default();
    assert_eq!(unbounded.timeout_or(minutes(60)), minutes(60));
}

#[test]
fn images_apply_only_when_the_label_chose_none() {
    let policy = policy(
        r#"
[[policy.scope]]
match = "octo/*"
image = "octo:any"
[[policy.scope]]
match = "octo/ml"
image_gpu = "octo:cuda"
[[policy.scope]]
match = "other/*"
image = "other:any"
image_cpu = "other:cpu"
"#,
    );
    let image = |repo, flavor| policy.decide(&request(repo, flavor)).unwrap().image;
    assert_eq!(image("octo/ml", "t4-small").as_deref(), Some("octo:cuda"));
    assert_eq!(image("octo/ml", "cpu-basic").as_deref(), Some("octo:any"));
    assert_eq!(image("other/x", "cpu-basic").as_deref(), Some("other:cpu"));
    assert_eq!(image("other/x", "t4-small").as_deref(), Some("other:any"));
    let chosen = Request {
        label_chose_image: true,
        ..request("octo/ml", "t4-small")
    };
    assert_eq!(policy.decide(&chosen).unwrap().image, None);
}

#[test]
fn namespace_per_scope() {
    let policy = policy("[[policy.scope]]\nmatch = \"octo/*\"\nnamespace = \"octo-billing\"\n");
    let grant = policy.decide(&request("octo/a", "cpu-basic")).unwrap();
    assert_eq!(grant.namespace.as_deref(), Some("octo-billing"));
    let grant = policy.decide(&request("else/a", "cpu-basic")).unwrap();
    assert_eq!(grant.namespace, None);
}

#[test]
fn cache_volumes() {
    let policy = policy(
        r#"
[policy]
fork_pull_requests = "allow"
trusted_fork_authors = ["alice"]
[[policy.scope]]
match = "octo/*"
cache = { bucket = "octo/ci-{repo}-cache", mount = "/mnt/cache/" }
[[policy.scope]]
match = "octo/secret"
cache = false
[[policy.scope]]
match = "shared/*"
cache = { bucket = "shared/ci-cache" }
[[policy.scope]]
match = "*"
cache = { bucket = "everyone/{owner}-{repo}" }
"#,
    );
    let cache = |repo: &str, author: Option<&str>| {
        let request = Request {
            fork: author.and_then(fork),
            ..request(repo, "cpu-basic")
        };
        policy.decide(&request).map(|grant| grant.cache)
    };
    let volume = cache("Octo/My.Repo", None).unwrap().unwrap();
    assert_eq!(volume.bucket, "octo/ci-my.repo-cache");
    assert_eq!(volume.mount, "/mnt/cache");
    assert_eq!(
        volume.environment,
        env(&[
            ("HF_HOME", "/mnt/cache/huggingface"),
            ("UV_CACHE_DIR", "/mnt/cache/uv"),
            ("PIP_CACHE_DIR", "/mnt/cache/pip"),
        ])
    );
    assert_eq!(cache("octo/secret", None).unwrap(), None, "cache = false");
    assert_eq!(
        cache("shared/a", None).unwrap().unwrap().mount,
        DEFAULT_CACHE_MOUNT
    );
    assert_eq!(
        cache("shared/a", None).unwrap().unwrap().bucket,
        "shared/ci-cache"
    );
    assert_eq!(
        cache("Else/App", None).unwrap().unwrap().bucket,
        "everyone/else-app"
    );

    // An untrusted fork never writes to the cache; a trusted author does.
    assert_eq!(cache("octo/app", Some("mallory")).unwrap(), None);
    assert!(cache("octo/app", Some("ALICE")).unwrap().is_some());

    // A repository whose name makes an invalid bucket is refused, not run without its cache.
    let policy = self::policy(
        "[[policy.scope]]\nmatch = \"octo/*\"\ncache = { bucket = \"octo/{repo}\" }\n",
    );
    let refusal = policy
        .decide(&request("octo/.github", "cpu-basic"))
        .unwrap_err();
    assert!(
        matches!(&refusal, Refusal::CacheBucketInvalid { bucket, .. } if bucket == "octo/.github")
    );
    let text = refusal.to_string();
    assert!(text.contains("cache = false"), "{text}");
}

#[test]
fn fork_modes() {
    let decide = |mode: &str, flavor, author: &str| {
        let policy = Policy::parse(
            Some("[policy]\ntrusted_fork_authors = [\"alice\", \"renovate[bot]\"]\n"),
            &env(&[("FORK_PULL_REQUESTS", mode)]),
        )
        .unwrap();
        policy.decide(&Request {
            fork: fork(author),
            ..request("octo/app", flavor)
        })
    };
    assert!(matches!(
        decide("refuse", "cpu-basic", "bob"),
        Err(Refusal::ForkRefused { .. })
    ));
    assert!(decide("refuse", "t4-small", "Alice").is_ok());
    assert!(decide("refuse", "t4-small", "renovate[bot]").is_ok());
    assert!(decide("cpu", "cpu-basic", "bob").is_ok());
    assert_eq!(
        decide("cpu", "t4-small", "bob").unwrap_err(),
        Refusal::ForkGpuRefused {
            author: "bob".into(),
            flavor: "t4-small".into(),
        }
    );
    assert!(decide("allow", "t4-small", "bob").is_ok());

    let refused = decide("refuse", "cpu-basic", "bob")
        .unwrap_err()
        .to_string();
    for words in [
        "FORK_PULL_REQUESTS is `refuse`",
        "re-run the workflow from a branch",
        "FORK_PULL_REQUESTS=cpu",
        "FORK_TRUSTED_AUTHORS",
    ] {
        assert!(refused.contains(words), "{refused}");
    }
    let gpu = decide("cpu", "t4-small", "bob").unwrap_err().to_string();
    for words in [
        "FORK_PULL_REQUESTS is `cpu`",
        "${{ github.event.pull_request.head.repo.fork && 'hf-jobs-cpu-basic' || 'hf-jobs-t4-small' }}",
        "FORK_PULL_REQUESTS=allow",
    ] {
        assert!(gpu.contains(words), "{gpu}");
    }
}

#[test]
fn fork_rules_and_scope_rules_both_apply() {
    let policy = Policy::parse(
        Some("[[policy.scope]]\nmatch = \"*\"\nflavors = [\"cpu-basic\"]\n"),
        &env(&[("FORK_PULL_REQUESTS", "allow")]),
    )
    .unwrap();
    let from_fork = Request {
        fork: fork("bob"),
        ..request("a/b", "cpu-xl")
    };
    assert!(matches!(
        policy.decide(&from_fork),
        Err(Refusal::FlavorNotAllowed { .. })
    ));
}

#[test]
fn caps_and_their_precedence() {
    let policy = policy(
        r#"
[policy]
max_running_jobs = 20
max_running_per_installation = 10
max_running_per_repository = 5
[policy.flavors.a10g-large]
max_running = 2
[[policy.scope]]
match = "octo/*"
max_running = 3
[[policy.scope]]
match = "octo/big"
max_running = 7
"#,
    );
    let caps = policy.caps("Octo/App", Some(42), "A10G-Large");
    assert_eq!(
        cap_keys(&caps),
        vec![
            (CapKey::Global, 20),
            (CapKey::Installation(42), 10),
            (CapKey::Repository("octo/app".into()), 3),
            (CapKey::Flavor("a10g-large".into()), 2),
        ]
    );
    let labels: Vec<String> = caps.iter().map(Cap::label).collect();
    assert_eq!(
        labels,
        vec![
            "the global cap policy.max_running_jobs=20",
            "the cap per installation policy.max_running_per_installation=10 (installation 42)",
            "the cap per repository policy.scope[0].max_running=3 (octo/app)",
            "the cap of flavor a10g-large policy.flavors.a10g-large.max_running=2",
        ]
    );
    assert_eq!(caps[2].to_string(), labels[2]);
    assert_eq!(CapKey::Global.label(), "the global cap");
    assert_eq!(
        CapKey::Repository("octo/app".into()).label(),
        "the cap of repository octo/app"
    );

    assert_eq!(
        cap_keys(&policy.caps("octo/big", None, "cpu-basic")),
        vec![
            (CapKey::Global, 20),
            (CapKey::Repository("octo/big".into()), 7)
        ]
    );
    assert_eq!(
        cap_keys(&policy.caps("else/app", None, "cpu-basic")),
        vec![
            (CapKey::Global, 20),
            (CapKey::Repository("else/app".into()), 5)
        ]
    );
}

#[test]
fn describe_shows_what_an_operator_needs() {
    let lines = policy(ORGANISATION).describe();
    let text = lines.join("\n");
    for words in [
        "allowed repositories (policy.allowed_repositories): acme/*",
        "fork pull requests: refuse",
        "global cap (policy.max_running_jobs): 40 live HF Jobs",
        "cap per installation: none (MAX_RUNNING_PER_INSTALLATION unset)",
        "scope acme/* (policy.scope[0]): flavors cpu; namespace acme-ci; cache bucket acme-ci/cache-{repo} at /cache",
        "scope acme/research (policy.scope[1]):",
    ] {
        assert!(text.contains(words), "missing {words:?} in\n{text}");
    }
    let text = policy_from_env(&[
        ("FORK_TRUSTED_AUTHORS", "Bob"),
        ("FORK_PULL_REQUESTS", "cpu"),
    ])
    .describe()
    .join("\n");
    assert!(
        text.contains("every repository the App is installed on")
            && text.contains("fork pull requests (FORK_PULL_REQUESTS): cpu; trusted authors: bob"),
        "{text}"
    );
    let shared = policy("[[policy.scope]]\nmatch = \"*\"\ncache = { bucket = \"a/b\" }\n");
    assert!(
        shared
            .describe()
            .join("\n")
            .contains("shared by every repository")
    );
}

#[test]
fn refusals_name_what_can_change() {
    let text = Refusal::RepositoryNotAllowed {
        repo: "octo/app".into(),
    }
    .to_string();
    assert!(
        text.contains("ALLOWED_GITHUB_REPOSITORIES") && text.contains("`octo/*`"),
        "{text}"
    );
}

#[track_caller]
fn assert_error(error: PolicyError, setting: &str, words: &str) {
    assert_eq!(error.setting, setting, "{error}");
    assert!(error.problem.contains(words), "{error}");
    assert!(error.to_string().starts_with(setting));
}

#[test]
fn unknown_keys_are_refused_by_name() {
    assert_error(
        error("[policy]\nallowed_repository = [\"a/b\"]\n"),
        "policy.allowed_repository",
        "allowed_repositories",
    );
    assert_error(
        error("[policy.flavors.t4-small]\nmax_runing = 2\n"),
        "policy.flavors.t4-small.max_runing",
        "max_running",
    );
    assert_error(
        error("[[policy.scope]]\nmatch = \"*\"\nflavor = [\"cpu\"]\n"),
        "policy.scope[0].flavor",
        "flavors",
    );
    assert_error(
        error("[[policy.scope]]\nmatch = \"*\"\ncache = { bucket = \"a/b\", readonly = true }\n"),
        "policy.scope[0].cache.readonly",
        "mount",
    );
    assert_error(error("[Policy]\n"), "Policy", "lower case");
}

#[test]
fn every_validation_names_its_setting() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[policy]\nallowed_repositories = [\"octo\"]",
            "policy.allowed_repositories",
            "owner/name",
        ),
        (
            "[policy]\nallowed_repositories = [\"octo/app*\"]",
            "policy.allowed_repositories",
            "whole",
        ),
        (
            "[policy]\nallowed_repositories = [\"*/app\"]",
            "policy.allowed_repositories",
            "whole",
        ),
        (
            "[policy]\nallowed_repositories = [\"a/b/c\"]",
            "policy.allowed_repositories",
            "owner/name",
        ),
        (
            "[policy]\nallowed_repositories = \"a/b\"",
            "policy.allowed_repositories",
            "array",
        ),
        (
            "[policy]\nallowed_repositories = [1]",
            "policy.allowed_repositories",
            "string",
        ),
        (
            "[policy]\nfork_pull_requests = \"maybe\"",
            "policy.fork_pull_requests",
            "refuse, cpu or allow",
        ),
        (
            "[policy]\ntrusted_fork_authors = [\"@alice\"]",
            "policy.trusted_fork_authors",
            "without '@'",
        ),
        (
            "[policy]\nmax_running_jobs = 0",
            "policy.max_running_jobs",
            "between 1",
        ),
        (
            "[policy]\nmax_running_per_installation = -1",
            "policy.max_running_per_installation",
            "between 1",
        ),
        (
            "[policy]\nmax_running_per_repository = 1.5",
            "policy.max_running_per_repository",
            "whole number",
        ),
        (
            "[policy]\nmax_running_jobs = 5000000000",
            "policy.max_running_jobs",
            "between 1",
        ),
        ("[policy]\nflavors = 1", "policy.flavors", "table"),
        (
            "[policy.flavors.gpu]\nmax_running = 1",
            "policy.flavors.gpu",
            "name each flavor",
        ),
        (
            "[policy.flavors.T4_small]\nmax_running = 1",
            "policy.flavors.T4_small",
            "flavor name",
        ),
        (
            "[policy.flavors]\nt4-small = 1",
            "policy.flavors.t4-small",
            "table",
        ),
        (
            "[policy.flavors.t4-small]\nmax_timeout = \"2 hours\"",
            "policy.flavors.t4-small.max_timeout",
            "invalid duration",
        ),
        (
            "[policy.flavors.t4-small]\nmax_timeout = \"0s\"",
            "policy.flavors.t4-small.max_timeout",
            "more than zero",
        ),
        (
            "[policy.flavors.t4-small]\nmax_timeout = \"400d\"",
            "policy.flavors.t4-small.max_timeout",
            "at most",
        ),
        (
            "[policy.flavors.t4-small]\nmax_running = 0",
            "policy.flavors.t4-small.max_running",
            "between 1",
        ),
        (
            "[policy.scope]\nmatch = \"*\"",
            "policy.scope",
            "[[policy.scope]]",
        ),
        (
            "[[policy.scope]]\nflavors = [\"cpu\"]",
            "policy.scope[0].match",
            "missing",
        ),
        (
            "[[policy.scope]]\nmatch = \"octo\"",
            "policy.scope[0].match",
            "owner/name",
        ),
        (
            "[[policy.scope]]\nmatch = \"octo/*\"\n[[policy.scope]]\nmatch = \"OCTO/*\"",
            "policy.scope[1].match",
            "policy.scope[0] already matches octo/*",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\nflavors = [\"t4 small\"]",
            "policy.scope[0].flavors",
            "flavor name",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\nimage = \"a b\"",
            "policy.scope[0].image",
            "image reference",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\nimage_gpu = \"\"",
            "policy.scope[0].image_gpu",
            "image reference",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\ntimeout = \"1h30m\"",
            "policy.scope[0].timeout",
            "invalid duration",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\ntimeout = true",
            "policy.scope[0].timeout",
            "duration",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\nnamespace = \"a/b\"",
            "policy.scope[0].namespace",
            "organisation",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\nmax_running = 0",
            "policy.scope[0].max_running",
            "between 1",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\ncache = true",
            "policy.scope[0].cache",
            "or false",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\ncache = { mount = \"/cache\" }",
            "policy.scope[0].cache.bucket",
            "missing",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\ncache = { bucket = \"cache\" }",
            "policy.scope[0].cache.bucket",
            "namespace/name",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\ncache = { bucket = \"{repo}/cache\" }",
            "policy.scope[0].cache.bucket",
            "only in the bucket's name",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\ncache = { bucket = \"ci/cache-{repo}\" }",
            "policy.scope[0].cache.bucket",
            "add {owner}",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\ncache = { bucket = \"a/{org}-{repo}\" }",
            "policy.scope[0].cache.bucket",
            "only placeholders",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\ncache = { bucket = \"a/-cache\" }",
            "policy.scope[0].cache.bucket",
            "start or end",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\ncache = { bucket = \"a/b\", mount = \"cache\" }",
            "policy.scope[0].cache.mount",
            "absolute",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\ncache = { bucket = \"a/b\", mount = \"/\" }",
            "policy.scope[0].cache.mount",
            "system directory",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\ncache = { bucket = \"a/b\", mount = \"///\" }",
            "policy.scope[0].cache.mount",
            "system directory",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\ncache = { bucket = \"a/b\", mount = \"/usr/local/cache\" }",
            "policy.scope[0].cache.mount",
            "system directory",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\ncache = { bucket = \"a/b\", mount = \"/cache/../etc\" }",
            "policy.scope[0].cache.mount",
            "plain path",
        ),
        (
            "[[policy.scope]]\nmatch = \"*\"\ncache = { bucket = \"a/b\", mount = \"/my cache\" }",
            "policy.scope[0].cache.mount",
            "spaces",
        ),
        ("policy = 3", "policy", "table"),
        ("[policy]\nfork_pull_requests = ", "FERRY_CONFIG", "line 2"),
    ];
    for (toml, setting, words) in cases {
        assert_error(error(toml), setting, words);
    }
}

#[test]
fn environment_shortcuts_are_validated() {
    assert_error(
        env_error(&[("ALLOWED_GITHUB_REPOSITORIES", "octo/*,octo")]),
        "ALLOWED_GITHUB_REPOSITORIES",
        "owner/name",
    );
    assert_error(
        env_error(&[("ALLOWED_GITHUB_REPOSITORIES", " , ")]),
        "ALLOWED_GITHUB_REPOSITORIES",
        "leave it unset",
    );
    assert_error(
        env_error(&[("FORK_PULL_REQUESTS", "yes")]),
        "FORK_PULL_REQUESTS",
        "refuse, cpu or allow",
    );
    assert_error(
        env_error(&[("FORK_TRUSTED_AUTHORS", "alice,b c")]),
        "FORK_TRUSTED_AUTHORS",
        "GitHub login",
    );
    for key in [
        "MAX_RUNNING_JOBS",
        "MAX_RUNNING_PER_INSTALLATION",
        "MAX_RUNNING_PER_REPOSITORY",
    ] {
        assert_error(env_error(&[(key, "0")]), key, "between 1");
        assert_error(env_error(&[(key, "ten")]), key, "whole number");
    }
}
