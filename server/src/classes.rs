//! From one case to a class of cases. Reports of one category that cluster in place (the
//! same cell of a grid as wide as the class radius) or that name the same subject (a taxi
//! plate, a business, a travel agency, an employer — normalised) within a window of days
//! form a class. When a class reaches the threshold the pipeline gets a `class` message
//! once, then `class_grew` as members join; a subject reaching the hotspot count is sent as
//! a `hotspot` (重点监管对象). The store decides each step in the report's own transaction
//! (under the class row's lock on PostgreSQL), so each message goes once however many
//! servers take reports, and a crash loses or repeats nothing.
//!
//! The rules are the catalog's `[classes]` table (server-side only; the widget never
//! downloads them).

use lianxin_contract::ReportSubmission;
use lianxin_contract::pipeline::{ClassInfo, MESSAGE_VERSION, MessageKind, PipelineMessage};
use lianxin_contract::report::FieldValue;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The catalog's `[classes]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassRules {
    /// The width of a place class's grid cell, in metres (default 250, FixMyStreet's radius).
    pub radius_m: f64,
    /// A class stays open while members keep coming within this many days of the last one
    /// (default 30).
    pub window_days: i64,
    /// Members that make a class worth a department's attention (default 3).
    pub threshold: u32,
    /// Complaints about one subject that make it a hotspot (default 5).
    pub hotspot: u32,
    /// Fields whose value names the subject of a complaint (default: plates, businesses,
    /// agencies, property companies, employers).
    pub subject_fields: Vec<String>,
    /// Per-category settings over the ones above (`[classes.categories.<code>]`).
    pub categories: std::collections::BTreeMap<String, CategoryRules>,
}

/// One category's own class settings; what is left out is the table's.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CategoryRules {
    /// Its radius in metres.
    pub radius_m: Option<f64>,
    /// Its window in days.
    pub window_days: Option<i64>,
    /// Its threshold.
    pub threshold: Option<u32>,
    /// Its hotspot count.
    pub hotspot: Option<u32>,
}

/// The settings in force for one category.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effective {
    /// Radius in metres (also how far "is it one of these?" looks, at most 1 km).
    pub radius_m: f64,
    /// Window in milliseconds.
    pub window_ms: i64,
    /// Members that make a class.
    pub threshold: u32,
    /// Complaints that make a subject a hotspot.
    pub hotspot: u32,
}

impl Default for ClassRules {
    fn default() -> Self {
        ClassRules {
            radius_m: 250.0,
            window_days: 30,
            threshold: 3,
            hotspot: 5,
            subject_fields: ["plate", "business_name", "agency", "property_company", "employer"].map(str::to_owned).to_vec(),
            categories: std::collections::BTreeMap::new(),
        }
    }
}

#[derive(Deserialize)]
struct CatalogText {
    #[serde(default)]
    classes: Option<ClassRules>,
}

impl ClassRules {
    /// The `[classes]` table of a catalog file (the defaults without one).
    pub fn from_catalog_text(text: &str) -> Result<ClassRules, String> {
        let parsed: CatalogText = toml::from_str(text).map_err(|error| error.message().to_owned())?;
        let rules = parsed.classes.unwrap_or_default();
        for (scope, effective) in std::iter::once(("".to_owned(), rules.effective(""))).chain(rules.categories.keys().map(|code| (format!(" (category {code})"), rules.effective(code)))) {
            if !(10.0..=1000.0).contains(&effective.radius_m) || effective.window_ms < 86_400_000 || effective.threshold < 2 || effective.hotspot < 2 {
                return Err(format!("radius_m must be 10–1000, window_days at least 1, threshold and hotspot at least 2{scope}"));
            }
        }
        Ok(rules)
    }

    /// The settings in force for `category`.
    pub fn effective(&self, category: &str) -> Effective {
        let own = self.categories.get(category).cloned().unwrap_or_default();
        Effective {
            radius_m: own.radius_m.unwrap_or(self.radius_m),
            window_ms: own.window_days.unwrap_or(self.window_days) * 86_400_000,
            threshold: own.threshold.unwrap_or(self.threshold),
            hotspot: own.hotspot.unwrap_or(self.hotspot),
        }
    }

