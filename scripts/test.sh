#!/usr/bin/env bash
# Command 2: install what is missing, then run every check and test:
# formatting, clippy (server and browser builds), cargo tests (SQLite and the
# in-process bus always; PostgreSQL and Redis when TEST_DATABASE_URL /
# TEST_REDIS_URL are set, and always in CI), the REST API against its OpenAPI
# document (schemathesis), then Playwright in Chromium.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/setup.sh --test

started=$SECONDS
step() { say "$* (+$((SECONDS - started))s)"; }

# In CI the PostgreSQL and Redis variants are mandatory: start the services if
# they are down and fail if they still cannot be reached. Never skip silently.
if [[ "${CI:-}" == "true" ]]; then
  # A fresh checkout builds everything once: incremental data would only
  # cost time and disk.
  export CARGO_INCREMENTAL=0
  export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
  export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    step "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    step "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
    for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
  fi
  pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not reachable at 127.0.0.1:5432" >&2; exit 1; }
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "Redis is not reachable at 127.0.0.1:6379" >&2; exit 1; }
else
  [[ -n "${TEST_DATABASE_URL:-}" ]] || say "TEST_DATABASE_URL unset: PostgreSQL variants will be skipped"
  [[ -n "${TEST_REDIS_URL:-}" ]] || say "TEST_REDIS_URL unset: Redis variants will be skipped"
fi

step "cargo fmt --check"
cargo fmt --all --check

step "clippy: server build (ssr)"
cargo clippy --workspace --exclude frontend --all-targets --locked -- -D warnings
step "clippy: browser build (hydrate, wasm32)"
cargo clippy -p frontend -p app --target wasm32-unknown-unknown --locked -- -D warnings

step "cargo test"
cargo test --workspace --exclude frontend --locked
if [[ -n "${TEST_DATABASE_URL:-}" && -n "${TEST_REDIS_URL:-}" ]]; then
  step "API tests again on PostgreSQL + Redis"
  # Same packages as above, so the same build: nothing is compiled again.
  CHATSPHERE_TEST_BACKEND=postgres-redis cargo test --workspace --exclude frontend --test api --locked
fi

step "the API against its OpenAPI document (schemathesis)"
# `cargo test` built target/debug/server; the REST API needs no site files.
scripts/schemathesis.sh target/debug/server

step "building the site for the browser tests (cargo leptos build)"
cargo leptos build
step "Playwright (Chromium)"
(cd end2end && npx playwright test)

step "all checks passed"
