//! Reports the SQLite writer has just stored, as the pipeline receives them, kept for the
//! forwarder's next round so that it need not read each one back from the write-ahead log
//! it was just written to (under write load every read transaction finds the log changed,
//! drops the reader's cache and maps the database again).
//!
//! What is forwarded must be what the database holds. Every change happens on the writer
//! thread, one job after another, and a job that may change stored reports (a purge, a
//! requeue…) empties this whole set when it runs; a lifecycle step, which changes only its
//! own report, forgets that one. An entry is only ever older than writes that cannot have
//! touched it. A commit by another connection (an
//! operator's command on the same file) is noticed at the next claim by SQLite's
//! `data_version` and empties it too. An insert job run a second time (its group ran again
//! after another job failed) draws another tracking number and time: it forgets what its
//! first run kept.
//!
//! When the set is full, a new report is not kept (the forwarder, oldest first, reads it
//! back when its turn comes): under a backlog the kept ones are the next the forwarder
//! takes, where dropping the oldest would keep only what it reaches last. An entry whose
//! job was undone (its group's commit failed, or it failed when the group ran again) names
//! a report that does not exist, so no claim ever asks for it; once it is a minute old it
//! makes room.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::Outgoing;

/// Most reports kept (a few MB): a backlog larger than this is partly read back.
const CAPACITY: usize = 4_096;

/// An entry this old (ms) when the set is full makes room: the forwarder takes a report
/// within a round or two of its commit, so one still here was undone, or waits behind a
/// backlog that is read back anyway.
const STALE_MS: i64 = 60_000;

/// The set, shared by the writer's jobs and the forwarder.
#[derive(Debug, Default)]
pub(super) struct JustStored {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    reports: HashMap<String, Outgoing>,
    /// Ids in the order they were kept (an id taken since stays until it reaches the front
    /// or the list is tidied).
    order: VecDeque<String>,
    /// SQLite's `data_version` of the writer's connection at the last claim.
    data_version: Option<i64>,
}

impl Inner {
    fn clear(&mut self) {
        self.reports.clear();
        self.order.clear();
    }
}

impl JustStored {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps `report`, stored by the running job (called on the writer thread).
    pub(super) fn keep(&self, report: Outgoing) {
        let mut inner = self.inner();
        let Inner { reports, order, .. } = &mut *inner;
        while order.front().is_some_and(|id| !reports.contains_key(id)) {
            order.pop_front();
        }
        if reports.len() >= CAPACITY {
            let stale = order.front().and_then(|id| reports.get(id)).is_some_and(|oldest| report.created_ms - oldest.created_ms > STALE_MS);
            if !stale {
                return;
            }
            if let Some(oldest) = order.pop_front() {
                reports.remove(&oldest);
            }
        }
        if order.len() >= 2 * CAPACITY {
            order.retain(|id| reports.contains_key(id));
        }
        order.push_back(report.message.id.clone());
        reports.insert(report.message.id.clone(), report);
    }

    /// Forgets report `id` (a job run again forgets what its first run kept).
    pub(super) fn forget(&self, id: &str) {
        self.inner().reports.remove(id);
    }

    /// Forgets every report: the running job may change stored reports (called on the
    /// writer thread).
    pub(super) fn forget_all(&self) {
        self.inner().clear();
    }

    /// Forgets every report if another connection committed since the last call
    /// (`data_version` is what SQLite's pragma says on the writer's connection now).
    pub(super) fn note_data_version(&self, data_version: i64) {
        let mut inner = self.inner();
        if inner.data_version.is_some_and(|seen| seen != data_version) {
            inner.clear();
        }
        inner.data_version = Some(data_version);
    }

    /// Takes the reports `ids` that are kept: each in its place, `None` where it must be read.
    pub(super) fn take(&self, ids: &[String]) -> Vec<Option<Outgoing>> {
        let mut inner = self.inner();
        let taken: Vec<_> = ids.iter().map(|id| inner.reports.remove(id)).collect();
        if inner.reports.is_empty() {
            inner.order.clear();
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lianxin_contract::pipeline::PipelineReport;
    use lianxin_contract::{ReportSubmission, RequestKind};

    fn outgoing(id: &str) -> Outgoing {
        outgoing_at(id, 1)
    }

    fn outgoing_at(id: &str, created_ms: i64) -> Outgoing {
        let report = ReportSubmission::new("noise", RequestKind::Complaint, "");
        let message = PipelineReport {
            id: id.into(),
            tracking_no: String::new(),
            created_at: String::new(),
            department: String::new(),
            district: None,
            report,
            photos: Vec::new(),
            related: Vec::new(),
            related_count: 0,
            escalate: false,
            due_at: None,
        };
        Outgoing { message, created_ms }
    }

    #[test]
    fn a_kept_report_is_taken_once_and_a_change_forgets_all() {
        let set = JustStored::default();
        set.keep(outgoing("a"));
        set.keep(outgoing("b"));
        let taken = set.take(&["b".into(), "x".into()]);
        assert_eq!(taken.iter().map(|report| report.as_ref().map(|report| report.message.id.as_str())).collect::<Vec<_>>(), [Some("b"), None]);
        assert!(set.take(&["b".into()])[0].is_none(), "taken once");
        set.forget_all();
        assert!(set.take(&["a".into()])[0].is_none(), "forgotten by a job that may change reports");
    }

    #[test]
    fn another_connections_commit_forgets_all() {
        let set = JustStored::default();
        set.note_data_version(3);
        set.keep(outgoing("a"));
        set.note_data_version(3);
        assert!(set.take(&["a".into()])[0].is_some(), "nothing else committed");
        set.keep(outgoing("b"));
        set.note_data_version(4);
        assert!(set.take(&["b".into()])[0].is_none(), "another connection committed");
    }

    /// Under a backlog the forwarder (oldest first) finds the reports it takes next; one
    /// that is never asked for makes room once a minute old; the list stays bounded.
    #[test]
    fn when_full_the_next_to_forward_stay_and_a_minute_old_one_makes_room() {
        let set = JustStored::default();
        for index in 0..CAPACITY + 10 {
            set.keep(outgoing_at(&index.to_string(), 1_000));
        }
        assert!(set.take(&["0".into()])[0].is_some(), "the oldest, next to forward, stayed");
        assert!(set.take(&[(CAPACITY + 5).to_string()])[0].is_none(), "a new one while full is read back");
        set.keep(outgoing_at("after", 1_000));
        assert!(set.take(&["after".into()])[0].is_some(), "a taken one made room");

        set.keep(outgoing_at("fills", 1_000));
        set.keep(outgoing_at("late", 1_000 + STALE_MS + 1));
        assert!(set.take(&["1".into()])[0].is_none(), "a minute old, never asked for: made room");
        assert!(set.take(&["late".into()])[0].is_some());

        for round in 0..3 * CAPACITY {
            let id = format!("r{round}");
            set.keep(outgoing_at(&id, 1_000 + STALE_MS));
            set.take(&[id]);
        }
        assert!(set.inner().order.len() <= 2 * CAPACITY, "taken ids are tidied away");
    }
}
