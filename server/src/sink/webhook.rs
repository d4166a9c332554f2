//! The webhook sink: POSTs each report as JSON to the city's endpoint.
//!
//! Every delivery carries `Idempotency-Key: <report id>` (the receiver keeps one ticket per
//! key), and `Lianxin-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
//! `"<t>.<body>"` with the pipeline secret, so the receiver can check that the report comes
//! from this server and is fresh. A 2xx answer is a delivery (a `ticket_id` in a JSON answer
//! is recorded); 408, 429 and 5xx, timeouts and connection failures are retried (honouring
//! `Retry-After`); any other 4xx is permanent and the report goes to dead letter with the
//! reason. Redirects are not followed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{ANSWER_LIMIT, Delivered, DeliveryError, capped_answer, http_failure, retry_after};
use crate::config::Secret;
use crate::intake::hex;
use crate::store::OutboxReport;

/// Delivers to an HTTP(S) endpoint.
#[derive(Debug)]
pub struct WebhookSink {
    client: reqwest::Client,
    url: String,
    secret: Secret,
}

/// The signature header value for `body` at `timestamp`.
pub fn signature(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={timestamp},v1={}", hex(&mac.finalize().into_bytes()))
}

impl WebhookSink {
    /// A sink posting to `url`, signing with `secret`.
    pub fn new(url: &str, secret: Secret) -> anyhow::Result<WebhookSink> {
        if secret.is_empty() {
            anyhow::bail!("a webhook pipeline needs LIANXIN_PIPELINE_SECRET to sign its deliveries");
        }
        let client = reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(WebhookSink { client, url: url.to_owned(), secret })
    }

    /// Posts `report`.
    pub async fn deliver(&self, report: &OutboxReport) -> Result<Delivered, DeliveryError> {
        let body = serde_json::to_vec(report).map_err(|error| DeliveryError::Permanent(error.to_string()))?;
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs());
        let response = self
            .client
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", &report.id)
            .header("Lianxin-Signature", signature(self.secret.expose(), timestamp, &body))
            .body(body)
            .send()
            .await
            .map_err(|error| DeliveryError::Retry { reason: format!("webhook unreachable: {}", http_failure(&error)), after: None })?;
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
        if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
            Err(DeliveryError::Retry { reason, after: retry_after })
        } else {
            Err(DeliveryError::Permanent(reason))
        }
    }
}

