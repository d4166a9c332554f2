//! `POST /api/v1/reports`, the JSON API's door: the idempotency key, the bounded multipart
//! body, then the one submission service (`submission`); 201 with the receipt, or 200 with
//! the original receipt for a retry. `GET /api/v1/reports/{tracking_no}` shows a report's
//! public status; `GET /api/v1/reports/nearby` counts open reports near a point, and
//! `GET /api/v1/reports/nearby/cells` says where they stand, by grid cell, for the map.

use std::sync::Arc;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use lianxin_contract::validate::is_on_earth;
use lianxin_contract::{Lang, Rule, ValidationError};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiQuery, RequestLang};
use super::rate_limit::{self, ClientNetwork, RateLimiter};
use super::{AppState, request_lang};
use crate::config::Config;
use crate::error::{ApiError, BadRequest, WordedError};
use crate::intake;
use crate::store::{OpenCell, RELATED_DAYS, SAME_PLACE_M};
use crate::submission::Accepted;
use crate::tracking;
use lianxin_contract::report::Nearby;

/// The report routes, with the body limit from the configuration, the rate limit on
/// submissions and the one on status and nearby reads.
pub fn router(config: &Config, submissions: Arc<RateLimiter>, reads: Arc<RateLimiter>) -> OpenApiRouter<AppState> {
    let (schemas, paths, submit_route) = routes!(submit);
    let submit_route = submit_route.layer(DefaultBodyLimit::max(config.limits.body_bytes)).layer(axum::middleware::from_fn_with_state(submissions, rate_limit::limit));
    let read_limit = axum::middleware::from_fn_with_state(reads, rate_limit::limit);
    let (schemas_status, paths_status, status_route) = routes!(status);
    let (schemas_nearby, paths_nearby, nearby_route) = routes!(nearby);
    let (schemas_cells, paths_cells, cells_route) = routes!(nearby_cells);
    OpenApiRouter::new()
        .routes((schemas, paths, submit_route))
        .routes((schemas_status, paths_status, status_route.layer(read_limit.clone())))
        .routes((schemas_nearby, paths_nearby, nearby_route.layer(read_limit.clone())))
        .routes((schemas_cells, paths_cells, cells_route.layer(read_limit)))
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let value = headers.get("idempotency-key").ok_or(ApiError::BadRequest(BadRequest::MissingIdempotencyKey))?;
    let key = value.to_str().map_err(|_| ApiError::BadRequest(BadRequest::InvalidIdempotencyKey))?.trim();
    // The draft standard allows a quoted string; accept either form.
    let key = key.trim_matches('"');
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(ApiError::BadRequest(BadRequest::InvalidIdempotencyKey));
    }
    Ok(key.to_owned())
}

/// Submit a report: one `report` part (JSON) and up to the configured number of `photo`
/// parts. Answered only once the report is durable.
#[utoipa::path(
    post,
    path = "/api/v1/reports",
    tag = "reports",
    params(("Idempotency-Key" = String, Header, description = "A random key per report; a retry with the same key and body returns the original receipt")),
    request_body(content_type = "multipart/form-data", description = "`report`: the report as JSON; `photo`: JPEG, PNG or WebP photos"),
    responses(
        (status = 201, description = "Stored; the receipt", content_type = "application/json"),
        (status = 200, description = "A retry of a stored report; the original receipt", content_type = "application/json"),
        (status = 400, description = "No Idempotency-Key, not multipart, or an unexpected part", content_type = "application/problem+json"),
        (status = 409, description = "The same key is being processed right now", content_type = "application/problem+json"),
        (status = 413, description = "Over a size limit, which the problem names", content_type = "application/problem+json"),
        (status = 415, description = "A photo that is not a plain JPEG, PNG or WebP", content_type = "application/problem+json"),
        (status = 422, description = "Invalid report (each field and rule listed) or key reused for another report", content_type = "application/problem+json"),
        (status = 429, description = "Too many reports from this address; see Retry-After", content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable; nothing was stored", content_type = "application/problem+json"),
    )
)]
async fn submit(State(state): State<AppState>, sender: Option<Extension<ClientNetwork>>, headers: HeaderMap, multipart: Result<Multipart, MultipartRejection>) -> Response {
    let mut lang = request_lang(&headers);
    let sender = sender.map(|Extension(network)| network.to_string());
    match accept(&state, &headers, sender, multipart, &mut lang).await {
        Ok(Accepted::Created(receipt)) => (StatusCode::CREATED, Json(receipt)).into_response(),
        Ok(Accepted::Repeated(receipt)) => (StatusCode::OK, Json(receipt)).into_response(),
        Err(error) => {
            state.metrics.refused(error.kind());
            WordedError(error, lang).into_response()
        }
    }
}

/// Extract (key, body), then the one submission service.
async fn accept(state: &AppState, headers: &HeaderMap, sender: Option<String>, multipart: Result<Multipart, MultipartRejection>, lang: &mut Lang) -> Result<Accepted, ApiError> {
    let key = idempotency_key(headers)?;
    let multipart = multipart.map_err(|_| ApiError::BadRequest(BadRequest::NotMultipart))?;
    let claim = state.submissions.claim(&key)?;
    let intake = intake::read(multipart, &state.config.limits, &intake::spool_dir(&state.config.data_dir)).await?;
    Ok(state.submissions.submit(&claim, intake, sender, None, lang).await?)
}

