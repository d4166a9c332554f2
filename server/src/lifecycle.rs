//! A report's life after acceptance, as one pure function: given what the store holds of a
//! report and what happened — the pipeline's event, the resident's answer, the due time
//! passing, the answer window closing — [`step`] says what changes (status, timeline
//! steps, the resident's answer, the messages the pipeline gets) or why nothing may. Both
//! store engines call it inside the transaction that holds the report's row, so the rules
//! live here once and every change happens exactly once.
//!
//! ```text
//! received → forwarded → accepted → in_progress → resolved ─┬─ solved, or no answer in the window → closed
//!        (planned · transferred · due_changed: steps)        └─ not solved → reopened (handlings + 1, new due time) → …
//! open and past its due time, or unsolved at the second handling → supervised (督办), once per report
//! rejected, duplicate and closed are final
//! ```

use lianxin_contract::follow_up::{AnswerShown, EscalationReason, Reason, ResidentAnswer, Satisfaction};
use lianxin_contract::pipeline::{Escalation, EventKind, MESSAGE_VERSION, MessageAnswer, MessageKind, MessageSupport, PipelineMessage, PipelinePhoto};
use lianxin_contract::report::{Status, Step};

use crate::ids;

/// What the store holds of a report, read under its row lock.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    /// Report id.
    pub id: String,
    /// Tracking number.
    pub tracking_no: String,
    /// Status now.
    pub status: Status,
    /// The department that has it.
    pub department: String,
    /// Resolutions the resident rejected.
    pub handlings: u32,
    /// Whether it is under supervision already.
    pub supervised: bool,
    /// When its time limit runs out.
    pub due_ms: Option<i64>,
    /// Its time limit's length (a reopening starts it again).
    pub limit_ms: Option<i64>,
    /// When the department last called it resolved.
    pub resolved_ms: Option<i64>,
    /// The newest timeline step, with its message and particulars (to tell a repeat).
    pub last: Option<NewStep>,
    /// Whether an answer with the incoming answer's id (or a support from the incoming
    /// phone) is stored already.
    pub answer_seen: bool,
    /// Residents who support it so far.
    pub supporters: u32,
}

/// The hotline's rules that are settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    /// The supervising office's department code.
    pub supervisor: String,
    /// How long the resident has to answer a resolution, in ms.
    pub answer_window_ms: i64,
}

/// What happened to a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The pipeline's event, checked (times read, the department known, the duplicate
    /// target resolved to its tracking number).
    Pipeline(PipelineInput),
    /// The resident's answer, checked (secret, comment when not solved).
    Answer {
        /// The answer.
        answer: ResidentAnswer,
        /// When it came.
        at_ms: i64,
    },
    /// Another resident supports it ("this is my problem too").
    Support {
        /// The phone, as a keyed hash.
        supporter: String,
        /// What the resident adds for the department.
        comment: String,
        /// The resident's photo for the department, already stored.
        photo: Option<PipelinePhoto>,
        /// When.
        at_ms: i64,
    },
    /// The scan found the report past its due time.
    Overdue {
        /// Now.
        now_ms: i64,
    },
    /// The scan found the answer window of a resolved report closed.
    Silence {
        /// Now.
        now_ms: i64,
    },
}

/// A checked pipeline event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineInput {
    /// What happened.
    pub kind: EventKind,
    /// When.
    pub at_ms: i64,
    /// The department's public words.
    pub message: Option<String>,
    /// `planned`: when.
    pub planned_for: Option<String>,
    /// `transferred`: to whom.
    pub department: Option<String>,
    /// `duplicate`: the tracking number of the report it joins.
    pub duplicate_of: Option<String>,
    /// `due_changed`: the new due time.
    pub due_ms: Option<i64>,
}

/// A timeline row to append.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct NewStep {
    /// What happened.
    pub step: Option<Step>,
    /// The status after it.
    pub status: Option<Status>,
    /// When.
    pub at_ms: i64,
    /// Public words of the department.
    pub message: Option<String>,
    /// The particulars, stored as JSON.
    pub detail: Detail,
}

