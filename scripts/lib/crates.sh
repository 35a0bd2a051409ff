# The package selections the scripts build, in one place (sourced). Cargo
# unifies features over the packages one command selects, so a crate built
# in two selections can be compiled twice: whatever builds the same thing
# builds it with the same list.

# For wasm32-wasip2: the components and the test guests.
wasm_crates=(-p health -p auth -p production-test -p edge-middleware -p not-found
  -p spin-probe -p faulty -p p2-echo -p p3-hello -p tag-middleware)
# Native, debug: every crate and test but the cdylibs (their Wasm exports do
# not link natively).
native_packages=(--workspace --exclude health --exclude spin-probe --exclude faulty
  --exclude p2-echo --exclude p3-hello --exclude tag-middleware --exclude auth --exclude production-test --exclude edge-middleware
  --exclude not-found)
# Built: every binary and every target with tests; tested: the targets with
# tests. `--tests` honours a target's `test = false`, where `--all-targets`
# builds and links a test harness for each library and binary that has no
# test in it (and `--bins`, under `cargo test`, for each binary).
native_build=("${native_packages[@]}" --bins --tests)
native_tests=("${native_packages[@]}" --tests)
# The components' native tests, in a selection of their own: production-test
# turns on serde_json's preserve_order, which the host must not get.
component_crates=(-p auth -p production-test)
# Native, release: the benchmark binary with what it measures (it links the
# host's library for its micro-benchmark).
release_crates=(-p bench -p mhmanus-host -p native-baseline)
