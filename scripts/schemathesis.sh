#!/usr/bin/env bash
# The OpenAPI document is the contract: schemathesis generates requests from
# it (valid and invalid ones) against a real server and fails on any server
# error, any status or header the document does not list, any answer that
# does not match its schema, any valid request refused and any invalid one
# accepted (`--checks all`; scripts/schemathesis.toml has the one narrowing
# and why).
#
#   scripts/schemathesis.sh [server binary]   default: target/debug/server
#
# It starts the binary on a free loopback port with a fresh SQLite data
# directory and request budgets off (the budgets would answer 429 before
# the contract is reached; 429 is documented and tested elsewhere),
# registers an admin (the first account) and a user, and runs:
#   1. each operation that can end the session it is called with (sign-out,
#      ending a session by id) alone, with a session of its own;
#   2. everything else but the admin API, as the user, in another session;
#   3. the admin API, as the admin (after 2: it may disable the user).
# A fixed seed and a bounded number of examples keep it reproducible and
# short (about a minute on two cores). SCHEMATHESIS_SEED and
# SCHEMATHESIS_EXAMPLES override them for a longer exploration;
# SCHEMATHESIS_DATABASE_URL runs the server on that (empty) database instead
# of SQLite, e.g. a fresh PostgreSQL database.
#
# Needs python3 (for a virtual environment in .tools/venv with a pinned
# schemathesis from PyPI). Without python3 it is skipped with a message,
# except in CI (CI=true), where it is required.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

SCHEMATHESIS_VERSION=4.32.5
seed="${SCHEMATHESIS_SEED:-20261201}"
examples="${SCHEMATHESIS_EXAMPLES:-50}"
server="$(realpath "${1:-target/debug/server}")"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

if ! command -v python3 >/dev/null; then
  if [[ "${CI:-}" == "true" ]]; then
    echo "python3 is required for the schemathesis run in CI" >&2
    exit 1
  fi
  say "python3 not found: skipping the schemathesis run (install python3 to run it)"
  exit 0
fi
[[ -x "$server" ]] || { echo "no server binary at $server (cargo build -p server)" >&2; exit 1; }

venv="$root/.tools/venv"
if [[ "$("$venv/bin/st" --version 2>/dev/null)" != *" $SCHEMATHESIS_VERSION" ]]; then
  say "installing schemathesis $SCHEMATHESIS_VERSION into .tools/venv"
  if ! python3 -m venv --clear "$venv" 2>/dev/null; then
    # Debian's python3 makes environments only with python3-venv.
    say "installing python3-venv from Debian"
    sudo=()
    (( EUID == 0 )) || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq python3-venv
    python3 -m venv --clear "$venv"
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# A fresh data directory, also the server's working directory so that no
# developer's .env reaches it.
data="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
(
  cd "$data"
  exec env -u REDIS_URL \
    DATABASE_URL="${SCHEMATHESIS_DATABASE_URL:-sqlite://$data/chatsphere.db}" \
    LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    LEPTOS_SITE_ROOT="$data/site" \
    CHATSPHERE_DATA_DIR="$data" \
    CHATSPHERE_JWT_SECRET="schemathesis-secret-schemathesis-secret" \
    CHATSPHERE_RATE_LIMITS=off \
    CHATSPHERE_LOG_FORMAT=json \
    RUST_LOG=warn \
    "$server"
) >"$data/server.log" 2>&1 &
server_pid=$!
cleanup() {
  kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$data"
}
trap cleanup EXIT

for _ in $(seq 100); do
  curl -fs "$base/ready" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
curl -fs "$base/ready" >/dev/null 2>&1 || {
  echo "the server did not get ready:" >&2
  cat "$data/server.log" >&2
  exit 1
}

# Accounts: the first one registered is an admin.
password="schemathesis-$RANDOM-amber-lantern-walrus"
account() { # register|login NAME -> access token
  python3 - "$base" "$1" "$2" "$password" <<'PY'
import json, sys, urllib.request
base, action, name, password = sys.argv[1:]
body = {"username": name, "password": password} if action == "register" else {"login": name, "password": password}
request = urllib.request.Request(f"{base}/api/v1/auth/{action}", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(request))["tokens"]["access_token"])
PY
}
# A run whose session ended half-way tested the rest with a dead token only.
still_signed_in() { # TOKEN
  curl -fs -o /dev/null -H "Authorization: Bearer $1" "$base/api/v1/auth/me" ||
    { echo "the run's session ended during the run: its later requests proved nothing" >&2; return 1; }
}
admin_token="$(account register st-admin)"
account register st-user >/dev/null

# Hypothesis keeps its character tables next to the tools, not in the checkout.
export HYPOTHESIS_STORAGE_DIRECTORY="$root/.tools/hypothesis"
st() {
  "$venv/bin/st" --config-file "$root/scripts/schemathesis.toml" run "$base/api/v1/openapi.json" \
    --url "$base" --seed "$seed" --max-examples "$examples" --checks all --no-color "$@"
}
status=0
ending=("/api/v1/auth/logout" "/api/v1/auth/sessions/{id}")
for path in "${ending[@]}"; do
  say "schemathesis: $path, which may end its session, alone with a session of its own"
  st -H "Authorization: Bearer $(account login st-user)" --include-path "$path" || status=1
done
say "schemathesis: every other operation but the admin API, as a user"
user_token="$(account login st-user)"
st -H "Authorization: Bearer $user_token" --exclude-tag admin "${ending[@]/#/--exclude-path=}" || status=1
still_signed_in "$user_token" || status=1
say "schemathesis: the admin API, as an admin"
st -H "Authorization: Bearer $admin_token" --include-tag admin || status=1
still_signed_in "$admin_token" || status=1

if grep -q '"level":"ERROR"' "$data/server.log"; then
  say "the server logged errors:"
  grep '"level":"ERROR"' "$data/server.log" | head -20
  status=1
fi
exit "$status"
