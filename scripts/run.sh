#!/usr/bin/env bash
# Command 1: install what is missing, build ChatSphere (release), serve it.
# With no configuration it serves http://127.0.0.1:3000 with SQLite under
# ./data and no other service; see .env.example for the settings.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/setup.sh

say "building (release)"
cargo leptos build --release --precompress
say "starting ChatSphere on http://${LEPTOS_SITE_ADDR:-127.0.0.1:3000} (Ctrl-C stops it)"
exec ./target/release/server
