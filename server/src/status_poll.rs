//! Status from pipelines that do not call back: for the Open311 sink, every
//! `status_poll_secs` the open tickets are looked up (`tokens/…` first for requests still
//! known by token, then `requests.json`) and what changed is appended to each report's
//! timeline. Other sinks report through `POST /api/v1/pipeline/events`, and this task idles.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::ForwarderSettings;
use crate::ids;
use crate::sink::Sink;
use crate::sink::open311::{Open311Sink, TOKEN_PREFIX};
use crate::store::Store;

/// Tickets asked about per poll.
const BATCH: usize = 200;

/// Runs until `shutdown` turns true.
pub async fn run(store: Store, sink: Arc<Sink>, settings: ForwarderSettings, mut shutdown: watch::Receiver<bool>) {
    let Sink::Open311(open311) = sink.as_ref() else { return };
    let interval = Duration::from_secs(settings.status_poll_secs.max(1));
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            _ = shutdown.wait_for(|stopped| *stopped) => return,
        }
        if let Err(error) = poll_once(&store, open311).await {
            tracing::warn!(%error, "Open311 status poll failed");
        }
    }
}

/// One poll: resolves tokens, fetches states, records changes. Returns how many status
/// events were new.
pub async fn poll_once(store: &Store, open311: &Open311Sink) -> anyhow::Result<usize> {
    let mut by_request = Vec::new();
    for (report_id, ticket) in store.open_tickets(BATCH).await? {
        match ticket.strip_prefix(TOKEN_PREFIX) {
            Some(token) => {
                if let Some(request_id) = open311.resolve_token(token).await? {
                    store.set_ticket(&report_id, &request_id).await?;
                    by_request.push((report_id, request_id));
                }
            }
            None => by_request.push((report_id, ticket)),
        }
    }
    let ids: Vec<String> = by_request.iter().map(|(_, request)| request.clone()).collect();
    let mut recorded = 0;
    for remote in open311.poll(&ids).await? {
        let Some((report_id, _)) = by_request.iter().find(|(_, request)| *request == remote.service_request_id) else { continue };
        let at = remote
            .updated
            .as_deref()
            .and_then(|updated| humantime::parse_rfc3339_weak(updated).ok())
            .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or_else(ids::now_ms, |elapsed| elapsed.as_millis() as i64);
        if store.record_status(report_id, remote.status, at, remote.notes).await? {
            recorded += 1;
        }
    }
    Ok(recorded)
}
