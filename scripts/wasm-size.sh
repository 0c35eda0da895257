#!/usr/bin/env bash
# Prints the size of what the browser downloads before the app responds:
# the WebAssembly module and its script, as built by
# `cargo leptos build --release`, raw and compressed as a server would send
# them (gzip -9, brotli quality 11; Node's zlib, so nothing to install).
#
#   scripts/wasm-size.sh            # builds first
#   scripts/wasm-size.sh --no-build # measures target/site/pkg as it is
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [[ "${1:-}" != "--no-build" ]]; then
  cargo leptos build --release >&2
fi
pkg=target/site/pkg
for file in "$pkg/chatsphere.wasm" "$pkg/chatsphere.js"; do
  [[ -f "$file" ]] || { echo "missing $file: build with cargo leptos build --release" >&2; exit 1; }
done
node -e '
const fs = require("fs"), zlib = require("zlib");
for (const file of process.argv.slice(1)) {
  const raw = fs.readFileSync(file);
  const gzip = zlib.gzipSync(raw, { level: 9 }).length;
  const brotli = zlib.brotliCompressSync(raw, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 },
  }).length;
  const kb = (n) => (n / 1000).toFixed(1).padStart(8) + " KB";
  console.log(`${file.padEnd(32)} raw ${kb(raw.length)}  gzip ${kb(gzip)}  brotli ${kb(brotli)}`);
}' "$pkg/chatsphere.wasm" "$pkg/chatsphere.js"
