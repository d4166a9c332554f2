//! RFC 9457 problem details: the single JSON shape of every error the API returns, so the
//! widget and embedders handle errors one way.

use serde::{Deserialize, Serialize};

use crate::validate::{RawError, ValidationError};

/// `application/problem+json` body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:lianxin:problem:limit-exceeded`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary in the request's language.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong and what to do, in the request's language.
    pub detail: String,
    /// For validation failures: every field and rule, with a message each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// For a request over a limit: which one, named as in the server's configuration, for
    /// programs (the resident reads `detail`). Written by the server, not read back here:
    /// the widget has no use for it, and a reader for it would be bytes on every phone.
    #[serde(default, skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub limit: Option<LimitExceeded>,
}

/// The limit a request went over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LimitExceeded {
    /// Its name in the configuration: `body_bytes`, `photos`, `photo_bytes`, `photo_pixels`,
    /// `photo_decode_bytes` or `json_bytes`.
    pub name: String,
    /// Its value.
    pub max: u64,
}

/// One invalid value in a [`Problem`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawError")]
pub struct FieldProblem {
    /// The error, with the field path and rule.
    #[serde(flatten)]
    pub error: ValidationError,
    /// The error worded for the resident.
    pub message: String,
}

impl TryFrom<RawError> for FieldProblem {
    type Error = String;

    fn try_from(mut raw: RawError) -> Result<Self, String> {
        let message = std::mem::take(&mut raw.message);
        Ok(FieldProblem { error: ValidationError::try_from(raw)?, message })
    }
}
