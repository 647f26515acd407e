//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package benchrun

// MaxRSSMB is the process's peak resident set size in megabytes (0 if unknown).
func MaxRSSMB() float64 { return 0 }
