//go:build unix

package sqlite

import (
	"syscall"
	"time"
)

// processCPU is the user CPU time the process has used, for benchmarks
// whose wall time is dominated by waiting for the disk. System time is left
// out: it is mostly the fsync, which no code change here affects, and it
// varies with the disk far more than the rest.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano())
}