/// A step's particulars.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Detail {
    /// `planned`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_for: Option<String>,
    /// `transferred`, `supervised`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// `due_changed`, `reopened`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_ms: Option<i64>,
    /// `duplicate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// `supervised`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<EscalationReason>,
    /// `closed`, `reopened`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<AnswerShown>,
}

impl Detail {
    /// The JSON kept in the timeline row (`None` when there is nothing).
    pub fn to_json(&self) -> Option<String> {
        (*self != Detail::default()).then(|| serde_json::to_string(self).unwrap_or_default())
    }

    /// Reads a timeline row's JSON back (anything unreadable as nothing).
    pub fn from_json(json: Option<&str>) -> Detail {
        json.and_then(|json| serde_json::from_str(json).ok()).unwrap_or_default()
    }
}

/// The answers row to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAnswer {
    /// Which resolution it answers (1 for the first).
    pub round: u32,
    /// The phone's id for it; `None` for silence.
    pub answer_id: Option<String>,
    /// Solved or not; `None` for silence.
    pub solved: Option<bool>,
    /// The rating.
    pub rating: Option<Satisfaction>,
    /// The tags, comma-separated wire names.
    pub reasons: String,
    /// The resident's words.
    pub comment: Option<String>,
    /// When.
    pub at_ms: i64,
}

/// What a step changes; the store writes all of it in the same transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The status after.
    pub status: Status,
    /// The department after.
    pub department: String,
    /// Handlings after.
    pub handlings: u32,
    /// The due time after.
    pub due_ms: Option<i64>,
    /// The resolution time after.
    pub resolved_ms: Option<i64>,
    /// Supervision begun now: when and why.
    pub supervised: Option<(i64, EscalationReason)>,
    /// The report it was merged into.
    pub duplicate_of: Option<String>,
    /// Timeline rows, in order.
    pub steps: Vec<NewStep>,
    /// The resident's answer, if one is stored.
    pub answer: Option<NewAnswer>,
    /// Messages for the pipeline (their ticket id is added at delivery).
    pub messages: Vec<PipelineMessage>,
    /// A new supporter to store.
    pub support: Option<NewSupport>,
}

/// A new supporter of a report, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSupport {
    /// The phone, as a keyed hash.
    pub supporter: String,
    /// What the resident added for the department (empty: nothing).
    pub comment: String,
    /// The resident's photo for the department, by hash.
    pub photo_sha256: Option<String>,
}

/// How a step ended when nothing was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Something changed.
    Changed(Box<Change>),
    /// It had happened already (a retry): nothing changes.
    Repeat,
}

/// Why an input may not change the report. Nothing was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// There is no report with this id.
    #[error("no such report")]
    NoSuchReport,
    /// The report is further along than the event says.
    #[error("the report is {now:?}; a {event:?} event would move it backwards")]
    Backwards {
        /// Its status now.
        now: Status,
        /// The event.
        event: EventKind,
    },
    /// The report is closed, rejected or merged: nothing more happens to it.
    #[error("the report is {0:?}, which is final")]
    Final(Status),
    /// The resident answered a report the department has not called resolved.
    #[error("the report is not resolved")]
    NotResolved,
    /// This resolution was answered already (by another answer).
    #[error("this resolution was answered already")]
    AlreadyAnswered,
    /// The report is resolved or finished: it gathers no more support.
    #[error("the report is {0:?}, no longer open")]
    NotOpen(Status),
}

/// How far along a status is within one handling; a pipeline event may not go below it.
fn rank(status: Status) -> u8 {
    match status {
        Status::Received => 0,
        Status::Forwarded => 1,
        Status::Accepted | Status::Reopened => 2,
        Status::InProgress => 3,
        Status::Resolved | Status::Rejected | Status::Closed | Status::Duplicate => 4,
    }
}

/// The message id: one per report, kind and round, so a repeat is the same message.
fn message(current: &Current, kind: MessageKind, round: u32, at_ms: i64) -> PipelineMessage {
    PipelineMessage {
        message: kind,
        version: MESSAGE_VERSION,
        id: format!("{}.{}.{round}", current.id, kind.code()),
        report_id: current.id.clone(),
        ticket_id: None,
        tracking_no: current.tracking_no.clone(),
        department: current.department.clone(),
        at: ids::rfc3339(at_ms),
        handlings: current.handlings,
        answer: None,
        escalation: None,
        due_at: None,
        support: None,
        class: None,
    }
}

