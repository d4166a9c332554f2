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
//! ```

use anyhow::{Context, bail};

use crate::config::Config;
use crate::{Application, ids};

/// Runs the command in `args` (the arguments after the program name).
pub async fn run(mut args: Vec<String>) -> anyhow::Result<()> {
    let command: Vec<String> = args.iter().take_while(|arg| !arg.starts_with("--")).cloned().collect();
    args.drain(..command.len());
    let mut config = Config::load(args).context("reading configuration")?;
    let words: Vec<&str> = command.iter().map(String::as_str).collect();
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
            println!("purged contact details and photos of {} resolved reports ({} photo files)", purged.reports, purged.unused_photos.len());
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
        _ => bail!("unknown command {:?}; see `lianxin` commands: purge, outbox stats|pending|dead|requeue <id>|requeue-all", words.join(" ")),
    }
    Ok(())
}