/// Where and what a nearby question asks about.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct NearbyQuery {
    /// Latitude, WGS 84.
    lat: f64,
    /// Longitude, WGS 84.
    lon: f64,
    /// Category code.
    category: String,
}

/// The side of the grid cell a nearby query is snapped to, in metres.
const NEARBY_CELL_M: f64 = 100.0;
/// Fewer open reports than this nearby are answered as none: one report near a point is
/// too close to saying where one resident is.
const NEARBY_MIN_COUNT: usize = 2;

/// How many open reports of a category are near a point, so the widget can say "3
/// neighbours reported this nearby" before the resident submits. No personal data: the
/// point is coarsened to a 100 m grid cell and counts under two are answered as none.
#[utoipa::path(
    get,
    path = "/api/v1/reports/nearby",
    tag = "reports",
    params(NearbyQuery),
    responses(
        (status = 200, description = "`{count, radius_m, days}`", content_type = "application/json"),
        (status = 422, description = "Unknown category or not a position", content_type = "application/problem+json"),
    )
)]
async fn nearby(State(state): State<AppState>, RequestLang(lang): RequestLang, ApiQuery(query): ApiQuery<NearbyQuery>) -> Response {
    if let Err(refused) = check_nearby(&state, &query) {
        return WordedError(refused, lang).into_response();
    }
    // Counted around the centre of the query's grid cell, and small counts shown as none:
    // moving the query point cannot bisect the circle down to one resident's front door.
    let (lat, lon) = crate::geo::snap_to_grid(query.lat, query.lon, NEARBY_CELL_M);
    match state.store.nearby_open(&query.category, lat, lon).await {
        Ok(count) => {
            let count = if count < NEARBY_MIN_COUNT { 0 } else { count as u32 };
            Json(Nearby { count, radius_m: SAME_PLACE_M as u32, days: RELATED_DAYS as u32 }).into_response()
        }
        Err(error) => WordedError(error.into(), lang).into_response(),
    }
}

/// A position on Earth and a category of the catalog, or why not.
fn check_nearby(state: &AppState, query: &NearbyQuery) -> Result<(), ApiError> {
    if !is_on_earth(query.lat, query.lon) {
        return Err(ApiError::Validation(vec![ValidationError::new("location", Rule::InvalidCoordinates)]));
    }
    if state.catalog.category(&query.category).is_none() {
        return Err(ApiError::Validation(vec![ValidationError::new("category", Rule::UnknownCategory)]));
    }
    Ok(())
}

/// How far around a point the map shows open reports, in metres: what a phone's map shows
/// at street zoom.
const NEARBY_MAP_RADIUS_M: f64 = 1000.0;

/// Where open reports stand near a point, as the map's markers.
#[derive(Debug, serde::Serialize)]
struct NearbyCells {
    /// Grid cells (their centres) with at least two open reports, busiest first.
    cells: Vec<OpenCell>,
    /// The side of a cell in metres.
    cell_m: u32,
    /// How far around the point, in metres.
    radius_m: u32,
    /// How many days back.
    days: u32,
}

/// Where the open reports of a category stand around a point, for the map's markers. No
/// report's own position: each is counted in its 100 m grid cell and the cell's centre is
/// given; a cell with a single report is left out (one report is too close to one
/// resident's front door), as the nearby count does.
#[utoipa::path(
    get,
    path = "/api/v1/reports/nearby/cells",
    tag = "reports",
    params(NearbyQuery),
    responses(
        (status = 200, description = "`{cells: [{lat, lon, count}], cell_m, radius_m, days}`", content_type = "application/json"),
        (status = 422, description = "Unknown category or not a position", content_type = "application/problem+json"),
    )
)]
async fn nearby_cells(State(state): State<AppState>, RequestLang(lang): RequestLang, ApiQuery(query): ApiQuery<NearbyQuery>) -> Response {
    if let Err(refused) = check_nearby(&state, &query) {
        return WordedError(refused, lang).into_response();
    }
    let (lat, lon) = crate::geo::snap_to_grid(query.lat, query.lon, NEARBY_CELL_M);
    match state.store.open_cells(&query.category, lat, lon, NEARBY_MAP_RADIUS_M, NEARBY_CELL_M).await {
        Ok(cells) => {
            let cells = cells.into_iter().filter(|cell| cell.count as usize >= NEARBY_MIN_COUNT).collect();
            Json(NearbyCells { cells, cell_m: NEARBY_CELL_M as u32, radius_m: NEARBY_MAP_RADIUS_M as u32, days: RELATED_DAYS as u32 }).into_response()
        }
        Err(error) => WordedError(error.into(), lang).into_response(),
    }
}

/// The public status and timeline of a report, without personal data.
#[utoipa::path(
    get,
    path = "/api/v1/reports/{tracking_no}",
    tag = "reports",
    params(("tracking_no" = String, Path, description = "The tracking number from the receipt, e.g. 7KQM-4XHD")),
    responses(
        (status = 200, description = "Status and timeline", content_type = "application/json"),
        (status = 404, description = "No report with this number", content_type = "application/problem+json"),
    )
)]
async fn status(State(state): State<AppState>, Path(tracking_no): Path<String>, RequestLang(lang): RequestLang) -> Response {
    let tracking_no = tracking::normalize(&tracking_no);
    match state.store.status(&tracking_no, state.follow_up.settings().answer_window_ms()).await {
        Ok(Some(status)) => Json(status).into_response(),
        Ok(None) => WordedError(ApiError::NotFound, lang).into_response(),
        Err(error) => WordedError(error.into(), lang).into_response(),
    }
}
