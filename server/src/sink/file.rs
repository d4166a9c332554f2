//! The embedded default pipeline: one JSON line per report appended to a local file and
//! fsynced before the delivery counts. Lines that wait while another group is being
//! written go together in the next: one write and one fsync for all of them (the
//! forwarder delivers several reports at once). A crash between the fsync and the outbox
//! update would deliver that round again on restart, so the sink remembers the ids in the
//! file's tail and skips a report already there: the file holds each report once. A line
//! torn by a crash is closed with a newline on open, so the next line starts cleanly; a
//! failed write is cut off again at once.
//!
//! The file holds what a pipeline receives, contact details included where the resident
//! consented, so it is readable by its owner only (0600, also when it existed before). It is
//! the pipeline's copy, not Lianxin's: the retention purge does not rewrite it, and whoever
//! runs the file sink keeps it as their own records (README "Privacy and retention").

use std::collections::{HashSet, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use tokio::sync::oneshot;

use super::{Delivered, DeliveryError};
use crate::forwarder::MAX_ROUND;
use lianxin_contract::pipeline::{PipelineMessage, PipelineReport};

/// How much of the file's end is read at start-up to find recent ids. Only the last round
/// of the forwarder (at most [`MAX_ROUND`] reports, a few KB each) can be a repeat; 8 MiB
/// covers it with a wide margin.
const TAIL_BYTES: u64 = 8 << 20;
/// Ids remembered for repeat suppression, newest kept: only the last round can be
/// repeated, so the memory stays bounded for the life of the process.
const RECENT_IDS: usize = 1024;
const _: () = assert!(RECENT_IDS >= MAX_ROUND, "the pipeline file remembers at least a round's ids");

/// Appends reports to a JSON-lines file.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    state: Arc<Mutex<State>>,
    /// Lines waiting to be written; whoever holds `state` next writes them all.
    waiting: Arc<Mutex<Vec<Waiting>>>,
}

#[derive(Debug)]
struct State {
    file: File,
    /// The file's length after the last whole write.
    length: u64,
    recent: Recent,
    /// Groups written (for tests: a round is one).
    #[cfg(test)]
    groups: u64,
}

/// A line waiting for the next group, and who to tell once it is on disk.
#[derive(Debug)]
struct Waiting {
    id: String,
    line: Vec<u8>,
    written: oneshot::Sender<Result<(), String>>,
}

impl State {
    /// Appends the group's lines (a report already in the file is skipped) with one write
    /// and one fsync, and tells each line's sender how it went. A failed write is cut off,
    /// so the next group starts on a clean line.
    fn write_group(&mut self, group: Vec<Waiting>) {
        let mut bytes = Vec::new();
        let mut ids: Vec<&str> = Vec::new();
        for waiting in &group {
            if !self.recent.contains(&waiting.id) && !ids.contains(&waiting.id.as_str()) {
                bytes.extend_from_slice(&waiting.line);
                ids.push(&waiting.id);
            }
        }
        let outcome = if bytes.is_empty() { Ok(()) } else { self.file.write_all(&bytes).and_then(|()| self.file.sync_data()) };
        #[cfg(test)]
        {
            self.groups += 1;
        }
        match &outcome {
            Ok(()) => {
                self.length += bytes.len() as u64;
                for id in ids {
                    self.recent.insert(id.to_owned());
                }
            }
            Err(_) => {
                let _ = self.file.set_len(self.length);
            }
        }
        let outcome = outcome.map_err(|error| error.to_string());
        for waiting in group {
            let _ = waiting.written.send(outcome.clone());
        }
    }
}

