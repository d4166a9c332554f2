//! The NATS JetStream sink, over a small client of the NATS text protocol (CONNECT, PING,
//! SUB, HPUB, MSG/HMSG): each report is published to `<prefix>.<district>.<category>` with
//! the header `Nats-Msg-Id: <report id>`, so the stream discards a repeat inside its
//! duplicate window, and the delivery counts only once JetStream has acknowledged it.
//!
//! JetStream acknowledges before it fsyncs unless the server runs with
//! `jetstream { sync_interval: always }`; cities that cannot lose a report on a power cut
//! should set it (README, "Forwarding to NATS").
//!
//! URL: `nats://[user:password@|token@]host:port[/subject.prefix]` (plain TCP: run it on a
//! trusted network). The default prefix is `lianxin`.

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::Mutex;

use super::{Delivered, DeliveryError};
use crate::config::Secret;

/// The longest protocol line read from the server (an `INFO` line is a few hundred bytes).
const MAX_LINE: u64 = 64 * 1024;
/// The largest message read from the server: acknowledgements are tiny, and NATS's own
/// default `max_payload` is 1 MiB.
const MAX_MESSAGE: usize = 1024 * 1024;
use crate::store::OutboxReport;

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

/// The answer to a request: the status from an HMSG header line (e.g. 503 "no
/// responders"), if any, and the payload.
#[derive(Debug)]
pub struct Reply {
    /// Status code from the header line, when the reply carried headers.
    pub status: Option<u16>,
    /// The payload.
    pub payload: Vec<u8>,
}

/// One connection speaking the NATS protocol, with a reply inbox.
#[derive(Debug)]
pub struct NatsConnection {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    inbox: String,
    next_reply: u64,
}

fn protocol_error(message: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message.into())
}

impl NatsConnection {
    /// Connects, authenticates and subscribes to a private reply inbox.
    pub async fn connect(url: &NatsUrl) -> std::io::Result<NatsConnection> {
        let stream = TcpStream::connect(&url.address).await?;
        stream.set_nodelay(true)?;
        let (read, writer) = stream.into_split();
        let mut connection = NatsConnection { reader: BufReader::new(read), writer, inbox: String::new(), next_reply: 0 };
        let info = connection.read_line().await?;
        if !info.starts_with("INFO ") {
            return Err(protocol_error(format!("expected INFO from the NATS server, got {info:?}")));
        }
        let mut options = serde_json::json!({
            "verbose": false, "pedantic": false, "headers": true, "no_responders": true,
            "protocol": 1, "name": "lianxin", "lang": "rust", "version": env!("CARGO_PKG_VERSION"),
        });
        if let Some((user, password)) = &url.user {
            options["user"] = user.clone().into();
            options["pass"] = password.expose().into();
        }
        if let Some(token) = &url.token {
            options["auth_token"] = token.expose().into();
        }
        let mut random = [0u8; 8];
        let _ = getrandom::fill(&mut random);
        connection.inbox = format!("_INBOX.lianxin.{}", crate::intake::hex(&random));
        let hello = format!("CONNECT {options}\r\nPING\r\nSUB {}.* 1\r\n", connection.inbox);
        connection.writer.write_all(hello.as_bytes()).await?;
        loop {
            let line = connection.read_line().await?;
            match line.as_str() {
                "PONG" => return Ok(connection),
                "+OK" => {}
                line if line.starts_with("INFO ") => {}
                line => return Err(protocol_error(format!("the NATS server refused the connection: {line}"))),
            }
        }
    }

    async fn read_line(&mut self) -> std::io::Result<String> {
        let mut line = String::new();
        let read = (&mut self.reader).take(MAX_LINE).read_line(&mut line).await?;
        if read == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the NATS server closed the connection"));
        }
        if !line.ends_with('\n') {
            return Err(protocol_error(format!("a line from the NATS server longer than {MAX_LINE} bytes")));
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }

