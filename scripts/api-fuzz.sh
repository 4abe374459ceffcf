#!/usr/bin/env bash
# The API checked against its own OpenAPI document by Schemathesis (PyPI `schemathesis`,
# installed by scripts/setup.sh --postgres): every documented operation gets schema-valid and
# schema-violating requests, and the run fails on a server error, an answer that breaks the
# document (status, content type, headers, body), schema-violating input accepted, or
# schema-valid input refused with a status the document and scripts/schemathesis.toml do not
# allow. Called by scripts/test.sh with the release binary.
#
#   scripts/api-fuzz.sh BINARY [MAX_EXAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."
binary="$1"
examples="${2:-${API_FUZZ_EXAMPLES:-25}}"

command -v st >/dev/null || { echo "Schemathesis (st) is missing: run scripts/setup.sh --postgres" >&2; exit 1; }

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
email="fuzz-admin@example.com"
password="fuzz-admin-password-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"

# A server of its own (fresh SQLite, no model configured), signed in as an admin, so every
# operation is reachable; sign-in itself is covered by the Rust and browser tests.
SWITCHYARD_ADMIN_EMAIL="$email" SWITCHYARD_ADMIN_PASSWORD="$password" \
  "$binary" serve --listen "127.0.0.1:$port" --data-dir "$work/data" --site-dir target/site \
  >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do
  curl -fsS "$base/api/v1/health" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; echo "the server did not start" >&2; exit 1; }
  sleep 0.5
done
token="$(curl -fsS -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" "$base/api/v1/auth/login" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"

# Two runs for the operations on one run: one that has ended (reads, its stream, steering
# refused with 409) and one whose step waits for a person (approve and reject).
submit() {
  curl -fsS -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "$1" \
    "$base/api/v1/runs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
FUZZ_ENDED_RUN="$(submit '{"plan": {"steps": [{"key": "only", "agent": "default", "tool": "noop"}]}}')"
FUZZ_WAITING_RUN="$(submit '{"plan": {"steps": [{"key": "gate", "agent": "default", "tool": "approval", "input": {"summary": "fuzz"}}]}}')"
# A workflow template, so that its own entry in the document (its parameter schema as the
# request body) is fuzzed like any operation, and a run of it for the template's stream.
curl -fsS -H "Authorization: Bearer $token" -H 'content-type: application/json' "$base/api/v1/workflows" -d '{
  "name": "fuzz-form",
  "params_schema": {"type": "object", "additionalProperties": false, "required": ["label"],
    "properties": {"label": {"type": "string", "minLength": 1, "maxLength": 40},
                   "count": {"type": "integer", "minimum": 0, "maximum": 10},
                   "loud": {"type": "boolean"}}},
  "plan": {"steps": [{"key": "echo", "agent": "default", "tool": "noop",
    "input": {"label": "{{params.label}}", "count": "{{params.count}}", "loud": "{{params.loud}}"}}]}
}' >/dev/null
FUZZ_WORKFLOW_RUN="$(curl -fsS -H "Authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"label": "fuzz"}' "$base/api/v1/workflows/fuzz-form/runs" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
export FUZZ_ENDED_RUN FUZZ_WAITING_RUN FUZZ_WORKFLOW_RUN
for _ in $(seq 1 50); do
  curl -fsS -H "Authorization: Bearer $token" "$base/api/v1/runs/$FUZZ_ENDED_RUN" | grep -q '"status":"succeeded"' && break
  sleep 0.1
done

status=0
config="$PWD/scripts/schemathesis.toml"
# From the scratch folder: Schemathesis keeps a cache of crashes in the working directory.
(cd "$work" && st --config-file "$config" run "$base/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks all --max-examples "$examples" --workers 2 --seed 20261206 \
  --generation-database none --no-color \
  --report junit --report-dir "$work/report") || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 40 lines) ---" >&2
  tail -n 40 "$work/server.log" >&2
fi
exit "$status"