/// The ids of the newest lines, at most [`RECENT_IDS`].
#[derive(Debug, Default)]
struct Recent {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl Recent {
    fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    fn insert(&mut self, id: String) {
        if self.ids.insert(id.clone()) {
            self.order.push_back(id);
        }
        while self.order.len() > RECENT_IDS {
            if let Some(oldest) = self.order.pop_front() {
                self.ids.remove(&oldest);
            }
        }
    }
}

impl FileSink {
    /// Opens (creating) the file at `path`.
    pub fn open(path: &Path) -> anyhow::Result<FileSink> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut options = OpenOptions::new();
        options.create(true).read(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).with_context(|| format!("opening {}", path.display()))?;
        #[cfg(unix)]
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600)).with_context(|| format!("making {} private", path.display()))?;
        let length = file.metadata()?.len();
        let start = length.saturating_sub(TAIL_BYTES);
        file.seek(SeekFrom::Start(start))?;
        let mut tail = Vec::new();
        file.read_to_end(&mut tail)?;
        let mut recent = Recent::default();
        for line in tail.split(|byte| *byte == b'\n') {
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(line)
                && let Some(id) = value.get("id").and_then(|id| id.as_str())
            {
                recent.insert(id.to_owned());
            }
        }
        let mut length = length;
        if tail.last().is_some_and(|byte| *byte != b'\n') {
            file.write_all(b"\n")?;
            file.sync_data()?;
            length += 1;
        }
        Ok(FileSink {
            path: path.to_owned(),
            state: Arc::new(Mutex::new(State {
                file,
                length,
                recent,
                #[cfg(test)]
                groups: 0,
            })),
            waiting: Arc::default(),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `report` as one line and fsyncs.
    pub async fn deliver(&self, report: &PipelineReport) -> Result<Delivered, DeliveryError> {
        let line = serde_json::to_vec(report).map_err(|error| DeliveryError::Permanent(error.to_string()))?;
        self.append(report.id.clone(), line).await
    }

    /// Appends a forwarder round's reports, one line each, with one write and one fsync for
    /// all of them (a report already in the file is skipped); each report's outcome in order.
    pub async fn deliver_all(&self, reports: &[PipelineReport]) -> Vec<Result<Delivered, DeliveryError>> {
        let queued: Vec<_> = reports
            .iter()
            .map(|report| {
                let line = serde_json::to_vec(report).map_err(|error| DeliveryError::Permanent(error.to_string()))?;
                Ok((report.id.clone(), self.enqueue(report.id.clone(), line)))
            })
            .collect();
        if let Err(error) = self.write_waiting().await {
            return reports.iter().map(|_| Err(error.clone())).collect();
        }
        let mut outcomes = Vec::with_capacity(queued.len());
        for entry in queued {
            outcomes.push(match entry {
                Ok((id, written)) => settled(id, written).await,
                Err(error) => Err(error),
            });
        }
        outcomes
    }

    /// Appends a follow-up message (reopened, rated, escalated) as its own line.
    pub async fn deliver_message(&self, message: &PipelineMessage) -> Result<Delivered, DeliveryError> {
        let line = serde_json::to_vec(message).map_err(|error| DeliveryError::Permanent(error.to_string()))?;
        self.append(message.id.clone(), line).await.map(|_| Delivered::default())
    }

    async fn append(&self, id: String, line: Vec<u8>) -> Result<Delivered, DeliveryError> {
        let written = self.enqueue(id.clone(), line);
        self.write_waiting().await?;
        settled(id, written).await
    }

    /// Puts `line` among the lines waiting for the next group; the receiver hears how its
    /// write went.
    fn enqueue(&self, id: String, mut line: Vec<u8>) -> oneshot::Receiver<Result<(), String>> {
        line.push(b'\n');
        let (sent, written) = oneshot::channel();
        self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(Waiting { id, line, written: sent });
        written
    }

    /// Writes every line waiting, the caller's too unless a group before took it, on a
    /// blocking thread.
    async fn write_waiting(&self) -> Result<(), DeliveryError> {
        let (state, waiting) = (self.state.clone(), self.waiting.clone());
        tokio::task::spawn_blocking(move || {
            let mut state = state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let group = std::mem::take(&mut *waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
            if !group.is_empty() {
                state.write_group(group);
            }
        })
        .await
        .map_err(|error| DeliveryError::Retry { reason: error.to_string(), after: None })
    }

    /// Groups written so far (each one write and one fsync).
    #[cfg(test)]
    fn groups(&self) -> u64 {
        self.state.lock().unwrap().groups
    }
}

/// The outcome of line `id` once its group was written.
async fn settled(id: String, written: oneshot::Receiver<Result<(), String>>) -> Result<Delivered, DeliveryError> {
    match written.await {
        Ok(Ok(())) => Ok(Delivered { ticket_id: Some(id) }),
        Ok(Err(error)) => Err(DeliveryError::Retry { reason: format!("writing the pipeline file: {error}"), after: None }),
        Err(_) => Err(DeliveryError::Retry { reason: "the pipeline file's writer stopped".into(), after: None }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_ids_stay_bounded_and_keep_the_newest() {
        let mut recent = Recent::default();
        for index in 0..RECENT_IDS + 500 {
            recent.insert(format!("id-{index}"));
        }
        assert_eq!(recent.ids.len(), RECENT_IDS);
        assert!(recent.contains(&format!("id-{}", RECENT_IDS + 499)));
        assert!(!recent.contains("id-0"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lines_delivered_at_once_are_each_written_once_and_a_repeat_is_skipped_also_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipeline.jsonl");
        let line = |index: usize| format!("{{\"id\":\"id-{index}\"}}").into_bytes();
        let sink = Arc::new(FileSink::open(&path).unwrap());
        let appends: Vec<_> = (0..40)
            .map(|index| {
                let sink = sink.clone();
                tokio::spawn(async move { sink.append(format!("id-{index}"), line(index)).await })
            })
            .collect();
        for append in appends {
            assert_eq!(append.await.unwrap().unwrap().ticket_id.map(|id| id.starts_with("id-")), Some(true));
        }
        sink.append("id-3".into(), line(3)).await.unwrap();
        let lines = |path: &Path| {
            let mut lines: Vec<String> = std::fs::read_to_string(path).unwrap().lines().map(str::to_owned).collect();
            lines.sort();
            lines
        };
        let mut expected: Vec<String> = (0..40).map(|index| String::from_utf8(line(index)).unwrap()).collect();
        expected.sort();
        assert_eq!(lines(&path), expected, "every line once, whole, the repeat skipped");
        drop(sink);
        let reopened = FileSink::open(&path).unwrap();
        reopened.append("id-39".into(), line(39)).await.unwrap();
        reopened.append("id-40".into(), line(40)).await.unwrap();
        expected.push(String::from_utf8(line(40)).unwrap());
        expected.sort();
        assert_eq!(lines(&path), expected, "after a restart the tail's ids are still known");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_forwarder_round_is_one_write_and_a_report_already_in_the_file_is_not_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipeline.jsonl");
        let report = |index: usize| -> PipelineReport {
            serde_json::from_value(serde_json::json!({
                "id": format!("id-{index}"), "tracking_no": "7KQM-4XHD", "created_at": "2026-12-01T00:00:00.000Z", "department": "city_management",
                "report": { "category": "manhole_cover", "kind": "complaint", "description": format!("report {index}"), "lang": "zh-CN" },
                "photos": [], "related": [], "related_count": 0, "escalate": false
            }))
            .unwrap()
        };
        let sink = FileSink::open(&path).unwrap();
        sink.deliver(&report(0)).await.unwrap();
        let round: Vec<PipelineReport> = (0..32).map(report).collect();

        let outcomes = sink.deliver_all(&round).await;

        let tickets: Vec<Option<String>> = outcomes.into_iter().map(|outcome| outcome.unwrap().ticket_id).collect();
        assert_eq!(tickets, (0..32).map(|index| Some(format!("id-{index}"))).collect::<Vec<_>>(), "each report's outcome, in order");
        assert_eq!(sink.groups(), 2, "the lone report, then the round in one write and one fsync");
        let lines: Vec<PipelineReport> = std::fs::read_to_string(&path).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        let ids: Vec<&str> = lines.iter().map(|line| line.id.as_str()).collect();
        assert_eq!(ids, (0..32).map(|index| format!("id-{index}")).collect::<Vec<_>>(), "every report once: the one already there is not repeated");
    }

    #[cfg(unix)]
    #[test]
    fn the_pipeline_file_is_private_to_its_owner_even_if_it_existed_before() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipeline.jsonl");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let _sink = FileSink::open(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
