package limits

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// MemoryEnv names the environment variable that sets the memory budget, in bytes or
// with a unit: "4GiB", "512MB", "1.5G" (see [ParseBytes]).
const MemoryEnv = "CONVGRAPH_MEMORY_LIMIT"

// DefaultFraction is the share of the machine's memory the budget is by default.
const DefaultFraction = 0.5

// fallbackMemory is the machine's memory assumed when it cannot be read (not Linux).
const fallbackMemory = 8 << 30

var (
	override   atomic.Int64 // set by SetMemory; 0: none
	defaultMem = sync.OnceValue(func() int64 { return int64(float64(machineMemory()) * DefaultFraction) })
)

// SetMemory sets the memory budget to n bytes for the rest of the process (the CLI's
// --memory-limit); n <= 0 goes back to the environment variable or the default.
func SetMemory(n int64) { override.Store(max(n, 0)) }

// Memory returns the memory budget in bytes: [SetMemory]'s value, else
// $CONVGRAPH_MEMORY_LIMIT's, else [DefaultFraction] of the machine's memory. A bad
// environment value is ignored here; [MemoryFromEnv] reports it.
func Memory() int64 {
	if n := override.Load(); n > 0 {
		return n
	}
	if n, err := MemoryFromEnv(); err == nil && n > 0 {
		return n
	}
	return defaultMem()
}

// MemoryFromEnv parses $CONVGRAPH_MEMORY_LIMIT: 0 and no error when it is unset.
func MemoryFromEnv() (int64, error) {
	s := os.Getenv(MemoryEnv)
	if s == "" {
		return 0, nil
	}
	n, err := ParseBytes(s)
	if err != nil {
		return 0, fmt.Errorf("$%s: %v", MemoryEnv, err)
	}
	return n, nil
}

// Source says where [Memory]'s value comes from, for messages.
func Source() string {
	switch {
	case override.Load() > 0:
		return "--memory-limit"
	case os.Getenv(MemoryEnv) != "":
		if n, err := MemoryFromEnv(); err == nil && n > 0 {
			return "$" + MemoryEnv
		}
	}
	return fmt.Sprintf("%.0f%% of this machine's %s", DefaultFraction*100, FormatBytes(machineMemory()))
}

// ParseBytes reads a size: a number of bytes, optionally with a unit (B, K/KB, M/MB,
// G/GB, T/TB in powers of 1000; KiB, MiB, GiB, TiB in powers of 1024; case does not
// matter). It must be positive and below 2^62.
func ParseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	units := []struct {
		suffix string
		mult   float64
	}{
		{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
		{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
		{"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"t", 1e12}, {"b", 1},
	}
	mult := 1.0
	for _, u := range units {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a size in bytes (for example 4GiB, 512MB or 1000000)", s)
	}
	v *= mult
	if v >= 1<<62 || v < 1 {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return int64(v), nil
}

// FormatBytes writes n bytes for people: "3.2 GiB", "512 MiB", "900 B".
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<40:
		return fmt.Sprintf("%.1f TiB", float64(n)/(1<<40))
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// MemoryError is a need over the memory budget.
type MemoryError struct {
	What  string // what needs the memory: "model \"x\" at batch 32 (train)"
	Need  int64  // bytes needed
	Limit int64  // the budget
	// Detail says what dominates the need: "layer \"conv2d\" (Conv2D): 62 GiB".
	Detail string
}

func (e *MemoryError) Error() string {
	s := fmt.Sprintf("%s needs %s of memory, more than the limit of %s (%s)", e.What, FormatBytes(e.Need), FormatBytes(e.Limit), Source())
	if e.Detail != "" {
		s += "; " + e.Detail
	}
	return s + "; raise it with --memory-limit or $" + MemoryEnv + " if the machine has the memory"
}

// CheckMemory returns a *[MemoryError] if need bytes exceed the budget.
func CheckMemory(what string, need int64, detail string) error {
	if lim := Memory(); need > lim || need < 0 {
		if need < 0 {
			need = math.MaxInt64
		}
		return &MemoryError{What: what, Need: need, Limit: lim, Detail: detail}
	}
	return nil
}

// machineMemory is the smaller of the physical memory and the cgroup's limit.
func machineMemory() int64 {
	total := int64(0)
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				fields := strings.Fields(rest)
				if len(fields) > 0 {
					if kb, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
						total = kb << 10
					}
				}
			}
		}
		f.Close()
	}
	if total <= 0 {
		total = fallbackMemory
	}
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := os.ReadFile(p); err == nil {
			if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && n < total {
				total = n
			}
		}
	}
	return total
}
