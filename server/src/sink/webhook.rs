//! The webhook sink: POSTs each report as JSON to the city's endpoint.
//!
//! Deliveries are signed the Standard Webhooks way (standardwebhooks.com), so a receiver
//! verifies them with a maintained library in its own language: `webhook-id` (the report
//! id, the same on every retry), `webhook-timestamp` (unix seconds) and
//! `webhook-signature: v1,<base64 HMAC-SHA256>` over `"<id>.<timestamp>.<body>"`. The key is
//! the pipeline secret: a `whsec_<base64>` secret is the base64-decoded bytes, as the
//! libraries read it; any other secret is its own bytes (give receivers
//! `whsec_` + base64 of it). While `forwarder.legacy_signature` is on, the old
//! `Lianxin-Signature: t=<unix seconds>,v1=<hex>` over `"<t>.<body>"` rides along.
//!
//! Every delivery also carries `Idempotency-Key: <report id>` (the receiver keeps one ticket
//! per key). A 2xx answer is a delivery (a `ticket_id` in a JSON answer is recorded); 408,
//! 429 and 5xx, timeouts and connection failures are retried (honouring `Retry-After`); any
//! other 4xx is permanent and the report goes to dead letter with the reason. Redirects are
//! not followed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{ANSWER_LIMIT, Delivered, DeliveryError, capped_answer, http_failure, retry_after};
use crate::config::Secret;
use crate::ids::hex;
use lianxin_contract::pipeline::{PipelineMessage, PipelineReport};

/// Delivers to an HTTP(S) endpoint.
#[derive(Debug)]
pub struct WebhookSink {
    client: reqwest::Client,
    url: String,
    secret: Secret,
    /// The Standard Webhooks signing key (see the module documentation).
    key: SigningKey,
    legacy_signature: bool,
}

/// The key bytes deliveries are signed with; never printed.
struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SigningKey(<redacted>)")
    }
}

/// The Standard Webhooks key of a pipeline secret: the bytes of `whsec_<base64>`, or the
/// secret's own bytes.
pub fn signing_key(secret: &str) -> anyhow::Result<Vec<u8>> {
    match secret.strip_prefix("whsec_") {
        Some(encoded) => {
            let key = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim_end_matches('='))
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded.trim_end_matches('=')))
                .map_err(|_| anyhow::anyhow!("LIANXIN_PIPELINE_SECRET starts with whsec_ but the rest is not base64"))?;
            anyhow::ensure!(!key.is_empty(), "LIANXIN_PIPELINE_SECRET whsec_… holds no key");
            Ok(key)
        }
        None => Ok(secret.as_bytes().to_vec()),
    }
}

/// The `webhook-signature` value for message `id` sent at `timestamp` with `body`.
pub fn standard_signature(key: &[u8], id: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// The old `Lianxin-Signature` value for `body` at `timestamp` (while
/// `forwarder.legacy_signature` is on).
pub fn signature(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={timestamp},v1={}", hex(&mac.finalize().into_bytes()))
}

impl WebhookSink {
    /// A sink posting to `url`, signing with `secret` (and the old way too while
    /// `legacy_signature` is on).
    pub fn new(url: &str, secret: Secret, legacy_signature: bool) -> anyhow::Result<WebhookSink> {
        if secret.is_empty() {
            anyhow::bail!("a webhook pipeline needs LIANXIN_PIPELINE_SECRET to sign its deliveries");
        }
        let key = SigningKey(signing_key(secret.expose())?);
        let client = reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(WebhookSink { client, url: url.to_owned(), secret, key, legacy_signature })
    }

    /// Posts `report`.
    pub async fn deliver(&self, report: &PipelineReport) -> Result<Delivered, DeliveryError> {
        let body = serde_json::to_vec(report).map_err(|error| DeliveryError::Permanent(error.to_string()))?;
        self.post(&report.id, "report", body).await
    }

    /// POSTs a follow-up message (reopened, rated, escalated) to the same endpoint, signed
    /// alike, with its own id as `webhook-id` and `Idempotency-Key`; `Lianxin-Message` names
    /// its kind (`report` on reports). A receiver tells them apart by that header or by the
    /// body's `message` field.
    pub async fn deliver_message(&self, message: &PipelineMessage) -> Result<Delivered, DeliveryError> {
        let body = serde_json::to_vec(message).map_err(|error| DeliveryError::Permanent(error.to_string()))?;
        self.post(&message.id, message.message.code(), body).await.map(|_| Delivered::default())
    }

    async fn post(&self, id: &str, kind: &str, body: Vec<u8>) -> Result<Delivered, DeliveryError> {
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs());
        let mut request = self
            .client
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", id)
            .header("Lianxin-Message", kind)
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", standard_signature(&self.key.0, id, timestamp, &body));
        if self.legacy_signature {
            request = request.header("Lianxin-Signature", signature(self.secret.expose(), timestamp, &body));
        }
        let response = request.body(body).send().await.map_err(|error| DeliveryError::Retry { reason: format!("webhook unreachable: {}", http_failure(&error)), after: None })?;
        let status = response.status();
        let retry_after = retry_after(&response);
        let Some(text) = capped_answer(response).await else {
            return Err(DeliveryError::Retry { reason: format!("webhook answered {status} with more than {ANSWER_LIMIT} bytes or a broken body"), after: retry_after });
        };
        if status.is_success() {
            let ticket_id = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|answer| match &answer["ticket_id"] {
                serde_json::Value::String(id) => Some(id.clone()),
                serde_json::Value::Number(id) => Some(id.to_string()),
                _ => None,
            });
            return Ok(Delivered { ticket_id });
        }
        let reason = format!("webhook answered {status}: {}", text.chars().take(200).collect::<String>());
        if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 { Err(DeliveryError::Retry { reason, after: retry_after }) } else { Err(DeliveryError::Permanent(reason)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whsec_secret_is_its_base64_bytes_and_any_other_secret_its_own_bytes() {
        assert_eq!(signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap(), base64::engine::general_purpose::STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap());
        assert_eq!(signing_key("plain-secret").unwrap(), b"plain-secret");
        assert!(signing_key("whsec_not base64!").is_err());
    }

    #[test]
    fn the_signature_matches_the_standard_webhooks_reference_example() {
        // The example of the Standard Webhooks specification and its reference libraries.
        let key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(standard_signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
