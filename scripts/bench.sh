#!/usr/bin/env bash
# bench.sh: wftrigger against a minimal raw net/http client doing the same
# signed TriggerWorkflow calls, 50,000 each, concurrency 16, against the
# emulator in another process. The two alternate for ROUNDS rounds (default
# 6) so that a noisy machine weighs on both alike; prints the medians.
#
#   scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-6}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go test -c -o "$dir/wftrigger.test" .
for i in $(seq "$ROUNDS"); do
	for b in Backfill RawClient; do
		"$dir/wftrigger.test" -test.run '^$' -test.bench "^Benchmark$b\$" -test.benchtime 1x | grep '^Benchmark' >>"$dir/results"
	done
done
awk '
	{ name = $1; sub(/-[0-9]+$/, "", name); cpu[name] = cpu[name] " " $3; rate[name] = rate[name] " " $5 }
	function median(s,   a, n, i, j, t) {
		n = split(s, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END {
		for (k in rate) printf "%-24s median %8.0f triggers/s  %6.1f cpu-µs/trigger   (rates:%s)\n", k, median(rate[k]), median(cpu[k]), rate[k]
		printf "wftrigger / raw client: %.2f of the rate\n", median(rate["BenchmarkBackfill"]) / median(rate["BenchmarkRawClient"])
	}' "$dir/results"
