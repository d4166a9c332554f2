//! Drains the outbox into the pipeline sink. Delivery is at-least-once towards the sink,
//! with the report id as idempotency key so the pipeline can make it exactly-once. A
//! failure is retried with exponential backoff and jitter, up to a limit after which the
//! report waits in the dead-letter state for an operator.
//!
//! Several server instances may share one database: each forwarder leases the rows it
//! takes for `lease_ms`, delivers only while its lease has room for a whole delivery, and
//! gives back what it did not deliver. A crashed instance's leases run out and another
//! forwarder takes the rows; the pipeline's idempotency key absorbs the rare redelivery.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{Notify, watch};

use crate::config::ForwarderSettings;
use crate::ids;
use crate::photo_links::PhotoLinks;
use crate::sink::{DeliveryError, FileSink, Sink};
use crate::store::Store;

/// The largest `[forwarder] round_size`: the pipeline file remembers the ids of at least
/// this many lines, so a round sent again after a crash is not written twice.
pub const MAX_ROUND: usize = 256;

/// Wakes the forwarder and shows it is alive.
#[derive(Clone, Debug, Default)]
pub struct ForwarderHandle {
    wake: Arc<Notify>,
    heartbeat_ms: Arc<AtomicI64>,
}

impl ForwarderHandle {
    /// Tells the forwarder a new report is waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// When the forwarder last finished a round (ms since the epoch); 0 before the first.
    pub fn last_round_ms(&self) -> i64 {
        self.heartbeat_ms.load(Ordering::Relaxed)
    }
}

/// The outbox forwarder.
#[derive(Debug)]
pub struct Forwarder {
    store: Store,
    sink: Arc<Sink>,
    settings: ForwarderSettings,
    handle: ForwarderHandle,
    photo_links: Arc<PhotoLinks>,
    /// This instance's name on its leases.
    owner: String,
}

impl Forwarder {
    /// A forwarder draining `store` into `sink`.
    pub fn new(store: Store, sink: Arc<Sink>, settings: ForwarderSettings, photo_links: Arc<PhotoLinks>) -> Forwarder {
        let owner = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        Forwarder { store, sink, settings, handle: ForwarderHandle::default(), photo_links, owner }
    }

    /// A handle to wake it and watch it.
    pub fn handle(&self) -> ForwarderHandle {
        self.handle.clone()
    }