    /// Publishes `payload` to `subject` with `headers` and waits for the reply.
    pub async fn request(&mut self, subject: &str, headers: &[(&str, &str)], payload: &[u8]) -> std::io::Result<Reply> {
        self.next_reply += 1;
        let reply_to = format!("{}.{}", self.inbox, self.next_reply);
        let mut message = Vec::with_capacity(payload.len() + 128);
        if headers.is_empty() {
            message.extend_from_slice(format!("PUB {subject} {reply_to} {}\r\n", payload.len()).as_bytes());
        } else {
            let mut header_block = String::from("NATS/1.0\r\n");
            for (name, value) in headers {
                header_block.push_str(&format!("{name}: {value}\r\n"));
            }
            header_block.push_str("\r\n");
            message.extend_from_slice(format!("HPUB {subject} {reply_to} {} {}\r\n", header_block.len(), header_block.len() + payload.len()).as_bytes());
            message.extend_from_slice(header_block.as_bytes());
        }
        message.extend_from_slice(payload);
        message.extend_from_slice(b"\r\n");
        self.writer.write_all(&message).await?;
        loop {
            let line = self.read_line().await?;
            let mut words = line.split(' ');
            match words.next() {
                Some("PING") => self.writer.write_all(b"PONG\r\n").await?,
                Some("MSG") => {
                    let parts: Vec<&str> = words.collect();
                    let size: usize = parts.last().and_then(|size| size.parse().ok()).ok_or_else(|| protocol_error(line.clone()))?;
                    let body = self.read_exact(size).await?;
                    if parts.first() == Some(&reply_to.as_str()) {
                        return Ok(Reply { status: None, payload: body });
                    }
                }
                Some("HMSG") => {
                    let parts: Vec<&str> = words.collect();
                    let sizes: Vec<usize> = parts.iter().rev().take(2).filter_map(|size| size.parse().ok()).collect();
                    let [total, header_size] = sizes[..] else { return Err(protocol_error(line.clone())) };
                    let body = self.read_exact(total).await?;
                    if parts.first() == Some(&reply_to.as_str()) {
                        let header = String::from_utf8_lossy(&body[..header_size.min(body.len())]);
                        let status = header.lines().next().and_then(|first| first.split_whitespace().nth(1)).and_then(|code| code.parse().ok());
                        return Ok(Reply { status, payload: body[header_size.min(body.len())..].to_vec() });
                    }
                }
                Some("-ERR") => return Err(protocol_error(format!("NATS: {line}"))),
                _ => {}
            }
        }
    }

    async fn read_exact(&mut self, size: usize) -> std::io::Result<Vec<u8>> {
        if size > MAX_MESSAGE {
            return Err(protocol_error(format!("a message from the NATS server of {size} bytes, more than {MAX_MESSAGE}")));
        }
        let mut body = vec![0u8; size + 2];
        self.reader.read_exact(&mut body).await?;
        body.truncate(size);
        Ok(body)
    }
}

/// Publishes reports to JetStream.
#[derive(Debug)]
pub struct NatsSink {
    url: NatsUrl,
    connection: Mutex<Option<NatsConnection>>,
}

/// A subject token from a code: anything NATS would misread becomes `_`.
fn token(code: &str) -> String {
    let cleaned: String = code.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    if cleaned.is_empty() { "unknown".into() } else { cleaned }
}

impl NatsSink {
    /// A sink for `nats://…`; connects on first delivery.
    pub fn new(url: &str) -> anyhow::Result<NatsSink> {
        Ok(NatsSink { url: NatsUrl::parse(url)?, connection: Mutex::new(None) })
    }

    /// The subject a report is published to.
    pub fn subject(&self, report: &OutboxReport) -> String {
        format!("{}.{}.{}", self.url.prefix, token(report.district.as_deref().unwrap_or("unknown")), token(&report.report.category))
    }

    /// Publishes `report` and waits for JetStream's acknowledgement.
    pub async fn deliver(&self, report: &OutboxReport) -> Result<Delivered, DeliveryError> {
        let payload = serde_json::to_vec(report).map_err(|error| DeliveryError::Permanent(error.to_string()))?;
        let retry = |reason: String| DeliveryError::Retry { reason, after: None };
        let mut slot = self.connection.lock().await;
        // The connection is taken out while in use: if the delivery times out and this
        // future is dropped mid-message, the half-read connection is dropped with it.
        let mut connection = match slot.take() {
            Some(connection) => connection,
            None => NatsConnection::connect(&self.url).await.map_err(|error| retry(format!("cannot connect to NATS: {error}")))?,
        };
        let subject = self.subject(report);
        let reply = connection
            .request(&subject, &[("Nats-Msg-Id", &report.id)], &payload)
            .await
            .map_err(|error| retry(format!("NATS connection failed: {error}")))?;
        *slot = Some(connection);
        if reply.status == Some(503) {
            return Err(retry(format!("no JetStream stream takes subject {subject}")));
        }
        let ack: serde_json::Value = serde_json::from_slice(&reply.payload).map_err(|_| retry("JetStream answered something that is not an acknowledgement".into()))?;
        if let Some(error) = ack.get("error") {
            return Err(retry(format!("JetStream refused: {}", error["description"].as_str().unwrap_or("unknown error"))));
        }
        match (ack["stream"].as_str(), ack["seq"].as_u64()) {
            (Some(stream), Some(sequence)) => Ok(Delivered { ticket_id: Some(format!("{stream}:{sequence}")) }),
            _ => Err(retry("JetStream's acknowledgement has no stream and sequence".into())),
        }
    }
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
