//! Wires the dispatcher together from [`Settings`]: store, clients, workers and HTTP server.
//!
//! The `dispatcher` binary calls [`run`] and [`check`]; tests and the demo call them too, with
//! settings that point at the `testkit` fakes.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpServer, web};
use github_app::{AppIdentity, ClientConfig, GitHubAppClient};
use github_webhook::Verifier;
use hf_jobs::HfClient;
use runner_labels::{AcceleratorInput, Catalogue, HardwareInput};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::adapters::{GitHubAdapter, HfAdapter};
use crate::config::Settings;
use crate::feedback::{FeedbackPass, FeedbackSettings};
use crate::health::{Health, Problem, Service};
use crate::http::{self, AppState, Intake};
use crate::launcher::{self, LaunchSettings, Launcher};
use crate::ports::PortError;
use crate::reconciler::{ReconcileSettings, Reconciler};
use crate::store::{SqliteStore, Store};
use crate::sweeper::{Classify, DeliverySweeper, SweepSettings};

/// Why the dispatcher could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("the HTTP server failed: {0}")]
    Server(#[from] std::io::Error),
}

/// Everything built from the settings, ready to serve.
pub struct Parts {
    pub github: Arc<GitHubAdapter>,
    pub hf: Arc<HfAdapter>,
    pub hf_client: Arc<HfClient>,
    pub health: Arc<Health>,
}

/// Builds the GitHub and HF clients.
pub fn build_parts(settings: &Settings) -> Result<Parts, ServiceError> {
    let (Some(app), Some(hf_token)) = (&settings.github, &settings.hf_token) else {
        return Err(ServiceError::Setup(
            settings.setup_problem().unwrap_or_default(),
        ));
    };
    let identity = match app.app_id.parse::<u64>() {
        Ok(id) => AppIdentity::AppId(id),
        Err(_) => AppIdentity::ClientId(app.app_id.clone()),
    };
    let setup = |what: &str, e: &dyn std::fmt::Display| ServiceError::Setup(format!("{what}: {e}"));
    let config = ClientConfig::new(identity, app.private_key.clone())
        .with_base_url(&settings.github_api_url)
        .map_err(|e| setup("GITHUB_API_URL", &e))?;
    let github_client =
        GitHubAppClient::new(config).map_err(|e| setup("GH_APP_PRIVATE_KEY", &e))?;
    let mut hf_builder = HfClient::builder()
        .endpoint(settings.hf_endpoint.clone())
        .token(hf_token.clone())
        .user_agent_suffix("ferry-dispatcher");
    if let Some(namespace) = &settings.hf_namespace {
        hf_builder = hf_builder.namespace(namespace.clone());
    }
    let hf_client = Arc::new(hf_builder.build().map_err(|e| setup("HF_ENDPOINT", &e))?);
    let health = Arc::new(Health::default());
    Ok(Parts {
        github: Arc::new(GitHubAdapter {
            client: Arc::new(github_client),
            health: health.clone(),
            runner_scope: settings.runner_scope,
        }),
        hf: Arc::new(HfAdapter {
            client: hf_client.clone(),
            health: health.clone(),
            other_namespaces: settings.policy.namespaces(),
            buckets: Default::default(),
        }),
        hf_client,
        health,
    })
}

/// The launch settings that follow from the dispatcher settings.
pub fn launch_settings(settings: &Settings) -> LaunchSettings {
    LaunchSettings {
        concurrency: settings.concurrency,
        job_timeout: settings.job_timeout,
        runner_idle_timeout: Some(settings.runner_idle_timeout),
        images: settings.images.clone(),
        max_launches: settings.max_launch_attempts,
        policy: Arc::new(settings.policy.clone()),
        ..LaunchSettings::default()
    }
}

/// Everything timed in the running service; tests shorten it through [`run`]'s `tune`.
#[derive(Debug, Clone)]
pub struct Tuning {
    pub launch: LaunchSettings,
    pub reconcile: ReconcileSettings,
    pub sweep: SweepSettings,
    /// How often GitHub and HF are signed in to for `/readyz`.
    pub probe_interval: Duration,
    /// The check-run pass (run only with `CHECK_RUNS`).
    pub feedback: FeedbackSettings,
}

/// The timings that follow from the dispatcher settings.
pub fn tuning(settings: &Settings) -> Tuning {
    Tuning {
        launch: launch_settings(settings),
        reconcile: ReconcileSettings {
            interval: settings.reconcile_interval,
            boot_deadline: settings.runner_boot_deadline,
            idle_timeout: settings.runner_idle_timeout,
            max_launches: settings.max_launch_attempts,
            ..ReconcileSettings::default()
        },
        sweep: SweepSettings {
            interval: settings.delivery_sweep_interval,
            ..SweepSettings::default()
        },
        probe_interval: Duration::from_secs(60),
        feedback: FeedbackSettings {
            default_namespace: settings.hf_namespace.clone(),
            hub_url: settings.hf_endpoint.clone(),
            images: settings.images.clone(),
            ..FeedbackSettings::default()
        },
    }
}

