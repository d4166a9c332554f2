//! Builds the application from its configuration — catalog, store, photo processor, sink,
//! forwarder, router — binds the listener (port 0 in tests, so the real port is exposed)
//! and runs the HTTP server and the forwarder side by side until a shutdown signal.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use lianxin_contract::Catalog;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::catalog;
use crate::config::Config;
use crate::forwarder::Forwarder;
use crate::http::{self, AppState};
use crate::photo_links::PhotoLinks;
use crate::photo_store::PhotoStore;
use crate::photos::PhotoProcessor;
use crate::serve;
use crate::sink::Sink;
use crate::store::{self, Store};

/// How long links to photos in forwarded reports stay valid: a week, time enough for a
/// department to open the case.
const PHOTO_LINK_TTL_SECS: u64 = 7 * 24 * 3600;

/// Where reports and photos are kept, opened from the configuration: what the server and
/// the operator commands share (those open only this — no port, no widget, no pipeline).
#[derive(Debug)]
pub struct Storage {
    /// The database.
    pub store: Store,
    /// Photo processing and storage.
    pub photos: PhotoProcessor,
    /// The contact key.
    pub cipher: crate::privacy::ContactCipher,
}

impl Storage {
    /// Checks the configuration, creates the data dir and opens the database (applying its
    /// migrations) and the photo store.
    pub async fn open(config: &Config) -> anyhow::Result<Storage> {
        config.check()?;
        std::fs::create_dir_all(&config.data_dir).with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
        let cipher = crate::privacy::ContactCipher::load(&config.data_dir).context("loading the contact key")?;
        let location = match config.storage.database_url.expose() {
            "" => store::Database::Sqlite(&config.data_dir),
            url => store::Database::Postgres { url, pool_size: config.storage.pool_size },
        };
        let store = Store::open(location, cipher.clone()).await.context("opening the database")?;
        let photo_store = match config.storage.photo_store.as_str() {
            "" => PhotoStore::local(config.data_dir.join("photos")).context("creating the photo directory")?,
            url => PhotoStore::from_url(url).context("opening the photo store")?,
        };
        let photos = PhotoProcessor::new(photo_store, config.photos, &config.limits);
        Ok(Storage { store, photos, cipher })
    }
}

/// A built, bound application, ready to run.
#[derive(Debug)]
pub struct Application {
    sink: Arc<Sink>,
    listener: TcpListener,
    address: SocketAddr,
    router: axum::Router,
    forwarder: Forwarder,
    state: AppState,
}

impl Application {
    /// Loads everything the configuration names and binds the listener. Fails, naming the
    /// cause, on an invalid catalog, an unwritable data dir or an unknown pipeline.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let catalog::CityCatalog { catalog, districts, classes } = catalog::load(config.catalog.as_deref())?;
        let class_rules = Arc::new(classes);
        // Limits and the map are configuration, not catalog content: the server publishes its own.
        let catalog = Catalog { limits: config.limits.text_limits(), map: config.map.enabled(), ..catalog };
        let Storage { store, photos, cipher } = Storage::open(&config).await?;
        let request_time = std::time::Duration::from_secs(config.security.request_timeout_secs + 60);
        let stale = crate::intake::remove_stale_uploads(&crate::intake::spool_dir(&config.data_dir), request_time).context("clearing the upload spool")?;
        if stale > 0 {
            tracing::info!(files = stale, "removed uploads a previous run left behind");
        }
        let listener = TcpListener::bind(config.addr).await.with_context(|| format!("binding {}", config.addr))?;
        let address = listener.local_addr()?;
        let photo_links = Arc::new(PhotoLinks::new(config.public_base_url(address), cipher.derive_key("photo links"), PHOTO_LINK_TTL_SECS));
        let catalog = Arc::new(catalog);
        let sink = Arc::new(Sink::from_url(&config.pipeline_url(), &config, catalog.clone())?);
        let forwarder = Forwarder::new(store.clone(), sink.clone(), config.forwarder, photo_links.clone());
        let districts = Arc::new(districts);
        let metrics: Arc<crate::metrics::Metrics> = Arc::default();
        let follow_up = crate::follow_up::FollowUp::new(store.clone(), catalog.clone(), config.follow_up, forwarder.handle(), photos.clone(), cipher.derive_key("follow-up"));
        let submissions = crate::submission::Submissions::new(catalog.clone(), districts.clone(), store.clone(), photos.clone(), forwarder.handle(), metrics.clone(), follow_up.clone())
            .with_class_rules(class_rules.clone());
        let state = AppState::new(http::Shared {
            catalog_bodies: Arc::new(http::catalog::CatalogBodies::new(&catalog)),
            catalog,
            districts,
            store,
            photos,
            forwarder: forwarder.handle(),
            submissions,
            follow_up,
            open311: Arc::new(http::open311::Apps::new(&config)),
            class_rules,
            metrics,
            photo_links,
            config: Arc::new(config),
        });
        let router = http::router(state.clone());
        Ok(Application { sink, listener, address, router, forwarder, state })
    }

    /// The address actually bound.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The shared state (tests use it to reach the store).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Runs until SIGINT or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Runs until `stop` completes: then stops accepting connections, lets requests in
    /// flight finish, and stops the forwarder after its current delivery. The HTTP server,
    /// the forwarder, the retention purge and the status poll run side by side; if one of
    /// them ends before `stop` (a bug, or a store it cannot open), the others are stopped
    /// at once and the error names it: a server that takes reports but no longer forwards
    /// them must not go on looking healthy.
    pub async fn run_until(self, stop: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (store, photos, config) = (self.state.store.clone(), self.state.photos.clone(), self.state.config.clone());
        let (status_rx, retention_rx, scan_rx) = (shutdown_rx.clone(), shutdown_rx.clone(), shutdown_rx.clone());
        let follow_up = self.state.follow_up.clone();
        let (poll_store, sink, forwarder_settings, privacy, security) = (store.clone(), self.sink.clone(), config.forwarder, config.privacy, config.security.clone());
        let tasks: Vec<Task> = vec![
            ("the forwarder", Box::pin(self.forwarder.run(shutdown_rx.clone()))),
            (
                "the Open311 status poll",
                Box::pin(async move {
                    crate::status_poll::run(poll_store, sink, forwarder_settings, status_rx).await;
                    Ok(())
                }),
            ),
            (
                "the follow-up scan",
                Box::pin(async move {
                    follow_up.run(scan_rx).await;
                    Ok(())
                }),
            ),
            (
                "the retention purge",
                Box::pin(async move {
                    crate::retention::run(store, photos, privacy, retention_rx).await;
                    Ok(())
                }),
            ),
            (
                "the HTTP server",
                Box::pin(async move {
                    serve::serve(self.listener, self.router, security, shutdown_rx).await;
                    Ok(())
                }),
            ),
        ];
        supervise(tasks, stop, shutdown_tx).await
    }
}

