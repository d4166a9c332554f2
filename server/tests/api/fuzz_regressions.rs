//! Every input that ever crashed a fuzz target (`fuzz/regressions/<target>/`) and every
//! seed (`fuzz/seeds/<target>/`) runs through the same entry point as the fuzzer, on every
//! test run: a crash found once stays fixed.

use std::path::Path;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut inputs = Vec::new();
    for folder in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(folder).join(target)) else { continue };
        for entry in entries.flatten() {
            inputs.push((entry.path().display().to_string(), std::fs::read(entry.path()).unwrap()));
        }
    }
    inputs
}

fn replay(target: &str, run: fn(&[u8])) {
    let inputs = inputs(target);
    assert!(!inputs.is_empty(), "fuzz/seeds/{target} has seeds");
    for (name, data) in inputs {
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{name} crashes the {target} target");
    }
}

#[test]
fn report_json_inputs_never_crash() {
    replay("report_json", lianxin_server::fuzz_targets::report_json);
}

#[test]
fn multipart_inputs_never_crash() {
    replay("multipart", lianxin_server::fuzz_targets::multipart);
}

#[test]
fn photo_inputs_never_crash() {
    replay("photo", lianxin_server::fuzz_targets::photo);
}

#[test]
fn open311_status_answers_never_crash() {
    replay("open311_status", lianxin_server::fuzz_targets::open311_status);
}

#[test]
fn pipeline_event_inputs_never_crash() {
    replay("pipeline_event", lianxin_server::fuzz_targets::pipeline_event);
}

#[test]
fn open311_form_inputs_never_crash() {
    replay("open311_form", lianxin_server::fuzz_targets::open311_form);
}
