//! Helpers for end-to-end tests: start the real server serving the release build of the
//! widget, start headless Chromium through ChromeDriver at a phone's viewport, and act on
//! the page as a resident would (find, type, choose, wait, read).

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
        let data_dir = tempfile::tempdir()?;
        let mut config = Config { addr: "127.0.0.1:0".parse()?, data_dir: data_dir.path().to_owned(), widget_dir: widget_dir(), ..Config::default() };
        config.forwarder.poll_ms = 100;
        let application = Application::build(config).await?;
        let url = format!("http://{}", application.address());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(application.run_until(async move {
            let _ = stopped.await;
        }));
        Ok(Server { url, data_dir, stop: Some(stop) })
    }

    /// The lines of the pipeline file.
    pub fn pipeline_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(self.data_dir.path().join("pipeline.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

/// Headless Chromium driven through its own ChromeDriver process.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
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
        let browser = Browser { client: connect(port, &profile, lang).await?, driver, _profile: profile };
        browser.client.set_window_size(390, 844).await?;
        Ok(browser)
    }

    /// Opens `url` and waits until the widget has rendered its form.
    pub async fn open_widget(&self, url: &str) -> anyhow::Result<()> {
        self.client.goto(url).await?;
        self.wait_for("#category").await?;
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
                let text = element.text().await?;
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

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.wait_for(css).await?.click().await?;
        Ok(())
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

/// Writes a real JPEG photo of `width` × `height` pixels into `dir` and returns its path.
pub fn photo_file(dir: &std::path::Path, width: u32, height: u32) -> anyhow::Result<PathBuf> {
    let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x * 7 % 256) as u8, (y * 3 % 256) as u8, 90]));
    let path = dir.join("manhole.jpg");
    image.save_with_format(&path, image::ImageFormat::Jpeg)?;
    Ok(path)
}
