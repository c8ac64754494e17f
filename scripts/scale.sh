#!/usr/bin/env bash
# scale.sh: a backfill of N rows (default 1,000,000) against the emulator in
# another process, then the same command again. Prints wftrigger's peak RSS
# and wall time for both runs (from /usr/bin/time -v) and the calls the rerun
# made (it must make none).
#
#   scripts/scale.sh             # 1,000,000 rows
#   N=200000 scripts/scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/emulator.sh
N=${N:-1000000}
CONCURRENCY=${CONCURRENCY:-32}
dir=$(mktemp -d)
go build -o "$dir/wftrigger" .
"$dir/wftrigger" emulator --listen 127.0.0.1:0 --execution-delay 0s >"$dir/emulator.out" 2>&1 &
emu=$!
trap 'kill $emu 2>/dev/null; wait $emu 2>/dev/null; rm -rf "$dir"' EXIT
url=$(emulator_url "$dir/emulator.out") || exit 1

awk -v n="$N" 'BEGIN { print "key"; for (i = 0; i < n; i++) printf "videos/%04d/clip %07d.mp4\n", i % 1000, i }' >"$dir/keys.csv"
run() {
	/usr/bin/time -v "$dir/wftrigger" run --bucket "$EMULATOR_BUCKET" --ci-endpoint "$url" --cos-endpoint "$url" \
		--workflow "$EMULATOR_WORKFLOW" --manifest "$dir/keys.csv" --report "$dir/report.json" \
		--qps 0 --concurrency "$CONCURRENCY" --progress none >"$dir/$1.out" 2>"$dir/$1.err" || { cat "$dir/$1.err"; exit 1; }
	rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f MB", $2 / 1024 }' "$dir/$1.err")
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$dir/$1.err")
	cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.1f s", u + s }' "$dir/$1.err")
	printf '%-6s %s rows: wall %s, CPU %s, peak RSS %s\n       %s\n' "$1" "$N" "$wall" "$cpu" "$rss" "$(cat "$dir/$1.out")"
}
run first
run rerun
printf 'report: %s bytes; journal left: %s\n' "$(stat -c %s "$dir/report.json")" "$(ls "$dir"/report.json.journal 2>/dev/null || echo none)"
