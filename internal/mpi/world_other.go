//go:build !((linux || darwin || freebsd) && (amd64 || arm64))

package mpi

import "errors"

// World is MPI_COMM_WORLD; on this platform it cannot be created (purego cannot load
// libraries here).
type World struct{}

func start() (*World, error) {
	return nil, errors.New("mpi: loading Open MPI at run time is not supported on this platform")
}

// Rank is this process's rank.
func (w *World) Rank() int { return 0 }

// Size is the number of processes in the world.
func (w *World) Size() int { return 1 }

// Library is the path of the loaded libmpi.
func (w *World) Library() string { return "" }

// AllreduceFloat32 sums buf over the ranks.
func (w *World) AllreduceFloat32(buf []float32) error { return nil }

// AllreduceFloat64 sums buf over the ranks.
func (w *World) AllreduceFloat64(buf []float64) error { return nil }

// BcastFloat32 copies root's buf to every rank.
func (w *World) BcastFloat32(buf []float32, root int) error { return nil }

// BcastFloat64 copies root's buf to every rank.
func (w *World) BcastFloat64(buf []float64, root int) error { return nil }

// BcastBytes copies root's buf to every rank.
func (w *World) BcastBytes(buf []byte, root int) error { return nil }

// Barrier waits for every rank.
func (w *World) Barrier() error { return nil }

// Abort ends the job.
func (w *World) Abort(code int) {}

// Finalize shuts MPI down.
func (w *World) Finalize() error { return nil }
