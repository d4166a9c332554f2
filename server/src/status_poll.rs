//! Status from pipelines that do not call back: for the Open311 sink, every
//! `status_poll_secs` the open tickets are looked up (`tokens/…` first for requests still
//! known by token, then `requests.json`) and what changed is appended to each report's
//! timeline. Other sinks report through `POST /api/v1/pipeline/events`, and this task idles.
//! Every open ticket is asked about, a page at a time; one the server refuses is skipped.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::ForwarderSettings;
use crate::ids;
use crate::sink::Sink;
use crate::sink::open311::{Open311Sink, RemoteStatus, TOKEN_PREFIX};
use crate::store::{Store, StoreError};

/// Open tickets read from the store at a time; a poll goes through every page.
const PAGE: usize = 200;
/// Service request ids asked about in one `requests.json` call (the URL stays short).
const PER_CALL: usize = 50;

/// Runs until `shutdown` turns true.
pub async fn run(store: Store, sink: Arc<Sink>, settings: ForwarderSettings, mut shutdown: watch::Receiver<bool>) {
    let Sink::Open311(open311) = sink.as_ref() else {
        // Other sinks report through the pipeline-events route: idle until shutdown, like
        // every background task (one that ends early stops the server).
        let _ = shutdown.wait_for(|stopped| *stopped).await;
        return;
    };
    let interval = Duration::from_secs(settings.status_poll_secs.max(1));
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            _ = shutdown.wait_for(|stopped| *stopped) => return,
        }
        if let Err(error) = poll_once(&store, open311).await {
            tracing::warn!(%error, "Open311 status poll stopped at a store error");
        }
    }
}

/// One poll over every open ticket, a page at a time: resolves tokens, fetches states,
/// records changes. A ticket the Open311 server refuses is logged and skipped; it never
/// stops the others. Returns how many status events were new.
pub async fn poll_once(store: &Store, open311: &Open311Sink) -> Result<usize, StoreError> {
    let mut recorded = 0;
    let mut after = String::new();
    loop {
        let page = store.open_tickets(&after, PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = last.clone();
        let mut by_request = Vec::with_capacity(page.len());
        for (report_id, ticket) in &page {
            match ticket.strip_prefix(TOKEN_PREFIX) {
                Some(token) => match open311.resolve_token(token).await {
                    Ok(Some(request_id)) => {
                        store.set_ticket(report_id, &request_id).await?;
                        by_request.push((report_id.clone(), request_id));
                    }
                    Ok(None) => {}
                    Err(error) => tracing::warn!(report = %report_id, %error, "Open311 token lookup failed; the other tickets go on"),
                },
                None => by_request.push((report_id.clone(), ticket.clone())),
            }
        }
        for batch in by_request.chunks(PER_CALL) {
            for remote in states(open311, batch).await {
                let Some((report_id, _)) = batch.iter().find(|(_, request)| *request == remote.service_request_id) else { continue };
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
        }
        if page.len() < PAGE {
            break;
        }
    }
    Ok(recorded)
}

/// The states of one batch of `(report id, service request id)`. When the server refuses
/// the batch, each request is asked about alone, so one id it will not answer for costs only
/// that one.
async fn states(open311: &Open311Sink, batch: &[(String, String)]) -> Vec<RemoteStatus> {
    let ids: Vec<String> = batch.iter().map(|(_, request)| request.clone()).collect();
    match open311.poll(&ids).await {
        Ok(states) => states,
        Err(error) if batch.len() == 1 => {
            tracing::warn!(report = %batch[0].0, %error, "Open311 status lookup failed; the other tickets go on");
            Vec::new()
        }
        Err(_) => {
            let mut states = Vec::new();
            for one in batch {
                states.extend(states_of_one(open311, one).await);
            }
            states
        }
    }
}

async fn states_of_one(open311: &Open311Sink, (report_id, request_id): &(String, String)) -> Vec<RemoteStatus> {
    open311.poll(std::slice::from_ref(request_id)).await.unwrap_or_else(|error| {
        tracing::warn!(report = %report_id, %error, "Open311 status lookup failed; the other tickets go on");
        Vec::new()
    })
}
