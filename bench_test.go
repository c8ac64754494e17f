package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wftrigger/wftrigger/tencent"
)

// The backfill benchmarks compare wftrigger with the least a client can do:
// signed TriggerWorkflow calls over net/http, at the same concurrency,
// against an emulator in another process (so that the CPU measured is the
// client's alone). Run them with:
//
//	go test -run '^$' -bench 'Backfill|RawClient' -benchtime 3x .
//
// triggers/s is the rate over the whole run; cpu-µs/trigger is the client
// process's user+system CPU divided by the calls.

const benchKeys = 50_000

func BenchmarkBackfill(b *testing.B) {
	url, server := emulatorProcess(b)
	dir := b.TempDir()
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("bench/video %06d.mp4", i)
	}
	manifestPath := filepath.Join(dir, "keys.txt")
	writeLines(b, manifestPath, keys)
	b.ResetTimer()
	var wall, cpu, scpu, gc time.Duration
	for i := 0; i < b.N; i++ {
		start, cpu0, s0, gc0 := time.Now(), cpuTime(), server(), gcTime()
		code, _, stderr := wftrigger(b, runArgs(url, filepath.Join(dir, "report.json"), "--manifest", manifestPath, "--concurrency", "16", "--fresh")...)
		wall += time.Since(start)
		cpu += cpuTime() - cpu0
		scpu += server() - s0
		gc += gcTime() - gc0
		if code != 0 {
			b.Fatalf("run: exit %d: %s", code, stderr)
		}
	}
	reportRate(b, wall, cpu, scpu, gc)
}

func BenchmarkRawClient(b *testing.B) {
	url, server := emulatorProcess(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	creds := tencent.Credentials{SecretID: emulatorSecretID, SecretKey: emulatorSecretKey}
	b.ResetTimer()
	var wall, cpu, scpu, gc time.Duration
	for i := 0; i < b.N; i++ {
		start, cpu0, s0, gc0 := time.Now(), cpuTime(), server(), gcTime()
		var next atomic.Int64
		var wg sync.WaitGroup
		var failed atomic.Int64
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					n := next.Add(1)
					if n > benchKeys {
						return
					}
					u := fmt.Sprintf("%s/triggerworkflow?object=bench%%2Fvideo%%20%06d.mp4&workflowId=%s", url, n, emulatorWorkflow)
					req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, u, http.NoBody)
					now := time.Now()
					tencent.Sign(req, creds, now, now.Add(time.Hour))
					resp, err := client.Do(req)
					if err != nil {
						failed.Add(1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		wall += time.Since(start)
		cpu += cpuTime() - cpu0
		scpu += server() - s0
		gc += gcTime() - gc0
		if failed.Load() > 0 {
			b.Fatalf("%d calls failed", failed.Load())
		}
	}
	reportRate(b, wall, cpu, scpu, gc)
}

func reportRate(b *testing.B, wall, cpu, scpu, gc time.Duration) {
	calls := float64(b.N * benchKeys)
	b.ReportMetric(calls/wall.Seconds(), "triggers/s")
	b.ReportMetric(float64(cpu.Microseconds())/calls, "cpu-µs/trigger")
	b.ReportMetric(float64(gc.Microseconds())/calls, "gc-cpu-µs/trigger")
	b.ReportMetric(float64(scpu.Microseconds())/calls, "server-cpu-µs/trigger")
	b.ReportMetric(0, "ns/op")
}

// cpuTime is the user+system CPU this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var listening = regexp.MustCompile(`on (http://127\.0\.0\.1:[0-9]+)`)

// emulatorProcess serves `wftrigger emulator` from a child process and
// returns its URL and a function that reads the CPU the child has used so
// far (0 where /proc is not there to read it).
func emulatorProcess(b *testing.B) (string, func() time.Duration) {
	b.Helper()
	cmd := childProcess(b, "emulator", "--listen", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, out)
			return m[1], func() time.Duration { return processCPU(cmd.Process.Pid) }
		}
	}
	b.Fatal("the emulator printed no address")
	return "", nil
}

// processCPU is the user+system CPU of process pid, from /proc/PID/stat
// (fields 14 and 15, in clock ticks: 100 a second on Linux); 0 where it
// cannot be read.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// gcTime is the CPU the garbage collector has used in this process, as
// the runtime estimates it.
func gcTime() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return time.Duration(s[0].Value.Float64() * float64(time.Second))
}