/// The hardware catalogue from the Hub, or the embedded one when the Hub cannot say.
pub async fn catalogue(hf: &HfClient) -> Catalogue {
    let listed = match hf.list_hardware().await {
        Ok(listed) => listed,
        Err(e) => {
            warn!(error = %e, "cannot list HF hardware; using the embedded catalogue");
            return Catalogue::embedded();
        }
    };
    let entries = listed
        .into_iter()
        .map(|h| HardwareInput {
            name: h.name,
            pretty_name: h.pretty_name,
            cpu: h.cpu,
            ram: h.ram,
            accelerator: h.accelerator.map(|a| AcceleratorInput {
                kind: a.kind,
                model: a.model,
                quantity: a.quantity,
                vram: a.vram,
                manufacturer: a.manufacturer,
            }),
            unit_cost_micro_usd: h.unit_cost_micro_usd,
            unit_label: h.unit_label,
        })
        .collect();
    Catalogue::from_api(entries).unwrap_or_else(|e| {
        warn!(error = %e, "the Hub's hardware list is unusable; using the embedded catalogue");
        Catalogue::embedded()
    })
}

/// Serves until `shutdown` is cancelled: in setup mode when credentials are missing.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
    tune: impl FnOnce(&mut Tuning),
) -> Result<(), ServiceError> {
    if let Some(problem) = settings.setup_problem() {
        warn!(
            problem,
            "setup mode: webhooks are refused until the credentials are set"
        );
        let state = web::Data::new(
            AppState::setup(problem).with_status(http::StatusOptions::from_settings(&settings)),
        );
        return serve_http(state, listener, shutdown).await;
    }
    let parts = build_parts(&settings)?;
    let caps_policy = settings.policy.clone();
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&settings.state_dir, Box::new(launcher::runner_name))?.with_caps(
            Box::new(move |record| {
                caps_policy.caps(
                    &record.key.repo,
                    record.installation_id,
                    record.flavor.as_deref().unwrap_or(""),
                )
            }),
        ),
    );
    info!(state_dir = %settings.state_dir.display(), "store opened");
    // Before any webhook is served: a lost store must still be scanned, and leases of a
    // process that died are void (the embedded store has one process).
    if DeliverySweeper::note_empty_store(store.as_ref()).await? {
        info!("empty store: GitHub will be scanned for queued jobs");
    }
    let released = store.release_leases(launcher::now_ms()).await?;
    if released > 0 {
        info!(released, "took back the leases of the previous process");
    }

    let mut tuned = tuning(&settings);
    tuned.launch.catalogue = catalogue(&parts.hf_client).await;
    tuned.feedback.catalogue = tuned.launch.catalogue.clone();
    tune(&mut tuned);
    let Tuning {
        launch,
        reconcile,
        sweep,
        probe_interval,
        feedback,
    } = tuned;
    let webhook_secrets = settings
        .github
        .as_ref()
        .map(|g| g.webhook_secrets.clone())
        .unwrap_or_default();
    let verifier = Verifier::new(webhook_secrets)
        .map_err(|e| ServiceError::Setup(format!("GH_WEBHOOK_SECRET: {e}")))?;
    let wake = Arc::new(Notify::new());
    let intake = Intake {
        verifier,
        store: store.clone(),
        wake: wake.clone(),
        catalogue: launch.catalogue.clone(),
        images: launch.images.clone(),
        policy: Arc::new(settings.policy.clone()),
    };
    let classify: Classify = {
        let (catalogue, images, policy) = (
            intake.catalogue.clone(),
            intake.images.clone(),
            intake.policy.clone(),
        );
        Arc::new(move |facts| http::classify_queued(&catalogue, &images, &policy, facts))
    };
    let state = web::Data::new(
        AppState::serving(intake, parts.health.clone())
            .with_status(http::StatusOptions::from_settings(&settings)),
    );

    let workers = Launcher::new(
        store.clone(),
        parts.github.clone(),
        parts.hf.clone(),
        parts.health.clone(),
        launch,
        wake.clone(),
    );
    let reconciler = Reconciler::new(
        store.clone(),
        parts.github.clone(),
        parts.hf.clone(),
        parts.health.clone(),
        reconcile,
        wake.clone(),
    );
    let sweeper = DeliverySweeper::new(store.clone(), parts.github.clone(), sweep, wake);
    let launching = tokio::spawn(workers.run(shutdown.child_token(), settings.shutdown_grace));
    let reconciling = tokio::spawn(reconciler.run(shutdown.child_token()));
    let sweeping = tokio::spawn(sweeper.run(classify, shutdown.child_token()));
    let probing = tokio::spawn(probe_forever(
        parts.github.clone(),
        parts.hf.clone(),
        parts.health.clone(),
        probe_interval,
        shutdown.child_token(),
    ));
    let feedback = FeedbackPass::new(
        store.clone(),
        parts.github.clone(),
        Some(parts.hf_client.clone()),
        feedback,
    );
    let check_runs = settings.check_runs;
    let feedback_token = shutdown.child_token();
    let writing_check_runs = tokio::spawn(async move {
        if check_runs {
            feedback.run(feedback_token).await;
        }
    });
    let pruning = tokio::spawn(prune_forever(store, shutdown.child_token()));

    let served = serve_http(state, listener, shutdown.clone()).await;
    shutdown.cancel();
    let _ = tokio::join!(
        launching,
        reconciling,
        sweeping,
        probing,
        writing_check_runs,
        pruning
    );
    info!("dispatcher stopped");
    served
}

