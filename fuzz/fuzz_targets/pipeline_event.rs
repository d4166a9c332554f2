//! Fuzz target: see `lianxin_server::fuzz_targets::pipeline_event`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lianxin_server::fuzz_targets::pipeline_event(data));
