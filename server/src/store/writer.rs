//! The single SQLite writer with group commit. Every write is a job sent to one thread that
//! owns the write connection; the thread takes every job that is waiting, runs them inside
//! one transaction, commits once (one fsync for the whole group), and only then tells each
//! caller its result. Under load many reports share one commit, so durability does not cap
//! throughput at one fsync per report; when idle, a lone report commits at once.
//!
//! A job that fails must leave nothing behind while the rest of its group commits. The
//! group first runs without savepoints: a savepoint makes SQLite copy every page a job
//! touches into a statement journal, and jobs almost never fail. If one does fail (or
//! panics), the whole transaction is rolled back and the group runs again with each job in
//! its own savepoint, so only the failing one's writes are undone. Jobs are therefore
//! `FnMut`: a job may run twice, and only its last run counts.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::StoreError;

/// A write job waiting in the queue.
trait Job: Send {
    /// Runs the work in the group's transaction, in its own savepoint when `isolated`;
    /// keeps the outcome and says whether it succeeded.
    fn run(&mut self, connection: &Connection, isolated: bool) -> bool;
    /// Tells the caller the kept outcome once the group's commit succeeded (`true`) or
    /// failed (`false`).
    fn reply(self: Box<Self>, committed: bool);
}

struct Pending<T, F> {
    work: F,
    outcome: Option<Result<T, StoreError>>,
    answer: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send,
    F: FnMut(&Connection) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, connection: &Connection, isolated: bool) -> bool {
        let outcome = if isolated { in_savepoint(connection, &mut self.work) } else { guarded(connection, &mut self.work, false) };
        let succeeded = outcome.is_ok();
        self.outcome = Some(outcome);
        succeeded
    }

    fn reply(self: Box<Self>, committed: bool) {
        let outcome = self.outcome.unwrap_or(Err(StoreError::CommitFailed));
        let _ = self.answer.send(if committed { outcome } else { outcome.and(Err(StoreError::CommitFailed)) });
    }
}

/// Largest group of jobs committed together.
const MAX_GROUP: usize = 256;

/// Handle to the writer thread.
#[derive(Clone, Debug)]
pub struct Writer {
    jobs: std_mpsc::Sender<Box<dyn Job>>,
    commits: Arc<AtomicU64>,
}

impl Writer {
    /// Starts the writer thread owning `connection`.
    pub fn start(connection: Connection) -> Writer {
        let (jobs, queue) = std_mpsc::channel::<Box<dyn Job>>();
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
    /// If `work` fails, only its own writes are undone; the group goes on. `work` may run
    /// twice (see the module's notes); the result of its last run is returned.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (answer, result) = oneshot::channel();
        self.jobs.send(Box::new(Pending { work, outcome: None, answer })).map_err(|_| StoreError::WriterGone)?;
        result.await.map_err(|_| StoreError::WriterGone)?
    }
}

/// Runs one cached statement without parameters (the savepoint's own: prepared once per
/// connection, not parsed again for every job).
fn run_cached(connection: &Connection, sql: &str) -> Result<(), StoreError> {
    connection.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Runs `work`, turning a panic into an error: the writer is SQLite's only one and must
/// outlive any bug in a single job. The panic is logged on the run that counts (`last`).
fn guarded<T>(connection: &Connection, work: &mut impl FnMut(&Connection) -> Result<T, StoreError>, last: bool) -> Result<T, StoreError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(connection))).unwrap_or_else(|_| {
        if last {
            tracing::error!("a write job panicked; it was rolled back");
        }
        Err(StoreError::JobPanicked)
    })
}

fn in_savepoint<T>(connection: &Connection, work: &mut impl FnMut(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
    run_cached(connection, "SAVEPOINT job")?;
    match guarded(connection, work, true) {
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

/// Runs the group in one transaction: first all jobs plainly; if one fails, again from a
/// rolled-back start, each in its own savepoint. Returns whether the transaction is open
/// (and holds every job's last run).
fn run_group(connection: &Connection, group: &mut [Box<dyn Job>]) -> bool {
    if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
        tracing::error!(%error, "cannot begin a write transaction");
        return false;
    }
    if group.iter_mut().all(|job| job.run(connection, false)) {
        return true;
    }
    // The transaction may already be gone (SQLite rolls back by itself on some errors).
    let _ = connection.execute_batch("ROLLBACK");
    if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
        tracing::error!(%error, "cannot begin a write transaction");
        return false;
    }
    for job in group.iter_mut() {
        job.run(connection, true);
    }
    true
}

fn run(connection: Connection, queue: std_mpsc::Receiver<Box<dyn Job>>, commits: &AtomicU64) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        // Without an open transaction every caller gets an error (a job whose plain run
        // succeeded is told the commit failed) and nothing of theirs was written.
        let committed = run_group(&connection, &mut group)
            && match connection.execute_batch("COMMIT") {
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
        for job in group {
            job.reply(committed);
        }
    }
}

/// The writer held in a job of its own, for tests that queue a group behind it.
#[cfg(test)]
pub(super) struct Held {
    release: std_mpsc::Sender<()>,
    job: tokio::task::JoinHandle<Result<(), StoreError>>,
}

#[cfg(test)]
impl Held {
    /// Lets the holding job end and waits until it has committed.
    pub(super) async fn release(self) {
        self.release.send(()).expect("the holding job waits");
        self.job.await.expect("the holding job ends").expect("the holding job commits");
    }
}

#[cfg(test)]
impl Writer {
    /// Holds the writer until [`Held::release`]: jobs sent meanwhile run as one group.
    pub(super) async fn hold(&self) -> Held {
        let (release, held) = std_mpsc::channel::<()>();
        let writer = self.clone();
        let job = tokio::spawn(async move {
            writer
                .write(move |_| {
                    let _ = held.recv();
                    Ok(())
                })
                .await
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        Held { release, job }
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

    #[tokio::test]
    async fn a_job_failing_halfway_in_a_group_undoes_only_its_own_writes_and_the_group_commits_once() {
        let connection = Connection::open_in_memory().unwrap();
        connection.execute_batch("CREATE TABLE notes (text TEXT NOT NULL UNIQUE)").unwrap();
        let writer = Writer::start(connection);
        // The writer is held in a job of its own while the group queues up behind it.
        let held = writer.hold().await;
        let insert = |texts: &'static [&'static str]| {
            let writer = writer.clone();
            tokio::spawn(async move {
                writer
                    .write(move |connection| {
                        for text in texts {
                            connection.execute("INSERT INTO notes VALUES (?1)", [text])?;
                        }
                        Ok(connection.last_insert_rowid())
                    })
                    .await
            })
        };
        let first = insert(&["a"]);
        let second = insert(&["b"]);
        // Writes "c", then fails on a second "a".
        let failing = insert(&["c", "a"]);
        let last = insert(&["d"]);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        held.release().await;

        let (first, second, failing, last) = (first.await.unwrap(), second.await.unwrap(), failing.await.unwrap(), last.await.unwrap());
        assert!(matches!(failing, Err(StoreError::Sqlite(_))), "{failing:?}");
        assert_eq!((first.unwrap(), second.unwrap(), last.unwrap()), (1, 2, 3), "the others' rows, numbered as if the failing job had never run");
        let notes = writer.write(|connection| Ok(connection.query_row("SELECT group_concat(text, ',') FROM notes ORDER BY rowid", [], |row| row.get::<_, String>(0))?)).await.unwrap();
        assert_eq!(notes, "a,b,d", "the failing job's own first write is undone, the rest of its group is kept");
        assert_eq!(writer.commits(), 3, "the held job, the group of four, the read");
    }
}
