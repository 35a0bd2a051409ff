//! The `accept_encoding` check (`mhmanus_fuzz_checks::accept_encoding`), under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mhmanus_fuzz_checks::accept_encoding::check(data));
