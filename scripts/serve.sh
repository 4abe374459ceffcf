#!/usr/bin/env bash
# The serve command: installs what is missing, builds the release binary and the browser
# bundle with cargo-leptos, and serves Switchyard on http://127.0.0.1:3000 with the embedded
# defaults (./data, SQLite). Extra arguments go to `switchyard serve`, e.g. --listen 0.0.0.0:3000.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_main

say "building (cargo leptos build --release)"
cargo leptos build --release
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
say "serving on http://127.0.0.1:3000 (Ctrl-C stops)"
exec "$target_dir/release/switchyard" serve "$@"
