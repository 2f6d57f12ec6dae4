#!/usr/bin/env bash
# Load test of the hottest read: an authenticated GET /api/v1/states/{code}
# at 32 connections on a full directory (193 States, 4 PoCs each), next to a
# bare Go handler returning a fixed 2 KB body on the same machine, so that
# the two figures can be compared in one run.
#
# The directory is filled by `pocdir demo --full`, which then stops; what is
# measured is `pocdir serve` on that database, as in production (logs at
# warn, the API's rate limit out of reach so that every answer is a 200: a
# run that meets any other status fails).
#
# Needs wrk (apt-get install wrk).
# Usage: scripts/load.sh [seconds] [postgres://… (default: SQLite)]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
pg=${2:-}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

go build -o "$work/pocdir" ./cmd/pocdir
cat > "$work/bare.go" <<'GO'
package main

import (
	"net/http"
	"strings"
)

func main() {
	body := []byte(strings.Repeat("x", 2048))
	http.ListenAndServe("127.0.0.1:18190", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
}
GO
(cd "$work" && go mod init bare >/dev/null 2>&1 && go build -o bare bare.go)

up() { for _ in $(seq 240); do curl -sf "$1/healthz" >/dev/null && return; sleep 0.5; done; echo "no answer from $1" >&2; exit 1; }

db="sqlite:$work/data/pocdir.db"
demo_db=()
if [ -n "$pg" ]; then
	db=$pg
	demo_db=(--db "$pg")
fi
"$work/pocdir" demo --full --data-dir "$work/data" "${demo_db[@]}" --addr 127.0.0.1:18181 >"$work/demo.log" 2>&1 &
demo=$!
up http://127.0.0.1:18181
kill "$demo"; wait "$demo" || true

token=$("$work/pocdir" token create --db "$db" --email officer@fra.demo.pocdir.example --name load)
keys=(--log-key "$work/data/pocdir-log.key" --data-key "$work/data/pocdir-data.key" --openpgp-key "$work/data/pocdir-openpgp.key")
"$work/pocdir" serve --db "$db" "${keys[@]}" --addr 127.0.0.1:18180 --log-level warn --api-rate-limit 1000000000 >"$work/serve.log" 2>&1 &
up http://127.0.0.1:18180
"$work/bare" &
sleep 1

run() {
	local out
	out=$(wrk -t2 -c32 -d"${secs}s" --latency "$@")
	echo "$out" | grep -E '^Requests/sec|^ +50%|^ +99%'
	if echo "$out" | grep -q 'Non-2xx'; then
		echo "$out" | grep 'Non-2xx' >&2
		echo "some answers were not 200: the figure would not be the read's" >&2
		exit 1
	fi
}
echo "== bare Go handler, fixed 2 KB body"
run http://127.0.0.1:18190/
echo "== pocdir GET /api/v1/states/DEU with a bearer token"
run -H "Authorization: Bearer $token" http://127.0.0.1:18180/api/v1/states/DEU
echo "== pocdir GET /api/v1/states/DEU, gzip accepted"
run -H "Accept-Encoding: gzip" -H "Authorization: Bearer $token" http://127.0.0.1:18180/api/v1/states/DEU
echo "== resident memory of pocdir serve (KB)"
ps -o rss= -p "$(pgrep -f "$work/pocdir serve")"
