//! The way back to the resident: what the progress page shows beyond the status (time
//! limit, supervision, the resident's answer) and what the resident answers once the
//! department calls a report resolved — solved or not, and how satisfied on the five levels
//! of the national 好差评 scale.
//!
//! A report's life after acceptance (the server's `lifecycle` module enforces it):
//!
//! ```text
//! received → forwarded → accepted → in_progress → resolved ─┬─ solved / no answer in time → closed
//!                  (planned, transferred, due changed: steps) └─ not solved → reopened → … → resolved
//! any open report past its due time, or unsolved after two handlings → supervised (督办), once
//! rejected and duplicate end it as well
//! ```

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// How satisfied the resident is: the five levels of the national 好差评 scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    /// 非常满意
    VerySatisfied,
    /// 满意
    Satisfied,
    /// 基本满意
    BasicallySatisfied,
    /// 不满意
    Dissatisfied,
    /// 非常不满意
    VeryDissatisfied,
}

impl Satisfaction {
    /// Every level, best first, as the page offers them.
    pub const ALL: [Satisfaction; 5] = [Satisfaction::VerySatisfied, Satisfaction::Satisfied, Satisfaction::BasicallySatisfied, Satisfaction::Dissatisfied, Satisfaction::VeryDissatisfied];

    /// The wire name.
    pub fn code(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "very_satisfied",
            Satisfaction::Satisfied => "satisfied",
            Satisfaction::BasicallySatisfied => "basically_satisfied",
            Satisfaction::Dissatisfied => "dissatisfied",
            Satisfaction::VeryDissatisfied => "very_dissatisfied",
        }
    }

    /// The level with this wire name.
    pub fn from_code(code: &str) -> Option<Satisfaction> {
        Satisfaction::ALL.into_iter().find(|level| level.code() == code)
    }

    /// Whether the level counts as satisfied in the hotline's satisfaction rate (the top three).
    pub fn is_satisfied(self) -> bool {
        matches!(self, Satisfaction::VerySatisfied | Satisfaction::Satisfied | Satisfaction::BasicallySatisfied)
    }

    /// The level in words.
    pub fn label(self, lang: Lang) -> &'static str {
        use Satisfaction::*;
        match (self, lang) {
            (VerySatisfied, Lang::ZhCn) => "非常满意",
            (VerySatisfied, Lang::En) => "Very satisfied",
            (VerySatisfied, Lang::Ru) => "Очень доволен",
            (Satisfied, Lang::ZhCn) => "满意",
            (Satisfied, Lang::En) => "Satisfied",
            (Satisfied, Lang::Ru) => "Доволен",
            (BasicallySatisfied, Lang::ZhCn) => "基本满意",
            (BasicallySatisfied, Lang::En) => "Mostly satisfied",
            (BasicallySatisfied, Lang::Ru) => "В целом доволен",
            (Dissatisfied, Lang::ZhCn) => "不满意",
            (Dissatisfied, Lang::En) => "Dissatisfied",
            (Dissatisfied, Lang::Ru) => "Не доволен",
            (VeryDissatisfied, Lang::ZhCn) => "非常不满意",
            (VeryDissatisfied, Lang::En) => "Very dissatisfied",
            (VeryDissatisfied, Lang::Ru) => "Совсем не доволен",
        }
    }
}

/// Why the resident rates as they do: tags a department can count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Handled quickly.
    Quick,
    /// Explained clearly.
    ClearReply,
    /// Courteous.
    Courteous,
    /// Took too long.
    Slow,
    /// The problem is still there.
    NotFixed,
    /// Nobody got in touch.
    NoContact,
    /// The reply did not answer the question.
    UnclearReply,
    /// Discourteous.
    Discourteous,
}

impl Reason {
    /// Every tag, the praising ones first.
    pub const ALL: [Reason; 8] = [Reason::Quick, Reason::ClearReply, Reason::Courteous, Reason::Slow, Reason::NotFixed, Reason::NoContact, Reason::UnclearReply, Reason::Discourteous];

