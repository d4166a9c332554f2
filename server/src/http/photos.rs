//! `GET /api/v1/photos/{sha256}?expires=&sig=[&size=thumb]`: a stored photo, for whoever
//! holds a signed link from a forwarded report. Without a valid, unexpired signature the
//! answer is 403; photos are never listed or public.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::extract::RequestLang;
use crate::error::{ApiError, WordedError};
use crate::photo_store::Variant;
use crate::photos::PhotoError;

/// The photo route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(photo))
}

#[derive(Debug, Deserialize)]
struct Link {
    expires: u64,
    sig: String,
    size: Option<String>,
}

/// A photo behind a signed link.
#[utoipa::path(
    get,
    path = "/api/v1/photos/{sha256}",
    tag = "reports",
    params(
        ("sha256" = String, Path, description = "The photo's content hash"),
        ("expires" = u64, Query, description = "Expiry, Unix seconds"),
        ("sig" = String, Query, description = "The link's signature"),
        ("size" = Option<String>, Query, description = "`thumb` for the thumbnail (made the first time it is asked for)"),
    ),
    responses(
        (status = 200, description = "The JPEG", content_type = "image/jpeg"),
        (status = 403, description = "Missing, wrong or expired signature", content_type = "application/problem+json"),
        (status = 404, description = "No such photo (or purged)", content_type = "application/problem+json"),
        (status = 503, description = "Every photo thread is busy making thumbnails; try again", content_type = "application/problem+json"),
    )
)]
async fn photo(State(state): State<AppState>, Path(sha256): Path<String>, RequestLang(lang): RequestLang, link: Result<Query<Link>, QueryRejection>) -> Response {
    // A link that does not read is as good as a forged one: 403, not 422.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs());
    let valid_name = sha256.len() == 64 && sha256.bytes().all(|byte| byte.is_ascii_hexdigit() && !byte.is_ascii_uppercase());
    let Some(Query(link)) = link.ok().filter(|Query(link)| valid_name && state.photo_links.verify(&sha256, link.expires, &link.sig, now)) else {
        return WordedError(ApiError::Forbidden, lang).into_response();
    };
    let found = if link.size.as_deref() == Some("thumb") {
        // Made the first time it is asked for; a stored photo that does not decode is our
        // fault (500), every decoder busy is a moment's wait (503).
        state.photos.thumbnail(&sha256).await.map_err(|error| match error {
            PhotoError::Busy => ApiError::from(error),
            other => ApiError::Internal(other.into()),
        })
    } else {
        state.photos.store().get(&sha256, Variant::Full).await.map_err(|error| ApiError::Internal(error.into()))
    };
    match found {
        Ok(Some(bytes)) => ([(header::CONTENT_TYPE, "image/jpeg"), (header::CACHE_CONTROL, "private, max-age=3600")], bytes).into_response(),
        Ok(None) => WordedError(ApiError::NotFound, lang).into_response(),
        Err(error) => WordedError(error, lang).into_response(),
    }
}
