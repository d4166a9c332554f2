//! Liveness and readiness probes for load balancers and operators.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::ids;

/// The probe routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz))
}

/// The process is up and serving.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Up", content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok"
}

/// The store is writable and the forwarder is running.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses((status = 200, description = "Ready", content_type = "text/plain"), (status = 503, description = "Not ready, with the reason", content_type = "text/plain"))
)]
async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    if let Err(error) = state.store.check_writable().await {
        // The reason goes to the log; the answer, public, names only the part.
        tracing::warn!(%error, "not ready: the store is not writable");
        return (StatusCode::SERVICE_UNAVAILABLE, "store not writable".into());
    }
    let stale_after = 3 * state.config.forwarder.poll_ms as i64 + state.config.forwarder.delivery_timeout_ms as i64 + 5_000;
    let last_round = state.forwarder.last_round_ms();
    if last_round == 0 || ids::now_ms() - last_round > stale_after {
        return (StatusCode::SERVICE_UNAVAILABLE, "forwarder not running".into());
    }
    (StatusCode::OK, "ready".into())
}
