#!/usr/bin/env bash
# Load test of the hottest read: an authenticated GET /api/v1/states/{code}
# at 32 connections on a full directory (193 States, 4 PoCs each), next to a
# bare Go handler returning a fixed 2 KB body on the same machine, so that
# the two figures can be compared in one run.
# Needs wrk (apt-get install wrk). Usage: scripts/load.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

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

"$work/pocdir" demo --full --data-dir "$work/data" --addr 127.0.0.1:18180 >"$work/demo.log" 2>&1 &
for _ in $(seq 120); do curl -sf http://127.0.0.1:18180/healthz >/dev/null && break; sleep 0.5; done
token=$("$work/pocdir" token create --db "sqlite:$work/data/pocdir.db" --email officer@fra.demo.pocdir.example --name load)
"$work/bare" &
sleep 1

echo "== bare Go handler, fixed 2 KB body"
wrk -t2 -c32 -d"${secs}s" --latency http://127.0.0.1:18190/ | grep -E 'Requests/sec|50%|99%'
echo "== pocdir GET /api/v1/states/DEU with a bearer token"
wrk -t2 -c32 -d"${secs}s" --latency -H "Authorization: Bearer $token" http://127.0.0.1:18180/api/v1/states/DEU | grep -E 'Requests/sec|50%|99%'
echo "== pocdir GET /api/v1/states/DEU, gzip accepted"
wrk -t2 -c32 -d"${secs}s" --latency -H "Accept-Encoding: gzip" -H "Authorization: Bearer $token" http://127.0.0.1:18180/api/v1/states/DEU | grep -E 'Requests/sec|50%|99%'
echo "== resident memory of pocdir (KB)"
ps -o rss= -p "$(pgrep -f "$work/pocdir demo")"
