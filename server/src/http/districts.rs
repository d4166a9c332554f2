//! `GET /api/v1/districts/locate?lat=&lon=`: the district containing a point, when the
//! catalog has boundaries; otherwise, or outside every boundary, `district` is null and the
//! widget asks the resident to choose.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use lianxin_contract::catalog::LocatedDistrict;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::extract::{ApiQuery, RequestLang};
use crate::error::{ApiError, WordedError};
use lianxin_contract::validate::is_on_earth;
use lianxin_contract::{Rule, ValidationError};

/// The district lookup route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(locate))
}

#[derive(Debug, Deserialize)]
struct Point {
    lat: f64,
    lon: f64,
}

/// The district whose boundary holds a point.
#[utoipa::path(
    get,
    path = "/api/v1/districts/locate",
    tag = "catalog",
    params(("lat" = f64, Query, description = "Latitude, WGS 84"), ("lon" = f64, Query, description = "Longitude, WGS 84")),
    responses(
        (status = 200, description = "`district` (null when unknown) and `boundaries_known`", content_type = "application/json"),
        (status = 422, description = "Not a position on Earth", content_type = "application/problem+json"),
    )
)]
async fn locate(State(state): State<AppState>, RequestLang(lang): RequestLang, ApiQuery(Point { lat, lon }): ApiQuery<Point>) -> Response {
    if !is_on_earth(lat, lon) {
        return WordedError(ApiError::Validation(vec![ValidationError::new("location", Rule::InvalidCoordinates)]), lang).into_response();
    }
    Json(LocatedDistrict { district: state.districts.locate(lat, lon).map(str::to_owned), boundaries_known: !state.districts.is_empty() }).into_response()
}
