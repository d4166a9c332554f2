//! `GET /api/v1/map?district=`: what the widget's map loads with — the city's tile
//! template, attribution, zoom range and the tiles' coordinate system — and where it opens
//! (the district's middle when one is named and has a boundary, else the city centre).
//! 404 when the city configured no tiles; the widget then offers no map.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::extract::{ApiQuery, RequestLang};
use crate::config::MapCoordinates;
use crate::error::{ApiError, WordedError};

/// The map route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(map))
}

#[derive(Debug, Deserialize)]
struct MapQuery {
    district: Option<String>,
}

/// A position as the map reads it.
#[derive(Debug, Serialize)]
struct Point {
    lat: f64,
    lon: f64,
}

/// The map's settings as the widget's map script reads them.
#[derive(Debug, Serialize)]
struct MapAnswer<'a> {
    tiles: &'a str,
    labels: &'a str,
    subdomains: &'a [String],
    attribution: &'a str,
    coordinates: MapCoordinates,
    min_zoom: u8,
    max_zoom: u8,
    zoom: u8,
    /// Where the map opens (WGS 84).
    center: Point,
}

/// The city's map tiles and where a map opens.
#[utoipa::path(
    get,
    path = "/api/v1/map",
    tag = "catalog",
    params(("district" = Option<String>, Query, description = "A district code: open on that district instead of the city centre")),
    responses(
        (status = 200, description = "`tiles` (URL template), `labels`, `subdomains`, `attribution`, `coordinates` (`wgs84` or `gcj02`), `min_zoom`, `max_zoom`, `zoom`, `center` (WGS 84)", content_type = "application/json"),
        (status = 404, description = "The city configured no map", content_type = "application/problem+json"),
    )
)]
async fn map(State(state): State<AppState>, RequestLang(lang): RequestLang, ApiQuery(query): ApiQuery<MapQuery>) -> Response {
    let settings = &state.config.map;
    let Some([lat, lon]) = settings.center.filter(|_| settings.enabled()) else {
        return WordedError(ApiError::NoMap, lang).into_response();
    };
    let (lat, lon) = query.district.as_deref().and_then(|code| state.districts.centre(code)).unwrap_or((lat, lon));
    let answer = MapAnswer {
        tiles: &settings.tiles,
        labels: &settings.labels,
        subdomains: &settings.subdomains,
        attribution: &settings.attribution,
        coordinates: settings.coordinates,
        min_zoom: settings.min_zoom,
        max_zoom: settings.max_zoom,
        zoom: settings.zoom,
        center: Point { lat, lon },
    };
    ([(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"))], Json(answer)).into_response()
}
