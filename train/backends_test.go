package train

import (
	"os"
	"testing"

	"github.com/convgraph/convgraph/internal/kernels"
	"github.com/convgraph/convgraph/internal/mpi/mpitest"
)

// TestMain runs the package's tests once on every compute path this machine has (see
// kernels.RunOnEveryBackend), so gradient and parity checks hold on each. Under mpirun
// (mpitest.Run) the binary plays a rank's role instead.
func TestMain(m *testing.M) {
	if code, ok := mpitest.RunChild(); ok {
		os.Exit(code)
	}
	os.Exit(kernels.RunOnEveryBackend(m.Run))
}
