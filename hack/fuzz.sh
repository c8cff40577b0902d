#!/usr/bin/env bash
# Runs every fuzz target of the packages below for FUZZTIME each (default 5s), one after
# another: go test fuzzes one target per run. make test runs it briefly, make bench for minutes.
# An input that fails is written to <package>/testdata/fuzz/<target>/; commit it once fixed, so
# that plain go test keeps replaying it.
#
#   FUZZTIME=2m hack/fuzz.sh            # a duration, or a count of inputs such as 10000x
#   FUZZ_PACKAGES="./scalers/" hack/fuzz.sh
#   FUZZ_PARALLEL=1 hack/fuzz.sh       # fuzzing workers (default GOMAXPROCS)
#   FUZZMINIMIZE=60s hack/fuzz.sh      # how long an input is minimized (default 200x: 200 runs)
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-5s}
FUZZ_PACKAGES=${FUZZ_PACKAGES:-./scalers/}
# The engine minimizes every input that finds new coverage, for up to 60 s by default, without
# counting it against -fuzztime's clock: a target whose runs make requests (an HTTP answer per run)
# then spent whole seconds minimizing and ran past its deadline. 200 runs keep it short.
FUZZMINIMIZE=${FUZZMINIMIZE:-200x}
parallel=()
if [[ -n ${FUZZ_PARALLEL:-} ]]; then
	parallel=(-test.parallel "$FUZZ_PARALLEL")
fi

failed=()
bindir=$(mktemp -d)
trap 'rm -rf "$bindir"' EXIT
for pkg in $FUZZ_PACKAGES; do
	# -list prints the matching names, then an ok line.
	targets=$("$GO" test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
	if [[ -z $targets ]]; then
		echo "hack/fuzz.sh: no fuzz target in $pkg" >&2
		exit 1
	fi
	# The test binary is built once, with the coverage instrumentation go test -fuzz adds, and
	# run once a target: go test -fuzz would link it again for each (tens of seconds apiece).
	bin="$bindir/fuzz.test"
	"$GO" test -c -o "$bin" -gcflags=-d=libfuzzer "$pkg"
	importpath=$("$GO" list "$pkg")
	cachedir="$("$GO" env GOCACHE)/fuzz/$importpath"
	pkgdir=$("$GO" list -f '{{.Dir}}' "$pkg")
	for target in $targets; do
		echo "== $pkg $target for $FUZZTIME"
		# Keep going after a failure, so that one run reports every failing target. A run that
		# ends in "context deadline exceeded" without writing a failing input is the fuzzing
		# engine losing a starved worker at the deadline (a loaded machine, nice 19), not a
		# finding: that target runs once more.
		for attempt in 1 2; do
			out=$(mktemp)
			if (cd "$pkgdir" && "$bin" -test.run '^$' -test.fuzz "^${target}\$" -test.fuzztime "$FUZZTIME" -test.fuzzminimizetime "$FUZZMINIMIZE" -test.fuzzcachedir "$cachedir" "${parallel[@]}") 2>&1 | tee "$out"; [[ ${PIPESTATUS[0]} -eq 0 ]]; then
				rm -f "$out"
				break
			fi
			if ((attempt == 1)) && grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written to' "$out"; then
				echo "hack/fuzz.sh: $target lost a worker at its deadline (no failing input): once more"
				rm -f "$out"
				continue
			fi
			rm -f "$out"
			failed+=("$pkg $target")
			break
		done
	done
done

if ((${#failed[@]} > 0)); then
	echo "hack/fuzz.sh: failed: ${failed[*]} (failing inputs are under testdata/fuzz/)" >&2
	exit 1
fi
echo "hack/fuzz.sh: every target ran $FUZZTIME without a failure"
