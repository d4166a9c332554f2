//! The way back to the resident, as a service the doors call: the follow-up secret a
//! receipt carries, the resident's answer, the pipeline's events turned into lifecycle
//! inputs, and the scan that hands overdue reports to supervision and closes resolutions
//! nobody answered in time. The rules themselves are `lifecycle`'s; what is stored, the
//! store's. Errors are this layer's own ([`FollowUpError`]); the HTTP edge words them.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use lianxin_contract::follow_up::{ResidentAnswer, Support};
use lianxin_contract::pipeline::{EventKind, PipelineEvent, PipelinePhoto};
use lianxin_contract::{Catalog, Rule, ValidationError};
use sha2::Sha256;
use tokio::sync::watch;

use crate::config::FollowUpSettings;
use crate::forwarder::ForwarderHandle;
use crate::ids;
use crate::intake::Upload;
use crate::lifecycle::{Input, Outcome, PipelineInput, Policy, Refusal};
use crate::photos::PhotoProcessor;
use crate::privacy::constant_time_eq;
use crate::store::{Store, StoreError};

/// Longest comment a resident may write with an answer, in characters.
pub const COMMENT_MAX: usize = 1000;
/// Longest message a department can attach to an event, in characters.
pub const MESSAGE_MAX: usize = 500;
/// Reports looked at per scan and kind; the next scan takes the rest.
const SCAN_BATCH: usize = 500;

/// Why an answer or an event was not taken. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum FollowUpError {
    /// No report with this tracking number or id (or ticket).
    #[error("no such report")]
    NotFound,
    /// The follow-up secret does not match.
    #[error("wrong follow-up secret")]
    WrongSecret,
    /// The input breaks a rule of its shape (each field and rule listed).
    #[error("invalid input")]
    Invalid(Vec<ValidationError>),
    /// The report's state does not allow it.
    #[error(transparent)]
    Refused(Refusal),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A supporter's photo was refused (not a photo, too large) or could not be stored.
    #[error(transparent)]
    Photo(#[from] crate::photos::PhotoError),
}

/// The follow-up service; cheap to clone.
#[derive(Clone)]
pub struct FollowUp {
    store: Store,
    catalog: Arc<Catalog>,
    settings: FollowUpSettings,
    forwarder: ForwarderHandle,
    /// Makes a supporter's photo safe and stores it, as for a report's.
    photos: PhotoProcessor,
    /// Derives each report's follow-up secret.
    key: Arc<[u8; 32]>,
}

impl std::fmt::Debug for FollowUp {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("FollowUp").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl FollowUp {
    /// The service over `store`, with the secret key `key` (derived from the contact key).
    pub fn new(store: Store, catalog: Arc<Catalog>, settings: FollowUpSettings, forwarder: ForwarderHandle, photos: PhotoProcessor, key: [u8; 32]) -> FollowUp {
        FollowUp { store, catalog, settings, forwarder, photos, key: Arc::new(key) }
    }

    /// The settings.
    pub fn settings(&self) -> &FollowUpSettings {
        &self.settings
    }

    /// The hotline's rules as the lifecycle takes them.
    pub fn policy(&self) -> Policy {
        Policy { supervisor: self.catalog.supervisor.clone(), answer_window_ms: self.settings.answer_window_ms() }
    }

    /// The follow-up secret of report `id`: derived, not stored, so a retried submission
    /// gets the same one and a database copy alone does not hold it. 128 bits, hex.
    pub fn secret(&self, id: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_ref()).expect("HMAC takes any key length");
        mac.update(b"lianxin follow-up v1\0");
        mac.update(id.as_bytes());
        ids::hex(&mac.finalize().into_bytes()[..16])
    }

    /// The private follow-up page of a report.
    pub fn url(&self, tracking_no: &str, id: &str) -> String {
        format!("/r/{tracking_no}?k={}", self.secret(id))
    }

