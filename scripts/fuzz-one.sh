#!/usr/bin/env bash
# Runs one fuzz target for a while: scripts/fuzz-one.sh PKG TARGET FUZZTIME.
#
# Go 1.26's fuzzing coordinator can end a run that found nothing with a bare
# "context deadline exceeded" when -fuzztime expires on a loaded machine
# (golang/go#75804, fixed in Go 1.27). Such a run wrote no failing input; it
# is run once more. A real finding prints "Failing input written to" (and
# the input is kept under testdata/fuzz): it fails at once.
set -u
pkg=$1 target=$2 fuzztime=$3
for attempt in 1 2; do
	out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "./$pkg/" 2>&1)
	status=$?
	printf '%s\n' "$out" | tail -n 3
	[ $status -eq 0 ] && exit 0
	if printf '%s\n' "$out" | grep -q 'Failing input written to' || ! printf '%s\n' "$out" | grep -q '^    context deadline exceeded$'; then
		printf '%s\n' "$out"
		exit 1
	fi
	echo "fuzz $pkg $target: the run ended on Go's fuzztime race (golang/go#75804) and found nothing; running it again"
done
exit 1
