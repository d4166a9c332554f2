//! The `lianxin` binary: loads configuration, starts the application, runs until a
//! shutdown signal. `lianxin purge [flags]` runs the retention purge once and exits.

use anyhow::Context;
use lianxin_server::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    lianxin_server::app::init_tracing();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let purge = args.first().is_some_and(|command| command == "purge");
    if purge {
        args.remove(0);
    }
    let mut config = Config::load(args).context("reading configuration")?;
    if purge {
        // The purge only needs the store: bind any free port, serve nothing.
        config.addr.set_port(0);
        let application = Application::build(config).await.context("opening lianxin")?;
        let purged = application.purge().await?;
        println!("purged contact details and photos of {} resolved reports ({} photo files)", purged.reports, purged.unused_photos.len());
        return Ok(());
    }
    let application = Application::build(config).await.context("starting lianxin")?;
    tracing::info!(address = %application.address(), "lianxin is listening");
    application.run_until_stopped().await
}