    /// Whether `presented` is report `id`'s secret.
    pub fn secret_matches(&self, id: &str, presented: &str) -> bool {
        constant_time_eq(self.secret(id).as_bytes(), presented.trim().to_ascii_lowercase().as_bytes())
    }

    /// Takes the resident's answer to the report with `tracking_no`.
    pub async fn answer(&self, tracking_no: &str, answer: ResidentAnswer) -> Result<Outcome, FollowUpError> {
        let id = self.store.report_id(tracking_no).await?.ok_or(FollowUpError::NotFound)?;
        if !self.secret_matches(&id, &answer.secret) {
            return Err(FollowUpError::WrongSecret);
        }
        let mut errors = Vec::new();
        if answer.answer_id.trim().is_empty() || answer.answer_id.len() > 100 {
            errors.push(ValidationError::new("answer_id", Rule::Malformed { detail: "a random id of at most 100 characters".into() }));
        }
        let comment = answer.comment.trim().chars().count();
        if !answer.solved && comment == 0 {
            errors.push(ValidationError::new("comment", Rule::Required));
        }
        if comment > COMMENT_MAX {
            errors.push(ValidationError::new("comment", Rule::TooLong { max: COMMENT_MAX as u32 }));
        }
        if answer.reasons.len() > 8 {
            errors.push(ValidationError::new("reasons", Rule::Malformed { detail: "at most 8 reasons".into() }));
        }
        if !errors.is_empty() {
            return Err(FollowUpError::Invalid(errors));
        }
        self.apply(&id, Input::Answer { answer, at_ms: ids::now_ms() }).await
    }

