#!/usr/bin/env bash
# Installs what building (and, with --test, testing) ChatSphere needs, from the
# package registries only. Idempotent: each step is skipped when its tool is
# already there at the right version, so a second run takes seconds.
#
#   scripts/setup.sh          toolchain for building and running
#   scripts/setup.sh --test   also npm packages for end2end/ and Chromium
#
# Source it (`. scripts/setup.sh`) to also get the PATH it sets up.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.11
BINARYEN_VERSION=132.0.0
# A real S3-compatible server for the file store's tests (0.15+ needs rustc 1.96).
S3S_FS_VERSION=0.14.1
# A real SMTP server for the tests of the missed-message email (PyPI).
AIOSMTPD_VERSION=1.4.6

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
with_test=false
[[ "${1:-}" == "--test" ]] && with_test=true

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

export PATH="$root/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

command -v cargo >/dev/null || { echo "Rust is required: install it with rustup (https://rustup.rs)" >&2; exit 1; }
command -v npm >/dev/null || { echo "Node.js 18+ with npm is required" >&2; exit 1; }

# 1. The WebAssembly target for the browser build.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# 2. cargo-leptos. 0.3.11 needs rustc >= 1.96 to build: use nightly when stable
#    is older and nightly is installed. It is a build tool, so it is compiled
#    quickly (no LTO, many codegen units) rather than for speed. Built with
#    no_downloads, it fails clearly instead of fetching tools from the internet.
if [[ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]]; then
  toolchain=()
  stable_minor=$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
  if (( stable_minor < 96 )) && rustup toolchain list | grep -q '^nightly'; then
    toolchain=(+nightly)
  fi
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION ${toolchain[*]:-} (a one-time build of 10-20 minutes)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=0 \
    cargo "${toolchain[@]}" install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked \
      --features no_downloads --force
fi

# 3. wasm-bindgen-cli at exactly the version in Cargo.lock (a mismatch breaks
#    the build). Its own lock file wants a crate the registry lacks: no --locked.
wbg_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$root/Cargo.lock")
if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wbg_version" ]]; then
  say "installing wasm-bindgen-cli $wbg_version"
  cargo install wasm-bindgen-cli --version "$wbg_version" --force
fi

# 4. wasm-opt for release builds, from npm's binaryen (Debian's wasm-opt 108
#    produces a wasm that fails to hydrate, so ours must come first on PATH).
if [[ "$(wasm-opt --version 2>/dev/null)" != *"version ${BINARYEN_VERSION%%.*}"* ]]; then
  say "installing wasm-opt (binaryen $BINARYEN_VERSION from npm)"
  npm install --silent --no-audit --no-fund --prefix "$root/.tools" "binaryen@$BINARYEN_VERSION"
fi

if $with_test; then
  # 4b. s3s-fs, an S3-compatible server over a directory, for the tests of
  #     the S3 file store (the tests start it on loopback). A debug build:
  #     quicker to compile, and fast enough for tests.
  if [[ "$(s3s-fs --version 2>/dev/null)" != "s3s-fs $S3S_FS_VERSION" ]]; then
    say "installing s3s-fs $S3S_FS_VERSION (S3-compatible server for the file tests)"
    cargo install s3s-fs --version "$S3S_FS_VERSION" --features binary --locked --debug --force
  fi
  # 4c. aiosmtpd, a real SMTP server, in its own virtual environment for
  #     the email tests (they start it on loopback). Needs python3; without
  #     it those tests are skipped outside CI.
  smtp_venv="$root/.tools/aiosmtpd"
  if command -v python3 >/dev/null &&
     [[ "$("$smtp_venv/bin/python" -c 'import aiosmtpd; print(aiosmtpd.__version__)' 2>/dev/null)" != "$AIOSMTPD_VERSION" ]]; then
    say "installing aiosmtpd $AIOSMTPD_VERSION (SMTP server for the email tests)"
    if ! python3 -m venv --clear "$smtp_venv" 2>/dev/null; then
      # Debian's python3 makes environments only with python3-venv.
      sudo=()
      (( EUID == 0 )) || sudo=(sudo)
      "${sudo[@]}" apt-get update -qq
      DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq python3-venv
      python3 -m venv --clear "$smtp_venv"
    fi
    "$smtp_venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
  fi
  # 5. Playwright for end2end/, without its browser download.
  if [[ ! -x "$root/end2end/node_modules/.bin/playwright" ]] ||
     [[ "$root/end2end/package-lock.json" -nt "$root/end2end/node_modules/.package-lock.json" ]]; then
    say "installing end2end npm packages"
    (cd "$root/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund)
  fi

  # 6. Chromium from Debian.
  if [[ ! -x /usr/bin/chromium ]]; then
    say "installing Chromium from Debian"
    sudo=()
    (( EUID == 0 )) || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq chromium
  fi

  # 6a. The backup tools the README's Operations section names, for the
  #     backup-and-restore test: sqlite3, and pg_dump/pg_restore.
  if ! command -v sqlite3 >/dev/null || ! command -v pg_dump >/dev/null; then
    say "installing sqlite3 and the PostgreSQL client from Debian (backup test)"
    sudo=()
    (( EUID == 0 )) || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
      sqlite3 postgresql-client
  fi

  # 6b. Fonts with Chinese characters and emoji, so screenshots of the
  #     zh-CN pages show text rather than boxes. Not needed for the tests
  #     to pass: a failed install only says so.
  if ! dpkg -s fonts-noto-cjk fonts-noto-color-emoji >/dev/null 2>&1; then
    say "installing CJK and emoji fonts from Debian (for readable screenshots)"
    sudo=()
    (( EUID == 0 )) || sudo=(sudo)
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
      fonts-noto-cjk fonts-noto-color-emoji ||
      echo "could not install fonts-noto-cjk / fonts-noto-color-emoji: screenshots show boxes for CJK text" >&2
  fi

  # 7. nginx from Debian, for the test of deploy/nginx/ (it runs the binary
  #    unprivileged on a free port). No system nginx may start on port 80:
  #    while the package installs, a policy-rc.d refuses every service start
  #    (unless one is already in place, as in Docker images), and on systemd
  #    machines the service is then disabled. apt waits for a dpkg lock held
  #    by another install. Only a missing binary fails this step.
  if [[ ! -x /usr/sbin/nginx ]]; then
    say "installing nginx from Debian (binary only: its service is not started)"
    sudo=()
    (( EUID == 0 )) || sudo=(sudo)
    apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
    policy=/usr/sbin/policy-rc.d
    own_policy=false
    if [[ ! -e $policy ]]; then
      own_policy=true
      trap '"${sudo[@]}" rm -f "$policy"' EXIT # also if interrupted
      printf '#!/bin/sh\n# scripts/setup.sh: no service starts while nginx installs\nexit 101\n' |
        "${sudo[@]}" tee "$policy" >/dev/null
      "${sudo[@]}" chmod 755 "$policy"
    fi
    { "${apt[@]}" update -qq && "${apt[@]}" install -y -qq nginx; } ||
      echo "apt-get did not finish cleanly installing nginx (a service start, say)" >&2
    if $own_policy; then "${sudo[@]}" rm -f "$policy"; trap - EXIT; fi
    if [[ -d /run/systemd/system ]]; then
      "${sudo[@]}" systemctl disable --now nginx >/dev/null 2>&1 || true
    fi
    [[ -x /usr/sbin/nginx ]] || { echo "nginx could not be installed" >&2; exit 1; }
  fi
fi
