//! The `lianxin` binary: serves by default; operator commands are in `commands`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    lianxin_server::app::init_tracing();
    lianxin_server::commands::run(std::env::args().skip(1).collect()).await
}