    /// A phone supports the report with `tracking_no` ("this is my problem too"); once per
    /// phone, however often it sends, optionally with a photo for the department (made safe
    /// like a report's: decoded in full, metadata dropped). Returns the outcome and the
    /// supporters after it.
    pub async fn support(&self, tracking_no: &str, support: Support, photo: Option<Upload>) -> Result<(Outcome, u32), FollowUpError> {
        let id = self.store.report_id(tracking_no).await?.ok_or(FollowUpError::NotFound)?;
        let device = support.device_id.trim();
        let mut errors = Vec::new();
        if device.is_empty() || device.len() > 100 {
            errors.push(ValidationError::new("device_id", Rule::Malformed { detail: "a random id of at most 100 characters".into() }));
        }
        if support.comment.trim().chars().count() > COMMENT_MAX {
            errors.push(ValidationError::new("comment", Rule::TooLong { max: COMMENT_MAX as u32 }));
        }
        if !errors.is_empty() {
            return Err(FollowUpError::Invalid(errors));
        }
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_ref()).expect("HMAC takes any key length");
        mac.update(b"lianxin supporter v1\0");
        mac.update(device.as_bytes());
        let supporter = ids::hex(&mac.finalize().into_bytes());
        let safe = match photo {
            Some(upload) => Some(self.photos.prepare(upload).await?),
            None => None,
        };
        // From storing the photo until the support is committed, the purge deletes no photo
        // file (photos are stored by hash and may be shared).
        let photos_in_use = self.photos.deletion_lock().read().await;
        let stored = match safe {
            Some(safe) => Some(self.photos.persist(safe).await?),
            None => None,
        };
        let photo = stored.as_ref().map(|stored| PipelinePhoto { sha256: stored.sha256.clone(), width: stored.width, height: stored.height, url: None });
        let outcome = self.apply(&id, Input::Support { supporter, comment: support.comment, photo, at_ms: ids::now_ms() }).await;
        drop(photos_in_use);
        if let Some(stored) = &stored
            && !matches!(outcome, Ok(Outcome::Changed(_)))
        {
            // This phone supported the report before (or it is closed): the photo goes.
            crate::retention::remove_unused(&self.store, &self.photos, std::slice::from_ref(&stored.sha256))
                .await
                .map_err(|error| crate::photos::PhotoError::Internal(format!("removing an unused photo: {error:#}")))?;
        }
        let outcome = outcome?;
        let supporters = self.store.status(tracking_no, 0).await?.map_or(0, |status| status.supporters);
        Ok((outcome, supporters))
    }

    /// Records an event from the pipeline.
    pub async fn pipeline_event(&self, event: PipelineEvent) -> Result<Outcome, FollowUpError> {
        let input = self.check_event(&event).await?;
        let id = match (&event.report_id, &event.ticket_id) {
            (Some(id), _) if self.store.report_exists(id).await? => id.clone(),
            (None, Some(ticket)) => self.store.report_by_ticket(ticket).await?.ok_or(FollowUpError::NotFound)?,
            (None, None) => return Err(invalid("report_id", "give report_id or ticket_id")),
            _ => return Err(FollowUpError::NotFound),
        };
        self.apply(&id, Input::Pipeline(input)).await
    }

    /// Checks an event's particulars against what its kind needs; resolves the duplicate's
    /// target to its tracking number.
    async fn check_event(&self, event: &PipelineEvent) -> Result<PipelineInput, FollowUpError> {
        let PipelineInput { kind, at_ms, message, planned_for, department, duplicate_of, due_ms } = check_event_shape(event)?;
        let department = match (kind, department) {
            (EventKind::Transferred, Some(code)) if self.catalog.department(&code).is_some() => Some(code),
            (EventKind::Transferred, Some(_)) => return Err(invalid("department", "not a department of the catalog")),
            (_, department) => department,
        };
        let duplicate_of = match duplicate_of {
            Some(target) => {
                let tracking_no = self.store.tracking_no(&target).await?.ok_or_else(|| invalid("duplicate_of", "no report with this id or tracking number"))?;
                if event.report_id.as_deref() == Some(target.as_str()) {
                    return Err(invalid("duplicate_of", "a report cannot be a duplicate of itself"));
                }
                Some(tracking_no)
            }
            None => None,
        };
        Ok(PipelineInput { kind, at_ms, message, planned_for, department, duplicate_of, due_ms })
    }

    async fn apply(&self, id: &str, input: Input) -> Result<Outcome, FollowUpError> {
        let outcome = self.store.advance(id, input, &self.policy()).await?.map_err(|refusal| match refusal {
            Refusal::NoSuchReport => FollowUpError::NotFound,
            other => FollowUpError::Refused(other),
        })?;
        if let Outcome::Changed(change) = &outcome
            && !change.messages.is_empty()
        {
            self.forwarder.wake();
        }
        Ok(outcome)
    }

    /// One scan: every open report past its due time goes to supervision, and every
    /// resolution whose answer window closed counts as accepted. Each report changes once
    /// however many servers scan together: the change is decided under the report's row
    /// lock, on what is committed. Returns how many reports changed.
    pub async fn scan_once(&self) -> Result<usize, StoreError> {
        let now = ids::now_ms();
        let mut changed = 0;
        for id in self.store.overdue(now, SCAN_BATCH).await? {
            if let Ok(Outcome::Changed(_)) = self.store.advance(&id, Input::Overdue { now_ms: now }, &self.policy()).await? {
                tracing::info!(report = %id, "overdue: handed to supervision");
                changed += 1;
            }
        }
        for id in self.store.silent(now - self.settings.answer_window_ms(), SCAN_BATCH).await? {
            if let Ok(Outcome::Changed(_)) = self.store.advance(&id, Input::Silence { now_ms: now }, &self.policy()).await? {
                changed += 1;
            }
        }
        if changed > 0 {
            self.forwarder.wake();
        }
        Ok(changed)
    }

    /// Scans every `scan_secs` until `shutdown` turns true; the first scan at start, so a
    /// server restarted after a long stop catches up at once.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let interval = Duration::from_secs(self.settings.scan_secs.max(1));
        loop {
            if let Err(error) = self.scan_once().await {
                tracing::warn!(%error, "follow-up scan stopped at a store error");
            }
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                _ = shutdown.wait_for(|stopped| *stopped) => return,
            }
        }
    }
}

fn invalid(field: &str, detail: &str) -> FollowUpError {
    FollowUpError::Invalid(vec![ValidationError::new(field, Rule::Malformed { detail: detail.to_owned() })])
}

