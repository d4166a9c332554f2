//! All of the server's settings in one typed value, loaded once at start-up: built-in
//! defaults, then the TOML file named by `LIANXIN_CONFIG` (or `--config`), then
//! `LIANXIN_*` environment variables, then command-line flags. Everything a test varies is
//! here, and the value is passed explicitly; nothing reads the environment later.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

/// The server's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (`LIANXIN_ADDR`, `--addr`). Port 0 picks a free port.
    pub addr: SocketAddr,
    /// Directory for the SQLite database, photo files and the default pipeline file
    /// (`LIANXIN_DATA_DIR`, `--data-dir`).
    pub data_dir: PathBuf,
    /// Where reports are forwarded, as a URL (`LIANXIN_PIPELINE`, `--pipeline`). Empty means
    /// the embedded default, `file://<data_dir>/pipeline.jsonl`.
    pub pipeline: String,
    /// Key for signing webhook deliveries (HMAC-SHA256) and the Open311 `api_key`
    /// (`LIANXIN_PIPELINE_SECRET`).
    pub pipeline_secret: Secret,
    /// Bearer token the pipeline presents when it reports status back
    /// (`LIANXIN_PIPELINE_TOKEN`); empty refuses every status event.
    pub pipeline_token: Secret,
    /// Bearer token operators present for `/metrics` and the OpenAPI document
    /// (`LIANXIN_ADMIN_TOKEN`). Empty: those answer only requests made on this machine
    /// (a loopback peer, not through a proxy).
    pub admin_token: Secret,
    /// The server's public base URL, for links to photos in forwarded reports
    /// (`LIANXIN_PUBLIC_URL`; default `http://<addr>`).
    pub public_url: String,
    /// The city's catalog file (`LIANXIN_CATALOG`, `--catalog`). Empty means the Harbin
    /// catalog built into the binary.
    pub catalog: Option<PathBuf>,
    /// Directory holding the built widget (`LIANXIN_WIDGET_DIR`, `--widget-dir`).
    pub widget_dir: PathBuf,
    /// Hard limits on what a request may carry.
    pub limits: IntakeLimits,
    /// Photo processing settings.
    pub photos: PhotoSettings,
    /// Where reports and photos are kept.
    pub storage: StorageSettings,
    /// Outbox forwarder settings.
    pub forwarder: ForwarderSettings,
    /// Exposure to the internet: origins, rate limits, timeouts.
    pub security: SecuritySettings,
    /// How long personal data is kept.
    pub privacy: PrivacySettings,
    /// The way back to the resident: answer window, time-limit scan.
    pub follow_up: FollowUpSettings,
    /// The Open311 GeoReport v2 door for the city's existing apps.
    pub open311: Open311Settings,
    /// The public page of the city's figures.
    pub public: PublicSettings,
    /// The map residents place the pin on (no tiles configured: no map).
    pub map: MapSettings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            pipeline: String::new(),
            pipeline_secret: Secret::default(),
            pipeline_token: Secret::default(),
            admin_token: Secret::default(),
            public_url: String::new(),
            catalog: None,
            widget_dir: PathBuf::from("dist"),
            limits: IntakeLimits::default(),
            photos: PhotoSettings::default(),
            storage: StorageSettings::default(),
            forwarder: ForwarderSettings::default(),
            security: SecuritySettings::default(),
            privacy: PrivacySettings::default(),
            follow_up: FollowUpSettings::default(),
            open311: Open311Settings::default(),
            public: PublicSettings::default(),
            map: MapSettings::default(),
        }
    }
}

/// Limits enforced while a report streams in. Over a limit the request is refused with a
/// message naming it, and nothing is stored.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntakeLimits {
    /// Largest request body in bytes (default 12 MB).
    pub body_bytes: usize,
    /// Most photos per report (default 6).
    pub photos: usize,
    /// Largest photo in bytes (default 5 MB).
    pub photo_bytes: usize,
    /// Most pixels per photo (default 40 million).
    pub photo_pixels: u64,
    /// Largest `report` JSON part in bytes (default 32 KB).
    pub json_bytes: usize,
    /// Longest description in characters (default 2000).
    pub description_chars: u32,
    /// Longest address in characters (default 200).
    pub address_chars: u32,
    /// Longest contact name in characters (default 50).
    pub name_chars: u32,
}

