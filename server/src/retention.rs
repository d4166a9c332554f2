//! The retention purge: once a report has been closed (resolved, rejected or dead-lettered)
//! for longer than the retention period, or accepted longer ago than the open-report
//! retention whatever its state, its personal data is removed — contact details, the sender
//! hash, photos, description, address, exact position and the department's messages. The
//! report itself, without them, stays for the city's figures. Runs on a schedule inside the
//! server and as the `lianxin purge` command.

use std::time::Duration;

use tokio::sync::watch;

use crate::config::PrivacySettings;
use crate::ids;
use crate::photos::PhotoProcessor;
use crate::store::{Purged, Store};

/// Purges everything due now; returns what was removed.
///
/// Photos are stored by content hash, so a report being accepted right now may reuse the
/// file of a photo being purged. Files are therefore deleted under the photo processor's
/// deletion lock — which an accepting request holds from storing its photos until its
/// report is committed — and only after checking again that no kept report uses them.
pub async fn purge_once(store: &Store, photos: &PhotoProcessor, settings: &PrivacySettings) -> anyhow::Result<Purged> {
    let now = ids::now_ms();
    let day = 86_400_000;
    let purged = store.purge_due(now - i64::from(settings.retention_days) * day, now - i64::from(settings.open_retention_days) * day).await?;
    if purged.unused_photos.is_empty() {
        return Ok(purged);
    }
    remove_unused(store, photos, &purged.unused_photos).await?;
    Ok(purged)
}

/// Deletes the files of `hashes` that no kept report (nor its supporters) uses, under the
/// photo deletion lock and after checking each again: the one way a photo file goes.
pub async fn remove_unused(store: &Store, photos: &PhotoProcessor, hashes: &[String]) -> anyhow::Result<()> {
    let _no_report_being_accepted = photos.deletion_lock().write().await;
    for hash in hashes {
        if !store.photo_in_use(hash).await? {
            photos.store().remove(hash).await?;
        }
    }
    Ok(())
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
