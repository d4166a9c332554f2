//! What Lianxin and the city's ticket pipeline say to each other. These are wire types: a
//! pipeline team codes against them, so fields are only ever added. Every sink (file,
//! webhook, NATS) carries the same [`PipelineReport`] per report; the pipeline reports
//! progress back with a [`PipelineEvent`] (`POST /api/v1/pipeline/events`); what the
//! resident answers and what supervision decides reach the pipeline as a
//! [`PipelineMessage`] on the same outbox, after the report itself.

use serde::{Deserialize, Serialize};

use crate::follow_up::{EscalationReason, Reason, Satisfaction};
use crate::report::ReportSubmission;

/// The version of the messages Lianxin sends; raised only for a change a receiver must
/// notice (fields are added without raising it).
pub const MESSAGE_VERSION: u32 = 1;

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
    /// When the department's time limit runs out (RFC 3339): the category's
    /// `time_limit_hours` after acceptance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
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

/// What a pipeline event says happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The pipeline made a ticket of it.
    Accepted,
    /// A department works on it; a `message` is a reply the resident reads.
    InProgress,
    /// The work is planned for later (the timetable): `planned_for` and `message` say when
    /// and what.
    Planned,
    /// Passed to another department: `department`.
    Transferred,
    /// Merged into another report: `duplicate_of` (its report id or tracking number).
    Duplicate,
    /// The due time set anew: `due_at`, with the reason in `message`.
    DueChanged,
    /// Resolved (办结), with the reply in `message`; the resident is asked "solved?".
    Resolved,
    /// Declined, with the reason in `message`.
    Rejected,
}

impl EventKind {
    /// The wire name.
    pub fn code(self) -> &'static str {
        match self {
            EventKind::Accepted => "accepted",
            EventKind::InProgress => "in_progress",
            EventKind::Planned => "planned",
            EventKind::Transferred => "transferred",
            EventKind::Duplicate => "duplicate",
            EventKind::DueChanged => "due_changed",
            EventKind::Resolved => "resolved",
            EventKind::Rejected => "rejected",
        }
    }
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
    /// What happened (the field keeps its first name, `status`).
    pub status: EventKind,
    /// A message for the resident, shown on the status page (no personal data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When it happened (RFC 3339); now when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// `planned`: when the work is planned for, `YYYY-MM-DD` or `YYYY-MM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_for: Option<String>,
    /// `transferred`: the catalog code of the department now responsible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// `duplicate`: the report it was merged into (report id or tracking number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// `due_changed`: the new due time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
}

/// What a [`PipelineMessage`] tells the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// The resident says the resolution did not solve it: handle the same ticket again.
    Reopened,
    /// The resident accepted the resolution (or did not answer in time) and rated it.
    Rated,
    /// The report goes to the supervising office (督办): `escalation` says why.
    Escalated,
    /// Another resident supports the report ("this is my problem too"): `support`.
    Supported,
    /// Reports of one category cluster in place and time, or name the same subject: the
    /// class reached the threshold (`class`), once.
    Class,
    /// A report joined a class past its threshold (`class`).
    ClassGrew,
    /// A subject's complaints concentrate (重点监管对象): `class` names it.
    Hotspot,
}

impl MessageKind {
    /// The wire name.
    pub fn code(self) -> &'static str {
        match self {
            MessageKind::Reopened => "reopened",
            MessageKind::Rated => "rated",
            MessageKind::Escalated => "escalated",
            MessageKind::Supported => "supported",
            MessageKind::Class => "class",
            MessageKind::ClassGrew => "class_grew",
            MessageKind::Hotspot => "hotspot",
        }
    }
}

/// A message about a report the pipeline already has (never a new ticket). Delivered
/// once through the outbox, after the report; `id` is its idempotency key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineMessage {
    /// `reopened`, `rated` or `escalated`.
    pub message: MessageKind,
    /// [`MESSAGE_VERSION`].
    pub version: u32,
    /// The message's own id: the idempotency key of its delivery (`<report id>.<kind>.<n>`).
    pub id: String,
    /// The report it is about (the idempotency key its ticket was created with).
    pub report_id: String,
    /// The pipeline's ticket id, when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
    /// The resident's tracking number.
    pub tracking_no: String,
    /// The department handling it.
    pub department: String,
    /// When it happened (RFC 3339).
    pub at: String,
    /// Resolutions the resident rejected so far.
    pub handlings: u32,
    /// `reopened`, `rated`: the resident's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<MessageAnswer>,
    /// `escalated`: why, and to whom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Escalation>,
    /// `reopened`: the new due time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
    /// `supported`: how many residents support it now, and what this one added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support: Option<MessageSupport>,
    /// `class`, `class_grew`, `hotspot`: the class (this report is its newest member).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<ClassInfo>,
}

/// A class of cases in a [`PipelineMessage`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassInfo {
    /// The class's stable key (`place:<category>:<cell>` or `subject:<category>:<field>:<subject>`).
    pub key: String,
    /// Which time the class formed (a class quiet for its window starts anew).
    pub generation: u32,
    /// `place` or `subject`.
    pub kind: String,
    /// The cell's centre (`lat,lon`) or the normalised subject (a plate, a business).
    pub label: String,
    /// The category.
    pub category: String,
    /// Members so far.
    pub count: u32,
    /// The members' report ids, newest first (at most 100).
    pub members: Vec<String>,
    /// When the first member came (RFC 3339).
    pub first_at: String,
    /// When the last member came (RFC 3339).
    pub last_at: String,
}

/// A new supporter in a [`PipelineMessage`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageSupport {
    /// Supporters so far (the filer not counted).
    pub supporters: u32,
    /// What the new supporter added (not public; for the department).
    #[serde(default)]
    pub comment: String,
    /// The supporter's photo (not public; for the department), metadata removed, behind a
    /// signed, expiring link like a report's photos.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<PipelinePhoto>,
}

/// The resident's answer in a [`PipelineMessage`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageAnswer {
    /// Solved or not; `None` when no answer came within the window (counted as accepted).
    pub solved: Option<bool>,
    /// The rating, when the resident gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Satisfaction>,
    /// The reason tags.
    #[serde(default)]
    pub reasons: Vec<Reason>,
    /// The resident's words (not public; for the department).
    #[serde(default)]
    pub comment: String,
}

/// Why and to whom a report is escalated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// Overdue, or handled twice unsolved.
    pub reason: EscalationReason,
    /// The supervising office's department code.
    pub supervisor: String,
    /// The due time that passed (`overdue`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
}
