# The native host in a container: build the components and the host, then
# ship only the binary, the .wasm files and spin.toml.
# (Unverified here: these machines have no Docker engine. The production
# image -- cached dependency layers, production mode, compose -- is tracked
# in the "Ship it" issue.)

FROM rust:1.99.1-slim-bookworm AS build
RUN rustup target add wasm32-wasip2
WORKDIR /src
COPY . .
RUN cargo build --release --target wasm32-wasip2 -p health -p auth -p production-test \
 && cargo build --release -p mhmanus-host

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --create-home --home-dir /app app
WORKDIR /app
COPY --from=build /src/target/release/mhmanus-host /usr/local/bin/mhmanus-host
COPY --from=build /src/target/wasm32-wasip2/release/health.wasm /src/target/wasm32-wasip2/release/auth.wasm \
     /src/target/wasm32-wasip2/release/production_test.wasm target/wasm32-wasip2/release/
COPY spin.toml spin.toml
USER app
ENV DATA_DIR=/app/data
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:3000/health/live || exit 1
# tini is PID 1 so SIGTERM reaches the host and it drains before exiting.
ENTRYPOINT ["tini", "--", "mhmanus-host"]
CMD ["up", "--listen", "0.0.0.0:3000"]