impl IntakeLimits {
    /// The text limits as published to widgets in the catalog.
    pub fn text_limits(&self) -> lianxin_contract::Limits {
        lianxin_contract::Limits { description_max: self.description_chars, address_max: self.address_chars, name_max: self.name_chars }
    }
}

impl Default for IntakeLimits {
    fn default() -> Self {
        IntakeLimits {
            body_bytes: 12 * 1024 * 1024,
            photos: 6,
            photo_bytes: 5 * 1024 * 1024,
            photo_pixels: 40_000_000,
            json_bytes: 32 * 1024,
            description_chars: 2000,
            address_chars: 200,
            name_chars: 50,
        }
    }
}

/// How photos are re-encoded.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhotoSettings {
    /// Longest edge of a stored photo in pixels; larger photos are downscaled (default 2048).
    pub max_edge: u32,
    /// Longest edge of a thumbnail in pixels (default 320).
    pub thumbnail_edge: u32,
    /// JPEG quality of stored photos, 1–100 (default 85).
    pub jpeg_quality: u8,
    /// Photos decoded at the same time; more wait (default: number of CPUs).
    pub concurrent_decodes: usize,
    /// Most memory one photo's decoding may take, in bytes: the decoded pixels (16-bit
    /// images count double) plus the copy an EXIF rotation makes. Checked from the header
    /// before any pixel is decoded; a photo over it gets 413 (default 256 MiB).
    pub decode_bytes: u64,
    /// Photos waiting for a decode thread at most; past this the server answers 503 and
    /// the widget sends the report again later (default 32).
    pub decode_queue: usize,
}

impl Default for PhotoSettings {
    fn default() -> Self {
        PhotoSettings {
            max_edge: 2048,
            thumbnail_edge: 320,
            jpeg_quality: 85,
            concurrent_decodes: std::thread::available_parallelism().map_or(2, |n| n.get()),
            decode_bytes: 256 * 1024 * 1024,
            decode_queue: 32,
        }
    }
}

/// Where reports and photos are kept: by default all in the data directory; for several
/// server instances, a shared PostgreSQL database and S3-compatible object storage.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    /// Empty for SQLite in the data directory, or a `postgres://` URL shared by every
    /// instance (`LIANXIN_DATABASE_URL`, `--database-url`). Secret: it may hold a password.
    pub database_url: Secret,
    /// PostgreSQL connections each instance keeps at most (default 16).
    pub pool_size: usize,
    /// Empty for `<data dir>/photos`, or `s3://bucket[/prefix]` (`LIANXIN_PHOTO_STORE`,
    /// `--photo-store`); endpoint, region and keys come from the usual `AWS_*` variables.
    pub photo_store: String,
}

impl Default for StorageSettings {
    fn default() -> Self {
        StorageSettings { database_url: Secret::default(), pool_size: 16, photo_store: String::new() }
    }
}

/// How the outbox is drained.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForwarderSettings {
    /// How often the outbox is checked when nothing new arrived, in milliseconds (default 1000).
    pub poll_ms: u64,
    /// Time limit of one delivery, in milliseconds (default 10000).
    pub delivery_timeout_ms: u64,
    /// First retry delay in milliseconds; doubles each attempt (default 1000).
    pub retry_base_ms: u64,
    /// Longest retry delay in milliseconds (default 300000, five minutes).
    pub retry_max_ms: u64,
    /// Attempts before a report goes to the dead letter state (default 20).
    pub max_attempts: u32,
    /// Hours after which a report still failing goes to the dead letter state (default 72).
    pub max_age_hours: u64,
    /// Seconds between status polls of pipelines that are polled (Open311; default 300).
    pub status_poll_secs: u64,
    /// Milliseconds a forwarder holds the outbox rows it claimed; a crashed instance's rows
    /// go to another after this (default 60000; at least twice the delivery timeout).
    pub lease_ms: u64,
    /// Webhooks also carry the old `Lianxin-Signature` header beside the Standard Webhooks
    /// ones, for receivers that still check it (default true; set false once yours
    /// verifies `webhook-signature`).
    pub legacy_signature: bool,
    /// After a round that carried only a few reports (under half of a round's most), the
    /// forwarder waits this many milliseconds before the next, so that it carries more: at
    /// a photo report's pace every round was one report, and its claim and its record were
    /// two commits of their own (default 25; 0: never waits).
    pub gather_ms: u64,
    /// Reports (and follow-up messages) taken from the outbox per round (default 128, at
    /// most [`crate::forwarder::MAX_ROUND`]). A round's claim, its write and fsync to the
    /// pipeline file and the record of its deliveries are one each however many reports it
    /// carries, so under load a larger round costs less per report (128 against 32: a
    /// fifth less server CPU per JSON report in the bench). A round's deliveries are
    /// recorded together, so a forwarder killed in the middle of one leaves at most this
    /// many delivered but not recorded: they are delivered again under their idempotency
    /// keys (one ticket each).
    pub round_size: usize,
    /// Reports of one round delivered at once (default 8): a webhook, Open311 or NATS
    /// pipeline answers several requests at a time, and the file sink writes and fsyncs the
    /// lines waiting together once.
    pub concurrent_deliveries: usize,
}

