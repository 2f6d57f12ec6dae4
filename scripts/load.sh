#!/usr/bin/env bash
# Load test of the hottest read: an authenticated GET /api/v1/states/{code}
# at 32 connections on a full directory (193 States, 4 PoCs each), next to a
# bare Go handler returning a fixed 2 KB body on the same machine, so that
# the two figures can be compared in one run; and next to a bare handler
# answering the very bytes and headers of pocdir's answer (its JSON, the
# API's security headers) on a server with pocdir's timeouts, which
# measures what pocdir's handlers add to net/http. Each row also gives the
# server's CPU time per request (from /proc), steadier than the rate on a
# machine whose speed drifts.
#
# The directory is filled by `pocdir demo --full`, which then stops; what is
# measured is `pocdir serve` on that database, as in production (logs at
# warn, the API's rate limit out of reach so that every answer is a 200: a
# run that meets any other status fails).
#
# Needs wrk (apt-get install wrk).
# Usage: scripts/load.sh [seconds] [postgres://… (default: SQLite)]
#        POCDIR_LOAD_BIN=/tmp/pocdir-before scripts/load.sh …
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
pg=${2:-}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

# POCDIR_LOAD_BIN names a pocdir binary to measure instead of this tree's
# (to compare two versions side by side).
if [ -n "${POCDIR_LOAD_BIN:-}" ]; then
	cp "$POCDIR_LOAD_BIN" "$work/pocdir"
else
	go build -o "$work/pocdir" ./cmd/pocdir
fi
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
mkdir "$work/same"
cat > "$work/same/same.go" <<'GO'
package main

import (
	"net/http"
	"os"
	"strconv"
	"time"
)

// The body and the headers of pocdir's answer, fixed, on a server with
// pocdir's timeouts (cmd/pocdir/serve.go): what any Go server answering
// these bytes with those protections costs, without pocdir's handlers.
func main() {
	body, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	length := strconv.Itoa(len(body))
	srv := &http.Server{Addr: "127.0.0.1:18191", ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Cache-Control", "no-store")
			h.Set("Content-Length", length)
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
			h.Set("Content-Type", "application/json")
			h.Set("X-Content-Type-Options", "nosniff")
			w.Write(body)
		})}
	srv.ListenAndServe()
}
GO
(cd "$work" && go mod init bare >/dev/null 2>&1 && go build -o bare bare.go && go build -o same-bin ./same)

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
served=$!
up http://127.0.0.1:18180
"$work/bare" &
bare=$!
curl -sf -H "Authorization: Bearer $token" -o "$work/deu.json" http://127.0.0.1:18180/api/v1/states/DEU
"$work/same-bin" "$work/deu.json" &
same=$!
sleep 1

# cpu is a process's CPU time so far, in clock ticks.
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks=$(getconf CLK_TCK)

# run drives the server of process $1 with wrk and the rest of its arguments.
run() {
	local out pid=$1 c0 n
	shift
	c0=$(cpu "$pid")
	out=$(wrk -t2 -c32 -d"${secs}s" --latency "$@")
	echo "$out" | grep -E '^Requests/sec|^ +50%|^ +99%'
	n=$(echo "$out" | awk '/requests in/ {print $1}')
	echo "server CPU: $(( ($(cpu "$pid") - c0) * 1000000000 / ticks / n )) ns a request"
	if echo "$out" | grep -q 'Non-2xx'; then
		echo "$out" | grep 'Non-2xx' >&2
		echo "some answers were not 200: the figure would not be the read's" >&2
		exit 1
	fi
}
echo "== bare Go handler, fixed 2 KB body"
run "$bare" http://127.0.0.1:18190/
echo "== bare Go handler, pocdir's answer ($(wc -c <"$work/deu.json") bytes) with its headers, pocdir's server timeouts"
run "$same" http://127.0.0.1:18191/
echo "== pocdir GET /api/v1/states/DEU with a bearer token"
run "$served" -H "Authorization: Bearer $token" http://127.0.0.1:18180/api/v1/states/DEU
echo "== pocdir GET /api/v1/states/DEU, gzip accepted"
run "$served" -H "Accept-Encoding: gzip" -H "Authorization: Bearer $token" http://127.0.0.1:18180/api/v1/states/DEU
echo "== resident memory of pocdir serve (KB)"
ps -o rss= -p "$served"
