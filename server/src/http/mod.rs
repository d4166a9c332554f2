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
/// The built widget's static files.
pub mod widget;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::HeaderMap;
use lianxin_contract::{Catalog, Lang};

use crate::config::Config;
use crate::forwarder::ForwarderHandle;
use crate::photos::PhotoProcessor;
use crate::store::Store;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
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
    /// Idempotency keys whose request is being processed right now.
    pub in_flight: Arc<Mutex<HashSet<String>>>,
    /// The served catalog, pre-rendered per language.
    pub catalog_bodies: Arc<catalog::CatalogBodies>,
}

/// The whole application's routes.
pub fn router(state: AppState) -> Router {
    let widget = widget::service(&state.config.widget_dir);
    Router::new()
        .merge(reports::router(&state.config))
        .merge(catalog::router())
        .merge(districts::router())
        .merge(health::router())
        .fallback_service(widget)
        // The catalog, the widget's wasm and js shrink several-fold: phones on slow networks
        // download a fraction.
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}

/// The language a request prefers, from its `Accept-Language` header.
pub fn request_lang(headers: &HeaderMap) -> Lang {
    headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or_default()
}
