#!/usr/bin/env bash
# Installs whatever a fresh Debian machine with rustup, node and npm lacks to build and test
# Switchyard. Idempotent, and quick when everything is already there. Sourced by serve.sh and
# test.sh (it exports PATH and LEPTOS_OUTPUT_NAME for them); run it alone to just install.
#
#   scripts/setup.sh            toolchain, wasm target, cargo-leptos, wasm-bindgen, npm packages, Chromium
#   scripts/setup.sh --postgres also make sure PostgreSQL answers on 127.0.0.1:5432 with a `test` database,
#                               and install moto (an S3-compatible server) for the store's tests and
#                               the openai Python client for the OpenAI-compatible API's tests
#                               and Schemathesis for the API's check against its OpenAPI document
set -euo pipefail

SETUP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION="0.3.11"

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[setup]\033[0m %s\n' "$*" >&2; exit 1; }

need_root_for() {
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "$1 needs root (or sudo)"
    echo sudo
  fi
}

apt_install() {
  local sudo; sudo="$(need_root_for "installing $*")"
  if [ -z "${SETUP_APT_UPDATED:-}" ]; then
    $sudo apt-get update -qq
    SETUP_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

ensure_rust() {
  command -v rustup >/dev/null || die "rustup is required (https://rustup.rs)"
  cd "$SETUP_ROOT"
  # rust-toolchain.toml names the channel, components and the wasm32 target.
  if ! rustup run "$(toolchain_channel)" rustc --version >/dev/null 2>&1 \
     || ! rustup target list --installed --toolchain "$(toolchain_channel)" | grep -q wasm32-unknown-unknown; then
    say "installing the Rust toolchain from rust-toolchain.toml"
    rustup toolchain install
    rustup target add wasm32-unknown-unknown
  fi
}

toolchain_channel() {
  sed -n 's/^channel *= *"\(.*\)"/\1/p' "$SETUP_ROOT/rust-toolchain.toml"
}

ensure_cargo_tool() { # binary, crate, version, extra cargo-install args...
  local bin="$1" crate="$2" version="$3"; shift 3
  if "$bin" --version 2>/dev/null | grep -q "$version"; then return; fi
  say "installing $crate $version (one-off, several minutes)"
  (cd "$SETUP_ROOT" && cargo install "$crate" --version "$version" "$@")
}

ensure_build_tools() {
  export PATH="$HOME/.cargo/bin:$PATH"
  ensure_cargo_tool cargo-leptos cargo-leptos "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
  # wasm-bindgen must match the library version in Cargo.lock exactly.
  local wbg
  wbg="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' "$SETUP_ROOT/Cargo.lock")"
  [ -n "$wbg" ] || die "cannot read the wasm-bindgen version from Cargo.lock"
  ensure_cargo_tool wasm-bindgen wasm-bindgen-cli "$wbg"
}

ensure_npm_packages() {
  local dir="$SETUP_ROOT/end2end"
  if [ ! -x "$dir/node_modules/.bin/playwright" ] || [ ! -x "$dir/node_modules/.bin/wasm-opt" ] \
     || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "installing npm packages (Playwright, binaryen's wasm-opt)"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
  # cargo-leptos finds wasm-opt on PATH (it may not download it here).
  export PATH="$dir/node_modules/.bin:$PATH"
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    say "installing Debian's chromium"
    apt_install chromium
  fi
}

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    say "installing PostgreSQL"
    apt_install postgresql
  fi
  local version; version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  local sudo; sudo="$(need_root_for "starting PostgreSQL")"
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  # Tests connect as postgres over TCP without a password, like the CI machine's server.
  if ! $sudo grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    say "allowing trust auth on 127.0.0.1 for tests ($hba)"
    $sudo sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  say "starting PostgreSQL $version"
  $sudo pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL did not start on 127.0.0.1:5432"
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE test"
}

# Installs a PyPI package at an exact version unless it is there; with a command name, also
# checks that the command is on PATH afterwards.
#   ensure_pip_package DIST VERSION "why" [COMMAND] [REQUIREMENT]
ensure_pip_package() {
  local dist="$1" version="$2" why="$3" command="${4:-}" requirement="${5:-$1}"
  if [ "$(python3 -m pip show "$dist" 2>/dev/null | sed -n 's/^Version: //p')" = "$version" ] \
     && { [ -z "$command" ] || command -v "$command" >/dev/null; }; then
    return
  fi
  command -v python3 >/dev/null || apt_install python3 python3-pip
  say "installing $requirement $version ($why)"
  python3 -m pip install --quiet --disable-pip-version-check "$requirement==$version" \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$requirement==$version"
  if [ -n "$command" ]; then
    command -v "$command" >/dev/null || die "$command is not on PATH after installing $requirement"
  fi
}

# Tests only, never the app: an S3-compatible server for the store's tests (moto), the stock
# OpenAI client the OpenAI-compatible API is tested with, and Schemathesis, which checks the
# API against its OpenAPI document.
ensure_test_tools() {
  ensure_pip_package moto 5.2.1 "an S3-compatible server for the store's tests" moto_server "moto[server]"
  ensure_pip_package openai 3.57.0 "for the OpenAI-compatible API's tests"
  ensure_pip_package schemathesis 4.32.5 "checks the API against its OpenAPI document" st
}

setup_main() {
  ensure_rust
  ensure_build_tools
  ensure_npm_packages
  ensure_chromium
  if [ "${1:-}" = "--postgres" ]; then
    ensure_postgres; ensure_test_tools
  fi
  # The leptos crates read this at compile time; cargo-leptos sets it for its builds, so
  # setting it for every cargo command keeps them from rebuilding leptos back and forth.
  export LEPTOS_OUTPUT_NAME=switchyard
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  setup_main "$@"
  say "ready"
fi
