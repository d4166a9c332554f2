//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document, generated from the handlers'
//! annotations as the router is built, so a route cannot exist undocumented (each module's
//! router registers its handlers through `utoipa_axum::routes!`).

use std::sync::Arc;

use axum::Extension;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

/// The rendered document, shared with the route.
#[derive(Clone, Debug)]
pub struct Document(Arc<String>);

impl Document {
    /// Renders `openapi` once.
    pub fn new(openapi: &OpenApi) -> Document {
        Document(Arc::new(openapi.to_pretty_json().expect("the OpenAPI document serialises")))
    }
}

/// The document's header: title, version, description.
pub fn document() -> OpenApi {
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Lianxin 12345 report API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("Residents' reports into a city's 12345 hotline. Errors are RFC 9457 problem details in the request's language."))
                .build(),
        )
        .build()
}

/// The document route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json")))]
async fn openapi_json(Extension(document): Extension<Document>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document.0.as_str().to_owned())
}
