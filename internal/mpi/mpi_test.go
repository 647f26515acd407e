package mpi_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/convgraph/convgraph/internal/mpi"
	"github.com/convgraph/convgraph/internal/mpi/mpitest"
)

// TestMain plays a rank's role when mpitest.Run started this binary under mpirun.
func TestMain(m *testing.M) {
	if role := mpitest.Child(); role != "" {
		os.Exit(child(role))
	}
	os.Exit(m.Run())
}

func child(role string) int {
	w, err := mpi.Init()
	if err != nil {
		fmt.Println("init:", err)
		return 1
	}
	switch role {
	case "collectives":
		if err := collectives(w); err != nil {
			fmt.Printf("rank %d: %v\n", w.Rank(), err)
			w.Abort(1)
		}
		fmt.Printf("rank %d of %d: ok\n", w.Rank(), w.Size())
	case "abort":
		// Rank 1 aborts while rank 0 waits in an all-reduce that rank 1 never joins.
		if w.Rank() == 1 {
			fmt.Println("rank 1: aborting")
			w.Abort(3)
		}
		w.AllreduceFloat64(make([]float64, 4)) //nolint:errcheck // never returns
		fmt.Println("rank 0: all-reduce returned")
	case "die":
		// Rank 1 exits without Finalize while rank 0 waits in an all-reduce.
		if w.Rank() == 1 {
			fmt.Println("rank 1: exiting")
			os.Exit(5)
		}
		w.AllreduceFloat64(make([]float64, 4)) //nolint:errcheck // never returns
		fmt.Println("rank 0: all-reduce returned")
	}
	if err := w.Finalize(); err != nil {
		fmt.Println("finalize:", err)
		return 1
	}
	return 0
}

// collectives checks every call against values each rank can compute alone.
func collectives(w *mpi.World) error {
	r, n := w.Rank(), w.Size()
	if n != mpi.LaunchedSize() || r != mpi.LaunchedRank() {
		return fmt.Errorf("rank %d of %d, launcher says %d of %d", r, n, mpi.LaunchedRank(), mpi.LaunchedSize())
	}
	if w2, err := mpi.Init(); err != nil || w2 != w {
		return fmt.Errorf("second Init: %v, %v", w2, err)
	}
	// Sum of (rank+1)*(i+1) over ranks is (i+1)*n(n+1)/2, exact in float32 at these sizes.
	f32 := make([]float32, 1000)
	f64 := make([]float64, 3)
	for i := range f32 {
		f32[i] = float32((r + 1) * (i + 1))
	}
	for i := range f64 {
		f64[i] = float64(r+1) * 0.5
	}
	if err := w.AllreduceFloat32(f32); err != nil {
		return err
	}
	if err := w.AllreduceFloat64(f64); err != nil {
		return err
	}
	tri := n * (n + 1) / 2
	for i, v := range f32 {
		if v != float32((i+1)*tri) {
			return fmt.Errorf("AllreduceFloat32[%d] = %v, want %v", i, v, (i+1)*tri)
		}
	}
	for i, v := range f64 {
		if v != float64(tri)*0.5 {
			return fmt.Errorf("AllreduceFloat64[%d] = %v, want %v", i, v, float64(tri)*0.5)
		}
	}
	if err := w.AllreduceFloat32(nil); err != nil { // an empty buffer is no call at all
		return err
	}
	root := n - 1
	b32, b64, bb := []float32{float32(r), 1.5}, []float64{float64(r), -2}, []byte{byte(r), 'x', 'y'}
	if err := w.BcastFloat32(b32, root); err != nil {
		return err
	}
	if err := w.BcastFloat64(b64, root); err != nil {
		return err
	}
	if err := w.BcastBytes(bb, root); err != nil {
		return err
	}
	if b32[0] != float32(root) || b64[0] != float64(root) || bb[0] != byte(root) || b32[1] != 1.5 || b64[1] != -2 || string(bb[1:]) != "xy" {
		return fmt.Errorf("broadcast from %d: got %v %v %v", root, b32, b64, bb)
	}
	// Calls from other goroutines are funnelled to the MPI thread.
	done := make(chan error)
	go func() { done <- w.Barrier() }()
	return <-done
}

func TestCollectives(t *testing.T) {
	for _, np := range []int{1, 2, 3} {
		r := mpitest.Run(t, np, "collectives", 2*time.Minute)
		if r.Err != nil {
			t.Fatalf("-np %d: %v\n%s", np, r.Err, r.Output)
		}
		for rank := range np {
			if want := fmt.Sprintf("rank %d of %d: ok", rank, np); !strings.Contains(r.Output, want) {
				t.Errorf("-np %d: no %q in\n%s", np, want, r.Output)
			}
		}
	}
}

// A rank that aborts, or dies, ends the whole job: the rank waiting for it in a
// collective call does not hang.
func TestFailedRankEndsTheJob(t *testing.T) {
	for _, role := range []string{"abort", "die"} {
		r := mpitest.Run(t, 2, role, 2*time.Minute)
		if r.Err == nil {
			t.Fatalf("%s: mpirun succeeded:\n%s", role, r.Output)
		}
		if strings.Contains(r.Output, "all-reduce returned") {
			t.Errorf("%s: rank 0's all-reduce returned:\n%s", role, r.Output)
		}
		t.Logf("%s: mpirun ended in %v: %v", role, r.Took.Round(time.Millisecond), r.Err)
	}
}

func TestMissingLibrary(t *testing.T) {
	r := mpitest.Run(t, 1, "collectives", time.Minute, mpi.LibraryEnv+"=/nonexistent/libmpi.so")
	if r.Err == nil || !strings.Contains(r.Output, "init: mpi: no Open MPI library found") ||
		!strings.Contains(r.Output, "/nonexistent/libmpi.so: not found") {
		t.Fatalf("want a missing-library error, got %v:\n%s", r.Err, r.Output)
	}
}

func TestNotLaunched(t *testing.T) {
	for _, v := range []string{"OMPI_COMM_WORLD_SIZE", "PMIX_RANK"} {
		if _, ok := os.LookupEnv(v); ok {
			t.Skip("the tests themselves run under an MPI launcher")
		}
	}
	if mpi.Launched() || mpi.LaunchedSize() != 0 || mpi.LaunchedRank() != -1 {
		t.Fatal("Launched outside mpirun")
	}
	if _, err := mpi.Init(); !errors.Is(err, mpi.ErrNotLaunched) {
		t.Fatalf("Init outside mpirun: %v", err)
	}
}
