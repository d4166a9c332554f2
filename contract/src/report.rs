//! A report as the widget submits it (the `report` part of the multipart request), the
//! receipt the server answers with once the report is durable, and the public status.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// What the resident wants from the hotline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// 投诉
    Complaint,
    /// 举报 — a report of a violation.
    Violation,
    /// 求助 — a request for help.
    Help,
    /// 咨询 — a question about a policy.
    Inquiry,
    /// 建议
    Suggestion,
    /// 表扬
    Praise,
}

impl RequestKind {
    /// Every kind, in the order the widget offers them.
    pub const ALL: [RequestKind; 6] = [RequestKind::Complaint, RequestKind::Violation, RequestKind::Help, RequestKind::Inquiry, RequestKind::Suggestion, RequestKind::Praise];

    /// The wire name.
    pub fn code(self) -> &'static str {
        match self {
            RequestKind::Complaint => "complaint",
            RequestKind::Violation => "violation",
            RequestKind::Help => "help",
            RequestKind::Inquiry => "inquiry",
            RequestKind::Suggestion => "suggestion",
            RequestKind::Praise => "praise",
        }
    }

    /// The name shown to the resident.
    pub fn label(self, lang: Lang) -> &'static str {
        use RequestKind::*;
        match (self, lang) {
            (Complaint, Lang::ZhCn) => "投诉",
            (Complaint, Lang::En) => "Complaint",
            (Complaint, Lang::Ru) => "Жалоба",
            (Violation, Lang::ZhCn) => "举报",
            (Violation, Lang::En) => "Report a violation",
            (Violation, Lang::Ru) => "Сообщение о нарушении",
            (Help, Lang::ZhCn) => "求助",
            (Help, Lang::En) => "Request for help",
            (Help, Lang::Ru) => "Просьба о помощи",
            (Inquiry, Lang::ZhCn) => "咨询",
            (Inquiry, Lang::En) => "Question",
            (Inquiry, Lang::Ru) => "Вопрос",
            (Suggestion, Lang::ZhCn) => "建议",
            (Suggestion, Lang::En) => "Suggestion",
            (Suggestion, Lang::Ru) => "Предложение",
            (Praise, Lang::ZhCn) => "表扬",
            (Praise, Lang::En) => "Praise",
            (Praise, Lang::Ru) => "Благодарность",
        }
    }
}

/// A value of one category field: in JSON a string, a number or a list of strings.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// Text, a choice code, a plate, a phone number, a date-time, an amount.
    Text(String),
    /// A number.
    Number(f64),
    /// The codes picked in a multiple-choice field.
    List(Vec<String>),
}