    /// The classes a report belongs to: its place (when it has a position) and each subject
    /// it names.
    pub fn keys(&self, report: &ReportSubmission) -> Vec<ClassKey> {
        let mut keys = Vec::new();
        if let Some((lat, lon)) = report.location.as_ref().and_then(|location| location.lat.zip(location.lon)) {
            let (lat, lon) = crate::geo::snap_to_grid(lat, lon, self.effective(&report.category).radius_m);
            let label = format!("{lat:.4},{lon:.4}");
            keys.push(ClassKey { key: format!("place:{}:{label}", report.category), kind: ClassKind::Place, label });
        }
        for field in &self.subject_fields {
            if let Some(FieldValue::Text(value)) = report.fields.get(field) {
                let subject = normalize_subject(value);
                if !subject.is_empty() {
                    keys.push(ClassKey { key: format!("subject:{}:{field}:{subject}", report.category), kind: ClassKind::Subject, label: subject });
                }
            }
        }
        keys
    }
}

/// What brings a class's reports together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassKind {
    /// The same place.
    Place,
    /// The same subject.
    Subject,
}

impl ClassKind {
    /// The stored and wire name.
    pub fn code(self) -> &'static str {
        match self {
            ClassKind::Place => "place",
            ClassKind::Subject => "subject",
        }
    }
}

/// One class a report belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassKey {
    /// The class's stable key (`place:<category>:<cell>`, `subject:<category>:<field>:<subject>`).
    pub key: String,
    /// Place or subject.
    pub kind: ClassKind,
    /// The cell's centre or the normalised subject.
    pub label: String,
}

/// A subject as one form for every way residents type it: full-width letters and digits
/// made plain, spaces and separators dropped, letters in upper case (黑ａ １２３４５ and
/// 黑A·12345 are one plate; 老 厨 家 and 老厨家 one restaurant).
pub fn normalize_subject(text: &str) -> String {
    text.chars()
        .map(|character| match character {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(character as u32 - 0xFEE0).unwrap_or(character),
            '\u{3000}' => ' ',
            other => other,
        })
        .filter(|character| !character.is_whitespace() && !matches!(character, '·' | '・' | '.' | '-' | '_' | '•'))
        .flat_map(char::to_uppercase)
        .collect()
}

/// A class as stored: its generation (a class that went quiet for a window starts anew)
/// and its members so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassState {
    /// The generation.
    pub generation: i64,
    /// Members in this generation.
    pub members: u32,
    /// When its first member came (ms).
    pub first_ms: i64,
    /// When its last member came (ms).
    pub last_ms: i64,
}

/// What a new member does to a class, and which message it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Joined {
    /// The class after.
    pub state: ClassState,
    /// The message the pipeline gets, if any.
    pub message: Option<ClassMessage>,
    /// Whether the subject became a hotspot now.
    pub hotspot: bool,
}

/// A class message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassMessage {
    /// The class reached the threshold.
    Formed,
    /// A member joined a class past the threshold.
    Grew,
}

/// A report joins the class `stored` (none yet: `None`) at `now_ms`, under its category's
/// settings.
pub fn join(stored: Option<ClassState>, kind: ClassKind, now_ms: i64, rules: &Effective) -> Joined {
    let state = match stored {
        Some(state) if state.members > 0 && state.last_ms >= now_ms - rules.window_ms => ClassState { members: state.members + 1, last_ms: now_ms, ..state },
        Some(state) => ClassState { generation: state.generation + 1, members: 1, first_ms: now_ms, last_ms: now_ms },
        None => ClassState { generation: 1, members: 1, first_ms: now_ms, last_ms: now_ms },
    };
    let message = match state.members {
        members if members == rules.threshold => Some(ClassMessage::Formed),
        members if members > rules.threshold => Some(ClassMessage::Grew),
        _ => None,
    };
    Joined { state, message, hotspot: kind == ClassKind::Subject && state.members == rules.hotspot }
}

