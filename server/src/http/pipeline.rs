//! `POST /api/v1/pipeline/events`: the city's pipeline reports progress on a report
//! (accepted, in progress, planned, transferred, duplicate, due changed, resolved,
//! rejected), authenticated with the bearer token from the configuration. The follow-up
//! service checks each event and the lifecycle applies it; a repeat is acknowledged and
//! ignored, an event that would move the report backwards is refused (409). An event's `message` is public: anyone
//! holding the tracking number reads it on the status page, so a department writes no
//! personal data into it (the retention purge removes it with the rest).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lianxin_contract::Lang;
use lianxin_contract::pipeline::PipelineEvent;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::extract::ApiJson;
use crate::error::{ApiError, WordedError};
use crate::lifecycle::Outcome;
use crate::privacy::constant_time_eq;

/// The pipeline callback route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(event))
}

fn authorised(state: &AppState, headers: &HeaderMap) -> bool {
    let expected = state.config.pipeline_token.expose();
    let presented = headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(|value| value.strip_prefix("Bearer ")).unwrap_or_default();
    !expected.is_empty() && constant_time_eq(expected.as_bytes(), presented.as_bytes())
}

/// Progress on a report, from the city's pipeline.
#[utoipa::path(
    post,
    path = "/api/v1/pipeline/events",
    tag = "pipeline",
    request_body(content_type = "application/json", description = "`{report_id | ticket_id, status, message?, at?, planned_for?, department?, duplicate_of?, due_at?}`. \
`status` is what happened: `accepted`, `in_progress` (a `message` is a reply), `planned` (`planned_for` YYYY-MM or YYYY-MM-DD and a `message`: the timetable), \
`transferred` (`department`), `duplicate` (`duplicate_of`: report id or tracking number), `due_changed` (`due_at` and the reason in `message`), \
`resolved` (the reply in `message`; the resident is then asked whether it is solved), `rejected`. The `message` is shown publicly on the report's status page: write no personal data into it."),
    responses(
        (status = 200, description = "Recorded (`recorded: false` when it was a repeat of what is recorded)", content_type = "application/json"),
        (status = 403, description = "Missing or wrong bearer token", content_type = "application/problem+json"),
        (status = 404, description = "No such report", content_type = "application/problem+json"),
        (status = 409, description = "The report is further along, or finished", content_type = "application/problem+json"),
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

async fn record(state: &AppState, headers: &HeaderMap, body: Result<ApiJson<PipelineEvent>, WordedError>) -> Result<bool, ApiError> {
    if !authorised(state, headers) {
        return Err(ApiError::Forbidden);
    }
    // The token is checked before the body is looked at: a caller without it learns nothing.
    let ApiJson(event) = body.map_err(|WordedError(error, _)| error)?;
    Ok(matches!(state.follow_up.pipeline_event(event).await?, Outcome::Changed(_)))
}