impl Default for ForwarderSettings {
    fn default() -> Self {
        ForwarderSettings {
            poll_ms: 1000,
            delivery_timeout_ms: 10_000,
            retry_base_ms: 1000,
            retry_max_ms: 300_000,
            max_attempts: 20,
            max_age_hours: 72,
            status_poll_secs: 300,
            lease_ms: 60_000,
            legacy_signature: true,
            gather_ms: 25,
            round_size: 128,
            concurrent_deliveries: 8,
        }
    }
}

impl ForwarderSettings {
    /// [`Self::gather_ms`] as a duration.
    pub fn gather_interval(&self) -> Duration {
        Duration::from_millis(self.gather_ms)
    }

    /// [`Self::poll_ms`] as a duration.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_ms)
    }
}

/// A secret setting: never printed, not even in debug output.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret's value, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is unset.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_owned())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(if self.0.is_empty() { "Secret(<unset>)" } else { "Secret(<redacted>)" })
    }
}

/// Retention of personal data.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacySettings {
    /// Days after a report was closed — resolved, rejected, or given up on by the forwarder
    /// (dead letter) — when its personal data goes: contact details, photos, description,
    /// address, exact position and the department's messages (default 180).
    pub retention_days: u32,
    /// Days after acceptance when a report's personal data goes even if it was never closed
    /// (default 365).
    pub open_retention_days: u32,
    /// Minutes between scheduled purges (default 60).
    pub purge_interval_minutes: u64,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        PrivacySettings { retention_days: 180, open_retention_days: 365, purge_interval_minutes: 60 }
    }
}

/// The public page of the city's figures (`/city`) and its open data.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PublicSettings {
    /// The smallest count a figure shows; fewer reports behind a cell and it is withheld
    /// (k-anonymity; default 5).
    pub min_count: u32,
}

impl Default for PublicSettings {
    fn default() -> Self {
        PublicSettings { min_count: 5 }
    }
}

/// The map residents place the pin on: the city's tile service and how to read it. Lianxin
/// stores and forwards WGS 84 always; tiles drawn in GCJ-02 are shown with every position
/// converted both ways. No `tiles`: the widget offers no map and nothing else changes.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MapSettings {
    /// URL template of the base tiles with `{z}`, `{x}`, `{y}` and optionally `{s}` (XYZ,
    /// or a WMTS service written as XYZ), e.g. Tianditu's
    /// `https://t{s}.tianditu.gov.cn/vec_w/wmts?...&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=<key>`.
    pub tiles: String,
    /// An optional layer drawn over the tiles (Tianditu's street names, `cva_w`), same form.
    pub labels: String,
    /// What `{s}` stands for, e.g. `["0", "1", … "7"]`.
    pub subdomains: Vec<String>,
    /// The attribution the tile provider requires, shown on the map (plain text).
    pub attribution: String,
    /// The coordinate system the tiles are drawn in: `wgs84` (also CGCS2000, e.g. Tianditu)
    /// or `gcj02` (most commercial Chinese maps).
    pub coordinates: MapCoordinates,
    /// The city centre `[lat, lon]` (WGS 84) a map opens on when there is no position yet.
    pub center: Option<[f64; 2]>,
    /// Zoom levels the tiles exist for (default 3–18) and the one a map opens at (16).
    pub min_zoom: u8,
    /// See `min_zoom`.
    pub max_zoom: u8,
    /// See `min_zoom`.
    pub zoom: u8,
}