    /// Runs until `shutdown` turns true, finishing the delivery under way first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        self.store.forwarder_started().await?;
        loop {
            self.handle.heartbeat_ms.store(ids::now_ms(), Ordering::Relaxed);
            let delivered_any = match self.round(&shutdown).await {
                Ok(count) => {
                    // A small round: give the next one a moment to fill (fewer commits and
                    // sink writes per report; a hotline's pipeline does not miss 25 ms).
                    if count > 0 && count < self.settings.round_size / 2 && self.settings.gather_ms > 0 {
                        tokio::select! {
                            _ = tokio::time::sleep(self.settings.gather_interval()) => {}
                            _ = shutdown.changed() => {}
                        }
                    }
                    count > 0
                }
                Err(error) => {
                    tracing::error!(%error, "forwarder round failed");
                    false
                }
            };
            if *shutdown.borrow() {
                return Ok(());
            }
            if !delivered_any {
                tokio::select! {
                    _ = self.handle.wake.notified() => {}
                    _ = tokio::time::sleep(self.settings.poll_interval()) => {}
                    _ = shutdown.changed() => return Ok(()),
                }
            }
        }
    }

    /// Leases the due reports and delivers them; returns how many were leased.
    async fn round(&self, shutdown: &watch::Receiver<bool>) -> anyhow::Result<usize> {
        let now = ids::now_ms();
        let lease_until = now + self.settings.lease_ms as i64;
        let due = self.store.claim_due(&self.owner, now, lease_until, self.settings.round_size).await?;
        // Up to `concurrent_deliveries` reports are delivered at once (the pipeline file
        // takes the whole round in one write and one fsync). The round's deliveries
        // are recorded together, in one transaction after the round (a crash before it
        // redelivers them under the same idempotency keys, as a crash between one delivery
        // and its record always could). A delivery starts only while its lease has room.
        let claimed = due.len();
        let reports = match self.store.outbox_reports(due).await {
            Ok(reports) => reports,
            Err(error) => {
                self.store.release_leases(&self.owner).await?;
                return Err(error.into());
            }
        };
        let outcomes = match self.sink.as_ref() {
            // The pipeline file takes a whole round in one write and one fsync.
            Sink::File(file) => self.deliver_round_to_file(file, reports, lease_until, shutdown).await,
            _ => {
                futures_util::stream::iter(reports)
                    .map(|report| async move {
                        let room = lease_until - ids::now_ms();
                        if *shutdown.borrow() || room < self.settings.delivery_timeout_ms as i64 {
                            return None;
                        }
                        Some(self.deliver_one(report).await)
                    })
                    .buffer_unordered(self.settings.concurrent_deliveries.max(1))
                    .collect()
                    .await
            }
        };
        let attempted = outcomes.iter().flatten().count();
        let (mut delivered, mut failure) = (Vec::new(), None);
        for outcome in outcomes.into_iter().flatten() {
            match outcome {
                Ok(done) => delivered.extend(done),
                Err(error) => {
                    failure.get_or_insert(error);
                }
            }
        }
        self.record(delivered).await?;
        if let Some(error) = failure {
            self.store.release_leases(&self.owner).await?;
            return Err(error);
        }
        if attempted < claimed {
            self.store.release_leases(&self.owner).await?;
            return Ok(claimed);
        }
        // Then the follow-up messages of reports the pipeline has (reopened, rated,
        // escalated), leased and retried the same way.
        let lease_until = ids::now_ms() + self.settings.lease_ms as i64;
        let messages = self.store.claim_messages(&self.owner, ids::now_ms(), lease_until, self.settings.round_size).await?;
        let mut sent = 0;
        for id in &messages {
            if *shutdown.borrow() || lease_until - ids::now_ms() < self.settings.delivery_timeout_ms as i64 {
                break;
            }
            let outcome = self.deliver_message(id).await;
            sent += 1;
            if let Err(error) = outcome {
                self.store.release_leases(&self.owner).await?;
                return Err(error);
            }
        }
        if sent < messages.len() {
            self.store.release_leases(&self.owner).await?;
        }
        Ok(claimed + messages.len())
    }

    /// Records a round's deliveries. When that fails, the round's leases are released at
    /// once rather than held until they expire: the next round delivers those reports again
    /// under the same idempotency keys (as after a crash between delivery and record).
    async fn record(&self, delivered: Vec<(String, Option<String>)>) -> anyhow::Result<()> {
        if let Err(error) = self.store.mark_delivered(delivered).await {
            let _ = self.store.release_leases(&self.owner).await;
            return Err(error.into());
        }
        Ok(())
    }

    /// A delivery cut off at the delivery timeout (then retried like any temporary failure).
    async fn within_timeout<T>(&self, delivery: impl Future<Output = Result<T, DeliveryError>>) -> Result<T, DeliveryError> {
        let timeout = Duration::from_millis(self.settings.delivery_timeout_ms);
        tokio::time::timeout(timeout, delivery).await.unwrap_or_else(|_| Err(DeliveryError::Retry { reason: format!("no answer within {timeout:?}"), after: None }))
    }

    /// After failed attempt `attempts` of something queued at `created_ms`: the wait before the
    /// next, and whether to give up (dead letter). The pipeline's Retry-After is honoured up
    /// to our own backoff cap: a huge value must neither wrap into the past (a retry storm)
    /// nor park a delivery for years past its dead-letter age.
    fn next_attempt(&self, attempts: u32, created_ms: i64, after: Option<Duration>) -> (Duration, bool) {
        let too_old = ids::now_ms() - created_ms > self.settings.max_age_hours as i64 * 3_600_000;
        let dead = attempts >= self.settings.max_attempts || too_old;
        let cap = Duration::from_millis(self.settings.retry_max_ms);
        (after.map_or_else(|| backoff(&self.settings, attempts), |asked| asked.min(cap)), dead)
    }

    async fn deliver_message(&self, id: &str) -> anyhow::Result<()> {
        let (mut message, created_ms, attempts_before) = self.store.message(id).await?;
        if let Some(photo) = message.support.as_mut().and_then(|support| support.photo.as_mut()) {
            photo.url = Some(self.photo_links.url(&photo.sha256, (ids::now_ms() / 1000) as u64));
        }
        match self.within_timeout(self.sink.deliver_message(&message)).await {
            Ok(_) => {
                self.store.message_delivered(id).await?;
                tracing::info!(message = id, kind = message.message.code(), "follow-up message forwarded");
            }
            Err(DeliveryError::Permanent(reason)) => {
                self.store.message_failed(id, reason.clone(), ids::now_ms(), true).await?;
                tracing::warn!(message = id, %reason, "pipeline refused the message; moved to dead letter");
            }
            Err(DeliveryError::Retry { reason, after }) => {
                let attempts = attempts_before + 1;
                let (delay, dead) = self.next_attempt(attempts, created_ms, after);
                self.store.message_failed(id, reason.clone(), ids::now_ms() + delay.as_millis() as i64, dead).await?;
                tracing::warn!(message = id, attempts, %reason, ?delay, dead_letter = dead, "message delivery failed");
            }
        }
        Ok(())
    }

    /// Delivers a report read for this round: a success is returned (id and ticket), to be
    /// recorded with the round's; a failure is recorded at once.
    async fn deliver_one(&self, outgoing: crate::store::Outgoing) -> anyhow::Result<Option<Forwarded>> {
        let (report, created_ms) = self.linked(outgoing);
        let outcome = self.within_timeout(self.sink.deliver(&report)).await;
        self.settle(&report.id, created_ms, outcome).await
    }

    /// Delivers a round to the pipeline file at once (one write, one fsync), if the lease
    /// has room for it; each report's outcome settled as [`Forwarder::deliver_one`] does.
    async fn deliver_round_to_file(&self, file: &FileSink, round: Vec<crate::store::Outgoing>, lease_until: i64, shutdown: &watch::Receiver<bool>) -> Vec<Option<anyhow::Result<Option<Forwarded>>>> {
        if *shutdown.borrow() || lease_until - ids::now_ms() < self.settings.delivery_timeout_ms as i64 {
            return round.iter().map(|_| None).collect();
        }
        let (reports, created): (Vec<_>, Vec<_>) = round.into_iter().map(|outgoing| self.linked(outgoing)).unzip();
        let outcomes = match self.within_timeout(async { Ok(file.deliver_all(&reports).await) }).await {
            Ok(outcomes) => outcomes,
            Err(timed_out) => reports.iter().map(|_| Err(timed_out.clone())).collect(),
        };
        let mut settled = Vec::with_capacity(reports.len());
        for ((report, created_ms), outcome) in reports.iter().zip(created).zip(outcomes) {
            settled.push(Some(self.settle(&report.id, created_ms, outcome).await));
        }
        settled
    }

    /// The report to send, its photos linked for this hour, and when it was queued.
    fn linked(&self, outgoing: crate::store::Outgoing) -> (lianxin_contract::pipeline::PipelineReport, i64) {
        let crate::store::Outgoing { message: mut report, created_ms } = outgoing;
        let now_secs = (ids::now_ms() / 1000) as u64;
        for photo in &mut report.photos {
            photo.url = Some(self.photo_links.url(&photo.sha256, now_secs));
        }
        (report, created_ms)
    }

    /// A delivery's outcome: a success returned to be recorded with the round's, a failure
    /// recorded at once (dead letter, or the next attempt's time).
    async fn settle(&self, id: &str, created_ms: i64, outcome: Result<crate::sink::Delivered, DeliveryError>) -> anyhow::Result<Option<Forwarded>> {
        match outcome {
            Ok(done) => {
                tracing::info!(report = id, "report forwarded");
                return Ok(Some((id.to_owned(), done.ticket_id)));
            }
            Err(DeliveryError::Permanent(reason)) => {
                self.store.mark_failed(id, reason.clone(), ids::now_ms(), true).await?;
                tracing::warn!(report = id, %reason, "pipeline refused the report; moved to dead letter");
            }
            Err(DeliveryError::Retry { reason, after }) => {
                let attempts = self.store.attempts(id).await? + 1;
                let (delay, dead) = self.next_attempt(attempts, created_ms, after);
                self.store.mark_failed(id, reason.clone(), ids::now_ms() + delay.as_millis() as i64, dead).await?;
                tracing::warn!(report = id, attempts, %reason, ?delay, dead_letter = dead, "delivery failed");
            }
        }
        Ok(None)
    }
}

/// A report the pipeline has: its id and the pipeline's ticket, if it named one.
type Forwarded = (String, Option<String>);

/// The wait before attempt `attempts + 1`: doubling from the base, capped, with "equal
/// jitter" (half fixed, half random) so retries of many reports spread out.
pub fn backoff(settings: &ForwarderSettings, attempts: u32) -> Duration {
    let exponent = attempts.saturating_sub(1).min(30);
    let full = settings.retry_base_ms.saturating_mul(1 << exponent).min(settings.retry_max_ms);
    let mut random = [0u8; 8];
    let _ = getrandom::fill(&mut random);
    let jitter = u64::from_le_bytes(random) % (full / 2 + 1);
    Duration::from_millis(full / 2 + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let settings = ForwarderSettings { retry_base_ms: 1000, retry_max_ms: 60_000, ..ForwarderSettings::default() };
        for (attempts, full) in [(1, 1000), (2, 2000), (3, 4000), (10, 60_000), (40, 60_000)] {
            let delay = backoff(&settings, attempts).as_millis() as u64;
            assert!((full / 2..=full).contains(&delay), "attempt {attempts}: {delay} ms");
        }
    }
}
