//! The one intake of a report, whichever door it came through (the JSON API today; the
//! Open311 door and "me too" support build on it): claim the idempotency key, then parse →
//! validate against the catalog → make the photos safe → route to a department and a
//! district → one store call. A door only turns its wire format into an [`Intake`] and the
//! outcome into its own answer; no rule of intake lives in a door.
//!
//! Errors are this layer's own ([`SubmissionError`]); the HTTP edge words them.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use lianxin_contract::validate::validate_report;
use lianxin_contract::{Catalog, Lang, Receipt, ReportSubmission, Rule, ValidationError};

use crate::classes::ClassRules;
use crate::follow_up::FollowUp;
use crate::forwarder::ForwarderHandle;
use crate::geo::DistrictMap;
use crate::ids;
use crate::intake::{self, Intake};
use crate::metrics::Metrics;
use crate::photos::{PhotoError, PhotoProcessor};
use crate::store::{Inserted, NewReport, Store, StoreError};

/// What the intake needs of the application; cheap to clone.
#[derive(Clone, Debug)]
pub struct Submissions {
    catalog: Arc<Catalog>,
    districts: Arc<DistrictMap>,
    store: Store,
    photos: PhotoProcessor,
    forwarder: ForwarderHandle,
    metrics: Arc<Metrics>,
    /// Idempotency keys whose report is being taken in right now.
    in_flight: Arc<Mutex<HashSet<String>>>,
    /// Gives each receipt its follow-up secret; knows the time limits' clock.
    follow_up: FollowUp,
    /// How reports form classes of cases.
    class_rules: Arc<ClassRules>,
}

/// How a submission ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Stored now; the receipt.
    Created(Receipt),
    /// A retry of a report stored before; its original receipt.
    Repeated(Receipt),
}

/// Why a submission was not taken. Nothing of it was stored.
#[derive(Debug, thiserror::Error)]
pub enum SubmissionError {
    /// The same idempotency key is being taken in right now.
    #[error("the idempotency key is in flight")]
    KeyInFlight,
    /// The idempotency key was used before for a different report.
    #[error("the idempotency key was used for another report")]
    KeyReused,
    /// The report breaks the catalog's rules (each field and rule listed).
    #[error("invalid report")]
    Invalid(Vec<ValidationError>),
    /// A photo could not be made safe.
    #[error(transparent)]
    Photo(#[from] PhotoError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Holds an idempotency key as "in flight" until dropped, so a concurrent retry of the same
/// report is refused instead of being taken in twice. Claim it before reading the body.
#[derive(Debug)]
pub struct Claim {
    keys: Arc<Mutex<HashSet<String>>>,
    key: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&self.key);
    }
}

impl Submissions {
    /// The intake over these parts of the application.
    pub fn new(catalog: Arc<Catalog>, districts: Arc<DistrictMap>, store: Store, photos: PhotoProcessor, forwarder: ForwarderHandle, metrics: Arc<Metrics>, follow_up: FollowUp) -> Submissions {
        Submissions { catalog, districts, store, photos, forwarder, metrics, in_flight: Arc::default(), follow_up, class_rules: Arc::default() }
    }

    /// The same intake, forming classes of cases by `rules` (the catalog's `[classes]`).
    pub fn with_class_rules(self, rules: Arc<ClassRules>) -> Submissions {
        Submissions { class_rules: rules, ..self }
    }

    /// The receipt with the resident's follow-up secret and private page.
    fn with_follow_up(&self, receipt: Receipt) -> Receipt {
        Receipt { follow_up_secret: self.follow_up.secret(&receipt.id), follow_up_url: self.follow_up.url(&receipt.tracking_no, &receipt.id), ..receipt }
    }

    /// Claims `idempotency_key` for one submission at a time.
    pub fn claim(&self, idempotency_key: &str) -> Result<Claim, SubmissionError> {
        let mut held = self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        held.insert(idempotency_key.to_owned()).then(|| Claim { keys: self.in_flight.clone(), key: idempotency_key.to_owned() }).ok_or(SubmissionError::KeyInFlight)
    }

