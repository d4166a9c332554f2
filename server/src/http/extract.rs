//! The extractors every handler uses, as the axum examples do: a rejected query or JSON body
//! answers in the app's own problem shape and the resident's language, never axum's plain
//! text; and the language a request prefers is an extractor of its own.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use lianxin_contract::{Lang, Rule, ValidationError};
use serde::de::DeserializeOwned;

use super::request_lang;
use crate::error::{ApiError, WordedError};

/// The language the request prefers (`Accept-Language`; Chinese by default).
#[derive(Debug, Clone, Copy)]
pub struct RequestLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for RequestLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestLang(request_lang(&parts.headers)))
    }
}

/// A query string read into `T`; a malformed one is a 422 naming `query`.
#[derive(Debug, Clone, Copy)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = WordedError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let lang = request_lang(&parts.headers);
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(malformed("query", rejection.body_text(), lang)),
        }
    }
}

/// A JSON body read into `T`; a malformed one is a 422 naming `body`.
#[derive(Debug, Clone, Copy)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = WordedError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let lang = request_lang(request.headers());
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(malformed("body", rejection.body_text(), lang)),
        }
    }
}

fn malformed(field: &str, detail: String, lang: Lang) -> WordedError {
    WordedError(ApiError::Validation(vec![ValidationError::new(field, Rule::Malformed { detail })]), lang)
}