/// Who the messages of a new member are about: the report that joined.
#[derive(Debug, Clone)]
pub struct Member<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its tracking number.
    pub tracking_no: &'a str,
    /// Its department.
    pub department: &'a str,
    /// Its category.
    pub category: &'a str,
}

/// The messages a join sends (each with an id that is the same however often it is
/// decided, so a repeat is one message): `members` are the class's report ids, newest first.
pub fn messages(joined: &Joined, class: &ClassKey, member: &Member<'_>, members: Vec<String>) -> Vec<PipelineMessage> {
    let key_id = crate::ids::hex(&Sha256::digest(class.key.as_bytes())[..8]);
    let generation = joined.state.generation;
    let info = ClassInfo {
        key: class.key.clone(),
        generation: generation as u32,
        kind: class.kind.code().to_owned(),
        label: class.label.clone(),
        category: member.category.to_owned(),
        count: joined.state.members,
        members,
        first_at: crate::ids::rfc3339(joined.state.first_ms),
        last_at: crate::ids::rfc3339(joined.state.last_ms),
    };
    let message = |kind: MessageKind, id: String| PipelineMessage {
        message: kind,
        version: MESSAGE_VERSION,
        id,
        report_id: member.id.to_owned(),
        ticket_id: None,
        tracking_no: member.tracking_no.to_owned(),
        department: member.department.to_owned(),
        at: crate::ids::rfc3339(joined.state.last_ms),
        handlings: 0,
        answer: None,
        escalation: None,
        due_at: None,
        support: None,
        class: Some(info.clone()),
    };
    let mut out = Vec::new();
    match joined.message {
        Some(ClassMessage::Formed) => out.push(message(MessageKind::Class, format!("class.{key_id}.{generation}"))),
        Some(ClassMessage::Grew) => out.push(message(MessageKind::ClassGrew, format!("class.{key_id}.{generation}.{}", joined.state.members))),
        None => {}
    }
    if joined.hotspot {
        out.push(message(MessageKind::Hotspot, format!("hotspot.{key_id}.{generation}")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_category_may_set_its_own_rules_and_bad_ones_are_named() {
        let rules = ClassRules::from_catalog_text("[classes]\nthreshold = 4\n[classes.categories.taxi_overcharge]\nthreshold = 2\nradius_m = 100\n").unwrap();
        assert_eq!((rules.effective("taxi_overcharge").threshold, rules.effective("taxi_overcharge").radius_m), (2, 100.0));
        assert_eq!((rules.effective("manhole_cover").threshold, rules.effective("manhole_cover").radius_m), (4, 250.0));
        let refused = ClassRules::from_catalog_text("[classes.categories.parking_spaces]\nradius_m = 5000\n").unwrap_err();
        assert!(refused.contains("category parking_spaces"), "{refused}");
    }

    #[test]
    fn subjects_typed_differently_are_one_subject() {
        assert_eq!(normalize_subject("黑A·12345"), "黑A12345");
        assert_eq!(normalize_subject("黑ａ １２３４５"), "黑A12345");
        assert_eq!(normalize_subject(" 老 厨 家 "), "老厨家");
        assert_eq!(normalize_subject("Harbin Tours Co."), "HARBINTOURSCO");
    }

    #[test]
    fn a_class_forms_at_the_threshold_grows_after_and_starts_anew_after_a_quiet_window() {
        let rules = ClassRules::default().effective("manhole_cover");
        let day = 86_400_000;
        let mut state = None;
        let mut messages = Vec::new();
        for index in 0..6 {
            let joined = join(state, ClassKind::Subject, index * day, &rules);
            messages.push((joined.message, joined.hotspot));
            state = Some(joined.state);
        }
        assert_eq!(
            messages,
            [(None, false), (None, false), (Some(ClassMessage::Formed), false), (Some(ClassMessage::Grew), false), (Some(ClassMessage::Grew), true), (Some(ClassMessage::Grew), false)]
        );
        let later = join(state, ClassKind::Place, 100 * day, &rules);
        assert_eq!((later.state.generation, later.state.members, later.message), (2, 1, None), "a quiet month starts a new class");
    }
}
