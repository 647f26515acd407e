package train_test

import (
	"context"
	"fmt"
	"os"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

// A data-parallel Fit: run the program as `mpirun -np 4 ./program`. Each rank trains on
// its share of every batch of 4·32 images; rank 0 reports. (Not run as a test: it needs
// mpirun; the tests in distributed_test.go start real mpirun jobs.)
func ExampleMPI() {
	comm, err := train.MPI()
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // not started by mpirun, or no libmpi
		os.Exit(1)
	}
	s, err := data.Sample(data.FashionMNIST)
	if err != nil {
		comm.Abort(1)
	}
	m, _ := zoo.New("fashion-cnn")
	cfg := train.Config{Epochs: 2, BatchSize: 32, Comm: comm, Progress: os.Stderr}
	if _, err := train.Fit(context.Background(), m, s.Train, cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		comm.Abort(1) // the other ranks may be waiting for this one
	}
	ev, err := train.EvaluateDistributed(comm, m, s.Test, 256)
	if err != nil {
		comm.Abort(1)
	}
	if comm.Rank() == 0 {
		fmt.Printf("test accuracy: %.4f\n", ev.Accuracy)
	}
	comm.Finalize()
}