impl Current {
    fn unchanged(&self) -> Change {
        Change {
            status: self.status,
            department: self.department.clone(),
            handlings: self.handlings,
            due_ms: self.due_ms,
            resolved_ms: self.resolved_ms,
            supervised: None,
            duplicate_of: None,
            steps: Vec::new(),
            answer: None,
            messages: Vec::new(),
            support: None,
        }
    }

    fn is_repeat_of(&self, step: &NewStep) -> bool {
        self.last.as_ref().is_some_and(|last| last.step == step.step && last.message == step.message && last.detail == step.detail)
    }

    /// Supervision begins now (once per report): the step and the `escalated` message.
    fn supervise(&self, change: &mut Change, reason: EscalationReason, at_ms: i64, policy: &Policy) {
        if self.supervised || change.supervised.is_some() {
            return;
        }
        change.supervised = Some((at_ms, reason));
        change.steps.push(NewStep {
            step: Some(Step::Supervised),
            status: Some(change.status),
            at_ms,
            message: None,
            detail: Detail { department: Some(policy.supervisor.clone()), reason: Some(reason), ..Detail::default() },
        });
        let mut escalated = message(self, MessageKind::Escalated, 1, at_ms);
        escalated.handlings = change.handlings;
        escalated.escalation = Some(Escalation { reason, supervisor: policy.supervisor.clone(), due_at: (reason == EscalationReason::Overdue).then(|| self.due_ms.map(ids::rfc3339)).flatten() });
        change.messages.push(escalated);
    }
}

/// What `input` does to the report `current` under `policy`.
pub fn step(current: &Current, input: Input, policy: &Policy) -> Result<Outcome, Refusal> {
    match input {
        Input::Pipeline(event) => pipeline_event(current, event),
        Input::Answer { answer, at_ms } => resident_answer(current, answer, at_ms, policy),
        Input::Support { supporter, comment, photo, at_ms } => {
            if current.answer_seen {
                return Ok(Outcome::Repeat);
            }
            // Only reports still being worked on gather support.
            if current.status.is_final() || current.status == Status::Resolved {
                return Err(Refusal::NotOpen(current.status));
            }
            let mut change = current.unchanged();
            let supporters = current.supporters + 1;
            change.steps.push(NewStep { step: Some(Step::Supported), status: Some(current.status), at_ms, message: None, detail: Detail::default() });
            let mut supported = message(current, MessageKind::Supported, supporters, at_ms);
            let photo_sha256 = photo.as_ref().map(|photo| photo.sha256.clone());
            supported.support = Some(MessageSupport { supporters, comment: comment.trim().to_owned(), photo });
            change.messages.push(supported);
            change.support = Some(NewSupport { supporter, comment: comment.trim().to_owned(), photo_sha256 });
            Ok(Outcome::Changed(Box::new(change)))
        }
        Input::Overdue { now_ms } => {
            let open = !current.status.is_final() && current.status != Status::Resolved;
            if !open || current.supervised || current.due_ms.is_none_or(|due| due > now_ms) {
                return Ok(Outcome::Repeat);
            }
            let mut change = current.unchanged();
            current.supervise(&mut change, EscalationReason::Overdue, now_ms, policy);
            Ok(Outcome::Changed(Box::new(change)))
        }
        Input::Silence { now_ms } => {
            let window_closed = current.resolved_ms.is_some_and(|resolved| resolved + policy.answer_window_ms <= now_ms);
            if current.status != Status::Resolved || !window_closed {
                return Ok(Outcome::Repeat);
            }
            let mut change = current.unchanged();
            change.status = Status::Closed;
            let shown = AnswerShown { at: ids::rfc3339(now_ms), solved: None, rating: None };
            change.steps.push(NewStep { step: Some(Step::Closed), status: Some(Status::Closed), at_ms: now_ms, message: None, detail: Detail { answer: Some(shown), ..Detail::default() } });
            let round = current.handlings + 1;
            change.answer = Some(NewAnswer { round, answer_id: None, solved: None, rating: None, reasons: String::new(), comment: None, at_ms: now_ms });
            let mut rated = message(current, MessageKind::Rated, round, now_ms);
            rated.answer = Some(MessageAnswer { solved: None, rating: None, reasons: Vec::new(), comment: String::new() });
            change.messages.push(rated);
            Ok(Outcome::Changed(Box::new(change)))
        }
    }
}

