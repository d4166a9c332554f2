//! Helpers for end-to-end tests: start the real server serving the release build of the
//! widget, start headless Chromium through ChromeDriver at a phone's viewport, and act on
//! the page as a resident would (find, type, choose, wait, read).

/// A tile server for the map tests.
pub mod tiles;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use lianxin_server::{Application, Config};
use serde_json::{Value, json};

/// How long a test waits for something to appear before failing.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The widget's release build, made by `cargo xtask test`.
pub fn widget_dir() -> PathBuf {
    let dir = std::env::var_os("LIANXIN_E2E_DIST").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../dist")));
    assert!(dir.join("index.html").exists(), "the widget is not built in {}; run `cargo xtask test`, which builds it first", dir.display());
    dir
}

/// A running server with its own data dir.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Its data dir.
    pub data_dir: tempfile::TempDir,
    /// Its state: the store and the follow-up service, for tests that play the pipeline.
    pub state: lianxin_server::http::AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Server {
    /// Starts the server on a random port, serving the built widget.
    pub async fn start() -> anyhow::Result<Server> {
        Server::start_with(|_| {}).await
    }

    /// Starts the server after `adjust` changed its configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> anyhow::Result<Server> {
        let data_dir = tempfile::tempdir()?;
        let mut config = Config { addr: "127.0.0.1:0".parse()?, data_dir: data_dir.path().to_owned(), widget_dir: widget_dir(), ..Config::default() };
        config.forwarder.poll_ms = 100;
        adjust(&mut config);
        let application = Application::build(config).await?;
        let url = format!("http://{}", application.address());
        let state = application.state().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(application.run_until(async move {
            let _ = stopped.await;
        }));
        Ok(Server { url, data_dir, state, stop: Some(stop) })
    }

    /// Plays the pipeline: the department reports the report with `tracking_no` resolved.
    pub async fn resolve(&self, tracking_no: &str, message: &str) -> anyhow::Result<()> {
        let id = self.state.store.report_id(tracking_no).await?.context("no such report")?;
        let event = serde_json::from_value(serde_json::json!({ "report_id": id, "status": "resolved", "message": message }))?;
        self.state.follow_up.pipeline_event(event).await?;
        Ok(())
    }

    /// Files `report` through the JSON API as another resident's phone would (multipart,
    /// a fresh idempotency key); the receipt.
    pub async fn file_report(&self, report: &Value) -> anyhow::Result<Value> {
        let key = format!("e2e-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos());
        let form = reqwest::multipart::Form::new().part("report", reqwest::multipart::Part::text(report.to_string()).mime_str("application/json")?);
        let response = reqwest::Client::new().post(format!("{}/api/v1/reports", self.url)).header("Idempotency-Key", key).multipart(form).send().await?;
        anyhow::ensure!(response.status().is_success(), "filing a report: HTTP {}", response.status());
        Ok(response.json().await?)
    }

    /// The lines of the pipeline file.
    pub fn pipeline_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(self.data_dir.path().join("pipeline.jsonl")).unwrap_or_default().lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
    }
}

