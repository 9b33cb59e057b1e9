//go:build unix

package review

import (
	"runtime"
	"syscall"
	"testing"
)

// reportPeakRSS reports the process's peak resident memory so far.
func reportPeakRSS(b *testing.B) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return
	}
	kb := float64(ru.Maxrss) // kilobytes on Linux, bytes on Darwin
	if runtime.GOOS == "darwin" {
		kb /= 1024
	}
	b.ReportMetric(kb/1024, "peak-RSS-MB")
}
