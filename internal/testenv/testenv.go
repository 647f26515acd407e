package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// StrictVar is the environment variable that turns a missing requirement into a failure.
const StrictVar = "CONVGRAPH_STRICT"

// Strict reports whether missing requirements fail tests (CONVGRAPH_STRICT=1).
func Strict() bool { return os.Getenv(StrictVar) == "1" }

// Require skips the test when ok is false, or fails it in strict mode; the message says
// what is missing and how to get it (for example "Debian's graphviz is not installed").
func Require(t testing.TB, ok bool, format string, args ...any) {
	t.Helper()
	if ok {
		return
	}
	if Strict() {
		t.Fatalf("missing requirement ("+StrictVar+"=1): "+format, args...)
		return
	}
	t.Skipf(format, args...)
}

// RequireFile is Require for a file or directory that must exist.
func RequireFile(t testing.TB, path, what string) {
	t.Helper()
	_, err := os.Stat(path)
	Require(t, err == nil, "%s: %s is not on this machine", what, path)
}

var modCache = sync.OnceValue(func() string {
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return d
	}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
})

// ModCache is the Go module cache's directory, or "" if the go command cannot tell.
func ModCache() string { return modCache() }

// ModuleDir is where module path@version is unpacked in the module cache (whether or not
// it is there), with the cache's escaping of upper-case letters.
func ModuleDir(path, version string) string {
	var b strings.Builder
	for _, r := range path {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return filepath.Join(ModCache(), filepath.FromSlash(b.String())+"@"+version)
}
