//! The single SQLite writer with group commit. Every write is a job sent to one thread that
//! owns the write connection; the thread takes every job that is waiting, runs each in its
//! own savepoint inside one transaction, commits once (one fsync for the whole group), and
//! only then tells each caller its result. Under load many reports share one commit, so
//! durability does not cap throughput at one fsync per report; when idle, a lone report
//! commits at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::StoreError;

/// A write job: runs inside the group's transaction and returns what to tell the caller
/// once the group's commit has succeeded (`true`) or failed (`false`).
type Job = Box<dyn FnOnce(&Connection) -> Box<dyn FnOnce(bool) + Send> + Send>;

/// Largest group of jobs committed together.
const MAX_GROUP: usize = 256;

/// Handle to the writer thread.
#[derive(Clone, Debug)]
pub struct Writer {
    jobs: std_mpsc::Sender<Job>,
    commits: Arc<AtomicU64>,
}

impl Writer {
    /// Starts the writer thread owning `connection`.
    pub fn start(connection: Connection) -> Writer {
        let (jobs, queue) = std_mpsc::channel::<Job>();
        let commits = Arc::new(AtomicU64::new(0));
        let counter = commits.clone();
        std::thread::Builder::new().name("lianxin-sqlite-writer".into()).spawn(move || run(connection, queue, &counter)).expect("the writer thread starts");
        Writer { jobs, commits }
    }

    /// Transactions committed so far (each holding one or more jobs).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Runs `work` in the next group transaction and returns its result once committed.
    /// If `work` fails, only its own savepoint is rolled back; the group goes on.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (answer, result) = oneshot::channel();
        let job: Job = Box::new(move |connection: &Connection| {
            let outcome = in_savepoint(connection, work);
            Box::new(move |committed: bool| {
                let outcome = if committed { outcome } else { outcome.and(Err(StoreError::CommitFailed)) };
                let _ = answer.send(outcome);
            })
        });
        self.jobs.send(job).map_err(|_| StoreError::WriterGone)?;
        result.await.map_err(|_| StoreError::WriterGone)?
    }
}

/// Runs one cached statement without parameters (the savepoint's own: prepared once per
/// connection, not parsed again for every job).
fn run_cached(connection: &Connection, sql: &str) -> Result<(), StoreError> {
    connection.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn in_savepoint<T>(connection: &Connection, work: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
    run_cached(connection, "SAVEPOINT job")?;
    // A job that panics is rolled back like one that failed: the writer is SQLite's only
    // one, and must outlive any bug in a single job.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(connection))).unwrap_or_else(|_| {
        tracing::error!("a write job panicked; it was rolled back");
        Err(StoreError::JobPanicked)
    });
    match outcome {
        Ok(value) => {
            run_cached(connection, "RELEASE job")?;
            Ok(value)
        }
        Err(error) => {
            run_cached(connection, "ROLLBACK TO job")?;
            run_cached(connection, "RELEASE job")?;
            Err(error)
        }
    }
}

fn run(connection: Connection, queue: std_mpsc::Receiver<Job>, commits: &AtomicU64) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let began = connection.execute_batch("BEGIN IMMEDIATE");
        let replies: Vec<_> = if began.is_ok() {
            group.into_iter().map(|job| job(&connection)).collect()
        } else {
            // Dropping the jobs drops their reply channels: each caller gets an error and
            // nothing of theirs was written.
            tracing::error!(error = ?began, "cannot begin a write transaction");
            drop(group);
            continue;
        };
        let committed = match connection.execute_batch("COMMIT") {
            Ok(()) => {
                commits.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(error) => {
                tracing::error!(%error, "group commit failed");
                let _ = connection.execute_batch("ROLLBACK");
                false
            }
        };
        for reply in replies {
            reply(committed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_write_job_is_rolled_back_and_the_writer_goes_on() {
        let connection = Connection::open_in_memory().unwrap();
        connection.execute_batch("CREATE TABLE notes (text TEXT NOT NULL)").unwrap();
        let writer = Writer::start(connection);

        let panicked = writer
            .write(|connection| -> Result<(), StoreError> {
                connection.execute("INSERT INTO notes VALUES ('half-done')", [])?;
                panic!("a bug in one job")
            })
            .await;
        let after = writer
            .write(|connection| {
                connection.execute("INSERT INTO notes VALUES ('next')", [])?;
                Ok(connection.query_row("SELECT group_concat(text) FROM notes", [], |row| row.get::<_, String>(0))?)
            })
            .await;

        assert!(matches!(panicked, Err(StoreError::JobPanicked)), "{panicked:?}");
        assert_eq!(after.unwrap(), "next", "the panicked job left nothing; the writer still writes");
    }
}
