//! What each `lianxin` command does (the command line itself is `cli`): serving builds the
//! whole application; the operator commands open only the storage (`app::Storage`) — the
//! same database and photos as the running server — and print their answer.

use anyhow::{Context, bail};

use crate::app::Storage;
use crate::cli::{Cli, Command, OutboxCommand};
use crate::config::Config;
use crate::photo_store::{PhotoStore, Variant};
use crate::{Application, ids};

/// Runs the command `cli` names.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::Boundaries { geojson, into, tolerance_m }) = &cli.command {
        return boundaries(geojson, into, *tolerance_m);
    }
    let config = Config::load(&cli.settings).context("reading the configuration")?;
    match cli.command {
        None => {
            let application = Application::build(config).await.context("starting lianxin")?;
            tracing::info!(address = %application.address(), "lianxin is listening");
            application.run_until_stopped().await
        }
        Some(Command::MigrateToPostgres) => migrate_to_postgres(&config).await,
        Some(Command::Purge) => {
            let storage = Storage::open(&config).await?;
            // Nothing is purged from the database unless its photos can be removed too.
            anyhow::ensure!(
                storage.photos.store().writable(),
                "a running lianxin server holds the photos in {}; it purges on its own schedule — or stop it and run `lianxin purge` again",
                config.data_dir.join("photos").display()
            );
            let purged = crate::retention::purge_once(&storage.store, &storage.photos, &config.privacy).await?;
            println!("purged the personal data of {} closed or expired reports ({} photo files)", purged.reports, purged.unused_photos.len());
            Ok(())
        }
        Some(Command::Outbox { action }) => outbox(&Storage::open(&config).await?, action).await,
        Some(Command::Boundaries { .. }) => unreachable!("handled before the configuration is read"),
        Some(Command::Classes { limit }) => {
            for class in Storage::open(&config).await?.store.classes(limit).await? {
                println!("{}", serde_json::to_string(&class)?);
            }
            Ok(())
        }
    }
}

async fn outbox(storage: &Storage, action: OutboxCommand) -> anyhow::Result<()> {
    let store = &storage.store;
    match action {
        OutboxCommand::Stats => {
            let stats = store.outbox_stats().await?;
            let oldest = stats.oldest_pending_ms.map_or("none".to_owned(), |ms| format!("{} ({} s ago)", ids::rfc3339(ms), (ids::now_ms() - ms) / 1000));
            println!("pending: {}\ndead letter: {}\noldest pending: {oldest}", stats.pending, stats.dead_letter);
        }
        OutboxCommand::Pending | OutboxCommand::Dead => {
            let state = if matches!(action, OutboxCommand::Dead) { "dead_letter" } else { "pending" };
            for entry in store.outbox_entries(state, 1000).await? {
                println!("{}  {}  attempts {}  next {}  {}", entry.tracking_no, entry.report_id, entry.attempts, entry.next_attempt_at, entry.last_error.as_deref().unwrap_or(""));
            }
        }
        OutboxCommand::Requeue { which } => {
            let count = store.requeue(Some(which.clone())).await?;
            if count == 0 {
                bail!("no dead-lettered report has the id or tracking number {which}; `lianxin outbox dead` lists them");
            }
            println!("requeued {count} report");
        }
        OutboxCommand::RequeueAll => println!("requeued {} reports", store.requeue(None).await?),
    }
    Ok(())
}

/// Copies the SQLite database of `config.data_dir` into the PostgreSQL database of
/// `config.storage.database_url`, and its photos into the configured photo store. Safe to
/// run again: what is already there is kept.
async fn migrate_to_postgres(config: &Config) -> anyhow::Result<()> {
    let url = config.storage.database_url.expose();
    if url.is_empty() {
        bail!("migrate-to-postgres needs the target: --database-url postgres://…");
    }
    config.check()?;
    let cipher = crate::privacy::ContactCipher::load(&config.data_dir).context("loading the contact key")?;
    let target = crate::store::PostgresStore::open(url, config.storage.pool_size, cipher).await.context("opening the PostgreSQL database")?;
    let copied = crate::store::copy::sqlite_to_postgres(&config.data_dir, &target).await.context("copying the reports")?;
    for (table, read, written) in &copied.tables {
        println!("{table:<14} {read:>9} rows read, {written:>9} newly written");
    }
    if !config.storage.photo_store.is_empty() {
        let source = PhotoStore::local(config.data_dir.join("photos"))?;
        let target = PhotoStore::from_url(&config.storage.photo_store)?;
        let mut moved = 0;
        for hash in &copied.photo_hashes {
            let Some(photo) = source.get(hash, Variant::Full).await? else {
                continue; // purged by retention: the record stays, the bytes are gone
            };
            target.put(hash, photo.to_vec()).await?;
            // A thumbnail made already goes along; otherwise the target makes it when asked.
            if let Some(thumbnail) = source.get(hash, Variant::Thumbnail).await? {
                target.put_thumbnail(hash, thumbnail.to_vec()).await?;
            }
            moved += 1;
        }
        println!("photos         {moved:>9} copied to {}", config.storage.photo_store);
    }
    println!("done; start the servers with the same contact key (LIANXIN_CONTACT_KEY or {}/contact.key)", config.data_dir.display());
    Ok(())
}

/// `lianxin boundaries`: converts, simplifies and writes the districts' boundaries, then
/// checks the catalog still loads.
fn boundaries(geojson: &std::path::Path, catalog: &std::path::Path, tolerance_m: f64) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(geojson).with_context(|| format!("reading {}", geojson.display()))?;
    let found = crate::boundaries::from_geojson(&text, tolerance_m).map_err(|problem| anyhow::anyhow!("{}: {problem}", geojson.display()))?;
    let old = std::fs::read_to_string(catalog).with_context(|| format!("reading {}", catalog.display()))?;
    let (new, unmatched) = crate::boundaries::rewrite_catalog(&old, &found);
    crate::catalog::parse(&new).map_err(|error| anyhow::anyhow!("the rewritten catalog does not load: {error}"))?;
    std::fs::write(catalog, &new).with_context(|| format!("writing {}", catalog.display()))?;
    for boundary in &found {
        println!("{}: {} vertices", boundary.name, boundary.vertices());
    }
    println!("{} boundaries, {} bytes of catalog; districts without one: {}", found.len(), new.len(), if unmatched.is_empty() { "none".to_owned() } else { unmatched.join(", ") });
    Ok(())
}
