//! Forwarder drain rate: a backlog of reports already in the outbox (the pipeline was down)
//! delivered into the file sink and into NATS JetStream on 127.0.0.1:4222, in reports per
//! second from the moment the forwarder starts until the outbox is empty. The backlog is
//! drained by the server started again on the same data: after an outage nothing of it is
//! still held in memory (every failed attempt took the report the writer kept for the
//! forwarder), so every report is read back from the database, as here.

use std::time::{Duration, Instant};

use lianxin_contract::{ReportSubmission, RequestKind};
use lianxin_server::store::NewReport;
use lianxin_server::{Application, Config, ids};

use crate::report::Report;

const NATS: &str = "nats://127.0.0.1:4222";

async fn drain(pipeline: Option<String>, backlog: usize) -> anyhow::Result<f64> {
    let data_dir = tempfile::tempdir()?;
    let mut config = Config { addr: "127.0.0.1:0".parse()?, data_dir: data_dir.path().to_owned(), ..Config::default() };
    config.pipeline = pipeline.unwrap_or_default();
    // Asleep until woken: the backlog builds up first, as during an outage.
    config.forwarder.poll_ms = 3_600_000;
    let application = Application::build(config.clone()).await?;
    let store = application.state().store.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));
    let mut inserted = 0;
    while inserted < backlog {
        let batch: Vec<_> = (inserted..(inserted + 64).min(backlog))
            .map(|index| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .insert_report(NewReport {
                            id: ids::new_report_id(),
                            idempotency_key: format!("drain-{index}"),
                            request_hash: "bench".into(),
                            department: "urban_management".into(),
                            district: Some("daoli".into()),
                            report: ReportSubmission::new("manhole_cover", RequestKind::Complaint, format!("积压的第 {index} 号报告：路口井盖缺失")),
                            photos: Vec::new(),
                            limit_ms: Some(24 * 3_600_000),
                            source: None,
                            classes: Vec::new(),
                            class_rules: Default::default(),
                            sender: None,
                        })
                        .await
                })
            })
            .collect();
        for insert in batch {
            insert.await??;
            inserted += 1;
        }
    }
    let _ = stop.send(());
    running.await??;
    drop(store);

    let application = Application::build(config).await?;
    let state = application.state().clone();
    let store = state.store.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let running = tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));
    state.forwarder.wake();
    let deadline = started + Duration::from_secs(600);
    while store.outbox_stats().await?.pending > 0 {
        anyhow::ensure!(Instant::now() < deadline, "the backlog did not drain in 10 minutes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rate = backlog as f64 / started.elapsed().as_secs_f64();
    let _ = stop.send(());
    let _ = running.await;
    Ok(rate)
}

/// Creates a JetStream stream for this run and returns the pipeline URL publishing to it.
async fn nats_stream() -> anyhow::Result<String> {
    let suffix = ids::new_report_id().replace('-', "")[..8].to_owned();
    let prefix = format!("lianxinbench{suffix}");
    let jetstream = async_nats::jetstream::new(async_nats::connect(NATS).await?);
    jetstream
        .create_stream(async_nats::jetstream::stream::Config {
            name: format!("LIANXIN_BENCH_{suffix}"),
            subjects: vec![format!("{prefix}.>")],
            storage: async_nats::jetstream::stream::StorageType::File,
            max_age: std::time::Duration::from_secs(3600),
            ..Default::default()
        })
        .await
        .map_err(|error| anyhow::anyhow!("creating the stream: {error}"))?;
    Ok(format!("{NATS}/{prefix}"))
}

/// Runs the drain scenarios.
pub async fn run(report: &mut Report, quick: bool) -> anyhow::Result<()> {
    let backlog = if quick { 1000 } else { 10_000 };
    let file = drain(None, backlog).await?;
    report.add("forwarder", format!("drain {backlog} reports into the file sink"), file, "/s");
    match nats_stream().await {
        Ok(url) => {
            let nats = drain(Some(url), backlog).await?;
            report.add("forwarder", format!("drain {backlog} reports into NATS JetStream"), nats, "/s");
        }
        Err(error) => eprintln!("bench: NATS drain skipped: {error}"),
    }
    Ok(())
}
