#!/usr/bin/env bash
# attack.sh: a hostile world against "never twice", black-box.
#
# Builds wftrigger, serves `wftrigger emulator` on loopback, and for each
# scenario kills runs with SIGKILL (or signals them) at random moments,
# damages the report and journal between runs, then reruns the same command
# to completion. The emulator counts the triggers per object: every scenario
# must end with every object triggered exactly once (0 duplicates, 0 lost),
# no run may panic, and a run over a damaged file must recover or exit 2
# naming the file (then the damage is undone, as a user would, and the
# rounds go on).
#
#   scripts/attack.sh                     # every scenario, ROUNDS rounds each
#   ROUNDS=5 OBJECTS=5000 scripts/attack.sh kill corrupt
#
# Scenarios: kill, faults, corrupt, signals, paths. Loopback only; bounded in time
# (each run is killed by MAXRUN seconds at the latest).
set -u
ROUNDS=${ROUNDS:-10}
OBJECTS=${OBJECTS:-20000}
MAXRUN=${MAXRUN:-120}
WORK=${WORK:-$(mktemp -d /tmp/wft-attack.XXXXXX)}
BIN=$WORK/wftrigger
cd "$(dirname "$0")/.." || exit 1
go build -o "$BIN" . || exit 1
. scripts/emulator.sh
WF=$EMULATOR_WORKFLOW
FAILS=0

say() { printf '%s\n' "$*" >&2; }
fail() { say "FAIL: $*"; FAILS=$((FAILS + 1)); }

# emu_start DIR [flags]: serve an emulator for DIR; sets URL and EMU.
emu_start() {
	local dir=$1
	shift
	"$BIN" emulator --listen 127.0.0.1:0 --objects "$OBJECTS" "$@" >"$dir/emu.out" 2>&1 &
	EMU=$!
	URL=$(emulator_url "$dir/emu.out") || exit 1
}

# emu_stop DIR NAME: stop the emulator and judge its counts.
emu_stop() {
	local dir=$1 name=$2 line distinct twice
	kill -INT "$EMU"
	wait "$EMU" 2>/dev/null
	line=$(tail -1 "$dir/emu.out")
	distinct=$(sed -n 's/.*(\([0-9]*\) distinct objects, \([0-9]*\) triggered more than once).*/\1/p' <<<"$line")
	twice=$(sed -n 's/.*(\([0-9]*\) distinct objects, \([0-9]*\) triggered more than once).*/\2/p' <<<"$line")
	say "$name: $line"
	say "$name: duplicates=$twice lost=$((OBJECTS - distinct))"
	[ "$twice" = 0 ] || fail "$name: $twice objects triggered more than once"
	[ "$distinct" = "$OBJECTS" ] || fail "$name: $((OBJECTS - distinct)) objects never triggered"
}

# run DIR REPORT [flags]: one run in the background; sets PID.
run_bg() {
	local dir=$1 report=$2
	shift 2
	"$BIN" run --bucket "$EMULATOR_BUCKET" --ci-endpoint "$URL" --cos-endpoint "$URL" \
		--workflow "$WF" --prefix "" --report "$report" --progress none "$@" >>"$dir/runs.out" 2>>"$dir/runs.err" &
	PID=$!
	# A watchdog bounds every run (it is gone with the run).
	(sleep "$MAXRUN" && kill -KILL "$PID" 2>/dev/null) >/dev/null 2>&1 &
}

# check_panic DIR: no run may print a Go panic.
check_panic() {
	if grep -q -e '^panic:' -e '^goroutine [0-9]* \[' -e 'fatal error:' "$1/runs.err"; then
		fail "$1: a run panicked"
		grep -m5 -e '^panic:' -e 'fatal error:' "$1/runs.err" >&2
	fi
}

# finish DIR REPORT [flags]: rerun to completion; exit 0 wanted.
finish() {
	local dir=$1 report=$2 rc
	shift 2
	for _ in 1 2 3; do
		run_bg "$dir" "$report" --qps 0 "$@"
		wait "$PID"
		rc=$?
		[ $rc = 0 ] && return 0
		[ $rc = 1 ] || [ $rc = 3 ] || break
	done
	fail "$dir: final run exit $rc"
	tail -3 "$dir/runs.err" >&2
}

