//! What Lianxin and the city's ticket pipeline say to each other. These are wire types: a
//! pipeline team codes against them, so fields are only ever added. Every sink (file,
//! webhook, NATS) carries the same [`PipelineReport`] per report; the pipeline reports
//! progress back with a [`PipelineEvent`] (`POST /api/v1/pipeline/events`).

use serde::{Deserialize, Serialize};

use crate::report::{ReportSubmission, Status};

/// A report as the pipeline receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineReport {
    /// Report id: the idempotency key towards the pipeline (de-duplicate on it).
    pub id: String,
    /// Tracking number the resident holds.
    pub tracking_no: String,
    /// When it was accepted (RFC 3339).
    pub created_at: String,
    /// Responsible department.
    pub department: String,
    /// District, when known.
    pub district: Option<String>,
    /// The normalised report, with contact details only when the resident consented.
    pub report: ReportSubmission,
    /// Its photos.
    pub photos: Vec<PipelinePhoto>,
    /// Ids of the newest earlier open reports of the same problem (same contact, or within
    /// 150 m, in the last 30 days): at most five.
    pub related: Vec<String>,
    /// How many such reports there are (among the newest 200).
    pub related_count: u32,
    /// Neighbours keep reporting this: the related reports came from at least two senders
    /// other than this one (one sender alone never sets it). A signal, not supervision.
    pub escalate: bool,
}

/// A photo in a [`PipelineReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelinePhoto {
    /// Content hash, the photo's name in storage.
    pub sha256: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// A signed link to fetch it, valid for a week (`&size=thumb` for the thumbnail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// `POST /api/v1/pipeline/events`: the city's pipeline reporting progress on a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineEvent {
    /// The report's id (the idempotency key of its delivery)…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
    /// …or the pipeline's own ticket id, as it answered the delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
    /// `accepted`, `in_progress`, `resolved` or `rejected`.
    pub status: Status,
    /// A message for the resident, shown on the status page (no personal data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When it happened (RFC 3339); now when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}