async fn serve_http(
    state: web::Data<AppState>,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), ServiceError> {
    info!(address = %listener.local_addr()?, "listening");
    // Built in its own statement: the builder is not `Send` and must not live across the await.
    let server =
        HttpServer::new(move || App::new().app_data(state.clone()).configure(http::routes))
            .workers(2)
            .shutdown_signal(shutdown.cancelled_owned())
            .shutdown_timeout(10)
            .listen(listener)?
            .run();
    server.await?;
    Ok(())
}

/// Signs in to both services now and then, so `/readyz` tells a rotated or expired
/// credential even when no job is launched.
async fn probe_forever(
    github: Arc<GitHubAdapter>,
    hf: Arc<HfAdapter>,
    health: Arc<Health>,
    every: Duration,
    shutdown: CancellationToken,
) {
    crate::periodic::every(every, true, &shutdown, || async {
        let (gh, hf_result) = tokio::join!(github.probe(), hf.probe());
        for (service, result) in [(Service::GitHub, gh), (Service::Hf, hf_result)] {
            match result {
                Ok(_) => health.clear_problem(Problem::SignIn(service)),
                Err(e @ PortError::Credentials { .. }) => {
                    warn!(error = %e, "sign-in refused");
                    health.set_problem(Problem::SignIn(service), e.to_string());
                }
                Err(e) => warn!(error = %e, "sign-in probe failed"),
            }
        }
    })
    .await
}

/// Forgets delivery ids after a month; GitHub redelivers within days.
async fn prune_forever(store: Arc<dyn Store>, shutdown: CancellationToken) {
    const MONTH_MS: i64 = 30 * 24 * 3600 * 1000;
    crate::periodic::every(Duration::from_secs(3600), true, &shutdown, || async {
        if let Err(e) = store
            .prune_deliveries(crate::model::now_ms() - MONTH_MS)
            .await
        {
            warn!(error = %e, "cannot prune old delivery ids");
        }
    })
    .await
}

/// One line of `dispatcher check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    pub what: &'static str,
    pub result: Result<String, String>,
}

/// Validates the settings and signs in to GitHub and HF, reporting what works.
pub async fn check(settings: &Settings) -> Vec<CheckLine> {
    let mut lines = vec![CheckLine {
        what: "configuration",
        result: Ok("valid".into()),
    }];
    let store = SqliteStore::open(&settings.state_dir, Box::new(launcher::runner_name));
    let store_line = match store {
        Ok(store) => store
            .check_writable(crate::model::now_ms())
            .await
            .map(|()| format!("writable at {}", store.path().display()))
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    lines.push(CheckLine {
        what: "state store",
        result: store_line,
    });
    match build_parts(settings) {
        Err(e) => lines.push(CheckLine {
            what: "credentials",
            result: Err(e.to_string()),
        }),
        Ok(parts) => {
            let (gh, hf) = tokio::join!(parts.github.probe(), parts.hf.probe());
            lines.push(CheckLine {
                what: "GitHub App",
                result: gh
                    .map(|app| format!("signed in as {app}"))
                    .map_err(|e| format!("GH_APP_ID / GH_APP_PRIVATE_KEY: {e}")),
            });
            let namespace = match (&hf, &settings.hf_namespace) {
                (Ok(_), Some(namespace)) => Ok(namespace.clone()),
                (Ok(name), None) => Ok(name.clone()),
                (Err(e), _) => Err(format!("HF_TOKEN: {e}")),
            };
            lines.push(CheckLine {
                what: "HF Jobs",
                result: namespace.map(|ns| match &hf {
                    Ok(name) if *name != ns => {
                        format!("signed in as {name}; jobs run in namespace {ns}")
                    }
                    _ => format!("signed in as {ns}; jobs run in namespace {ns}"),
                }),
            });
            let hardware = parts.hf_client.list_hardware().await;
            lines.push(CheckLine {
                what: "HF hardware",
                result: hardware
                    .map(|h| format!("{} flavors", h.len()))
                    .map_err(|e| e.to_string()),
            });
        }
    }
    lines
}

/// True when a dispatcher on this machine answers `GET /healthz` with 200 within two seconds:
/// the image's `HEALTHCHECK` and the tests that start the binary ask it.
pub fn answers_healthz(port: u16) -> bool {
    use std::io::{Read, Write};
    let probe = || -> std::io::Result<bool> {
        let mut stream = std::net::TcpStream::connect_timeout(
            &([127, 0, 0, 1], port).into(),
            Duration::from_secs(2),
        )?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"))
    };
    probe().unwrap_or(false)
}
