#!/usr/bin/env bash
# pace.sh: how the adaptive pacer holds a quota it cannot see. Each scenario
# starts the emulator (loopback) with a quota, runs wftrigger against it
# with --qps far above, for DURATION (default 60s) at most, and reads the
# emulator's record of the quota second by second. The manifest holds as
# many keys as the quota lets through in DURATION, so a pacer that holds the
# quota ends near DURATION; one that does not is stopped (SIGTERM) at 1.5 ×
# DURATION. It prints:
#   goodput %    accepted triggers / the quota, over the steady seconds
#                (10 s after the start and after each move; outage excluded)
#   throttled %  throttled answers / all answers, over the whole run
#   failed       objects the report says failed
#   converge     seconds from the start, and from each move, until 3
#                seconds in a row average ≥ 90% of the quota
#
# The emulator's quota counts calls per second (at most RATE in each, none
# carried over); "bucket" is the fixed scenario against a token bucket that
# holds a second of calls, which hides an overshoot until it is empty.
#
# Measured on the 2-core test machine (2026-12-01, scripts/pace.sh):
#   scenario  --qps  goodput%  throttled%  failed  exit  converge (seconds@from)
#   fixed      1000     100.0        0.85       0     0  8s@0
#   low        1000      94.3        1.38       0     0  5s@0
#   moving     1000      99.5        2.62       0     0  10s@0 2s@20 6s@40
#   outage     1000      99.3        2.90       0     0  8s@0 3s@35
#   bucket     1000      99.7        3.50       0     0  5s@0
#
#   scripts/pace.sh                 # all five scenarios, ~5 minutes
#   DURATION=30s scripts/pace.sh fixed low
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-60s}
secs=${DURATION%s}
dir=$(mktemp -d)
emu_pid=
cleanup() {
	if [ -n "$emu_pid" ]; then kill "$emu_pid" 2>/dev/null || true; fi
	[ -n "${KEEP:-}" ] && echo "kept $dir" >&2 || rm -rf "$dir"
}
trap cleanup EXIT
go build -o "$dir/wftrigger" .
. scripts/emulator.sh

# scenario NAME QPS KEYS EMULATOR-FLAGS...
scenario() {
	local name=$1 qps=$2 keys=$3
	shift 3
	local d="$dir/$name"
	mkdir -p "$d"
	seq 1 "$keys" | sed 's/^/pace\/obj-/' >"$d/keys.txt"
	"$dir/wftrigger" emulator --listen 127.0.0.1:0 --latency 10ms --quota-log "$d/quota.tsv" "$@" >"$d/emulator.out" &
	emu_pid=$!
	local url
	url=$(emulator_url "$d/emulator.out") || exit 1
	local code=0
	timeout --signal=TERM $((secs * 3 / 2)) "$dir/wftrigger" run --bucket "$EMULATOR_BUCKET" --ci-endpoint "$url" --cos-endpoint "$url" \
		--workflow "$EMULATOR_WORKFLOW" --manifest "$d/keys.txt" --report "$d/report.json" \
		--qps "$qps" --concurrency 32 --progress none \
		>"$d/run.out" 2>"$d/run.err" || code=$?
	kill -INT "$emu_pid"
	wait "$emu_pid" || true
	emu_pid=
	local failed
	failed=$(jq '.summary.failed' "$d/report.json")
	awk -v name="$name" -v qps="$qps" -v failed="$failed" -v code="$code" -F'\t' '
		NR == 1 { next }
		{ s = $1; quota[s] = $2; acc[s] = $3; thr[s] = $4; last = s }
		END {
			n = last - 1  # the last second is cut short by the stop
			seg = 0; conv = ""
			for (s = 0; s < n; s++) {
				if (s == 0 || quota[s] != quota[s - 1]) {
					seg = s
					if (quota[s] > 0) {
						c = -1
						for (t = s; t + 2 < n && c < 0; t++) {
							if (quota[t + 2] != quota[s]) break
							if ((acc[t] + acc[t + 1] + acc[t + 2]) / 3 >= 0.9 * quota[s]) c = t - s
						}
						conv = conv sprintf("%s%ds@%d", conv == "" ? "" : " ", c, s)
					}
				}
				if (quota[s] > 0 && s >= seg + 10) { good += acc[s]; want += quota[s] }
				a += acc[s]; th += thr[s]
			}
			printf "%-8s %6s %9.1f %11.2f %7d %5d  %s\n", name, qps, want ? 100 * good / want : 0, 100 * th / (a + th), failed, code, conv
		}' "$d/quota.tsv"
}

run() {
	case $1 in
	fixed) scenario fixed 1000 $((200 * secs)) --qps-schedule 200 ;;
	low) scenario low 1000 $((50 * secs)) --qps-schedule 50 ;;
	moving) scenario moving 1000 $((300 * secs)) --qps-schedule "0s:400,$((secs / 3))s:200,$((secs * 2 / 3))s:300" ;;
	outage) scenario outage 1000 $((200 * (secs - 20))) --qps-schedule 200 --outage "$((secs / 4))s+20s" ;;
	bucket) scenario bucket 1000 $((200 * secs)) --qps-schedule 200 --quota-burst 1s ;;
	*) echo "pace.sh: unknown scenario $1 (fixed, low, moving, outage, bucket)" >&2; exit 2 ;;
	esac
}

printf "%-8s %6s %9s %11s %7s %5s  %s\n" scenario "--qps" "goodput%" "throttled%" failed exit "converge (seconds@from)"
for s in "${@:-fixed low moving outage bucket}"; do
	for one in $s; do run "$one"; done
done