impl Default for MapSettings {
    fn default() -> Self {
        MapSettings {
            tiles: String::new(),
            labels: String::new(),
            subdomains: Vec::new(),
            attribution: String::new(),
            coordinates: MapCoordinates::Wgs84,
            center: None,
            min_zoom: 3,
            max_zoom: 18,
            zoom: 16,
        }
    }
}

/// The coordinate system map tiles are drawn in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MapCoordinates {
    /// WGS 84, or CGCS2000 (centimetres apart; Tianditu, the national platform).
    #[serde(alias = "cgcs2000")]
    Wgs84,
    /// GCJ-02, the offset datum of AMap, Tencent and most commercial Chinese maps.
    Gcj02,
}

impl MapSettings {
    /// Whether a map is configured.
    pub fn enabled(&self) -> bool {
        !self.tiles.is_empty()
    }

    /// The origins tiles are fetched from (`scheme://host[:port]`, each `{s}` expanded):
    /// exactly what the CSP's `img-src` must add.
    pub fn tile_origins(&self) -> Vec<String> {
        let mut origins = Vec::new();
        for template in [&self.tiles, &self.labels].into_iter().filter(|template| !template.is_empty()) {
            let Some((scheme, rest)) = template.split_once("://") else { continue };
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            let hosts: Vec<String> = if host.contains("{s}") { self.subdomains.iter().map(|each| host.replace("{s}", each)).collect() } else { vec![host.to_owned()] };
            for host in hosts {
                let origin = format!("{scheme}://{host}");
                if !origins.contains(&origin) {
                    origins.push(origin);
                }
            }
        }
        origins
    }

    /// Why these settings cannot work, naming the setting.
    fn problem(&self) -> Option<String> {
        if !self.enabled() {
            return (!self.labels.is_empty()).then(|| "map.labels is set but map.tiles is not".to_owned());
        }
        for (name, template) in [("map.tiles", &self.tiles), ("map.labels", &self.labels)] {
            if template.is_empty() {
                continue;
            }
            if !(template.starts_with("https://") || template.starts_with("http://")) {
                return Some(format!("{name} must be an https:// (or http://) URL template, not {template:?}"));
            }
            if let Some(missing) = ["{z}", "{x}", "{y}"].into_iter().find(|part| !template.contains(part)) {
                return Some(format!("{name} must contain {{z}}, {{x}} and {{y}}; {missing} is missing"));
            }
            if template.contains("{s}") && self.subdomains.is_empty() {
                return Some(format!("{name} uses {{s}}: set map.subdomains, e.g. [\"0\", \"1\", \"2\"]"));
            }
            let host = template.split_once("://").map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or_default()).unwrap_or_default();
            if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == ';' || c == '\'' || c == ',') {
                return Some(format!("{name} has no usable host"));
            }
        }
        let Some([lat, lon]) = self.center else {
            return Some("map.tiles is set but map.center is not: set center = [latitude, longitude] of the city centre (WGS 84)".to_owned());
        };
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
            return Some(format!("map.center [{lat}, {lon}] is not [latitude, longitude]"));
        }
        if self.min_zoom > self.max_zoom || self.max_zoom > 22 || !(self.min_zoom..=self.max_zoom).contains(&self.zoom) {
            return Some(format!("map zoom levels must satisfy min_zoom ≤ zoom ≤ max_zoom ≤ 22 (now {} ≤ {} ≤ {})", self.min_zoom, self.zoom, self.max_zoom));
        }
        None
    }
}

