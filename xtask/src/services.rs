//! The services the test run needs beside the machine's own: an S3 emulator started for
//! the run (and stopped after it), and a reachability check of PostgreSQL with a message
//! that says what to do.

use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;

/// A running S3 emulator, stopped when dropped.
#[derive(Debug)]
pub struct S3Emulator {
    process: Child,
    endpoint: String,
}

impl S3Emulator {
    /// Starts `moto_server` on a free loopback port and waits until it answers.
    pub fn start(program: &Path) -> Result<S3Emulator> {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).map_err(|error| format!("no free port: {error}"))?.port();
        let process = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", program.display()))?;
        let emulator = S3Emulator { process, endpoint: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("the S3 emulator did not start within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(emulator)
    }

    /// Points `command` (a test run) at the emulator: the `AWS_*` variables the server's
    /// object store reads, and `LIANXIN_TEST_S3_ENDPOINT` for the tests themselves.
    pub fn configure<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        command
            .env("LIANXIN_TEST_S3_ENDPOINT", &self.endpoint)
            .env("AWS_ENDPOINT", &self.endpoint)
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_ACCESS_KEY_ID", "lianxin-test")
            .env("AWS_SECRET_ACCESS_KEY", "lianxin-test")
            .env("AWS_REGION", "us-east-1")
    }
}

impl Drop for S3Emulator {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Fails with advice when nothing listens at the host and port of `url`.
pub fn check_reachable(url: &str) -> Result {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host_port = after_scheme.split(['/', '?']).next().unwrap_or_default();
    let host_port = host_port.rsplit_once('@').map_or(host_port, |(_, host)| host);
    let address = if host_port.contains(':') { host_port.to_owned() } else { format!("{host_port}:5432") };
    let reachable = address.to_socket_addrs().ok().and_then(|mut addresses| addresses.next()).is_some_and(|socket| TcpStream::connect_timeout(&socket, Duration::from_secs(3)).is_ok());
    if reachable { Ok(()) } else { Err(format!("PostgreSQL is not reachable at {address}: the scale-out tests need it (start it, or set LIANXIN_TEST_DATABASE to another postgres:// URL)")) }
}
