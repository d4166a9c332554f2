//! The `lianxin` binary: loads configuration, starts the application, runs until a
//! shutdown signal.

use anyhow::Context;
use lianxin_server::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    lianxin_server::app::init_tracing();
    let config = Config::load(std::env::args().skip(1)).context("reading configuration")?;
    let application = Application::build(config).await.context("starting lianxin")?;
    tracing::info!(address = %application.address(), "lianxin is listening");
    application.run_until_stopped().await
}
