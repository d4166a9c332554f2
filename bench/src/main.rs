//! `cargo xtask bench`: answers a city's three questions — is the widget light enough for
//! phones on bad networks, how much load does one machine take, what does it cost in memory
//! — each number beside a baseline measured in the same run, as medians and ratios (these
//! machines are shared and noisy). Prints a markdown table and writes
//! `target/bench/report.json`.
//!
//! The server under load is the real release binary (`LIANXIN_BENCH_SERVER`), started fresh
//! for each scenario so its peak memory is that scenario's. `bench bare-server <port>` is
//! the HTTP ceiling: the same axum/hyper stack with one route that only reads the body.

mod browser;
mod ceilings;
mod drain;
mod load;
mod memory;
mod report;
mod server;
mod weight;

use std::path::PathBuf;

use report::Report;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("bare-server") {
        return ceilings::bare_server(args.get(1).map_or(Ok(0), |port| port.parse())?).await;
    }
    let quick = args.iter().any(|arg| arg == "--quick");
    // `--only widget,ingest,forwarder,memory` runs some parts (all by default).
    let only: Option<Vec<String>> = args.iter().position(|arg| arg == "--only").and_then(|index| args.get(index + 1)).map(|list| list.split(',').map(str::to_owned).collect());
    let wanted = |part: &str| only.as_ref().is_none_or(|parts| parts.iter().any(|wanted| wanted == part));
    let out_dir = PathBuf::from(std::env::var("LIANXIN_BENCH_OUT").unwrap_or_else(|_| "target/bench".into()));
    std::fs::create_dir_all(&out_dir)?;
    let mut report = Report::new(quick);

    if wanted("widget") {
        eprintln!("bench: widget weight");
        weight::run(&mut report).await?;
        eprintln!("bench: widget in headless Chromium (slow 4G, 4x CPU)");
        browser::run(&mut report, quick).await?;
    }
    if wanted("ingest") {
        eprintln!("bench: server ingest");
        load::run(&mut report, quick).await?;
    }
    if wanted("forwarder") {
        eprintln!("bench: forwarder drain");
        drain::run(&mut report, quick).await?;
    }
    if wanted("memory") {
        eprintln!("bench: memory under slow uploads");
        memory::run(&mut report, quick).await?;
    }

    let markdown = report.markdown();
    println!("{markdown}");
    std::fs::write(out_dir.join("report.json"), serde_json::to_vec_pretty(&report.json())?)?;
    std::fs::write(out_dir.join("report.md"), markdown)?;
    eprintln!("bench: wrote {}", out_dir.join("report.json").display());
    Ok(())
}