fn pipeline_event(current: &Current, event: PipelineInput) -> Result<Outcome, Refusal> {
    let (step, target) = match event.kind {
        EventKind::Accepted => (Step::Accepted, Some(Status::Accepted)),
        EventKind::InProgress => (Step::InProgress, Some(Status::InProgress)),
        EventKind::Planned => (Step::Planned, Some(Status::InProgress)),
        EventKind::Transferred => (Step::Transferred, None),
        EventKind::DueChanged => (Step::DueChanged, None),
        EventKind::Duplicate => (Step::Duplicate, Some(Status::Duplicate)),
        EventKind::Resolved => (Step::Resolved, Some(Status::Resolved)),
        EventKind::Rejected => (Step::Rejected, Some(Status::Rejected)),
    };
    let detail = Detail { planned_for: event.planned_for.clone(), department: event.department.clone(), due_ms: event.due_ms, duplicate_of: event.duplicate_of.clone(), ..Detail::default() };
    let new_step = NewStep { step: Some(step), status: None, at_ms: event.at_ms, message: event.message.clone(), detail };
    // A retry of the newest step (same step, words and particulars) changes nothing, even
    // on a final report.
    if current.is_repeat_of(&new_step) || (target == Some(current.status) && matches!(event.kind, EventKind::Accepted | EventKind::Resolved | EventKind::Rejected | EventKind::Duplicate)) {
        return Ok(Outcome::Repeat);
    }
    if current.status.is_final() {
        return Err(Refusal::Final(current.status));
    }
    // An event dated before the resident's reopening speaks of the handling the resident
    // already answered (an Open311 poll still reading the old closure): nothing changes.
    if current.status == Status::Reopened && current.last.as_ref().is_some_and(|last| last.step == Some(Step::Reopened) && event.at_ms < last.at_ms) {
        return Ok(Outcome::Repeat);
    }
    let backwards = Refusal::Backwards { now: current.status, event: event.kind };
    // Planning, transferring and due times belong to open work: not to a resolved report.
    if target.is_some_and(|target| rank(target) < rank(current.status)) || (target.is_none() && current.status == Status::Resolved) || (step == Step::Planned && current.status == Status::Resolved) {
        return Err(backwards);
    }
    let mut change = current.unchanged();
    if let Some(target) = target
        && rank(target) >= rank(current.status)
    {
        change.status = target;
    }
    match event.kind {
        EventKind::Transferred => {
            if event.department.as_deref() == Some(current.department.as_str()) {
                return Ok(Outcome::Repeat);
            }
            change.department = event.department.clone().unwrap_or_else(|| current.department.clone());
        }
        EventKind::DueChanged => change.due_ms = event.due_ms,
        EventKind::Resolved => change.resolved_ms = Some(event.at_ms),
        EventKind::Duplicate => change.duplicate_of = event.duplicate_of.clone(),
        _ => {}
    }
    change.steps.push(NewStep { status: Some(change.status), ..new_step });
    Ok(Outcome::Changed(Box::new(change)))
}

