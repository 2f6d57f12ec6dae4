# pocdir: a boring Makefile. Everything is plain `go`.
STATICCHECK_VERSION ?= v0.8.2

.PHONY: demo test check bench build fuzz race

# A release build: no cgo (one static binary), no paths of this machine in
# it; "pocdir version" says the commit it was built from.
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo +changes)
build:
	CGO_ENABLED=0 go build -trimpath -ldflags "-X main.commit=$(COMMIT)" -o pocdir ./cmd/pocdir

demo:
	go run ./cmd/pocdir demo

# The tests. PostgreSQL runs too when POCDIR_TEST_POSTGRES holds a URL;
# the browser tests run when chromium is installed (and must, with
# POCDIR_REQUIRE_BROWSER=1).
test: check
	@./scripts/leftout.sh
	go test -count=1 -timeout 25m ./...

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	go vet ./...
	@if command -v staticcheck >/dev/null; then staticcheck ./...; \
	elif [ -x "$$(go env GOPATH)/bin/staticcheck" ]; then "$$(go env GOPATH)/bin/staticcheck" ./...; \
	else echo "staticcheck not installed: go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)"; fi

# The race detector on the packages whose code runs on several goroutines at
# once (the outbox's connections, the log's integration and check, the
# database's group commits and checkpointer, the background jobs, the
# metrics). Not in CI, for its time: ten to fifteen minutes on two cores, most of
# it the log's check and the communications.
RACE_PKGS ?= ./internal/notify/ ./internal/auditlog/ ./internal/db/ ./internal/metrics/ ./internal/app/ ./internal/comms/ ./internal/system/ ./internal/checks/
race:
	go test -race -count=1 -timeout 30m $(RACE_PKGS)

bench:
	go test -run '^$$' -bench . -benchtime 3s ./internal/web/

# Every fuzz target for a short time (FUZZTIME each). What a failure finds is
# written under the package's testdata/fuzz, kept in the repository, and
# run by "make test" from then on.
FUZZTIME ?= 10s
fuzz:
	@for pkg in $$(git grep -l '^func Fuzz' -- '*_test.go' | xargs -n1 dirname | sort -u); do \
		for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$pkg/*_test.go | cut -c6-); do \
			echo "fuzz $$pkg $$f"; \
			scripts/fuzz-one.sh $$pkg $$f $(FUZZTIME) || exit 1; \
		done; \
	done
