//! The Open311 GeoReport v2 sink: `POST <endpoint>/requests.json` (form-encoded) with the
//! `api_key` (the pipeline secret), the category's `service_code`, `lat`/`long` or an
//! `address_string`, the `description`, one `media_url` (a signed photo link), the
//! category's fields as `attribute[<code>]`, and the contact only when the resident
//! consented. The answer is either a `service_request_id` (recorded as the ticket) or a
//! `token`, resolved later through `GET tokens/<token>.json`. Errors come as the standard
//! `[{"code", "description"}]` array: 5xx, 408 and 429 are retried, other 4xx are
//! permanent. Status comes back by polling `GET requests.json?service_request_id=…`
//! (`open` → accepted, `closed` → resolved with the `status_notes`).
//!
//! The `api_key` travels only in the body of the POST: GeoReport v2 asks for none on its
//! GET calls, so it never appears in a URL, where proxies and error messages would show
//! it. Answers are read up to [`super::ANSWER_LIMIT`]; errors name what failed without the
//! URL or the body.
//!
//! URL: `open311+https://host/path/v2` (or `open311+http://`).

use std::sync::Arc;
use std::time::Duration;

use lianxin_contract::Catalog;
use lianxin_contract::report::{FieldValue, Status};

use super::{ANSWER_LIMIT, Delivered, DeliveryError, capped_answer, http_failure, retry_after};
use crate::config::Secret;
use lianxin_contract::pipeline::PipelineReport;

/// Prefix of tickets that are still Open311 tokens.
pub const TOKEN_PREFIX: &str = "token:";

/// Delivers to an Open311 GeoReport v2 endpoint.
#[derive(Debug)]
pub struct Open311Sink {
    client: reqwest::Client,
    endpoint: String,
    api_key: Secret,
    catalog: Arc<Catalog>,
}

/// Why a status lookup failed, in words safe for logs (no URL, no key, no body).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PollError(String);

/// A request's state as the Open311 server reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteStatus {
    /// The `service_request_id`.
    pub service_request_id: String,
    /// Our status for it.
    pub status: Status,
    /// The `status_notes`, if any.
    pub notes: Option<String>,
    /// `updated_datetime`, if given.
    pub updated: Option<String>,
}

fn errors_text(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(errors)) => errors.iter().map(|error| format!("{} {}", error["code"], error["description"].as_str().unwrap_or(""))).collect::<Vec<_>>().join("; "),
        _ => body.chars().take(200).collect(),
    }
}

impl Open311Sink {
    /// A sink for `open311+http(s)://…`.
    pub fn new(url: &str, api_key: Secret, catalog: Arc<Catalog>) -> anyhow::Result<Open311Sink> {
        let endpoint = url.strip_prefix("open311+").ok_or_else(|| anyhow::anyhow!("an Open311 pipeline URL starts with open311+http"))?;
        if api_key.is_empty() {
            anyhow::bail!("an Open311 pipeline needs LIANXIN_PIPELINE_SECRET as its api_key");
        }
        let client = reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(Open311Sink { client, endpoint: endpoint.trim_end_matches('/').to_owned(), api_key, catalog })
    }

    fn form(&self, report: &PipelineReport) -> Vec<(String, String)> {
        let submitted = &report.report;
        let category = self.catalog.category(&submitted.category);
        let mut form = vec![
            ("api_key".to_owned(), self.api_key.expose().to_owned()),
            ("service_code".to_owned(), category.map_or(submitted.category.clone(), |category| category.service_code.clone())),
            ("description".to_owned(), submitted.description.chars().take(4000).collect()),
        ];
        let location = submitted.location.clone().unwrap_or_default();
        match (location.lat, location.lon) {
            (Some(lat), Some(lon)) => {
                form.push(("lat".into(), lat.to_string()));
                form.push(("long".into(), lon.to_string()));
            }
            _ => {
                let district = report.district.as_deref().and_then(|code| self.catalog.district(code)).map(|district| district.name.zh.clone());
                let address = [location.address, district].into_iter().flatten().collect::<Vec<_>>().join(", ");
                let address = if address.is_empty() { self.catalog.city.zh.clone() } else { address };
                form.push(("address_string".into(), address));
            }
        }
        if let Some(url) = report.photos.first().and_then(|photo| photo.url.clone()) {
            form.push(("media_url".into(), url));
        }
        for (code, value) in &submitted.fields {
            match value {
                FieldValue::Text(text) => form.push((format!("attribute[{code}]"), text.clone())),
                FieldValue::Number(number) => form.push((format!("attribute[{code}]"), number.to_string())),
                FieldValue::List(items) => form.extend(items.iter().map(|item| (format!("attribute[{code}][]"), item.clone()))),
            }
        }
        if let Some(contact) = submitted.contact.as_ref().filter(|contact| contact.consent) {
            if let Some(name) = &contact.name {
                form.push(("first_name".into(), name.clone()));
            }
            if let Some(phone) = &contact.phone {
                form.push(("phone".into(), phone.clone()));
            }
        }
        form
    }

