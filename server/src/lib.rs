//! Lianxin's ingestion server as a library, so `main.rs` stays a few lines and tests start
//! the very same application on a random port.
//!
//! A guided tour, in the order a report travels:

/// The command line (clap): settings, `--help`, `--version`, operator commands.
pub mod cli;
/// Typed configuration: defaults, then a TOML file, then environment, then flags.
pub mod config;
/// Loads and checks the city's catalog file.
pub mod catalog;
/// District boundaries and placing a point in its district.
pub mod geo;
/// HTTP routes: one module per resource, each with its own `router()`.
pub mod http;
/// The API's error type and its mapping to RFC 9457 problem details.
pub mod error;
/// Reads a multipart report under hard limits, without buffering unbounded input.
pub mod intake;
/// The one intake of a report, whichever door it came through: parse, validate, photos,
/// route, one store call.
pub mod submission;
/// Open311 GeoReport v2 as a server speaks it: services, definitions, forms, requests, XML.
pub mod georeport;
/// District boundaries from published GeoJSON: GCJ-02 to WGS 84, simplification, the catalog rewrite.
pub mod boundaries;
/// Classes of cases: reports that cluster in place and time or name one subject.
pub mod classes;
/// The city's figures for the public page: aggregates only, k-anonymous.
pub mod figures;
/// A report's life after acceptance as one pure function: events, answers, due times.
pub mod lifecycle;
/// The way back to the resident: follow-up secrets, answers, pipeline events, the scan.
pub mod follow_up;
/// Makes photos safe: sniff, decode with limits, orient, downscale, re-encode, store.
pub mod photos;
/// Where photo bytes live: local files or S3-compatible object storage.
pub mod photo_store;
/// Photos appended to pack files with one fdatasync per group (the local store's next layout).
pub mod photo_pack;
/// Sealing contact details at rest, keyed phone hashes.
pub mod privacy;
/// The retention purge of personal data.
pub mod retention;
/// Signed, expiring links to stored photos.
pub mod photo_links;
/// Prometheus counters and their text rendering.
pub mod metrics;
/// Report ids and timestamps.
pub mod ids;
/// Tracking numbers: drawn, or a keyed permutation of a sequence; typed ones normalised.
pub mod tracking;
/// Durable storage: reports, photos' records, outbox and status timeline (SQLite or
/// PostgreSQL).
pub mod store;
/// Drains the outbox into the pipeline sink, retrying with backoff.
pub mod forwarder;
/// The pipeline sinks a forwarder can deliver to.
pub mod sink;
/// Polls pipelines that do not call back (Open311) for status.
pub mod status_poll;
/// The HTTP accept loop with slow-loris protection and graceful shutdown.
pub mod serve;
/// Builds and runs the whole application.
pub mod app;
/// The command line: serve, purge, outbox operations, migration to PostgreSQL.
pub mod commands;
/// Entry points for the fuzz targets and their regression tests.
#[doc(hidden)]
pub mod fuzz_targets;

pub use app::Application;
pub use config::Config;
