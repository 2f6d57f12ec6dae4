# pocdir: a boring Makefile. Everything is plain `go`.
STATICCHECK_VERSION ?= v0.8.2

.PHONY: demo test check bench build

build:
	go build -o pocdir ./cmd/pocdir

demo:
	go run ./cmd/pocdir demo

# The tests. PostgreSQL runs too when POCDIR_TEST_POSTGRES holds a URL;
# the browser tests run when chromium is installed (and must, with
# POCDIR_REQUIRE_BROWSER=1).
test: check
	go test -count=1 ./...

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	go vet ./...
	@if command -v staticcheck >/dev/null; then staticcheck ./...; \
	elif [ -x "$$(go env GOPATH)/bin/staticcheck" ]; then "$$(go env GOPATH)/bin/staticcheck" ./...; \
	else echo "staticcheck not installed: go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)"; fi

bench:
	go test -run '^$$' -bench . -benchtime 3s ./internal/web/