    /// Creates the service request.
    pub async fn deliver(&self, report: &PipelineReport) -> Result<Delivered, DeliveryError> {
        let response = self
            .client
            .post(format!("{}/requests.json", self.endpoint))
            .header("Idempotency-Key", &report.id)
            .form(&self.form(report))
            .send()
            .await
            .map_err(|error| DeliveryError::Retry { reason: format!("Open311 server unreachable: {}", http_failure(&error)), after: None })?;
        let status = response.status();
        let after = retry_after(&response);
        let Some(body) = capped_answer(response).await else {
            return Err(DeliveryError::Retry { reason: format!("Open311 answered {status} with more than {ANSWER_LIMIT} bytes or a broken body"), after });
        };
        if !status.is_success() {
            let reason = format!("Open311 answered {status}: {}", errors_text(&body));
            return if status.is_server_error() || matches!(status.as_u16(), 408 | 429) { Err(DeliveryError::Retry { reason, after }) } else { Err(DeliveryError::Permanent(reason)) };
        }
        let answer: serde_json::Value = serde_json::from_str(&body).map_err(|_| DeliveryError::Retry { reason: "Open311 answer is not JSON".into(), after: None })?;
        let first = answer.get(0).unwrap_or(&answer);
        let text = |value: &serde_json::Value| match value {
            serde_json::Value::String(text) if !text.is_empty() => Some(text.clone()),
            serde_json::Value::Number(number) => Some(number.to_string()),
            _ => None,
        };
        if let Some(id) = text(&first["service_request_id"]) {
            return Ok(Delivered { ticket_id: Some(id) });
        }
        if let Some(token) = text(&first["token"]) {
            return Ok(Delivered { ticket_id: Some(format!("{TOKEN_PREFIX}{token}")) });
        }
        Err(DeliveryError::Retry { reason: "Open311 answer has neither service_request_id nor token".into(), after: None })
    }

    /// Resolves a token to its `service_request_id`, once the server has created it.
    pub async fn resolve_token(&self, token: &str) -> Result<Option<String>, PollError> {
        let mut url = reqwest::Url::parse(&format!("{}/tokens/", self.endpoint)).map_err(|_| PollError("the Open311 URL cannot take a token".into()))?;
        url.path_segments_mut().map_err(|_| PollError("the Open311 URL cannot take a token".into()))?.pop_if_empty().push(&format!("{token}.json"));
        let answer = self.get_json(self.client.get(url)).await?;
        Ok(match answer.get(0).map(|first| &first["service_request_id"]) {
            Some(serde_json::Value::String(id)) if !id.is_empty() => Some(id.clone()),
            Some(serde_json::Value::Number(id)) => Some(id.to_string()),
            _ => None,
        })
    }

    /// Sends a GET and reads its JSON answer, failing in words safe for logs.
    async fn get_json(&self, request: reqwest::RequestBuilder) -> Result<serde_json::Value, PollError> {
        let response = request.send().await.map_err(|error| PollError(format!("Open311 server unreachable: {}", http_failure(&error))))?;
        let status = response.status();
        let body = capped_answer(response).await.ok_or_else(|| PollError(format!("Open311 answered {status} with more than {ANSWER_LIMIT} bytes or a broken body")))?;
        if !status.is_success() {
            return Err(PollError(format!("Open311 answered {status}: {}", errors_text(&body))));
        }
        serde_json::from_str(&body).map_err(|_| PollError(format!("Open311 answered {status} with something that is not JSON")))
    }

    /// The current state of these service requests.
    pub async fn poll(&self, service_request_ids: &[String]) -> Result<Vec<RemoteStatus>, PollError> {
        if service_request_ids.is_empty() {
            return Ok(Vec::new());
        }
        let url = format!("{}/requests.json", self.endpoint);
        let answer = self.get_json(self.client.get(url).query(&[("service_request_id", service_request_ids.join(","))])).await?;
        Ok(statuses_in(&answer))
    }
}

/// The states an Open311 `requests.json` answer reports, skipping entries it cannot read.
/// (The fuzz target `open311_status` drives this with arbitrary JSON.)
pub fn statuses_in(answer: &serde_json::Value) -> Vec<RemoteStatus> {
    answer
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|request| {
            let id = match &request["service_request_id"] {
                serde_json::Value::String(id) if !id.is_empty() => id.clone(),
                serde_json::Value::Number(id) => id.to_string(),
                _ => return None,
            };
            let status = match request["status"].as_str()? {
                "open" => Status::Accepted,
                "closed" => Status::Resolved,
                _ => return None,
            };
            Some(RemoteStatus {
                service_request_id: id,
                status,
                notes: request["status_notes"].as_str().map(str::to_owned).filter(|notes| !notes.is_empty()),
                updated: request["updated_datetime"].as_str().map(str::to_owned),
            })
        })
        .collect()
}
