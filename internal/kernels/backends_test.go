package kernels

import (
	"os"
	"testing"
)

// TestMain runs the package's tests once on every compute path this machine has (see
// RunOnEveryBackend), so gradient and parity checks hold on each.
func TestMain(m *testing.M) { os.Exit(RunOnEveryBackend(m.Run)) }
