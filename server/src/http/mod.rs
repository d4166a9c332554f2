//! The HTTP surface: one module per resource, each with its own `router()`, merged here
//! with the shared state and layers. Handlers read top to bottom: extract, parse, one
//! store call, respond.

/// `POST /api/v1/reports` and `GET /api/v1/reports/{tracking_no}`.
pub mod reports;
/// `GET /api/v1/catalog`.
pub mod catalog;
/// `GET /api/v1/districts/locate`.
pub mod districts;
/// `GET /healthz` and `GET /readyz`.
pub mod health;
/// Security headers, CSP and CORS.
pub mod security;
/// Per-client rate limits on submissions and on revealing reads.
pub mod rate_limit;
/// `GET /metrics` and request timing.
pub mod metrics;
/// `GET /api/v1/openapi.json`, generated from the handlers.
pub mod openapi;
/// `GET /api/v1/photos/{sha256}` behind signed links.
pub mod photos;
/// `POST /api/v1/pipeline/events`: status coming back.
pub mod pipeline;
/// The built widget's static files.
pub mod widget;
/// Who may read `/metrics` and the OpenAPI document.
pub mod operators;
/// Extractors with the app's error shape: `ApiQuery`, `ApiJson`, `RequestLang`.
pub mod extract;
/// The resident's way back: the answer, the progress page, "my reports".
pub mod follow_up;
/// Every word of the follow-up pages.
pub mod page_words;
/// The Open311 GeoReport v2 door for the city's existing apps.
pub mod open311;
/// The city's figures in public: the page and its open data.
pub mod city;
/// `GET /api/v1/map`: the tile settings the map loads with.
pub mod map;
/// The widget's page with its first screen rendered in.
pub mod first_screen;
/// Bodies brotli'd once at start (the page, the catalog).
pub mod precompressed;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::HeaderMap;
use lianxin_contract::{Catalog, Lang};
use utoipa_axum::router::OpenApiRouter;

use crate::config::Config;
use crate::forwarder::ForwarderHandle;
use crate::photos::PhotoProcessor;
use crate::store::Store;

/// What every handler can reach: one shared value, so the copy each request takes costs a
/// single reference count (the parts hold some forty `Arc`s between them).
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// The state around `shared`.
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
#[derive(Debug)]
pub struct Shared {
    /// The configuration.
    pub config: Arc<Config>,
    /// The catalog, as served to widgets.
    pub catalog: Arc<Catalog>,
    /// District boundaries.
    pub districts: Arc<crate::geo::DistrictMap>,
    /// The store.
    pub store: Store,
    /// The photo processor.
    pub photos: PhotoProcessor,
    /// Wakes the forwarder when a report was stored.
    pub forwarder: ForwarderHandle,
    /// The one intake of reports, whichever door they come through.
    pub submissions: crate::submission::Submissions,
    /// The way back: answers, pipeline events, follow-up secrets.
    pub follow_up: crate::follow_up::FollowUp,
    /// The Open311 apps allowed to file, each with its rate limit.
    pub open311: Arc<open311::Apps>,
    /// How reports form classes of cases.
    pub class_rules: Arc<crate::classes::ClassRules>,
    /// Signs and checks photo links.
    pub photo_links: Arc<crate::photo_links::PhotoLinks>,
    /// Counters for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The served catalog, pre-rendered per language.
    pub catalog_bodies: Arc<catalog::CatalogBodies>,
}

/// The whole application's routes, with the layers every request passes.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let security = &config.security;
    let widget = tower::ServiceBuilder::new().layer(axum::middleware::from_fn(widget::cache_control)).service(widget::service(&config.widget_dir));
    let headers = Arc::new(security::SecurityHeaders::new(&config.widget_dir, &security.allowed_origins, &config.map.tile_origins()));
    let submissions = Arc::new(rate_limit::RateLimiter::new(security.reports_per_minute, Some(security.uploads_per_client), security.trust_forwarded_for));
    let reads = Arc::new(rate_limit::RateLimiter::new(security.reads_per_minute, None, security.trust_forwarded_for));
    let (api, document) = OpenApiRouter::with_openapi(openapi::document())
        .merge(reports::router(&config, submissions, reads.clone()))
        .merge(catalog::router())
        .merge(districts::router())
        .merge(map::router())
        .merge(health::router())
        .merge(metrics::router().layer(axum::middleware::from_fn_with_state(state.clone(), operators::only_operators)))
        .merge(openapi::router().layer(axum::middleware::from_fn_with_state(state.clone(), operators::only_operators)))
        .merge(photos::router())
        .merge(pipeline::router())
        .merge(open311::router(&config))
        .merge(follow_up::router(&config).layer(axum::middleware::from_fn_with_state(reads.clone(), rate_limit::limit)))
        .merge(city::router().layer(axum::middleware::from_fn_with_state(reads.clone(), rate_limit::limit)))
        .split_for_parts();
    let router = api
        .layer(axum::Extension(openapi::Document::new(&document)))
        .merge(first_screen::router(&config.widget_dir, &state.catalog))
        .fallback_service(widget)
        // API answers shrink several-fold for phones on slow networks (the widget's files
        // and the catalog come precompressed and pass through untouched).
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(headers, security::add_headers))
        .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), metrics::record))
        // A stalled upload is cut off; a whole request has a generous upper bound.
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(Duration::from_secs(security.body_idle_timeout_secs)))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(security.request_timeout_secs)))
        .with_state(state);
    match security::cors(&security.allowed_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// The language a request prefers, from its `Accept-Language` header.
pub fn request_lang(headers: &HeaderMap) -> Lang {
    headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok()).map(Lang::from_accept_language).unwrap_or_default()
}
