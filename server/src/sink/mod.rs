//! The pipeline sinks the forwarder delivers to, chosen by the pipeline URL. Only the
//! forwarder calls a sink; handlers never do network I/O.

mod file;
pub mod nats;
pub mod open311;
pub mod webhook;

pub use file::FileSink;
pub use nats::NatsSink;
pub use webhook::WebhookSink;

use std::sync::Arc;
use std::time::Duration;

use lianxin_contract::Catalog;

use crate::config::Config;
use lianxin_contract::pipeline::{PipelineMessage, PipelineReport};

/// Why a delivery failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DeliveryError {
    /// Worth trying again later (network down, pipeline overloaded).
    #[error("temporary: {reason}")]
    Retry {
        /// What happened, without personal data.
        reason: String,
        /// How long the pipeline asked us to wait, if it did.
        after: Option<Duration>,
    },
    /// Will never succeed as sent (the pipeline refused the report).
    #[error("permanent: {0}")]
    Permanent(String),
}

/// A successful delivery.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delivered {
    /// The pipeline's ticket id, when it gives one.
    pub ticket_id: Option<String>,
}

/// The most of a pipeline's answer that is read: a status, a ticket id, an error array. A
/// pipeline sending more must not fill the server's memory; the rest is not read.
pub const ANSWER_LIMIT: usize = 64 * 1024;

/// Reads at most [`ANSWER_LIMIT`] bytes of an HTTP answer's body, as text. `None` when the
/// answer is longer (or breaks off): callers treat that as an answer they cannot use.
pub async fn capped_answer(mut response: reqwest::Response) -> Option<String> {
    if response.content_length().is_some_and(|length| length > ANSWER_LIMIT as u64) {
        return None;
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        if body.len() + chunk.len() > ANSWER_LIMIT {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    Some(String::from_utf8_lossy(&body).into_owned())
}

/// What went wrong with an HTTP call to the pipeline, in words safe for logs: never the URL
/// (which may carry a key) and never the body.
pub fn http_failure(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    }
}

/// The seconds of a `Retry-After` header (the HTTP-date form is not used by pipelines).
pub fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response.headers().get("retry-after").and_then(|value| value.to_str().ok()).and_then(|value| value.trim().parse::<u64>().ok()).map(Duration::from_secs)
}

/// The configured sink.
#[derive(Debug)]
pub enum Sink {
    /// Appends JSON lines to a local file.
    File(FileSink),
    /// POSTs signed JSON to an HTTP(S) endpoint.
    Webhook(WebhookSink),
    /// Publishes to NATS JetStream (boxed: the client's state is large, the others small).
    Nats(Box<NatsSink>),
    /// Creates Open311 GeoReport v2 service requests.
    Open311(open311::Open311Sink),
}

impl Sink {
    /// The sink for a pipeline URL, with the secrets from `config` (the catalog maps
    /// categories to Open311 service codes).
    pub fn from_url(url: &str, config: &Config, catalog: Arc<Catalog>) -> anyhow::Result<Sink> {
        if url.starts_with("open311+http") {
            return Ok(Sink::Open311(open311::Open311Sink::new(url, config.pipeline_secret.clone(), catalog)?));
        }
        if let Some(path) = url.strip_prefix("file://") {
            return Ok(Sink::File(FileSink::open(path.as_ref())?));
        }
        if url.starts_with("http://") || url.starts_with("https://") {
            return Ok(Sink::Webhook(WebhookSink::new(url, config.pipeline_secret.clone(), config.forwarder.legacy_signature)?));
        }
        if url.starts_with("nats://") {
            return Ok(Sink::Nats(Box::new(NatsSink::new(url)?)));
        }
        anyhow::bail!("pipeline {url:?} is not supported; use file:///path/to/pipeline.jsonl, https://… (webhook), nats://… or open311+https://…")
    }

    /// Delivers one report. Every delivery carries the report id, so the pipeline can
    /// discard a repeat.
    pub async fn deliver(&self, report: &PipelineReport) -> Result<Delivered, DeliveryError> {
        match self {
            Sink::File(sink) => sink.deliver(report).await,
            Sink::Webhook(sink) => sink.deliver(report).await,
            Sink::Nats(sink) => sink.deliver(report).await,
            Sink::Open311(sink) => sink.deliver(report).await,
        }
    }

    /// Delivers a follow-up message about a report the pipeline has (reopened, rated,
    /// escalated), with the message id as idempotency key. Open311 GeoReport v2 has no way
    /// to update, reopen or escalate a service request: that sink records the message as
    /// delivered without a call (the department reads the answer on Lianxin's status page
    /// and its metrics), and says so in the log once per message.
    pub async fn deliver_message(&self, message: &PipelineMessage) -> Result<Delivered, DeliveryError> {
        match self {
            Sink::File(sink) => sink.deliver_message(message).await,
            Sink::Webhook(sink) => sink.deliver_message(message).await,
            Sink::Nats(sink) => sink.deliver_message(message).await,
            Sink::Open311(_) => {
                tracing::info!(message = %message.id, kind = message.message.code(), "Open311 GeoReport v2 cannot carry follow-up messages; recorded without a call");
                Ok(Delivered::default())
            }
        }
    }
}
