//! The `lianxin` command line as an operator types it: help for the server and every
//! command, the version, and start-up errors as a line or two, never a backtrace.

use std::process::{Command, Output};

/// Runs the real binary with `args` and no `LIANXIN_*` settings from the test environment.
fn lianxin(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lianxin"));
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("LIANXIN_")) {
        command.env_remove(name);
    }
    command.args(args).env("RUST_BACKTRACE", "1").output().expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_lists_every_command_and_every_setting_with_its_environment_variable() {
    let help = lianxin(&["--help"]);

    assert!(help.status.success(), "{}", stderr(&help));
    let text = stdout(&help);
    for word in ["purge", "outbox", "migrate-to-postgres", "--data-dir", "[env: LIANXIN_DATA_DIR=]", "--database-url", "LIANXIN_ADMIN_TOKEN", "--version"] {
        assert!(text.contains(word), "--help lacks {word:?}:\n{text}");
    }
}

#[test]
fn every_command_answers_help_without_touching_any_data() {
    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path().to_str().unwrap();
    for command in [&["purge"][..], &["outbox"], &["outbox", "stats"], &["outbox", "requeue"], &["outbox", "requeue-all"], &["migrate-to-postgres"]] {
        let mut args = command.to_vec();
        args.extend(["--help", "--data-dir", dir]);

        let help = lianxin(&args);

        assert!(help.status.success(), "{command:?} --help: {}", stderr(&help));
        assert!(stdout(&help).contains(&format!("Usage: lianxin {}", command.join(" "))), "{command:?}: {}", stdout(&help));
    }
    assert_eq!(std::fs::read_dir(data_dir.path()).unwrap().count(), 0, "help opened no database");
}

#[test]
fn version_says_which_lianxin_this_is() {
    let version = lianxin(&["--version"]);
    assert!(version.status.success());
    assert_eq!(stdout(&version).trim(), format!("lianxin {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn a_bad_setting_is_one_line_that_names_it_without_a_backtrace() {
    let data_dir = tempfile::tempdir().unwrap();

    let failed = lianxin(&["outbox", "stats", "--data-dir", data_dir.path().to_str().unwrap(), "--addr", "localhost"]);

    assert!(!failed.status.success());
    let text = stderr(&failed);
    assert!(text.lines().count() <= 2, "{text}");
    assert!(text.contains("--addr") && text.contains("127.0.0.1:8080"), "says what is wrong and what it should look like: {text}");
    assert!(!text.contains("backtrace") && !text.contains("panicked"), "{text}");
    let config = data_dir.path().join("lianxin.toml");
    std::fs::write(&config, "[map]\ntiles = \"https://tiles.example/{z}/{x}/{y}.png\"\n").unwrap();
    let no_centre = lianxin(&["--data-dir", data_dir.path().to_str().unwrap(), "--config", config.to_str().unwrap(), "--addr", "127.0.0.1:0"]);
    assert!(!no_centre.status.success());
    assert!(stderr(&no_centre).contains("map.center"), "names the missing map setting: {}", stderr(&no_centre));
    let unknown = lianxin(&["--port", "1"]);
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("--port"), "{}", stderr(&unknown));
}

#[test]
fn operator_commands_open_only_the_storage_and_say_nothing_about_the_widget() {
    let data_dir = tempfile::tempdir().unwrap();

    let stats = lianxin(&["outbox", "stats", "--data-dir", data_dir.path().to_str().unwrap()]);

    assert!(stats.status.success(), "{}", stderr(&stats));
    assert!(stdout(&stats).contains("pending: 0"), "{}", stdout(&stats));
    assert!(!stderr(&stats).contains("widget"), "{}", stderr(&stats));
}

#[tokio::test]
async fn beside_a_running_server_outbox_commands_work_and_purge_says_why_it_waits() {
    let app = crate::helpers::spawn_app().await;
    let stored = app.post_report(Some("beside"), &crate::helpers::manhole_report(), vec![crate::helpers::jpeg(120, 90)]).await;
    assert_eq!(stored.status(), 201);
    let data_dir = app.data_dir.path().to_str().unwrap().to_owned();

    let stats = tokio::task::spawn_blocking({
        let data_dir = data_dir.clone();
        move || lianxin(&["outbox", "stats", "--data-dir", &data_dir])
    })
    .await
    .unwrap();
    assert!(stats.status.success(), "{}", stderr(&stats));
    let purge = tokio::task::spawn_blocking(move || lianxin(&["purge", "--data-dir", &data_dir])).await.unwrap();

    assert!(!purge.status.success(), "the running server holds the photos");
    let text = stderr(&purge);
    assert!(text.contains("running lianxin server") && text.contains("stop it"), "says why and what to do: {text}");
    assert!(text.lines().count() <= 2, "{text}");
    let after = app.post_report(Some("after"), &crate::helpers::manhole_report(), vec![crate::helpers::jpeg(121, 90)]).await;
    assert_eq!(after.status(), 201, "the server still stores photos");
}
