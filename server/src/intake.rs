//! Reads the multipart body of `POST /api/v1/reports` chunk by chunk under hard limits:
//! the whole body (enforced by the body-limit layer as bytes arrive), the `report` JSON
//! part, the number of photos and each photo's size. Nothing is buffered past a limit, and
//! nothing is stored here: this only hands validated-in-size bytes to the handler.

use axum::extract::Multipart;
use axum::extract::multipart::{Field, MultipartError};
use axum::http::StatusCode;
use sha2::{Digest, Sha256};

use crate::config::IntakeLimits;
use crate::error::{ApiError, BadRequest};

/// The raw parts of one report, each within its limit.
#[derive(Debug)]
pub struct Intake {
    /// The `report` part.
    pub report_json: Vec<u8>,
    /// The `photo` parts, in order.
    pub photos: Vec<Vec<u8>>,
    /// SHA-256 over every part, to tell a retry of the same report from a different one.
    pub request_hash: String,
}

/// Reads every part of `multipart`.
pub async fn read(mut multipart: Multipart, limits: &IntakeLimits) -> Result<Intake, ApiError> {
    let mut report_json = None;
    let mut photos = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error(limits))? {
        match field.name() {
            Some("report") => {
                if report_json.is_some() {
                    return Err(ApiError::BadRequest(BadRequest::UnexpectedPart));
                }
                report_json = Some(read_field(field, limits.json_bytes, "json_bytes", limits).await?);
            }
            Some("photo") => {
                if photos.len() == limits.photos {
                    return Err(ApiError::TooLarge { limit: "photos", max: limits.photos as u64 });
                }
                photos.push(read_field(field, limits.photo_bytes, "photo_bytes", limits).await?);
            }
            _ => return Err(ApiError::BadRequest(BadRequest::UnexpectedPart)),
        }
    }
    let report_json = report_json.ok_or(ApiError::BadRequest(BadRequest::MissingReport))?;
    let mut hash = Sha256::new();
    for part in std::iter::once(&report_json).chain(&photos) {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    Ok(Intake { report_json, photos, request_hash: hex(&hash.finalize()) })
}

async fn read_field(mut field: Field<'_>, max: usize, limit: &'static str, limits: &IntakeLimits) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error(limits))? {
        if bytes.len() + chunk.len() > max {
            return Err(ApiError::TooLarge { limit, max: max as u64 });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn multipart_error(limits: &IntakeLimits) -> impl Fn(MultipartError) -> ApiError + '_ {
    |error| {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge { limit: "body_bytes", max: limits.body_bytes as u64 }
        } else {
            ApiError::BadRequest(BadRequest::BrokenMultipart)
        }
    }
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