fn resident_answer(current: &Current, answer: ResidentAnswer, at_ms: i64, policy: &Policy) -> Result<Outcome, Refusal> {
    if current.answer_seen {
        return Ok(Outcome::Repeat);
    }
    match current.status {
        Status::Resolved => {}
        // Answered already (or the answer window passed): the report moved on from its resolution.
        Status::Closed | Status::Reopened => return Err(Refusal::AlreadyAnswered),
        _ => return Err(Refusal::NotResolved),
    }
    let round = current.handlings + 1;
    let reasons: Vec<Reason> = answer.reasons.clone();
    let comment = answer.comment.trim().to_owned();
    let shown = AnswerShown { at: ids::rfc3339(at_ms), solved: Some(answer.solved), rating: Some(answer.rating) };
    let mut change = current.unchanged();
    change.answer = Some(NewAnswer {
        round,
        answer_id: Some(answer.answer_id.clone()),
        solved: Some(answer.solved),
        rating: Some(answer.rating),
        reasons: reasons.iter().map(|reason| reason.code()).collect::<Vec<_>>().join(","),
        comment: (!comment.is_empty()).then(|| comment.clone()),
        at_ms,
    });
    let told = MessageAnswer { solved: Some(answer.solved), rating: Some(answer.rating), reasons, comment };
    if answer.solved {
        change.status = Status::Closed;
        change.steps.push(NewStep { step: Some(Step::Closed), status: Some(Status::Closed), at_ms, message: None, detail: Detail { answer: Some(shown), ..Detail::default() } });
        let mut rated = message(current, MessageKind::Rated, round, at_ms);
        rated.answer = Some(told);
        change.messages.push(rated);
    } else {
        change.status = Status::Reopened;
        change.handlings = current.handlings + 1;
        change.resolved_ms = None;
        change.due_ms = current.limit_ms.map(|limit| at_ms + limit);
        change.steps.push(NewStep {
            step: Some(Step::Reopened),
            status: Some(Status::Reopened),
            at_ms,
            message: None,
            detail: Detail { answer: Some(shown), due_ms: change.due_ms, ..Detail::default() },
        });
        let mut reopened = message(current, MessageKind::Reopened, change.handlings, at_ms);
        reopened.handlings = change.handlings;
        reopened.answer = Some(told);
        reopened.due_at = change.due_ms.map(ids::rfc3339);
        change.messages.push(reopened);
        if change.handlings >= 2 {
            current.supervise(&mut change, EscalationReason::UnsolvedTwice, at_ms, policy);
        }
    }
    Ok(Outcome::Changed(Box::new(change)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy { supervisor: "hotline".into(), answer_window_ms: 7 * 86_400_000 }
    }

    fn report(status: Status) -> Current {
        Current {
            id: "r1".into(),
            tracking_no: "T1".into(),
            status,
            department: "housing".into(),
            handlings: 0,
            supervised: false,
            due_ms: Some(1_000),
            limit_ms: Some(1_000),
            resolved_ms: None,
            last: None,
            answer_seen: false,
            supporters: 0,
        }
    }

    fn event(kind: EventKind, at_ms: i64) -> Input {
        Input::Pipeline(PipelineInput { kind, at_ms, message: Some("reply".into()), planned_for: None, department: None, duplicate_of: None, due_ms: None })
    }

    fn answer(solved: bool) -> Input {
        Input::Answer {
            answer: ResidentAnswer { secret: String::new(), answer_id: "a1".into(), solved, rating: Satisfaction::Dissatisfied, reasons: vec![Reason::NotFixed], comment: "still broken".into() },
            at_ms: 5_000,
        }
    }

    /// Applies a change to the current state, as the store does.
    fn apply(current: &Current, change: &Change) -> Current {
        Current {
            status: change.status,
            department: change.department.clone(),
            handlings: change.handlings,
            supervised: current.supervised || change.supervised.is_some(),
            due_ms: change.due_ms,
            resolved_ms: change.resolved_ms,
            last: change.steps.last().cloned(),
            ..current.clone()
        }
    }

    fn changed(outcome: Result<Outcome, Refusal>) -> Change {
        match outcome {
            Ok(Outcome::Changed(change)) => *change,
            other => panic!("expected a change, got {other:?}"),
        }
    }

    #[test]
    fn unsolved_twice_goes_to_supervision_once_with_one_message_per_reopening() {
        let mut current = report(Status::Forwarded);
        let mut messages = Vec::new();
        for round in 1..=2 {
            let change = changed(step(&current, event(EventKind::Resolved, 2_000 + (i64::from(round) - 1) * 4_000), &policy()));
            current = apply(&current, &change);
            let change = changed(step(&current, answer(false), &policy()));
            assert_eq!(change.handlings, round);
            assert_eq!(change.due_ms, Some(6_000), "a reopening starts the time limit again");
            messages.extend(change.messages.iter().map(|message| message.id.clone()));
            current = apply(&current, &change);
        }
        assert_eq!(messages, ["r1.reopened.1", "r1.reopened.2", "r1.escalated.1"]);
        assert!(current.supervised);
        // Overdue after that: supervised already, nothing more.
        assert_eq!(step(&current, Input::Overdue { now_ms: 99_000 }, &policy()), Ok(Outcome::Repeat));
    }

    #[test]
    fn an_event_older_than_the_reopening_changes_nothing() {
        let resolved = Current { resolved_ms: Some(2_000), ..report(Status::Resolved) };
        let reopened = apply(&resolved, &changed(step(&resolved, answer(false), &policy())));
        assert_eq!(step(&reopened, event(EventKind::Resolved, 4_999), &policy()), Ok(Outcome::Repeat), "the old closure, read again");
        assert_eq!(changed(step(&reopened, event(EventKind::Resolved, 5_001), &policy())).status, Status::Resolved);
    }

    #[test]
    fn answers_need_a_resolution_and_count_once() {
        assert_eq!(step(&report(Status::InProgress), answer(true), &policy()), Err(Refusal::NotResolved));
        let resolved = Current { resolved_ms: Some(2_000), ..report(Status::Resolved) };
        let change = changed(step(&resolved, answer(true), &policy()));
        assert_eq!(change.status, Status::Closed);
        assert_eq!(change.messages[0].id, "r1.rated.1");
        let closed = apply(&resolved, &change);
        assert_eq!(step(&closed, answer(true), &policy()), Err(Refusal::AlreadyAnswered));
        assert_eq!(step(&Current { answer_seen: true, ..closed }, answer(true), &policy()), Ok(Outcome::Repeat));
    }

    #[test]
    fn events_never_move_a_report_backwards_and_repeats_change_nothing() {
        let resolved = Current { resolved_ms: Some(2_000), ..report(Status::Resolved) };
        assert!(matches!(step(&resolved, event(EventKind::InProgress, 3_000), &policy()), Err(Refusal::Backwards { .. })));
        assert_eq!(step(&resolved, event(EventKind::Resolved, 3_000), &policy()), Ok(Outcome::Repeat));
        assert_eq!(step(&report(Status::Closed), event(EventKind::InProgress, 3_000), &policy()), Err(Refusal::Final(Status::Closed)));
        let working = report(Status::InProgress);
        let change = changed(step(&working, event(EventKind::InProgress, 3_000), &policy()));
        assert_eq!(step(&apply(&working, &change), event(EventKind::InProgress, 3_000), &policy()), Ok(Outcome::Repeat));
    }

    #[test]
    fn overdue_and_silence_act_only_when_due() {
        let open = report(Status::InProgress);
        assert_eq!(step(&open, Input::Overdue { now_ms: 999 }, &policy()), Ok(Outcome::Repeat));
        let change = changed(step(&open, Input::Overdue { now_ms: 1_000 }, &policy()));
        assert_eq!(change.supervised, Some((1_000, EscalationReason::Overdue)));
        assert_eq!(change.messages[0].escalation.as_ref().unwrap().due_at.as_deref(), Some(ids::rfc3339(1_000).as_str()));
        let resolved = Current { resolved_ms: Some(2_000), ..report(Status::Resolved) };
        assert_eq!(step(&resolved, Input::Overdue { now_ms: 99_000 }, &policy()), Ok(Outcome::Repeat), "a resolved report is not overdue");
        assert_eq!(step(&resolved, Input::Silence { now_ms: 2_000 + 7 * 86_400_000 - 1 }, &policy()), Ok(Outcome::Repeat));
        let change = changed(step(&resolved, Input::Silence { now_ms: 2_000 + 7 * 86_400_000 }, &policy()));
        assert_eq!((change.status, change.answer.unwrap().solved), (Status::Closed, None));
    }
}
