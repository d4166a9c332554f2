//! The wire contract between the Lianxin widget, the server and the city's tools.
//!
//! Everything here crosses a process boundary, so it is plain data with serde and nothing
//! else: this crate compiles for `wasm32-unknown-unknown` and must never depend on axum,
//! a database driver or leptos. Database rows and UI state are separate types that convert
//! from and into these.
//!
//! A guided tour:

/// Languages the widget speaks and localized strings in all three of them.
pub mod i18n;
/// The city's catalog: groups, categories and the fields each category needs.
pub mod catalog;
/// A report as the widget submits it, the receipt the server answers with, and its status.
pub mod report;
/// The way back: the resident's answer, satisfaction, supervision.
pub mod follow_up;
/// What Lianxin and the city's pipeline say to each other: the report every sink gets, the
/// progress events coming back.
pub mod pipeline;
/// Checks a submitted report against the catalog; the same code runs in widget and server.
pub mod validate;
/// Decimal numbers read and written alike by both sides.
pub mod number;
/// RFC 9457 problem details, the one shape of every error the API returns.
pub mod problem;
/// The idempotency key a phone gives a report: time-ordered, so the server's index grows at its end.
pub mod key;

pub use catalog::{Catalog, Category, Department, District, FieldDef, FieldKind, Group, Limits};
pub use i18n::{Lang, Localized};
pub use problem::Problem;
pub use report::{Contact, Location, Receipt, ReportSubmission, RequestKind};
pub use validate::{Rule, ValidationError};