/// The Open311 GeoReport v2 door (`/open311/v2`): which apps may file, and what a public
/// listing shows.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Open311Settings {
    /// The city's `jurisdiction_id`, e.g. "harbin.gov.cn"; a call naming another is
    /// answered 404 (default empty: the parameter is accepted and not checked).
    pub jurisdiction_id: String,
    /// Whether `GET requests` shows each report's description, address, exact position and
    /// photo (default false: 12345 complaints are often private, so the listing shows the
    /// category, status, department, dates and the position rounded to a 100 m grid).
    pub public_details: bool,
    /// The apps allowed to file (`[[open311.apps]]`), each with its own key.
    pub apps: Vec<Open311App>,
}

/// One Open311 app allowed to file reports.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Open311App {
    /// Its name, recorded with each report it files (never its key).
    pub name: String,
    /// Its `api_key`.
    pub api_key: Secret,
    /// Whether the app collects the resident's consent to pass contact details on; without
    /// it, contact fields are dropped and the answer's `service_notice` says so.
    pub contact_consent: bool,
    /// Reports it may file per minute (default 60).
    pub reports_per_minute: u32,
}

impl Default for Open311App {
    fn default() -> Self {
        Open311App { name: String::new(), api_key: Secret::default(), contact_consent: false, reports_per_minute: 60 }
    }
}

/// The way back to the resident: how long a resolved report waits for the resident's
/// answer, and how often time limits and answer windows are checked.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FollowUpSettings {
    /// Hours the resident has to answer "solved?" once the department calls a report
    /// resolved; no answer counts as accepted (default 168, seven days).
    pub answer_window_hours: u32,
    /// Seconds between checks for reports past their due time or answer window (default 60).
    pub scan_secs: u64,
    /// How many milliseconds one hour of a time limit or answer window lasts (default
    /// 3600000). Only for drills and tests that run the clock forward: a city leaves it.
    pub hour_ms: u64,
}

impl Default for FollowUpSettings {
    fn default() -> Self {
        FollowUpSettings { answer_window_hours: 168, scan_secs: 60, hour_ms: 3_600_000 }
    }
}

impl FollowUpSettings {
    /// The answer window in milliseconds.
    pub fn answer_window_ms(&self) -> i64 {
        i64::from(self.answer_window_hours) * self.hour_ms as i64
    }

    /// A category's time limit in milliseconds.
    pub fn limit_ms(&self, hours: u32) -> i64 {
        i64::from(hours) * self.hour_ms as i64
    }
}

/// What protects the server on the open internet.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettings {
    /// Origins of the pages allowed to embed the widget and call the API from a browser,
    /// e.g. `https://zfw.harbin.gov.cn` (`LIANXIN_ALLOWED_ORIGINS`, comma-separated). Empty:
    /// only the server's own pages.
    pub allowed_origins: Vec<String>,
    /// Reports one client address may submit per minute (default 30; a whole block of flats
    /// can share one carrier-grade NAT address, so keep it generous).
    pub reports_per_minute: u32,
    /// Status and nearby reads one client network may make per minute (default 120): a
    /// resident checking progress needs a few; guessing tracking numbers or bisecting the
    /// nearby circle needs thousands.
    pub reads_per_minute: u32,
    /// Reports one client may be uploading at the same time; one more is answered 429 at
    /// once (default 4). Bounds the memory and disk one client can hold.
    pub uploads_per_client: u32,
    /// Take the client address from the last `X-Forwarded-For` value (across every such
    /// header: the one the nearest proxy appended). Set only behind a reverse proxy that
    /// appends it; default false.
    pub trust_forwarded_for: bool,
    /// Seconds a client has to send its request headers (slow-loris guard; default 15).
    pub header_timeout_secs: u64,
    /// Seconds an upload may stall without sending a byte (default 30).
    pub body_idle_timeout_secs: u64,
    /// Seconds a whole request may take, upload included (default 300: 12 MB at 400 kbit/s).
    pub request_timeout_secs: u64,
    /// Seconds in-flight requests get to finish at shutdown (default 30).
    pub shutdown_grace_secs: u64,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings {
            allowed_origins: Vec::new(),
            reports_per_minute: 30,
            uploads_per_client: 4,
            reads_per_minute: 120,
            trust_forwarded_for: false,
            header_timeout_secs: 15,
            body_idle_timeout_secs: 30,
            request_timeout_secs: 300,
            shutdown_grace_secs: 30,
        }
    }
}

