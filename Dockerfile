# The native host in a container: the components and the host built in
# release mode, shipped on a small Debian with only the binary, the .wasm
# files and spin.toml. (The migrations are compiled into auth.wasm.)
#
#   docker build -t mhmanus-edge .
#   docker run -p 3000:3000 -e JWT_SECRET=$(openssl rand -hex 32) mhmanus-edge
#
# Production mode is the default: without a JWT_SECRET of 32+ bytes the host
# refuses to start. Nothing secret is baked in. tests/deployment.rs keeps
# this file true to the build (no Docker engine needed); hadolint lints it.

ARG RUST_VERSION=1.99.1

# The pinned toolchain (rust-toolchain.toml) with the wasm target, make for
# jemalloc's C build, and cargo-chef to cache the dependency build in its
# own layer.
FROM rust:${RUST_VERSION}-slim-bookworm AS chef
WORKDIR /src
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends make \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add wasm32-wasip2 \
 && rustup component add rustfmt clippy \
 && cargo install cargo-chef --locked --version 0.1.78

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=planner /src/recipe.json recipe.json
# The components' build flags (Wasm SIMD) apply to their dependencies too.
COPY .cargo .cargo
# Dependencies only: rebuilt when Cargo.toml or Cargo.lock change, not on
# every source edit.
RUN cargo chef cook --release --recipe-path recipe.json -p mhmanus-host \
 && cargo chef cook --release --target wasm32-wasip2 --recipe-path recipe.json \
      -p health -p auth -p production-test
COPY . .
RUN cargo build --release --target wasm32-wasip2 -p health -p auth -p production-test \
 && cargo build --release -p mhmanus-host

FROM debian:bookworm-slim AS runtime
# tini is PID 1, so SIGTERM reaches the host and it drains before exiting;
# curl serves the HEALTHCHECK.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 app \
 && useradd --no-log-init --uid 10001 --gid 10001 --create-home --home-dir /app app
WORKDIR /app
COPY --from=build /src/target/release/mhmanus-host /usr/local/bin/mhmanus-host
COPY --from=build /src/target/wasm32-wasip2/release/health.wasm \
     /src/target/wasm32-wasip2/release/auth.wasm \
     /src/target/wasm32-wasip2/release/production_test.wasm \
     target/wasm32-wasip2/release/
COPY spin.toml openapi.yaml ./
RUN mkdir -p /app/data && chown app:app /app/data
USER 10001:10001
# BIND_ADDRESS, not LISTEN: then `-e PORT=...` alone moves the port.
ENV APP_ENV=production \
    BIND_ADDRESS=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/data
EXPOSE 3000
# Shell form on purpose: any curl failure must become exit 1 (unhealthy),
# and the port is the one the host serves (LISTEN's, else PORT).
# hadolint ignore=DL3025
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD port="${LISTEN##*:}"; curl -fsS "http://127.0.0.1:${port:-$PORT}/health/live" || exit 1
ENTRYPOINT ["tini", "--", "mhmanus-host"]
CMD ["up"]