/// A named background task; it runs until the shutdown signal.
type Task = (&'static str, std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>);

/// Runs `tasks` side by side until `stop` completes, then signals `shutdown` and waits for
/// them all. If one ends before `stop` (a bug, or a store it cannot use), the others are
/// stopped at once and the error names it: a server that takes reports but no longer
/// forwards them must not go on looking healthy.
async fn supervise(tasks: Vec<Task>, stop: impl Future<Output = ()>, shutdown: watch::Sender<bool>) -> anyhow::Result<()> {
    let mut running = tokio::task::JoinSet::new();
    let mut names = std::collections::HashMap::new();
    for (name, task) in tasks {
        names.insert(running.spawn(task).id(), name);
    }
    let named = |ended: Result<(tokio::task::Id, anyhow::Result<()>), tokio::task::JoinError>| match ended {
        Ok((id, outcome)) => (names.get(&id).copied().unwrap_or("a task"), outcome.err()),
        Err(error) => (names.get(&error.id()).copied().unwrap_or("a task"), Some(anyhow::anyhow!("it panicked: {error}"))),
    };
    let ended_early = tokio::select! {
        () = stop => None,
        Some(ended) = running.join_next_with_id() => Some(named(ended)),
    };
    let early = ended_early.map(|(name, failure)| {
        let why = failure.map_or_else(|| "it returned".to_owned(), |error| format!("{error:#}"));
        tracing::error!(task = name, reason = %why, "a background task stopped; shutting the server down");
        anyhow::anyhow!("{name} stopped ({why}), so the server stopped too")
    });
    tracing::info!("shutting down");
    let _ = shutdown.send(true);
    let mut first_error = None;
    while let Some(ended) = running.join_next_with_id().await {
        if let (name, Some(error)) = named(ended) {
            first_error.get_or_insert(error.context(format!("{name} failed while stopping")));
        }
    }
    match early.or(first_error) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// Logs to stderr at the level in `RUST_LOG` (`info` when unset). Logs never contain
/// personal data: handlers log categories and ids, never descriptions or contacts.
pub fn init_tracing() {
    let level = std::env::var("RUST_LOG").ok().and_then(|value| value.parse().ok()).unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt().with_max_level(level).with_target(false).try_init();
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_task_that_dies_stops_the_others_at_once_and_is_named() {
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let other_stopped = Arc::new(AtomicBool::new(false));
        let flag = other_stopped.clone();
        let mut waiting = shutdown_rx.clone();
        let tasks: Vec<Task> = vec![
            (
                "the patient task",
                Box::pin(async move {
                    let _ = waiting.wait_for(|stopped| *stopped).await;
                    flag.store(true, Ordering::SeqCst);
                    Ok(())
                }),
            ),
            ("the forwarder", Box::pin(async { Err(anyhow::anyhow!("the database is gone")) })),
        ];

        let outcome = tokio::time::timeout(std::time::Duration::from_secs(5), supervise(tasks, std::future::pending(), shutdown_tx)).await.expect("stops without being asked");

        let error = format!("{:#}", outcome.unwrap_err());
        assert!(error.contains("the forwarder") && error.contains("the database is gone"), "{error}");
        assert!(other_stopped.load(Ordering::SeqCst), "the other task was told to stop");
    }

    #[tokio::test]
    async fn asked_to_stop_every_task_finishes_and_all_is_well() {
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let mut waiting = shutdown_rx.clone();
        let tasks: Vec<Task> = vec![(
            "the patient task",
            Box::pin(async move {
                let _ = waiting.wait_for(|stopped| *stopped).await;
                Ok(())
            }),
        )];
        supervise(tasks, async {}, shutdown_tx).await.unwrap();
    }
}
