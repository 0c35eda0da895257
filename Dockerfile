# syntax=docker/dockerfile:1
#
# ChatSphere in a container: the release server binary and the compiled site
# (JS, WASM, CSS) on Debian slim, run as an unprivileged user.
#
#   docker build -t chatsphere .
#   docker run -p 3000:3000 -e CHATSPHERE_JWT_SECRET="$(openssl rand -hex 32)" \
#     -e CHATSPHERE_PUBLIC_URL=http://localhost:3000 -v chatsphere-data:/app/data chatsphere
#
# That one process keeps its data in SQLite under /app/data. Several
# processes behind nginx, on PostgreSQL and Redis: docker-compose.yml.
#
# The build tools are those scripts/setup.sh installs, at the same versions.
# The first build compiles cargo-leptos and wasm-bindgen-cli (20-30 minutes);
# their layers are then cached.

ARG RUST_VERSION=1.96
ARG DEBIAN_RELEASE=bookworm

# wasm-opt for the release WASM, from npm's binaryen (Debian's wasm-opt is too
# old: what it produces fails to hydrate). It runs on Node.js.
FROM node:22-${DEBIAN_RELEASE}-slim AS binaryen
ARG BINARYEN_VERSION=132.0.0
RUN npm install --no-audit --no-fund --prefix /opt/binaryen "binaryen@${BINARYEN_VERSION}"

FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
ARG CARGO_LEPTOS_VERSION=0.3.11
RUN rustup target add wasm32-unknown-unknown
# cargo-leptos (needs rustc >= 1.96). A build tool, so compiled quickly rather
# than for speed; with no_downloads it never fetches tools from the internet
# itself: wasm-bindgen and wasm-opt come from the steps below.
RUN CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=0 \
    cargo install cargo-leptos --version "${CARGO_LEPTOS_VERSION}" --locked --features no_downloads
# wasm-bindgen-cli at exactly the version in Cargo.lock (a mismatch breaks the
# build). Its own lock file wants a crate the registry lacks: no --locked.
COPY Cargo.lock /tmp/Cargo.lock
RUN version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' /tmp/Cargo.lock)" \
 && test -n "$version" \
 && cargo install wasm-bindgen-cli --version "$version"
COPY --from=binaryen /usr/local/bin/node /usr/local/bin/node
COPY --from=binaryen /opt/binaryen /opt/binaryen
ENV PATH=/opt/binaryen/node_modules/.bin:$PATH

WORKDIR /src
COPY . .
# The registry and target/ are cache mounts (kept between builds, not in the
# image), so the results are copied out in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo leptos build --release \
 && mkdir -p /out \
 && cp target/release/server /out/server \
 && cp -r target/site /out/site

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# CA certificates: PostgreSQL/Redis over TLS and the identity providers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 chatsphere \
 && useradd --system --uid 10001 --gid chatsphere --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin chatsphere
WORKDIR /app
COPY --from=build /out/server /app/server
COPY --from=build /out/site /app/site
# The data directory: SQLite (when DATABASE_URL is unset) lives here.
RUN mkdir /app/data && chown chatsphere:chatsphere /app/data
USER 10001:10001

ENV LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_SITE_ADDR=0.0.0.0:3000 \
    CHATSPHERE_ENV=production \
    CHATSPHERE_DATA_DIR=/app/data
EXPOSE 3000
# The image has no curl or wget: bash asks GET /health over /dev/tcp and
# wants a 200 (503 while the database or Redis does not answer). It assumes
# port 3000: change it with LEPTOS_SITE_ADDR.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/3000 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# The server stops cleanly on SIGTERM (docker stop): in-flight requests finish.
CMD ["/app/server"]
