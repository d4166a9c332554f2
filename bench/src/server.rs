//! The server under test as its own process: the release `lianxin` binary on a free port
//! with a fresh data dir, and its memory read from `/proc`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A running server process, killed when dropped.
pub struct ServerProcess {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    child: Child,
    /// Its data dir, removed with it.
    _data_dir: tempfile::TempDir,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until something answers HTTP on `url` (any status).
pub async fn wait_until_up(url: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(url).await.is_err() {
        if Instant::now() > deadline {
            bail!("nothing answered at {url} within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

impl ServerProcess {
    /// Starts the release binary with `extra_toml` appended to a configuration that lifts
    /// the per-client limits and the decode queue's bound (the load comes from one address,
    /// and the memory bench queues 200 photos on purpose); `extra_toml` must not repeat the
    /// `[security]` or `[photos]` tables.
    pub async fn start(extra_toml: &str) -> anyhow::Result<ServerProcess> {
        let binary = PathBuf::from(std::env::var("LIANXIN_BENCH_SERVER").context("LIANXIN_BENCH_SERVER names the release lianxin binary; run `cargo xtask bench`")?);
        let data_dir = tempfile::tempdir()?;
        let port = free_port()?;
        let config = data_dir.path().join("lianxin.toml");
        std::fs::write(&config, format!("[security]\nreports_per_minute = 100000000\nuploads_per_client = 100000000\nreads_per_minute = 100000000\n[photos]\ndecode_queue = 100000\n{extra_toml}"))?;
        let child = Command::new(&binary)
            .args(["--config", config.to_str().unwrap_or_default(), "--data-dir", data_dir.path().to_str().unwrap_or_default(), "--addr", &format!("127.0.0.1:{port}")])
            .args(["--widget-dir", data_dir.path().to_str().unwrap_or_default()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let url = format!("http://127.0.0.1:{port}");
        let server = ServerProcess { url: url.clone(), child, _data_dir: data_dir };
        wait_until_up(&format!("{url}/healthz")).await?;
        Ok(server)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// What the threads of process `pid` named `name` (as the kernel shows it: at most 15
/// bytes) have written so far: bytes and write calls (`wchar`, `syscw` of each thread's
/// `/proc/<pid>/task/<tid>/io`); `None` where that cannot be read.
pub fn thread_writes(pid: u32, name: &str) -> Option<(u64, u64)> {
    let mut found = None;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        // Another thread may end between the listing and the reading: it is skipped.
        let Ok(comm) = std::fs::read_to_string(task.path().join("comm")) else { continue };
        if comm.trim_end() != name {
            continue;
        }
        let io = std::fs::read_to_string(task.path().join("io")).ok()?;
        let field = |key: &str| io.lines().find_map(|line| line.strip_prefix(key)).and_then(|value| value.trim().parse::<u64>().ok());
        let (bytes, calls) = found.unwrap_or((0, 0));
        found = Some((bytes + field("wchar:")?, calls + field("syscw:")?));
    }
    found
}

/// CPU time (user and system) process `pid` has used so far, every thread it ever had
/// included, in seconds (`utime` + `stime` of `/proc/<pid>/stat`, in the kernel's 100 Hz
/// ticks); `None` where that cannot be read.
pub fn process_cpu(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name in parentheses may hold spaces: the fields are counted after its end.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let (user, system) = (fields.next()?.parse::<u64>().ok()?, fields.next()?.parse::<u64>().ok()?);
    Some((user + system) as f64 / 100.0)
}

/// CPU time the threads of process `pid` named `name` have used so far, in seconds (the
/// first field of each thread's `/proc/<pid>/task/<tid>/schedstat`, in nanoseconds).
pub fn thread_cpu(pid: u32, name: &str) -> Option<f64> {
    let mut found = None;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        let Ok(comm) = std::fs::read_to_string(task.path().join("comm")) else { continue };
        if comm.trim_end() != name {
            continue;
        }
        let nanos = std::fs::read_to_string(task.path().join("schedstat")).ok()?.split_whitespace().next()?.parse::<u64>().ok()?;
        found = Some(found.unwrap_or(0.0) + nanos as f64 / 1e9);
    }
    found
}

/// Peak resident memory of process `pid` so far (`VmHWM`), in bytes.
pub fn peak_rss(pid: u32) -> u64 {
    proc_status_kb(pid, "VmHWM:") * 1024
}

/// Current resident memory of process `pid` (`VmRSS`), in bytes.
pub fn rss(pid: u32) -> u64 {
    proc_status_kb(pid, "VmRSS:") * 1024
}

fn proc_status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| status.lines().find_map(|line| line.strip_prefix(field).and_then(|rest| rest.split_whitespace().next()).and_then(|kb| kb.parse().ok())))
        .unwrap_or(0)
}
