//! The `lianxin` binary: parses the command line (`cli`), then runs the command
//! (`commands`). A failure is one or two lines saying what is wrong — never a backtrace.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = lianxin_server::cli::Cli::parse();
    lianxin_server::app::init_tracing();
    match lianxin_server::commands::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` gives the chain on one line: "starting lianxin: binding 127.0.0.1:8080:
            // Address already in use".
            eprintln!("lianxin: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
