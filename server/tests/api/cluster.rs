//! Several stateless servers on one PostgreSQL: three real `lianxin` processes share the
//! database and the pipeline receiver; a client spreads reports across them, retrying the
//! same idempotency key against another instance when one fails; one instance is killed
//! with SIGKILL in the middle. Every acknowledged report is stored once and reaches the
//! pipeline exactly once by key; the killed instance's leased rows are taken over.
//! Runs in the suite's PostgreSQL pass (`LIANXIN_TEST_DATABASE`).

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{database_url_for, manhole_report, postgres_under_test, spawn_app_with, wait_until_up};
use crate::receiver::{Behaviour, Receiver};

const SECRET: &str = "cluster-test-secret";
const REPORTS: usize = 90;
/// Reports a forwarder takes per round: well under `REPORTS`, so the bound on repeats says something.
const ROUND: usize = 8;
/// The contact key every instance shares (base64 of 32 bytes).
const CONTACT_KEY: &str = "Y2x1c3Rlci10ZXN0LWNvbnRhY3Qta2V5LTMyYnl0ZXM=";

struct Instance {
    base: String,
    process: Child,
    _data_dir: tempfile::TempDir,
}

fn start_instance(database_url: &str, pipeline: &str) -> Instance {
    let data_dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = data_dir.path().join("lianxin.toml");
    std::fs::write(
        &config,
        format!(
            "[forwarder]\npoll_ms = 100\nretry_base_ms = 100\ndelivery_timeout_ms = 1000\nlease_ms = 3000\nround_size = {ROUND}\n[security]\nreports_per_minute = 100000\nuploads_per_client = 100000\n"
        ),
    )
    .unwrap();
    let process = Command::new(env!("CARGO_BIN_EXE_lianxin"))
        .args(["--config", config.to_str().unwrap(), "--data-dir", data_dir.path().to_str().unwrap(), "--addr", &format!("127.0.0.1:{port}")])
        .args(["--pipeline", pipeline, "--pipeline-secret", SECRET, "--widget-dir", data_dir.path().to_str().unwrap(), "--database-url", database_url])
        .env("LIANXIN_CONTACT_KEY", CONTACT_KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the lianxin binary starts");
    Instance { base: format!("http://127.0.0.1:{port}"), process, _data_dir: data_dir }
}

/// Sends report `index` to instance `index % n`, then to the next ones until one
/// acknowledges it; returns the receipt's report id, or `None` if no instance did.
async fn submit(client: &reqwest::Client, bases: &[String], index: usize) -> Option<String> {
    let key = format!("cluster-{index}");
    for attempt in 0..bases.len() * 3 {
        let base = &bases[(index + attempt) % bases.len()];
        let mut report = manhole_report();
        report["description"] = Value::String(format!("第 {index} 号井盖缺失，请尽快处理"));
        let form = reqwest::multipart::Form::new().part("report", reqwest::multipart::Part::bytes(serde_json::to_vec(&report).unwrap()));
        let sent = client.post(format!("{base}/api/v1/reports")).header("Idempotency-Key", &key).multipart(form).timeout(Duration::from_secs(10)).send().await;
        match sent {
            Ok(response) if response.status().is_success() => return Some(response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()),
            Ok(response) if response.status().as_u16() == 409 => tokio::time::sleep(Duration::from_millis(100)).await,
            Ok(response) => assert!(response.status().is_server_error(), "report {index}: unexpected {}", response.status()),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_one_postgres_survive_a_sigkill_and_deliver_every_report_once() {
    if postgres_under_test().is_none() {
        eprintln!("skipped: the cluster test runs in the PostgreSQL pass (set LIANXIN_TEST_DATABASE)");
        return;
    }
    let schema_dir = tempfile::tempdir().unwrap();
    let database_url = database_url_for(schema_dir.path()).await.unwrap();
    let receiver = Receiver::start(SECRET, vec![]).await;
    let mut instances: Vec<Instance> = (0..3).map(|_| start_instance(&database_url, &receiver.url)).collect();
    let client = reqwest::Client::new();
    for instance in &instances {
        wait_until_up(&client, &instance.base).await;
    }
    let bases: Vec<String> = instances.iter().map(|instance| instance.base.clone()).collect();

    let acknowledged = Arc::new(Mutex::new(HashMap::new()));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let clients: Vec<_> = (0..6)
        .map(|_| {
            let (client, bases, acknowledged, next) = (client.clone(), bases.clone(), acknowledged.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if index >= REPORTS {
                        return;
                    }
                    if let Some(id) = submit(&client, &bases, index).await {
                        acknowledged.lock().unwrap().insert(index, id);
                    }
                }
            })
        })
        .collect();

    // Kill the second instance once a third of the reports are in.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < REPORTS / 3 {
        assert!(Instant::now() < deadline, "reports are not being acknowledged");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    instances[1].process.kill().expect("SIGKILL");
    instances[1].process.wait().unwrap();
    for task in clients {
        task.await.unwrap();
    }

    let acknowledged = acknowledged.lock().unwrap().clone();
    assert_eq!(acknowledged.len(), REPORTS, "two live instances acknowledge every report");
    let (db, connection) = tokio_postgres::connect(&database_url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let stored: Vec<(String, String)> = db.query("SELECT idempotency_key, id FROM reports", &[]).await.unwrap().iter().map(|row| (row.get(0), row.get(1))).collect();
    assert_eq!(stored.len(), REPORTS, "each key stored once");
    let stored_ids: HashSet<String> = stored.iter().map(|(_, id)| id.clone()).collect();
    for (index, id) in &acknowledged {
        assert!(stored_ids.contains(id), "acknowledged report {index} ({id}) is stored");
    }

    // The survivors forward everything, including what the killed one had leased.
    let tickets = receiver.wait_for_tickets(REPORTS, Duration::from_secs(60)).await;
    assert_eq!(tickets.keys().cloned().collect::<HashSet<_>>(), stored_ids, "the pipeline has exactly the stored reports");
    assert!(receiver.accepted_per_key().values().all(|count| *count == 1), "no report became two tickets");
    // Leases keep the survivors from sending the same row together: a repeat comes only
    // from the round in flight when the instance died (its deliveries are recorded at the
    // round's end, so up to a round of them is sent again) or a rare delivery timeout.
    let attempts = receiver.attempts().len();
    eprintln!("{attempts} deliveries for {REPORTS} reports");
    let bound = REPORTS + ROUND + 3;
    assert!(attempts <= bound, "{attempts} deliveries for {REPORTS} reports (at most {bound}): forwarders sent rows twice");
    let pending: i64 = db.query_one("SELECT count(*) FROM outbox WHERE state <> 'delivered'", &[]).await.unwrap().get(0);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut pending = pending;
    while pending > 0 {
        assert!(Instant::now() < deadline, "{pending} outbox rows never recorded as delivered");
        tokio::time::sleep(Duration::from_millis(100)).await;
        pending = db.query_one("SELECT count(*) FROM outbox WHERE state <> 'delivered'", &[]).await.unwrap().get(0);
    }
    for instance in &mut instances {
        let _ = instance.process.kill();
        let _ = instance.process.wait();
    }
}

/// The forwarder records a delivery at the very moment another connection changes the same
/// report (a resident's answer or a pipeline event on another server, holding the report's
/// row lock and appending its timeline step). The delivery waits its turn: both steps keep
/// their own numbers and neither side fails. Before, a report no longer `received` was not
/// locked by the delivery's record, and the loser of the race got a duplicate-key error —
/// a resident's answer answered 500.
#[tokio::test]
async fn a_delivery_recorded_while_the_report_changes_waits_for_the_change_and_both_steps_stay() {
    let Some(_) = postgres_under_test() else { return };
    // The pipeline asks the forwarder to come back in an hour: this test records the
    // delivery itself.
    let receiver = Receiver::start(SECRET, vec![Behaviour::RetryAfter(3600)]).await;
    let app = spawn_app_with(|config| {
        config.pipeline = receiver.url.clone();
        config.pipeline_secret = SECRET.into();
    })
    .await;
    let receipt: Value = app.post_report(Some("race"), &manhole_report(), vec![]).await.json().await.unwrap();
    let id = receipt["id"].as_str().unwrap().to_owned();
    app.state.store.record_status(&id, lianxin_contract::report::Status::Resolved, lianxin_server::ids::now_ms(), None).await.unwrap();

    let url = database_url_for(app.data_dir.path()).await.unwrap();
    let (mut other, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let change = other.transaction().await.unwrap();
    change.execute("SELECT 1 FROM reports WHERE id = $1 FOR UPDATE", &[&id]).await.unwrap();
    change.execute("INSERT INTO timeline (report_id, seq, step, status, at_ms) SELECT $1::TEXT, MAX(seq) + 1, 'closed', 'closed', 0 FROM timeline WHERE report_id = $1", &[&id]).await.unwrap();
    let delivery = tokio::spawn({
        let (store, id) = (app.state.store.clone(), id.clone());
        async move { store.mark_delivered(vec![(id, Some("T-race".into()))]).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!delivery.is_finished(), "the delivery's record waits for the change holding the report");
    change.commit().await.unwrap();

    delivery.await.unwrap().expect("the delivery is recorded after the change");
    let steps: Vec<(i32, String)> = other.query("SELECT seq, step FROM timeline WHERE report_id = $1 ORDER BY seq", &[&id]).await.unwrap().iter().map(|row| (row.get(0), row.get(1))).collect();
    let names: Vec<&str> = steps.iter().map(|(_, step)| step.as_str()).collect();
    assert_eq!(names, ["received", "resolved", "closed", "forwarded"], "{steps:?}");
    assert_eq!(steps.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
}
