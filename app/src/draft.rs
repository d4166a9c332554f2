//! The report being written survives a reload or a closed tab: its text is kept in the
//! browser's localStorage and its prepared photos in IndexedDB, on the resident's own phone
//! (nothing leaves it before sending), and both are cleared once the report is accepted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

const KEY: &str = "lianxin-draft-v1";
/// The IndexedDB record holding the draft's photos.
const PHOTOS_KEY: &str = "draft-photos";

/// The text of an unsent report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// Category code.
    pub category: String,
    /// Request kind code.
    pub kind: Option<String>,
    /// Description.
    pub description: String,
    /// The category's fields, as typed.
    pub fields: BTreeMap<String, String>,
    /// District code.
    pub district: String,
    /// Address.
    pub address: String,
    /// Contact name.
    pub name: String,
    /// Contact phone.
    pub phone: String,
    /// The idempotency key of this report, so a resend after a reload is still one report.
    pub idempotency_key: String,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The saved draft, if any.
pub fn load() -> Option<Draft> {
    crate::json::from_str(&storage()?.get_item(KEY).ok()??).ok()
}

/// Saves `draft` (private browsing may refuse; the form works without it).
pub fn save(draft: &Draft) {
    if let (Some(storage), Ok(text)) = (storage(), crate::json::to_string(draft)) {
        let _ = storage.set_item(KEY, &text);
    }
}

/// Keeps the draft's prepared photos (a full or private store refuses; the form works
/// without it).
pub async fn save_photos(photos: Vec<web_sys::Blob>) {
    let _ = crate::outbox::keep_photos(PHOTOS_KEY, &photos).await;
}

/// The draft's photos, if any were kept.
pub async fn load_photos() -> Vec<web_sys::Blob> {
    crate::outbox::photos(PHOTOS_KEY).await.unwrap_or_default()
}

/// Forgets the draft, photos included, after the report was accepted or queued.
pub fn clear() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(KEY);
    }
    leptos::task::spawn_local(async {
        let _ = crate::outbox::forget(PHOTOS_KEY).await;
    });
}