# rand_sleep MAX: sleep a random time, up to MAX milliseconds.
rand_sleep() { sleep "$(awk -v m="$1" -v r="$RANDOM" 'BEGIN{printf "%.3f", (r/32767)*m/1000}')"; }

scenario_kill() {
	local dir=$WORK/kill
	mkdir -p "$dir"
	emu_start "$dir"
	for i in $(seq "$ROUNDS"); do
		run_bg "$dir" "$dir/r.json" --qps 4000 --concurrency 16
		rand_sleep 6000
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	done
	finish "$dir" "$dir/r.json"
	check_panic "$dir"
	ls "$dir" | grep -q 'tmp-' && fail "kill: temporary files left: $(ls "$dir" | grep tmp-)"
	emu_stop "$dir" kill
}

scenario_faults() {
	local dir=$WORK/faults
	mkdir -p "$dir"
	emu_start "$dir" --reset-rate 0.03 --error-rate 0.03 --slowdown-rate 0.03 --latency 900ms
	for i in $(seq "$ROUNDS"); do
		run_bg "$dir" "$dir/r.json" --qps 0 --concurrency 64 --timeout 1s
		rand_sleep 8000
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	done
	# 900 ms a call holds 64 workers to ~70 calls/s: the 20,000 objects
	# need ~5 minutes of calls, more than the kill rounds and one MAXRUN.
	# The final run keeps the faults and the timeout, with more workers.
	finish "$dir" "$dir/r.json" --qps 0 --concurrency 256 --timeout 1s
	check_panic "$dir"
	emu_stop "$dir" faults
}

# damage_report FILE: one random kind of damage to a report; prints it.
damage_report() {
	local f=$1 size cut
	[ -e "$f" ] || { echo "none ($f missing)"; return; }
	size=$(stat -c %s "$f")
	cut=$(( (RANDOM * 32768 + RANDOM) % (size + 1) ))
	case $((RANDOM % 4)) in
	0) truncate -s "$cut" "$f"; echo "truncate $f at $cut of $size" ;;
	1) truncate -s "$cut" "$f"; head -c $((size - cut)) /dev/zero >>"$f"; echo "zero-fill $f from $cut of $size" ;;
	2) printf 'garbage\x00\xff{"key":' >>"$f"; echo "append garbage to $f" ;;
	3) : >"$f"; echo "empty $f" ;;
	esac
}

# damage_journal FILE: one random kind of damage to a journal that a crash
# or a hostile hand can do without losing what was fsynced; prints it.
damage_journal() {
	local f=$1 size last
	[ -e "$f" ] || { echo "none ($f missing)"; return; }
	size=$(stat -c %s "$f")
	case $((RANDOM % 4)) in
	0) last=$(tail -c 2000 "$f" | awk 'END{print length($0)}')
	   truncate -s $((size - (last > 2 ? last / 2 : 0) - 1)) "$f"; echo "cut $f inside its last line" ;;
	1) head -c 4096 /dev/zero >>"$f"; echo "zero-extend $f (a power loss after the size grew)" ;;
	2) printf 'garbage\x00\xff{"key":' >>"$f"; echo "append garbage to $f" ;;
	3) : >"$f"; echo "empty $f" ;;
	esac
}

