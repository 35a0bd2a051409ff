//! The `access_token` check (`mhmanus_fuzz_checks::access_token`), under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mhmanus_fuzz_checks::access_token::check(data));
