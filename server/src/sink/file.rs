//! The embedded default pipeline: one JSON line per report appended to a local file and
//! fsynced before the delivery counts. A crash between the fsync and the outbox update
//! would deliver the last report again on restart, so the sink remembers the ids in the
//! file's tail and skips a report already there: the file holds each report once. A line
//! torn by a crash is closed with a newline on open, so the next line starts cleanly.
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

use super::{Delivered, DeliveryError};
use lianxin_contract::pipeline::{PipelineMessage, PipelineReport};

/// How much of the file's end is read at start-up to find recent ids. The forwarder
/// delivers one report at a time, so only the last line can be a repeat; 1 MiB covers it
/// with a wide margin.
const TAIL_BYTES: u64 = 1 << 20;
/// Ids remembered for repeat suppression, newest kept: only the last delivery can be
/// repeated, so the memory stays bounded for the life of the process.
const RECENT_IDS: usize = 1024;

/// Appends reports to a JSON-lines file.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    file: File,
    recent: Recent,
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
        if tail.last().is_some_and(|byte| *byte != b'\n') {
            file.write_all(b"\n")?;
            file.sync_data()?;
        }
        Ok(FileSink { path: path.to_owned(), state: Arc::new(Mutex::new(State { file, recent })) })
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

    /// Appends a follow-up message (reopened, rated, escalated) as its own line.
    pub async fn deliver_message(&self, message: &PipelineMessage) -> Result<Delivered, DeliveryError> {
        let line = serde_json::to_vec(message).map_err(|error| DeliveryError::Permanent(error.to_string()))?;
        self.append(message.id.clone(), line).await.map(|_| Delivered::default())
    }

    async fn append(&self, id: String, mut line: Vec<u8>) -> Result<Delivered, DeliveryError> {
        line.push(b'\n');
        let state = self.state.clone();
        tokio::task::spawn_blocking(move || {
            let mut state = state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if !state.recent.contains(&id) {
                state.file.write_all(&line)?;
                state.file.sync_data()?;
                state.recent.insert(id.clone());
            }
            Ok::<_, std::io::Error>(Delivered { ticket_id: Some(id) })
        })
        .await
        .map_err(|error| DeliveryError::Retry { reason: error.to_string(), after: None })?
        .map_err(|error| DeliveryError::Retry { reason: format!("writing the pipeline file: {error}"), after: None })
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