fn rfc3339_ms(field: &str, text: &str) -> Result<i64, FollowUpError> {
    let time = humantime::parse_rfc3339_weak(text).map_err(|_| invalid(field, "not an RFC 3339 time"))?;
    let elapsed = time.duration_since(std::time::UNIX_EPOCH).map_err(|_| invalid(field, "before 1970"))?;
    i64::try_from(elapsed.as_millis()).map_err(|_| invalid(field, "too far in the future"))
}

/// Whether `text` is `YYYY-MM` or `YYYY-MM-DD` with a real month and day.
fn is_plan_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let number = |part: &str, len: usize| (part.len() == len && part.bytes().all(|byte| byte.is_ascii_digit())).then(|| part.parse::<u32>().ok()).flatten();
    match parts.as_slice() {
        [year, month] => number(year, 4).is_some() && number(month, 2).is_some_and(|month| (1..=12).contains(&month)),
        [year, month, day] => number(year, 4).is_some() && number(month, 2).is_some_and(|month| (1..=12).contains(&month)) && number(day, 2).is_some_and(|day| (1..=31).contains(&day)),
        _ => false,
    }
}

/// Checks what an event can be checked for without the store: the particulars its kind
/// needs, a message within its length, readable times. (The fuzz target `pipeline_event`
/// drives this.)
pub fn check_event_shape(event: &PipelineEvent) -> Result<PipelineInput, FollowUpError> {
    let message = event.message.as_deref().map(|text| text.trim().to_owned()).filter(|text| !text.is_empty());
    if message.as_ref().is_some_and(|text| text.chars().count() > MESSAGE_MAX) {
        return Err(FollowUpError::Invalid(vec![ValidationError::new("message", Rule::TooLong { max: MESSAGE_MAX as u32 })]));
    }
    let at_ms = match &event.at {
        Some(at) => rfc3339_ms("at", at)?,
        None => ids::now_ms(),
    };
    let needs = |present: bool, field: &str, what: &str| if present { Ok(()) } else { Err(invalid(field, what)) };
    match event.status {
        EventKind::Planned => {
            needs(event.planned_for.as_deref().is_some_and(is_plan_date), "planned_for", "a planned event needs planned_for as YYYY-MM or YYYY-MM-DD")?;
            needs(message.is_some(), "message", "a planned event needs a message saying what is planned")?;
        }
        EventKind::Transferred => needs(event.department.as_deref().is_some_and(|code| !code.trim().is_empty()), "department", "a transferred event needs the department's code")?,
        EventKind::Duplicate => needs(event.duplicate_of.as_deref().is_some_and(|target| !target.trim().is_empty()), "duplicate_of", "a duplicate event needs duplicate_of")?,
        EventKind::DueChanged => {
            needs(event.due_at.is_some(), "due_at", "a due_changed event needs due_at")?;
            needs(message.is_some(), "message", "a due_changed event needs a message giving the reason")?;
        }
        _ => {}
    }
    let due_ms = match (&event.due_at, event.status) {
        (Some(due), EventKind::DueChanged) => Some(rfc3339_ms("due_at", due)?),
        _ => None,
    };
    let keep = |kind: EventKind, value: &Option<String>| (event.status == kind).then(|| value.as_deref().map(|text| text.trim().to_owned())).flatten();
    Ok(PipelineInput {
        kind: event.status,
        at_ms,
        message,
        planned_for: keep(EventKind::Planned, &event.planned_for),
        department: keep(EventKind::Transferred, &event.department),
        duplicate_of: keep(EventKind::Duplicate, &event.duplicate_of),
        due_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_dates_are_months_or_days() {
        for good in ["2027-04", "2027-04-15"] {
            assert!(is_plan_date(good), "{good}");
        }
        for bad in ["2027-13", "2027-4", "April", "2027-04-32", "2027-04-15-01", ""] {
            assert!(!is_plan_date(bad), "{bad}");
        }
    }
}
