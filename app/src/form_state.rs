//! What the resident has typed and chosen, as one value of signals: filled from the draft
//! kept on the phone, read back into the draft and into the report to send, and cleared for
//! the next report. Photos are kept apart (their bytes live in IndexedDB, see `draft`).

use std::collections::BTreeMap;

use leptos::prelude::*;
use lianxin_contract::{Category, Contact, Lang, Location, ReportSubmission, RequestKind};

use crate::api;
use crate::draft::Draft;
use crate::field_input::field_values;
use crate::location_picker::Position;

/// The form's inputs, each a signal the views bind to.
#[derive(Clone, Copy, Debug)]
pub struct FormState {
    /// The category's code (empty: none chosen).
    pub category: RwSignal<String>,
    /// The request kind.
    pub kind: RwSignal<Option<RequestKind>>,
    /// The description.
    pub description: RwSignal<String>,
    /// Whether neighbours may see the words and photos (公开); private by default.
    pub public: RwSignal<bool>,
    /// The category's own fields, as typed.
    pub fields: RwSignal<BTreeMap<String, String>>,
    /// A position from GPS, the map or a photo.
    pub position: RwSignal<Option<Position>>,
    /// The district's code.
    pub district: RwSignal<String>,
    /// The address or a landmark.
    pub address: RwSignal<String>,
    /// The contact's name.
    pub name: RwSignal<String>,
    /// The contact's phone.
    pub phone: RwSignal<String>,
    /// The consent to pass the contact on.
    pub consent: RwSignal<bool>,
    /// The report's idempotency key: the same across retries and reloads.
    pub idempotency_key: RwSignal<String>,
}

impl Default for FormState {
    fn default() -> FormState {
        FormState::new()
    }
}

impl FormState {
    /// An empty form with a fresh idempotency key.
    pub fn new() -> FormState {
        FormState {
            category: RwSignal::new(String::new()),
            kind: RwSignal::new(None),
            description: RwSignal::new(String::new()),
            public: RwSignal::new(false),
            fields: RwSignal::new(BTreeMap::new()),
            position: RwSignal::new(None),
            district: RwSignal::new(String::new()),
            address: RwSignal::new(String::new()),
            name: RwSignal::new(String::new()),
            phone: RwSignal::new(String::new()),
            consent: RwSignal::new(false),
            idempotency_key: RwSignal::new(api::new_idempotency_key()),
        }
    }

    /// Puts back what a draft kept (its idempotency key too, so a resend is one report).
    pub fn restore(&self, saved: Draft) {
        self.category.set(saved.category);
        self.kind.set(saved.kind.and_then(|code| RequestKind::ALL.into_iter().find(|each| each.code() == code)));
        self.description.set(saved.description);
        self.fields.set(saved.fields);
        self.district.set(saved.district);
        self.address.set(saved.address);
        self.name.set(saved.name);
        self.phone.set(saved.phone);
        if !saved.idempotency_key.is_empty() {
            self.idempotency_key.set(saved.idempotency_key);
        }
    }

    /// What the draft keeps (read tracked: an effect saving it runs on every change).
    pub fn draft(&self) -> Draft {
        Draft {
            category: self.category.get(),
            kind: self.kind.get().map(|each| each.code().to_owned()),
            description: self.description.get(),
            fields: self.fields.get(),
            district: self.district.get(),
            address: self.address.get(),
            name: self.name.get(),
            phone: self.phone.get(),
            idempotency_key: self.idempotency_key.get(),
        }
    }

    /// The report as filled, in `lang`, before validation (`category`: the chosen one, whose
    /// fields give the typed values).
    pub fn submission(&self, category: Option<&Category>, lang: Lang) -> ReportSubmission {
        let located = self.position.get_untracked();
        ReportSubmission {
            category: self.category.get_untracked(),
            kind: self.kind.get_untracked().unwrap_or(RequestKind::Complaint),
            description: self.description.get_untracked(),
            fields: field_values(category, &self.fields.get_untracked()),
            location: Some(Location {
                lat: located.map(|found| found.lat),
                lon: located.map(|found| found.lon),
                accuracy_m: located.map(|found| found.accuracy_m).filter(|accuracy| accuracy.is_finite()),
                address: Some(self.address.get_untracked()),
                district: Some(self.district.get_untracked()),
            }),
            contact: Some(Contact { name: Some(self.name.get_untracked()), phone: Some(self.phone.get_untracked()), consent: self.consent.get_untracked() }),
            lang,
            media_url: None,
            public: self.public.get_untracked(),
        }
    }

    /// Empties what belongs to one report (the contact stays for the next) and takes a new
    /// idempotency key.
    pub fn clear(&self) {
        self.category.set(String::new());
        self.description.set(String::new());
        self.fields.set(BTreeMap::new());
        self.address.set(String::new());
        self.position.set(None);
        self.idempotency_key.set(api::new_idempotency_key());
    }
}
