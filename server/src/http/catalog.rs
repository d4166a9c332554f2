//! `GET /api/v1/catalog`: the catalog the widget renders, pre-serialised at start-up (all
//! languages, each language alone for `?lang=`, and that without search words for
//! `&keywords=apart`) and brotli'd once, with a strong ETag so a returning widget revalidates
//! with `If-None-Match` and gets a 304 instead of the body. `GET /api/v1/catalog/keywords`:
//! the search words apart, which the widget fetches when a resident first uses its search box.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lianxin_contract::{Catalog, Lang};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::extract::ApiQuery;
use super::precompressed;
use crate::ids::hex;

/// One pre-rendered catalog body, and its brotli'd bytes (made by the first request that
/// takes brotli).
#[derive(Debug)]
pub struct Body {
    json: Vec<u8>,
    brotli: precompressed::Once,
    etag: HeaderValue,
}

impl Body {
    fn new(value: &impl serde::Serialize) -> Body {
        let json = serde_json::to_vec(value).expect("a catalog serialises");
        let etag = HeaderValue::from_str(&format!("\"{}\"", &hex(&Sha256::digest(&json))[..32])).expect("hex is a valid header");
        Body { json, brotli: precompressed::Once::default(), etag }
    }
}

/// The catalog in every form it is served.
#[derive(Debug)]
pub struct CatalogBodies {
    all: Body,
    /// Per language: with its search words, and without them.
    by_lang: Vec<(Lang, Body, Body)>,
    search_words: Body,
}

impl CatalogBodies {
    /// Renders `catalog` once for all languages, twice per language (with and without
    /// search words) and its search words alone.
    pub fn new(catalog: &Catalog) -> CatalogBodies {
        let by_lang = Lang::ALL
            .iter()
            .map(|lang| {
                let one = catalog.only(*lang);
                (*lang, Body::new(&one), Body::new(&one.without_keywords()))
            })
            .collect();
        CatalogBodies { all: Body::new(catalog), by_lang, search_words: Body::new(&catalog.search_words()) }
    }
}

/// The catalog routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(catalog)).routes(routes!(search_words))
}

#[derive(Debug, Deserialize)]
struct CatalogQuery {
    lang: Option<String>,
    keywords: Option<KeywordsPlace>,
}

/// Where the search words go: `apart` leaves them out of a one-language catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum KeywordsPlace {
    Apart,
}

/// The city's catalog of categories, fields, departments and districts.
#[utoipa::path(
    get,
    path = "/api/v1/catalog",
    tag = "catalog",
    params(
        ("lang" = Option<String>, Query, description = "zh-CN, en or ru: only that language's texts"),
        ("keywords" = Option<String>, Query, description = "`apart`: without search words (with `lang`; see /api/v1/catalog/keywords)"),
    ),
    responses(
        (status = 200, description = "The catalog, with an ETag", content_type = "application/json"),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
    )
)]
async fn catalog(State(state): State<AppState>, ApiQuery(query): ApiQuery<CatalogQuery>, headers: HeaderMap) -> Response {
    let bodies = &state.catalog_bodies;
    let body = match query.lang.as_deref().and_then(Lang::from_tag) {
        Some(lang) => bodies.by_lang.iter().find(|(each, _, _)| *each == lang).map_or(&bodies.all, |(_, whole, apart)| if query.keywords == Some(KeywordsPlace::Apart) { apart } else { whole }),
        None => &bodies.all,
    };
    respond(body, &headers)
}

/// Every category's search words in all three languages, names in all three included
/// (`[{"code", "keywords"}]`): the widget fetches them when a resident first uses the search box.
#[utoipa::path(
    get,
    path = "/api/v1/catalog/keywords",
    tag = "catalog",
    responses(
        (status = 200, description = "Every category's code and search words, with an ETag", content_type = "application/json"),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
    )
)]
async fn search_words(State(state): State<AppState>, headers: HeaderMap) -> Response {
    respond(&state.catalog_bodies.search_words, &headers)
}

fn respond(body: &Body, headers: &HeaderMap) -> Response {
    let cache = [(header::ETAG, body.etag.clone()), (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300, must-revalidate"))];
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim().trim_start_matches("W/") == body.etag.to_str().unwrap_or_default() || tag.trim() == "*"));
    if matches {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let content_type = [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))];
    if precompressed::accepts_brotli(headers) {
        return (cache, content_type, precompressed::brotli_headers(), body.brotli.get_or_compress(&body.json)).into_response();
    }
    (cache, content_type, body.json.clone()).into_response()
}
