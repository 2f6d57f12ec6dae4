#!/bin/sh
# Says what "make test" leaves out on this machine, and how to include it:
# without these, the suite runs much less than CI does.
out=""
note() { out="$out
  - $1"; }
[ -n "$POCDIR_TEST_POSTGRES" ] || note "PostgreSQL: every store, service and HTTP test runs on SQLite only. Set POCDIR_TEST_POSTGRES='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' (a database you may empty)."
chromium="${POCDIR_CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || command -v chromium >/dev/null 2>&1 || note "the browser tests: no chromium (apt-get install chromium, or POCDIR_CHROMIUM=/path/to/chromium)."
axe="${POCDIR_AXE_JS:-$HOME/.cache/pocdir-axe/node_modules/axe-core/axe.min.js}"
[ -f "$axe" ] || note "the accessibility scans: no axe-core (npm install --prefix ~/.cache/pocdir-axe axe-core@4, or POCDIR_AXE_JS=/path/to/axe.min.js)."
{ command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]; } && { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } || note "the tests behind real proxies: no haproxy or nginx (apt-get install haproxy nginx-light)."
command -v gpg >/dev/null 2>&1 || note "replies signed and encrypted with GnuPG: no gpg (apt-get install gnupg)."
{ command -v staticcheck >/dev/null 2>&1 || [ -x "$(go env GOPATH)/bin/staticcheck" ]; } || note "staticcheck (go install honnef.co/go/tools/cmd/staticcheck@v0.8.2)."
if [ -n "$out" ]; then
  echo "make test: this run leaves out$out"
  echo "  CI (.ci/run) installs all of them, and fails where one is missing (POCDIR_REQUIRE_BROWSER=1, POCDIR_REQUIRE_PROXIES=1)."
fi
exit 0
