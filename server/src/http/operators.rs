//! Who may read the operational endpoints (`/metrics` and the OpenAPI document): they tell
//! an attacker how busy the server is, what fails and which routes exist. With an admin
//! token configured every caller must present it as a bearer token; without one only a
//! request made on the machine itself is answered — a loopback peer with no
//! `X-Forwarded-For`, since a request through a local reverse proxy also arrives from
//! loopback. Everyone else gets 403.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{AppState, request_lang};
use crate::error::{ApiError, WordedError};
use crate::privacy::constant_time_eq;

/// Middleware: lets operators through, answers 403 to anyone else.
pub async fn only_operators(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let token = state.config.admin_token.expose();
    let allowed = if token.is_empty() {
        let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
        peer.is_some_and(|ip| ip.is_loopback()) && !request.headers().contains_key("x-forwarded-for")
    } else {
        let presented = request.headers().get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(|value| value.strip_prefix("Bearer "));
        presented.is_some_and(|presented| constant_time_eq(token.as_bytes(), presented.trim().as_bytes()))
    };
    if allowed { next.run(request).await } else { WordedError(ApiError::Forbidden, request_lang(request.headers())).into_response() }
}
