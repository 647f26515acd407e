package train

import (
	"os"
	"testing"

	"github.com/convgraph/convgraph/internal/kernels"
)

// TestMain runs the package's tests once on every compute path this machine has (see
// kernels.RunOnEveryBackend), so gradient and parity checks hold on each.
func TestMain(m *testing.M) { os.Exit(kernels.RunOnEveryBackend(m.Run)) }