// Written by hand rather than `#[serde(untagged)]`: an untagged enum buffers every value into
// serde's generic `Content` tree first, which costs the widget's wasm far more code than these
// three cases, and its error ("did not match any variant") tells a developer less.
impl<'de> Deserialize<'de> for FieldValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = FieldValue;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a text, a number or a list of option codes")
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<FieldValue, E> {
                Ok(FieldValue::Text(value.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, value: String) -> Result<FieldValue, E> {
                Ok(FieldValue::Text(value))
            }
            fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<FieldValue, E> {
                Ok(FieldValue::Number(value))
            }
            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<FieldValue, E> {
                Ok(FieldValue::Number(value as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<FieldValue, E> {
                Ok(FieldValue::Number(value as f64))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<FieldValue, A::Error> {
                let mut codes = Vec::new();
                while let Some(code) = seq.next_element::<String>()? {
                    codes.push(code);
                }
                Ok(FieldValue::List(codes))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Where the problem is.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// Latitude in degrees (WGS 84), when the phone gave a position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude in degrees (WGS 84).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// The position's accuracy radius in metres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_m: Option<f64>,
    /// An address or landmark typed by the resident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Code of the district.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
}

/// How the department can reach the resident. Kept only with consent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// How to address the resident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A mainland mobile number or an international E.164 number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The resident ticked the consent to the privacy notice.
    #[serde(default)]
    pub consent: bool,
}

/// The `report` part of `POST /api/v1/reports`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSubmission {
    /// Category code from the catalog.
    pub category: String,
    /// Request kind, one of those the category allows.
    pub kind: RequestKind,
    /// What happened, in the resident's words.
    pub description: String,
    /// Values of the category's own fields, by field code.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldValue>,
    /// Where the problem is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// How to reach the resident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// The language the resident used, for answers and status pages.
    #[serde(default)]
    pub lang: Lang,
    /// A link to a photo or video the resident's app keeps (Open311 `media_url`): kept and
    /// forwarded as a link; the server never fetches it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_url: Option<String>,
    /// The resident lets neighbours see the description and photos of this report in "is
    /// it one of these?" (公开); private by default.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public: bool,
}

impl ReportSubmission {
    /// A report of `category` and `kind` in the resident's words and nothing else: no
    /// fields, place, contact or link, the default language, private.
    pub fn new(category: impl Into<String>, kind: RequestKind, description: impl Into<String>) -> ReportSubmission {
        ReportSubmission {
            category: category.into(),
            kind,
            description: description.into(),
            fields: BTreeMap::new(),
            location: None,
            contact: None,
            lang: Lang::default(),
            media_url: None,
            public: false,
        }
    }
}

/// The answer to an accepted report: given only once the report is durable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The report's id (a UUID); also the idempotency key towards the pipeline.
    pub id: String,
    /// Short, readable-aloud tracking number.
    pub tracking_no: String,
    /// Where the status can be read, relative to the server.
    pub status_url: String,
    /// When the report was accepted, RFC 3339 in UTC.
    pub created_at: String,
    /// The resident's private follow-up secret: with it (and only with it) the resident
    /// answers "solved?" and rates the handling. Kept on the phone with the tracking number.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub follow_up_secret: String,
    /// The private follow-up page (progress, and the answer once resolved), relative to the
    /// server; holds the secret, so it is shown only to the resident.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub follow_up_url: String,
}

/// Where a report is on its way to resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Stored by Lianxin.
    Received,
    /// Handed to the city's ticket pipeline.
    Forwarded,
    /// The pipeline accepted it as a ticket.
    Accepted,
    /// A department is working on it.
    InProgress,
    /// The department calls it resolved (办结) and waits for the resident's answer.
    Resolved,
    /// The department declined it (not its responsibility, or not actionable); the message
    /// says why.
    Rejected,
    /// The resident said it is not solved: the department handles it again.
    Reopened,
    /// Finished: the resident confirmed it, or did not answer in time.
    Closed,
    /// Merged into another report, which the resident follows instead.
    Duplicate,
}

impl Status {
    /// Whether nothing more happens to the report.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Closed | Status::Rejected | Status::Duplicate)
    }
}

/// One step of a report's timeline: a change of status, or news that leaves the status as
/// it is (a timetable, a transfer, a new due time, supervision).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Stored by Lianxin.
    Received,
    /// Handed to the pipeline.
    Forwarded,
    /// The pipeline accepted it.
    Accepted,
    /// A department works on it (a reply may come with it).
    InProgress,
    /// The department planned the work for later: the timetable.
    Planned,
    /// Passed to another department.
    Transferred,
    /// The due time was set anew, with the reason.
    DueChanged,
    /// The department calls it resolved.
    Resolved,
    /// The department declined it.
    Rejected,
    /// Merged into another report.
    Duplicate,
    /// The resident said it is not solved.
    Reopened,
    /// Finished.
    Closed,
    /// Handed to the hotline's supervising office (督办).
    Supervised,
    /// Another resident said "this is my problem too".
    Supported,
}

/// One step of a report's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEvent {
    /// What happened.
    pub step: Step,
    /// The report's status after it.
    pub status: Status,
    /// When, RFC 3339 in UTC.
    pub at: String,
    /// What the department said, if anything (never personal data of the resident).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `planned`: when the work is planned for (`YYYY-MM-DD` or `YYYY-MM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_for: Option<String>,
    /// `transferred`: the department now responsible; `supervised`: the supervising office.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// `due_changed`, `reopened`: the new due time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
    /// `duplicate`: the tracking number of the report it was merged into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// `supervised`: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<crate::follow_up::EscalationReason>,
    /// `closed`, `reopened`: what the resident answered (`closed` without a rating: no answer
    /// came in time and the resolution counts as accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<crate::follow_up::AnswerShown>,
}

/// `GET /api/v1/reports/{tracking_no}`: the public view of a report, without personal data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportStatus {
    /// The tracking number.
    pub tracking_no: String,
    /// Category code.
    pub category: String,
    /// The current status.
    pub status: Status,
    /// When the report was accepted.
    pub created_at: String,
    /// The department that has it now.
    #[serde(default)]
    pub department: String,
    /// When the department's time limit runs out (答复期限), while the report is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
    /// Resolutions the resident rejected so far.
    #[serde(default)]
    pub handlings: u32,
    /// Whether, and why, the report went to supervision (督办).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervision: Option<crate::follow_up::Supervision>,
    /// While resolved: until when the resident can answer; after that the resolution
    /// counts as accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_until: Option<String>,
    /// The report this one was merged into (its tracking number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// Residents who said "this is my problem too".
    #[serde(default)]
    pub supporters: u32,
    /// Members of the largest class of cases this report belongs to (0: none).
    #[serde(default)]
    pub class_size: u32,
    /// Every step so far, oldest first.
    pub timeline: Vec<StatusEvent>,
}

/// `GET /api/v1/reports/nearby`: how many open reports of a category are near a point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nearby {
    /// Open reports of the category within `radius_m` in the last `days` days.
    pub count: u32,
    /// The radius in metres.
    pub radius_m: u32,
    /// How many days back.
    pub days: u32,
}
