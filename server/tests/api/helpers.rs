//! Starts the real server for a test and offers the requests tests make.

use std::path::PathBuf;
use std::time::Duration;

use lianxin_server::{Application, Config};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// A running server with its own data dir, stopped when dropped.
pub struct TestApp {
    pub address: String,
    pub data_dir: tempfile::TempDir,
    pub client: reqwest::Client,
    /// The running application's state (store, photos, configuration).
    pub state: lianxin_server::http::AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    running: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts the server with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the server after `adjust` changed its configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_in(tempfile::tempdir().expect("a temporary data dir"), adjust).await
}

/// The PostgreSQL database the suite runs against instead of SQLite, when
/// `LIANXIN_TEST_DATABASE` names one (`cargo xtask test` runs the suite both ways).
pub fn postgres_under_test() -> Option<String> {
    std::env::var("LIANXIN_TEST_DATABASE").ok().filter(|url| !url.is_empty())
}

/// The database URL of the server using `data_dir`: SQLite (`None`), or its own schema in
/// the PostgreSQL under test, created on first use and remembered in the data dir so a
/// restarted server finds its reports again.
pub async fn database_url_for(data_dir: &std::path::Path) -> Option<String> {
    let base = postgres_under_test()?;
    let remembered = data_dir.join("test-database-url");
    if let Ok(url) = std::fs::read_to_string(&remembered) {
        return Some(url);
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let schema = format!("lxt_{now}_{}", uuid::Uuid::new_v4().simple());
    let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls).await.expect("the PostgreSQL under test is reachable");
    tokio::spawn(connection);
    // Schemas of runs older than a day are leftovers of interrupted runs.
    for row in client.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'lxt\\_%'", &[]).await.unwrap() {
        let name: String = row.get(0);
        let created: u64 = name.split('_').nth(1).and_then(|secs| secs.parse().ok()).unwrap_or(now);
        if created + 86_400 < now {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).await;
        }
    }
    client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.unwrap();
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-csearch_path%3D{schema}");
    std::fs::write(&remembered, &url).unwrap();
    Some(url)
}

/// How many reports the database of the server using `data_dir` holds, counted in the
/// database itself (also for a server running as its own process).
pub async fn count_reports(data_dir: &std::path::Path) -> i64 {
    count_rows(data_dir, "reports").await
}

/// How many rows `table` holds in the database of the server using `data_dir`.
pub async fn count_rows(data_dir: &std::path::Path, table: &str) -> i64 {
    let query = format!("SELECT count(*) FROM {table}");
    match database_url_for(data_dir).await {
        None => {
            let connection = rusqlite::Connection::open(data_dir.join("lianxin.sqlite3")).unwrap();
            connection.query_row(&query, [], |row| row.get(0)).unwrap()
        }
        Some(url) => {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            client.query_one(&query, &[]).await.unwrap().get(0)
        }
    }
}

/// Command-line flags giving the real binary the same database as [`database_url_for`].
pub async fn database_flags(data_dir: &std::path::Path) -> Vec<String> {
    database_url_for(data_dir).await.map(|url| vec!["--database-url".to_owned(), url]).unwrap_or_default()
}

/// Starts the real `lianxin` binary as its own process on `port` with `data_dir` (and its
/// database, see [`database_flags`]), the configuration file `config_toml`, and a webhook
/// pipeline signed with `secret`.
pub async fn start_binary(data_dir: &std::path::Path, port: u16, config_toml: &str, pipeline: &str, secret: &str) -> std::process::Child {
    let config = data_dir.join("lianxin.toml");
    std::fs::write(&config, config_toml).unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_lianxin"))
        .args(["--config", config.to_str().unwrap(), "--data-dir", data_dir.to_str().unwrap(), "--addr", &format!("127.0.0.1:{port}")])
        .args(["--pipeline", pipeline, "--pipeline-secret", secret, "--widget-dir", data_dir.to_str().unwrap()])
        .args(database_flags(data_dir).await)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the lianxin binary starts")
}