    /// The wire name.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Quick => "quick",
            Reason::ClearReply => "clear_reply",
            Reason::Courteous => "courteous",
            Reason::Slow => "slow",
            Reason::NotFixed => "not_fixed",
            Reason::NoContact => "no_contact",
            Reason::UnclearReply => "unclear_reply",
            Reason::Discourteous => "discourteous",
        }
    }

    /// The tag with this wire name.
    pub fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|reason| reason.code() == code)
    }

    /// The tag in words.
    pub fn label(self, lang: Lang) -> &'static str {
        use Reason::*;
        match (self, lang) {
            (Quick, Lang::ZhCn) => "办理及时",
            (Quick, Lang::En) => "Handled quickly",
            (Quick, Lang::Ru) => "Быстро",
            (ClearReply, Lang::ZhCn) => "答复清楚",
            (ClearReply, Lang::En) => "Clear reply",
            (ClearReply, Lang::Ru) => "Понятный ответ",
            (Courteous, Lang::ZhCn) => "态度好",
            (Courteous, Lang::En) => "Courteous",
            (Courteous, Lang::Ru) => "Вежливо",
            (Slow, Lang::ZhCn) => "办理太慢",
            (Slow, Lang::En) => "Took too long",
            (Slow, Lang::Ru) => "Слишком долго",
            (NotFixed, Lang::ZhCn) => "问题仍然存在",
            (NotFixed, Lang::En) => "The problem is still there",
            (NotFixed, Lang::Ru) => "Проблема осталась",
            (NoContact, Lang::ZhCn) => "没有人联系我",
            (NoContact, Lang::En) => "Nobody got in touch",
            (NoContact, Lang::Ru) => "Со мной никто не связался",
            (UnclearReply, Lang::ZhCn) => "答复没有解决疑问",
            (UnclearReply, Lang::En) => "The reply did not answer my question",
            (UnclearReply, Lang::Ru) => "Ответ не отвечает на вопрос",
            (Discourteous, Lang::ZhCn) => "态度不好",
            (Discourteous, Lang::En) => "Discourteous",
            (Discourteous, Lang::Ru) => "Невежливо",
        }
    }
}

/// `POST /api/v1/reports/{tracking_no}/answer`: the resident's answer to a resolution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResidentAnswer {
    /// The follow-up secret from the receipt: only the resident who filed may answer.
    pub secret: String,
    /// A random id per answer, kept with it on the phone: sending the same answer again
    /// (after a lost connection) is recognised and changes nothing.
    pub answer_id: String,
    /// Whether the problem is solved.
    pub solved: bool,
    /// How satisfied.
    pub rating: Satisfaction,
    /// Why, as tags.
    #[serde(default)]
    pub reasons: Vec<Reason>,
    /// In the resident's words; required when not solved.
    #[serde(default)]
    pub comment: String,
}

/// Why a report went to supervision (督办).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    /// Not resolved within its time limit.
    Overdue,
    /// Handled twice and still not solved, in the resident's judgement.
    UnsolvedTwice,
}

impl EscalationReason {
    /// The wire name.
    pub fn code(self) -> &'static str {
        match self {
            EscalationReason::Overdue => "overdue",
            EscalationReason::UnsolvedTwice => "unsolved_twice",
        }
    }

    /// The reason with this wire name.
    pub fn from_code(code: &str) -> Option<EscalationReason> {
        [EscalationReason::Overdue, EscalationReason::UnsolvedTwice].into_iter().find(|reason| reason.code() == code)
    }
}

/// A report under supervision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supervision {
    /// When it was handed to supervision (RFC 3339).
    pub at: String,
    /// Why.
    pub reason: EscalationReason,
    /// The supervising office's department code.
    pub department: String,
}

/// The resident's answer as the progress page shows it (the comment stays private).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerShown {
    /// When (RFC 3339).
    pub at: String,
    /// Solved or not; `None` when no answer came in time and the resolution counts as accepted.
    pub solved: Option<bool>,
    /// The rating, when the resident gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Satisfaction>,
}

/// `POST /api/v1/reports/{tracking_no}/support`: "this is my problem too".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Support {
    /// A random id the phone keeps for itself: a phone supports a report once, however
    /// often it sends (kept by the server only as a keyed hash).
    pub device_id: String,
    /// What the resident adds for the department (not public).
    #[serde(default)]
    pub comment: String,
}