/// Headless Chromium driven through its own ChromeDriver process.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver_port: u16,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Browser {
    /// Starts Chromium at a phone's viewport (390×844) in `lang`.
    pub async fn start(lang: &str) -> anyhow::Result<Browser> {
        let port = free_port()?;
        let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {chromedriver}; `cargo xtask test` installs it"))?;
        let profile = tempfile::tempdir()?;
        let browser = Browser { client: connect(port, &profile, lang).await?, driver_port: port, driver, _profile: profile };
        browser.client.set_window_size(390, 844).await?;
        Ok(browser)
    }

    /// Opens `url` and waits until the widget has rendered its form (and removed its
    /// "call 12345" fallback).
    pub async fn open_widget(&self, url: &str) -> anyhow::Result<()> {
        self.client.goto(url).await?;
        // The search box is the widget's own: the server-rendered first screen has only the
        // list, and the widget replaces it once started.
        self.wait_for("#category-search").await?;
        if self.client.find(Locator::Css("#boot-fallback")).await.is_ok() {
            bail!("the widget runs but its fallback message is still shown");
        }
        Ok(())
    }

    /// Waits for an element matching `css` to exist.
    pub async fn wait_for(&self, css: &str) -> anyhow::Result<Element> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                return Ok(element);
            }
            if Instant::now() > deadline {
                let body = self.client.source().await.unwrap_or_default();
                bail!("{css} did not appear within {PATIENCE:?}; the page is:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element matching `css` has non-empty text, and returns the text.
    pub async fn text_of(&self, css: &str) -> anyhow::Result<String> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                // The element can be re-rendered between finding and reading it: try again.
                let text = element.text().await.unwrap_or_default();
                if !text.trim().is_empty() {
                    return Ok(text.trim().to_owned());
                }
            }
            if Instant::now() > deadline {
                bail!("{css} had no text within {PATIENCE:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` into the input matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        self.wait_for(css).await?.send_keys(text).await?;
        Ok(())
    }

    /// Chooses the option with `value` in the select matching `css`.
    pub async fn choose(&self, css: &str, value: &str) -> anyhow::Result<()> {
        self.wait_for(css).await?.select_by_value(value).await?;
        Ok(())
    }

    /// Attaches the file at `path` to the file input matching `css`.
    pub async fn attach(&self, css: &str, path: &std::path::Path) -> anyhow::Result<()> {
        self.wait_for(css).await?.send_keys(&path.display().to_string()).await?;
        Ok(())
    }

    /// Clicks the element matching `css` once it is enabled. A disabled button ignores a
    /// click, and a resident waits for it ("Next" while a photo is still being prepared);
    /// a click sent before would be lost and the test would wait for a screen that never
    /// comes.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let element = self.wait_for(css).await?;
            if element.is_enabled().await.unwrap_or(false) {
                element.click().await?;
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("{css} stayed disabled for {PATIENCE:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends the filled form as a resident does: "Next", then "Send" on the review screen.
    pub async fn send_report(&self) -> anyhow::Result<()> {
        self.click("button[type=submit]").await?;
        self.click("#send-report").await
    }

    /// Sends a DevTools protocol command through ChromeDriver (`goog/cdp/execute`): how a
    /// test grants geolocation, places the phone, or takes the network away.
    pub async fn cdp(&self, command: &str, params: Value) -> anyhow::Result<Value> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let session = self.client.session_id().await?.context("no WebDriver session")?;
        let body = json!({ "cmd": command, "params": params }).to_string();
        let request =
            format!("POST /session/{session}/goog/cdp/execute HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        let exchange = async {
            let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.driver_port)).await?;
            stream.write_all(request.as_bytes()).await?;
            // Read the head, then exactly Content-Length bytes: chromedriver may keep the
            // connection open whatever the request said.
            let mut received = Vec::new();
            let mut buffer = [0u8; 4096];
            loop {
                let read = stream.read(&mut buffer).await?;
                if read == 0 {
                    break;
                }
                received.extend_from_slice(&buffer[..read]);
                if let Some(end) = received.windows(4).position(|window| window == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&received[..end]).to_lowercase();
                    let length: usize = head.lines().find_map(|line| line.strip_prefix("content-length:")).and_then(|value| value.trim().parse().ok()).unwrap_or(0);
                    if received.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            anyhow::Ok(String::from_utf8_lossy(&received).into_owned())
        };
        let answer = tokio::time::timeout(PATIENCE, exchange).await.context("chromedriver did not answer a DevTools command")??;
        let (head, body) = answer.split_once("\r\n\r\n").context("no HTTP answer from chromedriver")?;
        if !head.starts_with("HTTP/1.1 200") {
            bail!("{command} failed: {head} {body}");
        }
        Ok(serde_json::from_str::<Value>(body.trim()).unwrap_or(Value::Null))
    }

    /// Runs axe-core (WCAG 2 A and AA rules) on the current page and returns the serious
    /// and critical violations, each as "rule: help (target)".
    pub async fn accessibility_violations(&self) -> anyhow::Result<Vec<String>> {
        let path = std::env::var("LIANXIN_AXE").context("LIANXIN_AXE is not set; run the browser tests through `cargo xtask test`, which installs axe-core")?;
        let axe = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        self.client.execute(&axe, Vec::new()).await?;
        let script = r#"
            const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
               .then(result => done(result.violations
                   .filter(v => v.impact === 'serious' || v.impact === 'critical')
                   .map(v => v.id + ': ' + v.help + ' (' + v.nodes.map(n => n.target.join(' ')).join(', ') + ')')))
               .catch(error => done(['axe failed: ' + error]));
        "#;
        let found = self.client.execute_async(script, Vec::new()).await?;
        serde_json::from_value(found.clone()).with_context(|| format!("axe answered {found}"))
    }

    /// Saves a screenshot of the page as `<name>.png` under `target/e2e-screenshots`.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/e2e-screenshots"));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, self.client.screenshot().await?)?;
        Ok(path)
    }

    /// The value of the element matching `css`.
    pub async fn value_of(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.wait_for(css).await?.prop("value").await?.unwrap_or_default())
    }

    /// Waits until the element matching `css` has text containing `expected`.
    pub async fn wait_for_text(&self, css: &str, expected: &str) -> anyhow::Result<String> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                let text = element.text().await.unwrap_or_default();
                if text.contains(expected) {
                    return Ok(text);
                }
            }
            if Instant::now() > deadline {
                bail!("{css} never showed {expected:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The `value`s of the options of the select matching `css`.
    pub async fn option_values(&self, css: &str) -> anyhow::Result<Vec<String>> {
        let mut values = Vec::new();
        for option in self.wait_for(css).await?.find_all(Locator::Css("option")).await? {
            values.push(option.attr("value").await?.unwrap_or_default());
        }
        Ok(values)
    }

    /// Ends the browser session.
    pub async fn close(self) -> anyhow::Result<()> {
        self.client.clone().close().await?;
        Ok(())
    }
}

async fn connect(port: u16, profile: &tempfile::TempDir, lang: &str) -> anyhow::Result<Client> {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=390,844",
                format!("--lang={lang}"),
                format!("--user-data-dir={}", profile.path().display()),
            ],
            "prefs": { "intl.accept_languages": lang },
        }),
    );
    let deadline = Instant::now() + PATIENCE;
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector).capabilities(capabilities.clone()).connect(&format!("http://127.0.0.1:{port}")).await {
            Ok(client) => return Ok(client),
            Err(error) if Instant::now() > deadline => bail!("chromedriver did not start a session: {error}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// A camera-like JPEG of `width` × `height` pixels (left half red, right half blue, with
/// noise so it weighs what a phone photo weighs) carrying an EXIF block with orientation 6
/// ("rotate 90° clockwise to display") and a GPS tag, written into `dir`.
pub fn camera_photo(dir: &std::path::Path, width: u32, height: u32) -> anyhow::Result<PathBuf> {
    let mut seed = 0x2545_f491_u32;
    let image = image::RgbImage::from_fn(width, height, |x, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = (seed % 24) as u8;
        if x < width / 2 { image::Rgb([230 + noise, noise, noise]) } else { image::Rgb([noise, noise, 230 + noise]) }
    });
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 92).encode_image(&image)?;
    let mut tiff = b"II\x2A\x00".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
    tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&[0x01, 0x00, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    let path = dir.join("camera.jpg");
    std::fs::write(&path, with_exif(&plain, &tiff))?;
    Ok(path)
}

/// `jpeg` with an EXIF segment (APP1) holding `tiff` right after its start marker, as a
/// camera writes it.
fn with_exif(jpeg: &[u8], tiff: &[u8]) -> Vec<u8> {
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(tiff);
    let mut photo = jpeg[..2].to_vec();
    photo.extend_from_slice(&[0xFF, 0xE1]);
    photo.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    photo.extend_from_slice(&app1);
    photo.extend_from_slice(&jpeg[2..]);
    photo
}

/// A phone photo taken at `(lat, lon)`: a JPEG whose EXIF carries a GPS block (latitude and
/// longitude as degrees, minutes and seconds, with their N/E references), written into
/// `dir` as `at-the-spot.jpg`.
pub fn photo_taken_at(dir: &std::path::Path, lat: f64, lon: f64) -> anyhow::Result<PathBuf> {
    let image = image::RgbImage::from_fn(640, 480, |x, y| image::Rgb([(x % 200) as u8 + 40, (y % 180) as u8 + 40, 120]));
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90).encode_image(&image)?;
    let entry = |tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        let mut bytes = tag.to_le_bytes().to_vec();
        bytes.extend_from_slice(&kind.to_le_bytes());
        bytes.extend_from_slice(&count.to_le_bytes());
        bytes.extend_from_slice(&value);
        bytes
    };
    let dms = |degrees: f64| {
        let whole = degrees.trunc();
        let minutes = ((degrees - whole) * 60.0).trunc();
        let seconds = ((degrees - whole) * 60.0 - minutes) * 60.0;
        let mut bytes = Vec::new();
        for (numerator, denominator) in [(whole as u32, 1u32), (minutes as u32, 1), ((seconds * 10_000.0).round() as u32, 10_000)] {
            bytes.extend_from_slice(&numerator.to_le_bytes());
            bytes.extend_from_slice(&denominator.to_le_bytes());
        }
        bytes
    };
    // TIFF header, IFD0 at 8 (one entry: the GPS IFD at 26), the GPS IFD (four entries)
    // at 26, its rationals from 80.
    let mut tiff = b"II\x2A\x00".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend(entry(0x8825, 4, 1, 26u32.to_le_bytes()));
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&4u16.to_le_bytes());
    tiff.extend(entry(1, 2, 2, *b"N\0\0\0"));
    tiff.extend(entry(2, 5, 3, 80u32.to_le_bytes()));
    tiff.extend(entry(3, 2, 2, *b"E\0\0\0"));
    tiff.extend(entry(4, 5, 3, 104u32.to_le_bytes()));
    tiff.extend_from_slice(&0u32.to_le_bytes());
    anyhow::ensure!(tiff.len() == 80, "the GPS block is laid out as its offsets say");
    tiff.extend(dms(lat));
    tiff.extend(dms(lon));
    let path = dir.join("at-the-spot.jpg");
    std::fs::write(&path, with_exif(&plain, &tiff))?;
    Ok(path)
}

/// Writes a real JPEG photo of `width` × `height` pixels into `dir` and returns its path.
pub fn photo_file(dir: &std::path::Path, width: u32, height: u32) -> anyhow::Result<PathBuf> {
    let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x * 7 % 256) as u8, (y * 3 % 256) as u8, 90]));
    let path = dir.join("manhole.jpg");
    image.save_with_format(&path, image::ImageFormat::Jpeg)?;
    Ok(path)
}
