//! Liveness and readiness probes for load balancers and operators.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use super::AppState;
use crate::ids;

/// The probe routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

/// The process is up and serving.
async fn healthz() -> &'static str {
    "ok"
}

/// The store is writable and the forwarder is running.
async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    if let Err(error) = state.store.check_writable().await {
        return (StatusCode::SERVICE_UNAVAILABLE, format!("store not writable: {error}"));
    }
    let stale_after = 3 * state.config.forwarder.poll_ms as i64 + state.config.forwarder.delivery_timeout_ms as i64 + 5_000;
    let last_round = state.forwarder.last_round_ms();
    if last_round == 0 || ids::now_ms() - last_round > stale_after {
        return (StatusCode::SERVICE_UNAVAILABLE, "forwarder not running".into());
    }
    (StatusCode::OK, "ready".into())
}
