#!/usr/bin/env bash
# The test command: every check CI runs, in order, failing fast.
#   1. rustfmt check
#   2. clippy -D warnings, server side (ssr) and browser side (hydrate, wasm32)
#   3. unit and integration tests (real SQLite files and the real PostgreSQL)
#   4. release build with cargo-leptos (server binary + WASM bundle), the bundle held under its
#      size ceiling
#   5. the REST API against its own OpenAPI document (Schemathesis, scripts/api-fuzz.sh)
#   6. Playwright suite in Debian's Chromium against the release server
# Nothing is skipped: a missing PostgreSQL or Chromium is installed or started first, and if
# that fails the run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_main --postgres

started=$SECONDS
last=$SECONDS
step() { # prints the step and how long the previous one took
  printf '\n\033[1;35m==> %s\033[0m (previous step %ss, total %ss)\n' "$*" "$((SECONDS - last))" "$((SECONDS - started))" >&2
  last=$SECONDS
}
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (ssr: server, app, engine crates)"
cargo clippy --workspace --exclude switchyard-frontend --all-targets --features switchyard-app/ssr -- -D warnings

step "clippy (hydrate: frontend and app for wasm32)"
cargo clippy -p switchyard-frontend -p switchyard-app --features switchyard-app/hydrate \
  --target wasm32-unknown-unknown -- -D warnings

step "unit and integration tests (SQLite + PostgreSQL)"
cargo test --workspace --exclude switchyard-frontend --features switchyard-app/ssr 2>&1 | tee "$logs/cargo-test.log"

step "release build (cargo leptos build --release)"
cargo leptos build --release
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"

step "bundle sizes (the first page's WASM+JS, gzip, held under a ceiling)"
for f in target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css; do
  printf '  %-52s %9d bytes raw %9d bytes gzip\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(gzip -9c "$f" | wc -c)"
done
# The budget is 200 kB (seed 001); the bundle is far over it until the heavy parts load lazily
# (code splitting by route). Until then this ceiling stops it growing unnoticed: a change that
# needs more raises it here, in the same commit, where review sees it. History (gzip, WASM+JS):
#   678 kB  2026-12-06  ceiling set at 690 kB
#   680 kB  2026-12-06  REST wire types in the protocol crate
#   755 kB  2026-12-07  the tab's live WebSocket (gloo-net, futures channels), the approvals
#                       inbox and its sidebar count, the Runs page following changes: ceiling
#                       raised to 760 kB
#   778 kB  2026-12-07  starting a run from a plan written in the browser (the editor, its
#                       checks placed by step): ceiling raised to 780 kB
#   790 kB  2026-12-07  a run's page steers it (pause, resume, cancel with a reason) and
#                       follows its events: ceiling raised to 795 kB
#   950 kB  2026-12-07  the run page's graph, timeline, history, inline approval, rerun and
#                       planning record; the Runs page's filters, pages and bulk cancel; the
#                       goal form: +158 kB, nearly all of it view code monomorphized per
#                       closure and component (by module, before wasm-opt: runs +94 kB,
#                       run_detail +85 kB, the decision form +38 kB, server functions +24 kB).
#                       Ceiling raised to 955 kB. Leptos' `erase_components` measured 678 kB
#                       for the same pages, but only the browser side was built with it and
#                       hydration failed: it needs the server built with the same cfg.
#   775 kB  2026-12-07  `erase_components` on both sides (.cargo/config.toml), with the
#                       Workflows section (templates, the form generated from a schema), the
#                       bell and the search over runs and templates added: ceiling lowered to
#                       780 kB.
#   787 kB  2026-12-07  planning shown as the model writes (the goal form follows it over
#                       the live socket), runs listed with their goal, the socket renewing an
#                       expired session before it reconnects: ceiling raised to 790 kB.
#   827 kB  2026-12-07  the panel's chat mode (conversations kept on the server, the answer
#                       followed over the live socket, Stop, rename, delete): +40 kB, nearly
#                       all view code. Ceiling raised to 830 kB; the panel is a candidate for
#                       the lazy loading that brings the first page under budget (issue 23).
#   859 kB  2026-12-07  the panel's task mode (a goal's planning under the thread, its run
#                       in the conversation: graph, approval cards, outputs), the chat model
#                       picker, the bell and the approvals inbox keyed by row (a row keeps
#                       its notification or its half-written rationale while others arrive):
#                       +31 kB. Ceiling raised to 860 kB.
#   938 kB  2026-12-07  data mode (drop zone, the check's schema / problems / preview, key
#                       picker, write with progress, the datasets list), the Datasets section
#                       and a dataset's page, gloo-net's `http` for the streamed upload: +79 kB.
#                       Ceiling raised to 940 kB; the panel's modes and the new pages are the
#                       first candidates for issue 23's lazy routes.
#   947 kB  2026-12-07  query mode (the index's hits with scores and marked snippets):
#                       ceiling raised to 950 kB.
BUNDLE_TARGET_BYTES=200000
BUNDLE_CEILING_BYTES=950000
first_page=0
for f in target/site/pkg/*.wasm target/site/pkg/*.js; do
  first_page=$((first_page + $(gzip -9c "$f" | wc -c)))
done
printf '  first page (WASM+JS, gzip): %d bytes; ceiling %d, budget %d (%d over it)\n' \
  "$first_page" "$BUNDLE_CEILING_BYTES" "$BUNDLE_TARGET_BYTES" "$((first_page - BUNDLE_TARGET_BYTES))"
if [ "$first_page" -gt "$BUNDLE_CEILING_BYTES" ]; then
  echo "the first page's bundle grew past its ceiling ($first_page > $BUNDLE_CEILING_BYTES bytes gzip)" >&2
  exit 1
fi

step "API against its OpenAPI document (Schemathesis)"
bash scripts/api-fuzz.sh "$target_dir/release/switchyard" 2>&1 | tee "$logs/api-fuzz.log"

step "end-to-end (Playwright + Chromium)"
(cd end2end && SWITCHYARD_BIN="$target_dir/release/switchyard" E2E_DATA_DIR="$logs/e2e-data" \
  npx playwright test 2>&1) | tee "$logs/playwright.log"

# One closing line over both runners (pipefail already stopped the run on any failure).
sum() { grep -oE "$1" "$2" | grep -oE '[0-9]+' | awk '{ s += $1 } END { print s + 0 }'; }
rust_passed=$(sum 'test result: ok\. [0-9]+ passed' "$logs/cargo-test.log")
e2e_passed=$(sum '^ +[0-9]+ passed' "$logs/playwright.log")
api_cases=$(sum '[0-9]+ generated' "$logs/api-fuzz.log")
step "all checks passed in $((SECONDS - started))s: $rust_passed Rust tests, $e2e_passed browser tests, $api_cases API cases (Schemathesis)"
echo "$((rust_passed + e2e_passed)) passed, 0 failed"
