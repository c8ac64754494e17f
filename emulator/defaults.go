package emulator

import "time"

// Defaults of `wftrigger emulator`.
const (
	// DefaultListen is the address served.
	DefaultListen = "127.0.0.1:9000"
	// DefaultExecutionDelay is how long an instance stays Running.
	DefaultExecutionDelay = 2 * time.Second
)