    /// Takes in the report read under `claim`, sent from the network `sender` (for telling
    /// senders apart; kept only as a keyed hash). `lang` becomes the report's language as
    /// soon as it is known, so a refusal is worded in it.
    /// `source` names the Open311 app that filed it (`None` for the widget and the JSON API).
    pub async fn submit(&self, claim: &Claim, intake: Intake, sender: Option<String>, source: Option<String>, lang: &mut Lang) -> Result<Accepted, SubmissionError> {
        let key = claim.key.clone();
        // A retry of a stored report with photos is answered before its photos are decoded
        // again; without photos the insert below finds the earlier report just as well.
        if !intake.photos.is_empty()
            && let Some((receipt, hash)) = self.store.find_by_idempotency_key(&key).await?
        {
            return if hash == intake.request_hash { Ok(Accepted::Repeated(self.with_follow_up(receipt))) } else { Err(SubmissionError::KeyReused) };
        }

        let submitted = parse_report(&intake.report_json).map_err(SubmissionError::Invalid)?;
        *lang = submitted.lang;
        let (report, category) = validate_report(&self.catalog, &submitted, intake.photos.len()).map_err(SubmissionError::Invalid)?.into_parts();

        let photo_bytes_in: u64 = intake.photos.iter().map(intake::Upload::len).sum();
        let mut prepared = Vec::with_capacity(intake.photos.len());
        for upload in intake.photos {
            prepared.push(self.photos.prepare(upload).await?);
        }
        // From the first stored photo until the report is committed, the retention purge
        // deletes no photo file (a photo is stored by content hash and may be shared).
        let _photos_in_use = self.photos.deletion_lock().read().await;
        let mut photos = Vec::with_capacity(prepared.len());
        for photo in prepared {
            photos.push(self.photos.persist(photo).await?);
        }

        let photo_bytes_out = photos.iter().map(|photo| photo.bytes).sum();
        let classes = self.class_rules.keys(&report);
        let new = NewReport {
            id: ids::new_report_id(),
            idempotency_key: key,
            request_hash: intake.request_hash,
            department: category.department.clone(),
            district: self.route_district(report.location.as_ref()),
            report,
            photos,
            sender,
            limit_ms: Some(self.follow_up.settings().limit_ms(category.time_limit_hours)),
            source,
            classes,
            class_rules: self.class_rules.clone(),
        };
        match self.store.insert_report(new).await? {
            Inserted::Created(receipt) => {
                self.forwarder.wake();
                self.metrics.accepted(photo_bytes_in, photo_bytes_out);
                tracing::info!(category = %category.code, "report accepted");
                Ok(Accepted::Created(self.with_follow_up(receipt)))
            }
            Inserted::Existing { receipt, same_request: true } => Ok(Accepted::Repeated(self.with_follow_up(receipt))),
            Inserted::Existing { same_request: false, .. } => Err(SubmissionError::KeyReused),
        }
    }

    /// The district a report is routed to: the one containing its position when the
    /// catalog has boundaries, else the one the resident chose.
    fn route_district(&self, location: Option<&lianxin_contract::Location>) -> Option<String> {
        let location = location?;
        let located = match (location.lat, location.lon) {
            (Some(lat), Some(lon)) => self.districts.locate(lat, lon).map(str::to_owned),
            _ => None,
        };
        located.or_else(|| location.district.clone())
    }
}

/// Parses the `report` part, naming the field whose value has the wrong shape.
pub fn parse_report(json: &[u8]) -> Result<ReportSubmission, Vec<ValidationError>> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let field = if matches!(path.as_str(), "" | "." | "?") { "report".to_owned() } else { path };
        vec![ValidationError::new(field, Rule::Malformed { detail: error.inner().to_string() })]
    })
}
