//! The retention purge: once a report has been resolved for longer than the configured
//! retention period, its contact details and photos are deleted (the report itself, without
//! personal data, stays for statistics). Runs on a schedule inside the server and as the
//! `lianxin purge` command.

use std::time::Duration;

use tokio::sync::watch;

use crate::config::PrivacySettings;
use crate::ids;
use crate::photos::PhotoProcessor;
use crate::store::{Purged, Store};

/// Purges everything due now; returns what was removed.
pub async fn purge_once(store: &Store, photos: &PhotoProcessor, settings: &PrivacySettings) -> anyhow::Result<Purged> {
    let cutoff = ids::now_ms() - i64::from(settings.retention_days) * 86_400_000;
    let purged = store.purge_resolved(cutoff).await?;
    for hash in &purged.unused_photos {
        photos.store().remove(hash).await?;
    }
    Ok(purged)
}

/// Purges every `purge_interval_minutes` until `shutdown` turns true.
pub async fn run(store: Store, photos: PhotoProcessor, settings: PrivacySettings, mut shutdown: watch::Receiver<bool>) {
    let interval = Duration::from_secs(settings.purge_interval_minutes.max(1) * 60);
    loop {
        match purge_once(&store, &photos, &settings).await {
            Ok(purged) if purged.reports > 0 => tracing::info!(reports = purged.reports, photos = purged.unused_photos.len(), "retention purge"),
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "retention purge failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            _ = shutdown.wait_for(|stopped| *stopped) => return,
        }
    }
}
