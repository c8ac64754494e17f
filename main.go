// Command wftrigger backfills Tencent Cloud Infinite (CI) workflows over
// existing COS objects: it reads a manifest of object keys (or lists a bucket
// prefix), calls TriggerWorkflow once per object, concurrently, rate-limited
// and retried, and keeps a resumable JSON report.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/wftrigger/wftrigger/tencent"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	// SIGHUP (an ssh session that dropped) stops a run as SIGINT and
	// SIGTERM do.
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		// The first signal stops the run gracefully (calls in flight
		// finish, the report is written); the second ends the process at
		// once.
		<-sigs
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, secondSignalMessage)
		os.Exit(exitAborted)
	}()
	env := environment{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	code := run(ctx, os.Args[1:], env)
	signal.Stop(sigs)
	cancel()
	os.Exit(code)
}

// secondSignalMessage is the one line a second signal prints before the
// process ends.
const secondSignalMessage = "wftrigger: second signal: stopping at once; the journal keeps what was done (rerun the same command to resume)"

// environment is what a command may touch of the process: tests and the demo
// pass their own.
type environment struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// secrets are every credential handed out during the command (the
	// environment's, and each refresh of temporary ones): redacted from
	// stdout and stderr.
	secrets *tencent.Secrets
}

// Exit statuses of the contract.
const (
	exitOK       = 0 // every object succeeded
	exitFailures = 1 // finished, some objects failed or were invalid
	exitUsage    = 2 // usage, configuration or source error: nothing was triggered
	exitAborted  = 3 // ended before the end: the report is resumable
	exitLocked   = 4 // another run holds the report's lock
)

// exitError carries an exit status and an optional hint to main.
type exitError struct {
	code int
	err  error
	hint string
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// flagError turns an error of a FlagSet's Parse into the command's answer:
// -h prints the usage to stdout and exits 0; a bad flag (which the flag
// package has already named on stderr) exits 2 with a pointer to -h.
func flagError(err error, stdout, stderr io.Writer, cmd, usage string) error {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return &exitError{code: exitOK}
	}
	fmt.Fprintf(stderr, "wftrigger: hint: wftrigger %s -h prints every flag, with examples\n", cmd)
	return &exitError{code: exitUsage}
}

func usageError(hint string, format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...), hint: hint}
}

const mainUsage = `wftrigger backfills Tencent Cloud Infinite workflows over existing COS objects.

Usage:
  wftrigger run [flags]                  trigger the workflow for every object of a source
  wftrigger status --report PATH [--wait] record the execution state of triggered instances
  wftrigger report --report PATH [flags] print a report's entries as JSONL, CSV or S3 Batch CSV
  wftrigger emulator [flags]             serve a local CI + COS emulator
  wftrigger cancel --report PATH         cancel the server-side job of a server-side run
  wftrigger demo                         run a whole backfill against an in-process emulator
  wftrigger version                      print the version

Examples:
  wftrigger demo
  wftrigger run --bucket media-1250000000 --region ap-guangzhou \
      --workflow w0123456789abcdef0123456789abcdef --manifest objects.csv
  wftrigger status --report wftrigger-report.json --wait

Run 'wftrigger COMMAND -h' for the flags of a command.
`

// run executes one command line and returns the exit status. Only main calls
// os.Exit, so every path here flushes its report.
func run(ctx context.Context, args []string, env environment) int {
	if len(args) == 0 {
		fmt.Fprint(env.stderr, mainUsage)
		return exitUsage
	}
	// Nothing any command prints can carry a secret of the environment's
	// credentials, not even a server's echo of one in an error message.
	env.secrets = tencent.NewSecrets()
	if creds, err := tencent.CredentialsFromEnv(env.getenv); err == nil {
		env.secrets.Add(creds)
	}
	env.stdout = &redactingWriter{w: env.stdout, redact: env.secrets.Redact}
	env.stderr = &redactingWriter{w: env.stderr, redact: env.secrets.Redact}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "run":
		restoreGC := tuneGCForRun(env.getenv)
		err = runCommand(ctx, rest, env)
		restoreGC()
	case "status":
		err = statusCommand(ctx, rest, env)
	case "report":
		err = reportCommand(ctx, rest, env)
	case "emulator":
		err = emulatorCommand(ctx, rest, env)
	case "demo":
		err = demoCommand(ctx, rest, env)
	case "cancel":
		err = cancelCommand(ctx, rest, env)
	case "version":
		fmt.Fprintln(env.stdout, "wftrigger", version())
	case "-h", "-help", "--help", "help":
		fmt.Fprint(env.stdout, mainUsage)
	default:
		err = usageError("wftrigger -h lists the commands", "unknown command %q", cmd)
	}
	return exitStatus(err, env)
}

// exitStatus prints err as the contract wants and returns its exit status.
func exitStatus(err error, env environment) int {
	if err == nil {
		return exitOK
	}
	code := exitCodeOf(err)
	var ee *exitError
	if errors.As(err, &ee) && ee.err == nil {
		return code
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(env.stderr, "wftrigger: stopped; rerun the same command to resume")
		return code
	}
	fmt.Fprintf(env.stderr, "wftrigger: error: %v\n", err)
	if ee != nil && ee.hint != "" {
		fmt.Fprintf(env.stderr, "wftrigger: hint: %s\n", ee.hint)
	}
	return code
}

// version is the module version from the build info, with the VCS revision
// when the build recorded one: "v1.2.0" (go install …@v1.2.0),
// "v0.0.0-20261201080000-11e2884c1a2b+dirty" (go build in a clone, Go 1.24
// and later), or "devel 11e2884c1a2b (2026-12-01T08:00:00Z, modified)" for a
// build that stamped the revision but no version.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return versionOf(info)
}

func versionOf(info *debug.BuildInfo) string {
	v := info.Main.Version
	devel := v == "" || v == "(devel)"
	if devel {
		v = "devel"
	}
	var rev, at string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" && !strings.Contains(v, rev) {
		v += " " + rev
	}
	var details []string
	if devel && at != "" {
		details = append(details, at)
	}
	if modified && !strings.HasSuffix(v, "+dirty") {
		details = append(details, "modified")
	}
	if len(details) > 0 {
		v += " (" + strings.Join(details, ", ") + ")"
	}
	return v
}
