//! The `forwarded_for` check (`mhmanus_fuzz_checks::forwarded_for`), under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mhmanus_fuzz_checks::forwarded_for::check(data));
