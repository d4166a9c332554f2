//! `GET /metrics` and the middleware that times every request.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::ids;
use crate::metrics::Metrics;

/// The metrics route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(render))
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
async fn render(State(state): State<AppState>) -> Response {
    let now = ids::now_ms();
    match tokio::try_join!(state.store.outbox_stats(), state.store.loop_figures(now)) {
        Ok((outbox, figures)) => {
            let mut text = state.metrics.render(outbox, state.store.commits(), now);
            text.push_str(&crate::metrics::render_loop(&figures));
            ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
        }
        Err(error) => (StatusCode::SERVICE_UNAVAILABLE, format!("store: {error}")).into_response(),
    }
}

/// Times each request and counts it by route template (never the concrete path, which
/// may hold a tracking number) and status.
pub async fn record(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("widget", |path| path.as_str()).to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.request(&route, response.status().as_u16(), started.elapsed());
    response
}