/// Waits until a server started as a process answers `/healthz` (or fails after 20 s).
pub async fn wait_until_up(client: &reqwest::Client, base: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(std::time::Instant::now() < deadline, "the server at {base} did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts the server on an existing data dir (a restart).
pub async fn spawn_app_in(data_dir: tempfile::TempDir, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = Config { addr: "127.0.0.1:0".parse().unwrap(), data_dir: data_dir.path().to_owned(), widget_dir: data_dir.path().join("no-widget"), ..Config::default() };
    if let Some(url) = database_url_for(data_dir.path()).await {
        config.storage.database_url = url.as_str().into();
    }
    config.forwarder.poll_ms = 100;
    adjust(&mut config);
    let application = Application::build(config).await.expect("the application builds");
    let address = format!("http://{}", application.address());
    let state = application.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp { address, data_dir, client: reqwest::Client::new(), state, stop: Some(stop), running: Some(running) }
}

impl TestApp {
    /// Asks the server to shut down gracefully and waits until it has; returns the data dir
    /// for a restart.
    pub async fn shut_down(mut self) -> tempfile::TempDir {
        let _ = self.stop.take().unwrap().send(());
        self.running.take().unwrap().await.expect("the server task ends").expect("the server shuts down cleanly");
        let data_dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.data_dir, data_dir)
    }

    /// Every value stored in the database's tables, as bytes (the SQLite files, or each
    /// PostgreSQL row as text): for checking what is kept at rest.
    pub async fn database_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        match database_url_for(self.data_dir.path()).await {
            None => {
                for name in ["lianxin.sqlite3", "lianxin.sqlite3-wal"] {
                    bytes.extend(std::fs::read(self.data_dir.path().join(name)).unwrap_or_default());
                }
            }
            Some(url) => {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(connection);
                for table in ["reports", "photos", "contacts", "outbox", "relations", "timeline", "answers", "messages", "supports"] {
                    for row in client.query(&format!("SELECT t::text FROM {table} t"), &[]).await.unwrap() {
                        bytes.extend(row.get::<_, String>(0).into_bytes());
                    }
                }
                // Binary columns as they are, not as hex text.
                for row in client.query("SELECT coalesce(name_sealed, ''), coalesce(phone_sealed, '') FROM contacts", &[]).await.unwrap() {
                    bytes.extend(row.get::<_, Vec<u8>>(0));
                    bytes.extend(row.get::<_, Vec<u8>>(1));
                }
            }
        }
        bytes
    }

    /// How many reports the database holds, counted in the database itself.
    pub async fn stored_reports(&self) -> i64 {
        count_reports(self.data_dir.path()).await
    }

    /// The server's `host:port`.
    pub fn host(&self) -> String {
        self.address.trim_start_matches("http://").to_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Posts a report with photos under `key` (no header when `None`).
    pub async fn post_report(&self, key: Option<&str>, report: &Value, photos: Vec<Vec<u8>>) -> reqwest::Response {
        self.report_request(key, report, photos).send().await.expect("the server answers")
    }

    /// The request `post_report` sends, for a test to add headers to.
    pub fn report_request(&self, key: Option<&str>, report: &Value, photos: Vec<Vec<u8>>) -> reqwest::RequestBuilder {
        let mut form = Form::new().part("report", Part::bytes(serde_json::to_vec(report).unwrap()).mime_str("application/json").unwrap());
        for photo in photos {
            form = form.part("photo", Part::bytes(photo).file_name("photo.jpg").mime_str("image/jpeg").unwrap());
        }
        let mut request = self.client.post(self.url("/api/v1/reports")).multipart(form);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request
    }

    /// Waits until at least one report is in dead letter (or fails after 10 s).
    pub async fn wait_for_dead_letters(&self) -> Vec<lianxin_server::store::OutboxEntry> {
        for _ in 0..200 {
            let dead = self.state.store.outbox_entries("dead_letter", 10).await.unwrap();
            if !dead.is_empty() {
                return dead;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no report reached dead letter");
    }

    /// The pipeline file's lines, as JSON.
    pub fn pipeline_lines(&self) -> Vec<Value> {
        let path: PathBuf = self.data_dir.path().join("pipeline.jsonl");
        std::fs::read_to_string(path).unwrap_or_default().lines().filter(|line| !line.trim().is_empty()).map(|line| serde_json::from_str(line).expect("pipeline lines are JSON")).collect()
    }

    /// Waits until the pipeline file holds `count` lines and the deliveries are recorded
    /// (or fails after 10 s).
    pub async fn wait_for_pipeline(&self, count: usize) -> Vec<Value> {
        for _ in 0..200 {
            let lines = self.pipeline_lines();
            if lines.len() >= count && self.state.store.outbox_stats().await.unwrap().pending == 0 {
                return lines;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the pipeline file never reached {count} lines: {:?}", self.pipeline_lines());
    }
}

/// A valid manhole-cover report.
pub fn manhole_report() -> Value {
    json!({
        "category": "manhole_cover",
        "kind": "complaint",
        "description": "中央大街与西十二道街路口井盖缺失，夜里很危险",
        "location": { "district": "daoli", "address": "中央大街与西十二道街路口" },
        "lang": "zh-CN"
    })
}

/// The next number of a xorshift sequence: noise that makes a photo weigh what a camera's
/// does.
pub fn noise(seed: &mut u32) -> u32 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 17;
    *seed ^= *seed << 5;
    *seed
}

/// A real JPEG of `width` × `height` pixels.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85).encode_image(&image).unwrap();
    bytes
}

/// Photos the server keeps: those in its pack files, and every file under its photo
/// directory besides the packs (thumbnails, photos from before packs, anything a write
/// left behind). A refused report leaves the count as it was.
pub fn stored_photos(app: &TestApp) -> usize {
    fn files(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| entries.flatten().filter(|entry| entry.file_name() != "packs").map(|entry| if entry.path().is_dir() { files(&entry.path()) } else { 1 }).sum())
            .unwrap_or(0)
    }
    files(&app.data_dir.path().join("photos")) + app.state.photos.store().packs().map_or(0, lianxin_server::photo_pack::Packs::len)
}
