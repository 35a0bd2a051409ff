//! The `request_body` check (`mhmanus_fuzz_checks::request_body`), under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mhmanus_fuzz_checks::request_body::check(data));
