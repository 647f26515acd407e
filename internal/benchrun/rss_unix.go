//go:build linux || darwin || freebsd || netbsd || openbsd

package benchrun

import (
	"runtime"
	"syscall"
)

// MaxRSSMB is the process's peak resident set size in megabytes (0 if unknown).
func MaxRSSMB() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return float64(ru.Maxrss) / (1 << 20) // bytes
	}
	return float64(ru.Maxrss) / 1024 // kilobytes
}