impl Config {
    /// Loads the configuration: the defaults, then the TOML file named by `--config` or
    /// `LIANXIN_CONFIG`, then the settings the command line and the environment give (clap
    /// has already let each flag win over its environment variable).
    pub fn load(settings: &crate::cli::Settings) -> anyhow::Result<Config> {
        let mut config = match settings.config.as_deref().filter(|path| !path.as_os_str().is_empty()) {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        for (key, value) in settings.pairs() {
            config.set(key, value).with_context(|| format!("--{key} (or its environment variable)"))?;
        }
        Ok(config)
    }

    /// Reads a TOML configuration file over the defaults.
    pub fn from_file(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    fn set(&mut self, key: &str, value: &str) -> anyhow::Result<()> {
        match key {
            "addr" => self.addr = value.parse().with_context(|| format!("{value:?} is not an address like 127.0.0.1:8080"))?,
            "data-dir" => self.data_dir = PathBuf::from(value),
            "pipeline" => self.pipeline = value.to_owned(),
            "catalog" => self.catalog = Some(PathBuf::from(value)),
            "widget-dir" => self.widget_dir = PathBuf::from(value),
            "pipeline-secret" => self.pipeline_secret = Secret(value.to_owned()),
            "pipeline-token" => self.pipeline_token = Secret(value.to_owned()),
            "admin-token" => self.admin_token = Secret(value.to_owned()),
            "public-url" => self.public_url = value.trim_end_matches('/').to_owned(),
            "database-url" => self.storage.database_url = Secret(value.to_owned()),
            "photo-store" => self.storage.photo_store = value.to_owned(),
            "open311-api-keys" => {
                let keys = value.split(',').map(str::trim).filter(|key| !key.is_empty());
                self.open311.apps.extend(keys.enumerate().map(|(index, key)| Open311App { name: format!("app-{}", index + 1), api_key: Secret(key.to_owned()), ..Open311App::default() }));
            }
            "allowed-origins" => {
                self.security.allowed_origins = value.split(',').map(|origin| origin.trim().trim_end_matches('/').to_owned()).filter(|origin| !origin.is_empty()).collect();
            }
            other => bail!(
                "unknown setting --{other}; known: --config --addr --data-dir --pipeline --catalog --widget-dir --allowed-origins --open311-api-keys --pipeline-secret --pipeline-token --admin-token --public-url --database-url --photo-store"
            ),
        }
        Ok(())
    }

    /// Refuses settings that contradict each other, naming them.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.forwarder.lease_ms < 2 * self.forwarder.delivery_timeout_ms {
            bail!(
                "forwarder.lease_ms ({}) must be at least twice forwarder.delivery_timeout_ms ({}): a delivery must finish well within its lease",
                self.forwarder.lease_ms,
                self.forwarder.delivery_timeout_ms
            );
        }
        if !(1..=crate::forwarder::MAX_ROUND).contains(&self.forwarder.round_size) {
            bail!("forwarder.round_size ({}) must be between 1 and {}", self.forwarder.round_size, crate::forwarder::MAX_ROUND);
        }
        if !(1..=crate::forwarder::MAX_ROUND).contains(&self.forwarder.concurrent_deliveries) {
            bail!("forwarder.concurrent_deliveries ({}) must be between 1 and {} (a round's most)", self.forwarder.concurrent_deliveries, crate::forwarder::MAX_ROUND);
        }
        let url = self.storage.database_url.expose();
        if !(url.is_empty() || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            bail!("storage.database_url must be empty (SQLite in the data dir) or a postgres:// URL");
        }
        if !self.storage.photo_store.is_empty() && !self.storage.photo_store.starts_with("s3://") {
            bail!("storage.photo_store must be empty (files in the data dir) or s3://bucket[/prefix], not {:?}", self.storage.photo_store);
        }
        if let Some(problem) = self.map.problem() {
            bail!("{problem}");
        }
        Ok(())
    }

    /// The public base URL, defaulting to the listen address.
    pub fn public_base_url(&self, bound: std::net::SocketAddr) -> String {
        if self.public_url.is_empty() { format!("http://{bound}") } else { self.public_url.clone() }
    }

