//! The NATS JetStream sink, over the official `async-nats` client (it reconnects by itself
//! and keeps the protocol's limits): each report is published to
//! `<prefix>.<district>.<category>` with the header `Nats-Msg-Id: <report id>`, so the
//! stream discards a repeat inside its duplicate window, and the delivery counts only once
//! JetStream has acknowledged it.
//!
//! JetStream acknowledges before it fsyncs unless the server runs with
//! `jetstream { sync_interval: always }`; cities that cannot lose a report on a power cut
//! should set it (README, "Forwarding to NATS").
//!
//! URL: `nats://[user:password@|token@]host:port[/subject.prefix]` (plain TCP: run it on a
//! trusted network). The default prefix is `lianxin`.

use std::time::Duration;

use async_nats::jetstream::context::PublishErrorKind;
use tokio::sync::OnceCell;

use super::{Delivered, DeliveryError};
use crate::config::Secret;
use lianxin_contract::pipeline::{PipelineMessage, PipelineReport};

/// Where and how to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatsUrl {
    /// `host:port`.
    pub address: String,
    /// User and password, when given (the password never printed).
    pub user: Option<(String, Secret)>,
    /// An auth token, when given (never printed).
    pub token: Option<Secret>,
    /// Subject prefix.
    pub prefix: String,
}

impl NatsUrl {
    /// Parses `nats://…`.
    pub fn parse(url: &str) -> anyhow::Result<NatsUrl> {
        let rest = url.strip_prefix("nats://").ok_or_else(|| anyhow::anyhow!("a NATS pipeline URL starts with nats://"))?;
        let (authority, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let (credentials, host) = match authority.rsplit_once('@') {
            Some((credentials, host)) => (Some(credentials), host),
            None => (None, authority),
        };
        let address = if host.contains(':') { host.to_owned() } else { format!("{host}:4222") };
        let (user, token) = match credentials.map(|credentials| credentials.split_once(':')) {
            Some(Some((user, password))) => (Some((user.to_owned(), Secret::from(password))), None),
            Some(None) => (None, credentials.map(Secret::from)),
            None => (None, None),
        };
        let prefix = if prefix.is_empty() { "lianxin".to_owned() } else { prefix.trim_matches('.').to_owned() };
        if prefix.contains([' ', '*', '>']) {
            anyhow::bail!("the NATS subject prefix {prefix:?} may not contain spaces, * or >");
        }
        Ok(NatsUrl { address, user, token, prefix })
    }
}

/// Publishes reports to JetStream.
#[derive(Debug)]
pub struct NatsSink {
    url: NatsUrl,
    jetstream: OnceCell<async_nats::jetstream::Context>,
}

/// A subject token from a code: anything NATS would misread becomes `_`.
fn token(code: &str) -> String {
    let cleaned: String = code.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    if cleaned.is_empty() { "unknown".into() } else { cleaned }
}

impl NatsSink {
    /// A sink for `nats://…`; connects on first delivery.
    pub fn new(url: &str) -> anyhow::Result<NatsSink> {
        Ok(NatsSink { url: NatsUrl::parse(url)?, jetstream: OnceCell::new() })
    }

    /// The subject a report is published to.
    pub fn subject(&self, report: &PipelineReport) -> String {
        format!("{}.{}.{}", self.url.prefix, token(report.district.as_deref().unwrap_or("unknown")), token(&report.report.category))
    }

    /// The JetStream context, connecting on first use (a failed connection is tried again
    /// at the next delivery; once connected, the client reconnects by itself).
    async fn jetstream(&self) -> Result<&async_nats::jetstream::Context, DeliveryError> {
        self.jetstream
            .get_or_try_init(|| async {
                let mut options = async_nats::ConnectOptions::new().name("lianxin").connection_timeout(Duration::from_secs(5));
                if let Some((user, password)) = &self.url.user {
                    options = options.user_and_password(user.clone(), password.expose().to_owned());
                }
                if let Some(token) = &self.url.token {
                    options = options.token(token.expose().to_owned());
                }
                let client = options.connect(format!("nats://{}", self.url.address)).await.map_err(|error| retry(format!("cannot connect to NATS: {error}")))?;
                Ok(async_nats::jetstream::new(client))
            })
            .await
    }

    /// Publishes `report` and waits for JetStream's acknowledgement.
    pub async fn deliver(&self, report: &PipelineReport) -> Result<Delivered, DeliveryError> {
        let payload = serde_json::to_vec(report).map_err(|error| DeliveryError::Permanent(error.to_string()))?;
        self.publish(self.subject(report), &report.id, payload).await
    }

    /// Publishes a follow-up message on `<prefix>.follow_up.<kind>` (e.g.
    /// `lianxin.follow_up.reopened`), de-duplicated on its message id.
    pub async fn deliver_message(&self, message: &PipelineMessage) -> Result<Delivered, DeliveryError> {
        let payload = serde_json::to_vec(message).map_err(|error| DeliveryError::Permanent(error.to_string()))?;
        let subject = format!("{}.follow_up.{}", self.url.prefix, message.message.code());
        self.publish(subject, &message.id, payload).await
    }

    async fn publish(&self, subject: String, id: &str, payload: Vec<u8>) -> Result<Delivered, DeliveryError> {
        let jetstream = self.jetstream().await?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", id);
        let refused = |error: async_nats::jetstream::context::PublishError| match error.kind() {
            PublishErrorKind::StreamNotFound => retry(format!("no JetStream stream takes subject {subject}")),
            _ => retry(format!("JetStream did not acknowledge: {error}")),
        };
        let ack = jetstream.publish_with_headers(subject.clone(), headers, payload.into()).await.map_err(refused)?.await.map_err(refused)?;
        Ok(Delivered { ticket_id: Some(format!("{}:{}", ack.stream, ack.sequence)) })
    }
}

fn retry(reason: String) -> DeliveryError {
    DeliveryError::Retry { reason, after: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_address_credentials_and_prefix() {
        let plain = NatsUrl::parse("nats://127.0.0.1:4222").unwrap();
        assert_eq!((plain.address.as_str(), plain.prefix.as_str(), plain.user, plain.token), ("127.0.0.1:4222", "lianxin", None, None));
        let full = NatsUrl::parse("nats://city:s3cret@nats.example/hotline.reports").unwrap();
        assert_eq!(full.address, "nats.example:4222");
        assert_eq!(full.user, Some(("city".into(), "s3cret".into())));
        assert!(!format!("{full:?}").contains("s3cret"), "the password never prints");
        assert_eq!(full.prefix, "hotline.reports");
        assert_eq!(NatsUrl::parse("nats://t0ken@host:1/x").unwrap().token.as_ref().map(Secret::expose), Some("t0ken"));
        assert!(NatsUrl::parse("nats://host/a.*").is_err());
        assert!(NatsUrl::parse("http://host").is_err());
    }
}
