//! Fuzz target: see `lianxin_server::fuzz_targets::open311_form`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lianxin_server::fuzz_targets::open311_form(data));