    /// The pipeline URL, with the embedded default filled in.
    pub fn pipeline_url(&self) -> String {
        if self.pipeline.is_empty() { format!("file://{}", self.data_dir.join("pipeline.jsonl").display()) } else { self.pipeline.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(args: &[&str]) -> crate::cli::Settings {
        use clap::Parser;
        crate::cli::Cli::try_parse_from(std::iter::once("lianxin").chain(args.iter().copied())).unwrap().settings
    }

    #[test]
    fn flags_override_file_values() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lianxin.toml");
        std::fs::write(&file, "addr = \"127.0.0.1:9000\"\ndata_dir = \"/srv/lianxin\"\n[limits]\nphotos = 2\n").unwrap();
        let config = Config::load(&settings(&["--config", file.to_str().unwrap(), "--addr=127.0.0.1:9100"])).unwrap();
        assert_eq!(config.addr.port(), 9100);
        assert_eq!(config.data_dir, PathBuf::from("/srv/lianxin"));
        assert_eq!(config.limits.photos, 2);
        assert_eq!(config.limits.photo_bytes, IntakeLimits::default().photo_bytes);
    }

    #[test]
    fn a_bad_value_names_the_setting_and_what_it_should_look_like() {
        let error = Config::load(&settings(&["--addr", "localhost"])).unwrap_err();
        let text = format!("{error:#}");
        assert!(text.contains("--addr") && text.contains("127.0.0.1:8080"), "{text}");
    }

    #[test]
    fn map_tile_hosts_are_exactly_the_configured_ones() {
        let map = MapSettings {
            tiles: "https://t{s}.tianditu.gov.cn/vec_w/wmts?TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=k".into(),
            labels: "https://t{s}.tianditu.gov.cn/cva_w/wmts?TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=k".into(),
            subdomains: vec!["0".into(), "1".into()],
            center: Some([45.7567, 126.6424]),
            ..MapSettings::default()
        };
        assert_eq!(map.problem(), None);
        assert_eq!(map.tile_origins(), ["https://t0.tianditu.gov.cn", "https://t1.tianditu.gov.cn"]);
        let no_centre = MapSettings { center: None, ..map.clone() };
        assert!(no_centre.problem().unwrap().contains("map.center"));
        let no_subdomains = MapSettings { subdomains: Vec::new(), ..map.clone() };
        assert!(no_subdomains.problem().unwrap().contains("map.subdomains"));
        let no_y = MapSettings { tiles: "https://tiles.example/{z}/{x}.png".into(), ..map };
        assert!(no_y.problem().unwrap().contains("{y} is missing"));
        assert_eq!(MapSettings::default().problem(), None);
        assert!(MapSettings::default().tile_origins().is_empty());
    }

    #[test]
    fn rounds_and_deliveries_at_once_are_refused_out_of_range_naming_the_setting() {
        let cases = [
            ("concurrent_deliveries = 0", "forwarder.concurrent_deliveries"),
            ("concurrent_deliveries = 1", ""),
            ("concurrent_deliveries = 256", ""),
            ("concurrent_deliveries = 257", "forwarder.concurrent_deliveries"),
            // A round smaller than the deliveries at once is delivered whole at once.
            ("round_size = 4", ""),
            ("round_size = 0", "forwarder.round_size"),
            ("round_size = 256", ""),
            ("round_size = 257", "forwarder.round_size"),
        ];
        for (settings_text, refused) in cases {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("lianxin.toml");
            std::fs::write(&file, format!("[forwarder]\n{settings_text}\n")).unwrap();
            match Config::load(&settings(&["--config", file.to_str().unwrap()])).and_then(|config| config.check()) {
                Ok(()) => assert!(refused.is_empty(), "{settings_text:?} was accepted"),
                Err(error) => assert!(!refused.is_empty() && format!("{error:#}").contains(refused), "{settings_text:?}: {error:#}"),
            }
        }
    }

    #[test]
    fn secrets_never_print() {
        let config = Config { pipeline_secret: Secret::from("hunter2"), ..Config::default() };
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn default_pipeline_is_a_file_in_the_data_dir() {
        let config = Config { data_dir: PathBuf::from("/tmp/x"), ..Config::default() };
        assert_eq!(config.pipeline_url(), "file:///tmp/x/pipeline.jsonl");
    }
}
