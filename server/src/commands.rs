//! The `lianxin` command line: serving is the default; the rest are operator commands that
//! open the same data dir as the running server (SQLite allows both at once).
//!
//! ```text
//! lianxin [flags]                         serve
//! lianxin purge [flags]                   run the retention purge once
//! lianxin outbox stats [flags]            counts and the oldest waiting report
//! lianxin outbox pending|dead [flags]     list waiting or dead-lettered reports
//! lianxin outbox requeue <id|tracking-no> [flags]
//! lianxin outbox requeue-all [flags]      put dead letters back in the queue
//! lianxin migrate-to-postgres --database-url postgres://… [--photo-store s3://…] [flags]
//!                                         copy the data dir's SQLite reports (and photos)
//! ```

use anyhow::{Context, bail};

use crate::config::Config;
use crate::photo_store::{PhotoStore, Variant};
use crate::{Application, ids};

/// Runs the command in `args` (the arguments after the program name).
pub async fn run(mut args: Vec<String>) -> anyhow::Result<()> {
    let command: Vec<String> = args.iter().take_while(|arg| !arg.starts_with("--")).cloned().collect();
    args.drain(..command.len());
    let mut config = Config::load(args).context("reading configuration")?;
    let words: Vec<&str> = command.iter().map(String::as_str).collect();
    if words == ["migrate-to-postgres"] {
        return migrate_to_postgres(&config).await;
    }
    if words.is_empty() {
        let application = Application::build(config).await.context("starting lianxin")?;
        tracing::info!(address = %application.address(), "lianxin is listening");
        return application.run_until_stopped().await;
    }
    // Operator commands serve nothing: bind any free port.
    config.addr.set_port(0);
    let application = Application::build(config).await.context("opening lianxin")?;
    let store = &application.state().store;
    match words.as_slice() {
        ["purge"] => {
            let purged = application.purge().await?;
            println!("purged the personal data of {} closed or expired reports ({} photo files)", purged.reports, purged.unused_photos.len());
        }
        ["outbox", "stats"] => {
            let stats = store.outbox_stats().await?;
            let oldest = stats.oldest_pending_ms.map_or("none".to_owned(), |ms| format!("{} ({} s ago)", ids::rfc3339(ms), (ids::now_ms() - ms) / 1000));
            println!("pending: {}\ndead letter: {}\noldest pending: {oldest}", stats.pending, stats.dead_letter);
        }
        ["outbox", state @ ("pending" | "dead")] => {
            let state = if *state == "dead" { "dead_letter" } else { "pending" };
            for entry in store.outbox_entries(state, 1000).await? {
                println!(
                    "{}  {}  attempts {}  next {}  {}",
                    entry.tracking_no,
                    entry.report_id,
                    entry.attempts,
                    entry.next_attempt_at,
                    entry.last_error.as_deref().unwrap_or("")
                );
            }
        }
        ["outbox", "requeue", which] => {
            let count = store.requeue(Some((*which).to_owned())).await?;
            if count == 0 {
                bail!("no dead-lettered report has the id or tracking number {which}");
            }
            println!("requeued {count} report");
        }
        ["outbox", "requeue-all"] => println!("requeued {} reports", store.requeue(None).await?),
        _ => bail!("unknown command {:?}; see `lianxin` commands: purge, outbox stats|pending|dead|requeue <id>|requeue-all, migrate-to-postgres", words.join(" ")),
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
            let (Some(photo), Some(thumbnail)) = (source.get(hash, Variant::Full).await?, source.get(hash, Variant::Thumbnail).await?) else {
                continue; // purged by retention: the record stays, the bytes are gone
            };
            target.put(hash, photo.to_vec(), thumbnail.to_vec()).await?;
            moved += 1;
        }
        println!("photos         {moved:>9} copied to {}", config.storage.photo_store);
    }
    println!("done; start the servers with the same contact key (LIANXIN_CONTACT_KEY or {}/contact.key)", config.data_dir.display());
    Ok(())
}
