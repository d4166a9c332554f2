//! The embedded default pipeline: one JSON line per report appended to a local file and
//! fsynced before the delivery counts. A crash between the fsync and the outbox update
//! would deliver the last report again on restart, so the sink remembers the ids in the
//! file's tail and skips a report already there: the file holds each report once. A line
//! torn by a crash is closed with a newline on open, so the next line starts cleanly.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;

use super::{Delivered, DeliveryError};
use crate::store::OutboxReport;

/// How much of the file's end is read at start-up to find recent ids. The forwarder
/// delivers one report at a time, so only the last line can be a repeat; 1 MiB covers it
/// with a wide margin.
const TAIL_BYTES: u64 = 1 << 20;

/// Appends reports to a JSON-lines file.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    file: File,
    recent: HashSet<String>,
}

impl FileSink {
    /// Opens (creating) the file at `path`.
    pub fn open(path: &Path) -> anyhow::Result<FileSink> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut file = OpenOptions::new().create(true).read(true).append(true).open(path).with_context(|| format!("opening {}", path.display()))?;
        let length = file.metadata()?.len();
        let start = length.saturating_sub(TAIL_BYTES);
        file.seek(SeekFrom::Start(start))?;
        let mut tail = Vec::new();
        file.read_to_end(&mut tail)?;
        let mut recent = HashSet::new();
        for line in tail.split(|byte| *byte == b'\n') {
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(line) {
                if let Some(id) = value.get("id").and_then(|id| id.as_str()) {
                    recent.insert(id.to_owned());
                }
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
    pub async fn deliver(&self, report: &OutboxReport) -> Result<Delivered, DeliveryError> {
        let mut line = serde_json::to_vec(report).map_err(|error| DeliveryError::Permanent(error.to_string()))?;
        line.push(b'\n');
        let id = report.id.clone();
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
