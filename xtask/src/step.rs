//! Set-up steps that tell a person what went wrong. A step's command writes its output to a
//! log file under the target directory; when it fails, xtask answers with one paragraph: which
//! step, what it ran, the line of the log that says why, where the whole log is, and what the
//! person can do next — instead of the last screen of a tool's backtrace.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::Result;

/// One set-up step: what it does (for "installing Trunk failed") and what to do if it fails.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// What the step does, as a gerund phrase: "installing Trunk 0.21.14".
    pub what: &'a str,
    /// What a person can do when it fails, as one or two sentences.
    pub advice: &'a str,
}

/// The directory that holds every step's log.
pub fn log_dir(root: &Path) -> PathBuf {
    crate::tools::target_dir(root).join("xtask-logs")
}

impl Step<'_> {
    /// Runs `command` with its output in `log_dir/<log_name>.log`.
    pub fn run(self, root: &Path, log_name: &str, command: &mut Command) -> Result {
        let log_dir = log_dir(root);
        std::fs::create_dir_all(&log_dir).map_err(|error| format!("creating {}: {error}", log_dir.display()))?;
        let log_path = log_dir.join(format!("{log_name}.log"));
        let log = File::create(&log_path).map_err(|error| format!("creating {}: {error}", log_path.display()))?;
        let log_for_errors = log.try_clone().map_err(|error| format!("opening {}: {error}", log_path.display()))?;
        let description = describe(command);
        eprintln!("xtask: {} (log: {})", self.what, log_path.display());
        let started = Instant::now();
        // Plain text in the log: no colour codes in the line quoted back to the person.
        command.env("CARGO_TERM_COLOR", "never").env("NO_COLOR", "true").stdin(Stdio::null()).stdout(log).stderr(log_for_errors);
        let outcome = command.status();
        let seconds = started.elapsed().as_secs();
        match outcome {
            Err(error) => Err(format!("{} failed: `{description}` could not start ({error}). {}", self.what, self.advice)),
            Ok(status) if status.success() => {
                eprintln!("xtask: {} done in {}", self.what, minutes_and_seconds(seconds));
                Ok(())
            }
            Ok(status) => {
                let log_text = std::fs::read_to_string(&log_path).unwrap_or_default();
                let reason = reason_in(&log_text).map(|line| format!(" It said: \"{line}\".")).unwrap_or_default();
                Err(format!(
                    "{} failed after {}: `{description}` exited with {status}.{reason} The whole output is in {}. {}",
                    self.what,
                    minutes_and_seconds(seconds),
                    log_path.display(),
                    self.advice
                ))
            }
        }
    }
}

/// The command as a person would type it (program and arguments, environment left out).
fn describe(command: &Command) -> String {
    let program = Path::new(command.get_program()).file_name().unwrap_or(command.get_program()).to_string_lossy().into_owned();
    std::iter::once(program).chain(command.get_args().map(|arg| arg.to_string_lossy().into_owned())).collect::<Vec<_>>().join(" ")
}

fn minutes_and_seconds(seconds: u64) -> String {
    if seconds >= 60 { format!("{} min {} s", seconds / 60, seconds % 60) } else { format!("{seconds} s") }
}

/// The line of a failed tool's output that says why: the first `error:` line (cargo, rustc,
/// Trunk's cargo run, npm's `ERR!`, apt's `E:`), else the last non-empty line.
pub fn reason_in(log: &str) -> Option<String> {
    let lines: Vec<&str> = log.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    let is_reason = |line: &&&str| {
        let lower = line.to_lowercase();
        lower.starts_with("error:") || lower.starts_with("error[") || lower.starts_with("npm err!") || lower.starts_with("npm error") || line.starts_with("E: ")
    };
    let line = lines.iter().find(is_reason).or(lines.last())?;
    let mut reason: String = line.chars().take(300).collect();
    if line.chars().count() > 300 {
        reason.push('…');
    }
    Some(reason)
}

#[cfg(test)]
mod tests {
    use super::reason_in;

    #[test]
    fn reason_is_the_first_error_line_of_a_failed_build() {
        let log =
            "   Compiling std v0.0.0\nerror: no matching package named `moto-rt` found\nlocation searched: index\n2026-11-30 ERROR ❌ error\nCaused by:\n    0: cargo call returned a bad status\n";
        assert_eq!(reason_in(log).as_deref(), Some("error: no matching package named `moto-rt` found"));
    }

    #[test]
    fn reason_falls_back_to_the_last_line_when_no_line_says_error() {
        assert_eq!(reason_in("step one\nKilled\n\n").as_deref(), Some("Killed"));
        assert_eq!(reason_in("\n \n"), None);
    }

    #[test]
    fn reason_reads_apt_and_npm_failures() {
        assert_eq!(reason_in("Reading package lists...\nE: Unable to locate package chromium\n").as_deref(), Some("E: Unable to locate package chromium"));
        assert_eq!(reason_in("npm error code ETIMEDOUT\nnpm error network\n").as_deref(), Some("npm error code ETIMEDOUT"));
    }
}
