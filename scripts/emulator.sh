# emulator.sh, sourced by the scripts that run wftrigger against
# `wftrigger emulator` on loopback: the emulator's built-in credentials,
# bucket and workflow, and emulator_url.

export TENCENTCLOUD_SECRET_ID=AKIDwftriggerEMULATOR0000000000000000
export TENCENTCLOUD_SECRET_KEY=wftriggerEmulatorSecretKey000000
EMULATOR_BUCKET=demo-1250000000
EMULATOR_WORKFLOW=w0123456789abcdef0123456789abcdef

# emulator_url OUT: prints the URL of the emulator whose output goes to the
# file OUT, once it says it listens (10 s at most); else prints OUT to
# stderr and fails.
emulator_url() {
	local out=$1 url
	for _ in $(seq 100); do
		url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$out" | head -1 || true)
		if [ -n "$url" ]; then
			echo "$url"
			return 0
		fi
		sleep 0.1
	done
	echo "the emulator did not start:" >&2
	cat "$out" >&2
	return 1
}
