package runner

import "time"

// The defaults of a run and of a status pass: the flags of `wftrigger run`
// and `wftrigger status` default to these, and Config's zero fields mean
// them.
const (
	DefaultConcurrency = 16               // calls in flight
	DefaultQPS         = 50               // ceiling on calls a second
	DefaultMaxAttempts = 5                // calls per object at most
	DefaultTimeout     = 30 * time.Second // per call
	DefaultMaxFailures = "50%"            // see ParseThreshold
	// DefaultBackoffBase and DefaultBackoffCap bound the full-jitter
	// exponential backoff between attempts.
	DefaultBackoffBase = 100 * time.Millisecond
	DefaultBackoffCap  = 20 * time.Second
	// DefaultGrace is how long calls in flight may finish once a run stops.
	DefaultGrace = 10 * time.Second
	// DefaultLookback widens the execution look-up window before an
	// uncertain call, for clock skew.
	DefaultLookback = 5 * time.Minute
	// DefaultLookupDelay is the least time between an uncertain call and
	// the look-up of its object, for an execution list that lags.
	DefaultLookupDelay = 2 * time.Second
	// DefaultMinQPS is the lowest rate the adaptive pacer cuts to (or
	// --qps, when that is lower): the calls that tell a service that is
	// throttling everything from one that has come back.
	DefaultMinQPS = 1.0
	// DefaultGiveUpThrottled is how long every answer may be throttled
	// before a run gives up (exit 3, resumable).
	DefaultGiveUpThrottled = 5 * time.Minute
	// DefaultStatusInterval is the pause between status passes with --wait.
	DefaultStatusInterval = 30 * time.Second
)
