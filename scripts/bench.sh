#!/usr/bin/env bash
# bench.sh: wftrigger against a minimal raw net/http client doing the same
# signed TriggerWorkflow calls, 50,000 each, concurrency 16, against the
# emulator in another process. The two alternate for ROUNDS rounds (default
# 6) so that a noisy machine weighs on both alike; prints the medians of
# the rate, the client's CPU a trigger (and the garbage collector's part of
# it) and the emulator's.
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
	# A line: name, iterations, then value-unit pairs.
	{
		name = $1; sub(/-[0-9]+$/, "", name)
		for (i = 3; i < NF; i += 2) v[$(i + 1)] = $i
		cpu[name] = cpu[name] " " v["cpu-µs/trigger"]; rate[name] = rate[name] " " v["triggers/s"]
		srv[name] = srv[name] " " v["server-cpu-µs/trigger"]; gc[name] = gc[name] " " v["gc-cpu-µs/trigger"]
	}
	function median(s,   a, n, i, j, t) {
		n = split(s, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END {
		for (k in rate) printf "%-18s median %6.0f triggers/s  %5.1f cpu-µs/trigger (%4.1f of it GC)  emulator %5.1f cpu-µs/trigger   (rates:%s)\n", k, median(rate[k]), median(cpu[k]), median(gc[k]), median(srv[k]), rate[k]
		printf "wftrigger / raw client: %.2f of the rate\n", median(rate["BenchmarkBackfill"]) / median(rate["BenchmarkRawClient"])
	}' "$dir/results"
