//! `POST /api/v1/pipeline/events`: the city's pipeline reports progress on a report
//! (accepted, in progress, resolved, rejected), authenticated with the bearer token from
//! the configuration. Each event is appended to the report's public timeline; a repeat of
//! the same status is acknowledged and ignored. An event's `message` is public: anyone
//! holding the tracking number reads it on the status page, so a department writes no
//! personal data into it (the retention purge removes it with the rest).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lianxin_contract::pipeline::PipelineEvent;
use lianxin_contract::report::Status;
use lianxin_contract::{Lang, Rule, ValidationError};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::extract::ApiJson;
use crate::error::{ApiError, WordedError};
use crate::ids;
use crate::privacy::constant_time_eq;

/// Longest message a department can attach, in characters.
const MESSAGE_MAX: usize = 500;

/// The pipeline callback route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(event))
}

fn authorised(state: &AppState, headers: &HeaderMap) -> bool {
    let expected = state.config.pipeline_token.expose();
    let presented = headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(|value| value.strip_prefix("Bearer ")).unwrap_or_default();
    !expected.is_empty() && constant_time_eq(expected.as_bytes(), presented.as_bytes())
}

fn invalid(field: &str, detail: &str) -> ApiError {
    ApiError::Validation(vec![ValidationError::new(field, Rule::Malformed { detail: detail.to_owned() })])
}

/// Progress on a report, from the city's pipeline.
#[utoipa::path(
    post,
    path = "/api/v1/pipeline/events",
    tag = "pipeline",
    request_body(content_type = "application/json", description = "`{report_id | ticket_id, status, message?, at?}`. The `message` is shown publicly on the report's status page: write no personal data into it."),
    responses(
        (status = 200, description = "Recorded (`recorded: false` when this status was already known)", content_type = "application/json"),
        (status = 403, description = "Missing or wrong bearer token", content_type = "application/problem+json"),
        (status = 404, description = "No such report", content_type = "application/problem+json"),
        (status = 422, description = "Invalid event", content_type = "application/problem+json"),
    )
)]
async fn event(State(state): State<AppState>, headers: HeaderMap, body: Result<ApiJson<PipelineEvent>, WordedError>) -> Response {
    let lang = Lang::En;
    match record(&state, &headers, body).await {
        Ok(recorded) => (StatusCode::OK, Json(json!({ "recorded": recorded }))).into_response(),
        Err(error) => WordedError(error, lang).into_response(),
    }
}

/// A pipeline event that passed every check, ready to be recorded.
#[derive(Debug)]
pub struct CheckedEvent {
    event: PipelineEvent,
    message: Option<String>,
    at_ms: i64,
}

/// Checks an event from the pipeline: a status the pipeline may report, a message within
/// its length, a readable time. (The fuzz target `pipeline_event` drives this.)
pub fn check(event: PipelineEvent) -> Result<CheckedEvent, ApiError> {
    if matches!(event.status, Status::Received | Status::Forwarded) {
        return Err(invalid("status", "the pipeline reports accepted, in_progress, resolved or rejected"));
    }
    let message = event.message.as_deref().map(|text| text.trim().to_owned()).filter(|text| !text.is_empty());
    if message.as_ref().is_some_and(|text| text.chars().count() > MESSAGE_MAX) {
        return Err(ApiError::Validation(vec![ValidationError::new("message", Rule::TooLong { max: MESSAGE_MAX as u32 })]));
    }
    let at_ms = match &event.at {
        Some(at) => {
            let time = humantime::parse_rfc3339_weak(at).map_err(|_| invalid("at", "not an RFC 3339 time"))?;
            let elapsed = time.duration_since(std::time::UNIX_EPOCH).map_err(|_| invalid("at", "before 1970"))?;
            i64::try_from(elapsed.as_millis()).map_err(|_| invalid("at", "too far in the future"))?
        }
        None => ids::now_ms(),
    };
    Ok(CheckedEvent { event, message, at_ms })
}

async fn record(state: &AppState, headers: &HeaderMap, body: Result<ApiJson<PipelineEvent>, WordedError>) -> Result<bool, ApiError> {
    if !authorised(state, headers) {
        return Err(ApiError::Forbidden);
    }
    // The token is checked before the body is looked at: a caller without it learns nothing.
    let ApiJson(event) = body.map_err(|WordedError(error, _)| error)?;
    let CheckedEvent { event, message, at_ms } = check(event)?;
    let report_id = match (&event.report_id, &event.ticket_id) {
        (Some(id), _) if state.store.report_exists(id).await? => id.clone(),
        (None, Some(ticket)) => state.store.report_by_ticket(ticket).await?.ok_or(ApiError::NotFound)?,
        (None, None) => return Err(invalid("report_id", "give report_id or ticket_id")),
        _ => return Err(ApiError::NotFound),
    };
    Ok(state.store.record_status(&report_id, event.status, at_ms, message).await?)
}