scenario_corrupt() {
	local dir=$WORK/corrupt rc what
	mkdir -p "$dir"
	emu_start "$dir"
	for i in $(seq "$ROUNDS"); do
		run_bg "$dir" "$dir/r.json" --qps 2000
		rand_sleep 3000
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
		cp -p "$dir/r.json" "$dir/r.json.bak" 2>/dev/null
		cp -p "$dir/r.json.journal" "$dir/r.json.journal.bak" 2>/dev/null
		if [ $((RANDOM % 2)) = 0 ]; then what=$(damage_report "$dir/r.json"); else what=$(damage_journal "$dir/r.json.journal"); fi
		run_bg "$dir" "$dir/r.json" --qps 4000
		rand_sleep 3000
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
		rc=$?
		say "corrupt round $i: $what: exit $rc"
		if [ $rc = 2 ]; then
			tail -1 "$dir/runs.err" | grep -q -e 'r.json' || fail "corrupt: exit 2 without naming the file"
			# Undo the damage, as the user who reads the message would.
			cp -p "$dir/r.json.bak" "$dir/r.json" 2>/dev/null
			cp -p "$dir/r.json.journal.bak" "$dir/r.json.journal" 2>/dev/null
		fi
		rm -f "$dir"/*.bak
	done
	finish "$dir" "$dir/r.json"
	check_panic "$dir"
	emu_stop "$dir" corrupt
}

scenario_signals() {
	local dir=$WORK/signals rc sig
	mkdir -p "$dir"
	emu_start "$dir" --latency 50ms
	for i in $(seq "$ROUNDS"); do
		sig=$(shuf -n1 -e INT TERM HUP)
		run_bg "$dir" "$dir/r.json" --qps 2000 --concurrency 32
		rand_sleep 5000
		kill -"$sig" "$PID" 2>/dev/null
		if [ $((RANDOM % 3)) = 0 ]; then
			rand_sleep 30
			kill -"$(shuf -n1 -e INT TERM HUP)" "$PID" 2>/dev/null
		fi
		wait "$PID"
		rc=$?
		case $rc in
		0 | 3) ;;
		*) fail "signals: SIG$sig gave exit $rc, want 3 (or 0 when it had finished)" ;;
		esac
	done
	finish "$dir" "$dir/r.json"
	check_panic "$dir"
	emu_stop "$dir" signals
}

# scenario_paths: while a run holds the report, a second run through every
# other name of it (and after its lock files were deleted) must exit 4.
scenario_paths() {
	local dir=$WORK/paths rc name
	mkdir -p "$dir/sub"
	emu_start "$dir"
	run_bg "$dir" "$dir/r.json" --qps 0 --limit 10
	wait "$PID"
	ln -s r.json "$dir/sym.json"
	ln -s .. "$dir/sub/up"
	for i in $(seq "$ROUNDS"); do
		run_bg "$dir" "$dir/r.json" --qps 1000
		local holder=$PID
		sleep 1
		for name in hardlink "$dir/sym.json" "$dir/sub/up/r.json" "/proc/self/cwd/up/r.json" lockgone bothgone; do
			case $name in
			hardlink) ln "$dir/r.json" "$dir/hard.json"; name=$dir/hard.json ;;
			lockgone) rm -f "$dir/r.json.lock"; name=$dir/r.json ;;
			bothgone) rm -f "$dir/r.json.lock" "$dir/r.json.journal"; name=$dir/r.json ;;
			esac
			(cd "$dir/sub" && "$BIN" run --bucket "$EMULATOR_BUCKET" --ci-endpoint "$URL" --cos-endpoint "$URL" \
				--workflow "$WF" --prefix "" --report "$name" --progress none --qps 1000 >>"$dir/runs.out" 2>>"$dir/runs.err")
			rc=$?
			[ $rc = 4 ] || fail "paths: a second run through $name: exit $rc, want 4"
			rm -f "$dir/hard.json" # a report with two names is not rewritten: see README
		done
		# The holder, its journal deleted, stops and writes the report from
		# the journal it still has open (exit 3). A kill -9 now would lose
		# what that journal held: a second fault on top of the first.
		wait "$holder" 2>/dev/null
		rc=$?
		[ $rc = 3 ] || fail "paths: the holder whose journal was deleted: exit $rc, want 3"
	done
	finish "$dir" "$dir/r.json"
	check_panic "$dir"
	emu_stop "$dir" paths
}

scenarios=${*:-kill faults corrupt signals paths}
for s in $scenarios; do
	"scenario_$s"
done
say "attack: $FAILS failures; files in $WORK"
[ $FAILS = 0 ]
