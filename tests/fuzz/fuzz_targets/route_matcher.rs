//! The `route_matcher` check (`mhmanus_fuzz_checks::route_matcher`), under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mhmanus_fuzz_checks::route_matcher::check(data));
