//go:build (linux || darwin || freebsd) && (amd64 || arm64)

package mpi

import (
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/ebitengine/purego"
)

// The calls go through purego.SyscallN, which passes integers: handles are addresses,
// counts and ranks are C ints (passed in a full register), buffers are pointers to Go
// heap memory, which the collector does not move; each buffer reaches the MPI thread
// inside a closure sent on a channel, so it has escaped to the heap.

const (
	threadFunneled = 1       // MPI_THREAD_FUNNELED in Open MPI's mpi.h
	inPlace        = 1       // MPI_IN_PLACE is (void *)1 in Open MPI
	maxCount       = 1 << 30 // counts are C ints: longer buffers go in pieces
)

// World is MPI_COMM_WORLD. Its methods are safe for concurrent use (calls are serialised
// on one OS thread). A World is returned by [Init].
type World struct {
	rank, size int
	path       string
	calls      chan func()
	fn         struct {
		allreduce, bcast, barrier, abort, finalize, errorString uintptr
	}
	handle struct {
		comm, float, double, byte, sum uintptr
	}
	finalized atomic.Bool
}

// Rank is this process's rank, from 0 to Size()-1.
func (w *World) Rank() int { return w.rank }

// Size is the number of processes in the world.
func (w *World) Size() int { return w.size }

// Library is the path of the loaded libmpi.
func (w *World) Library() string { return w.path }

func start() (*World, error) {
	if _, set := os.LookupEnv("OMPI_MCA_opal_signal"); !set {
		os.Setenv("OMPI_MCA_opal_signal", "") //nolint:errcheck // best effort, see doc.go
	}
	w := &World{calls: make(chan func())}
	ready := make(chan error)
	go w.loop(ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return w, nil
}

// loop owns the OS thread MPI was initialised on and runs every call there.
func (w *World) loop(ready chan<- error) {
	runtime.LockOSThread()
	if err := w.init(); err != nil {
		runtime.UnlockOSThread()
		ready <- err
		return
	}
	ready <- nil
	for f := range w.calls {
		f()
	}
}

func (w *World) init() error {
	candidates := libraryCandidates
	if p := os.Getenv(LibraryEnv); p != "" {
		candidates = []string{p}
	}
	var lib uintptr
	var tried []string
	for _, path := range candidates {
		if strings.HasPrefix(path, "/") {
			if _, err := os.Stat(path); err != nil {
				tried = append(tried, path+": not found")
				continue
			}
		}
		// RTLD_GLOBAL: Open MPI's plugins, loaded by libmpi itself, resolve libmpi's
		// symbols through the global namespace.
		l, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err != nil {
			tried = append(tried, path+": "+err.Error())
			continue
		}
		lib, w.path = l, path
		break
	}
	if lib == 0 {
		return noLibrary(tried)
	}
	sym := func(name string) (uintptr, error) {
		p, err := purego.Dlsym(lib, name)
		if err != nil {
			return 0, &Error{Func: "dlsym", Text: w.path + " has no " + name + " (only Open MPI is supported)"}
		}
		return p, nil
	}
	var initThread, commRank, commSize uintptr
	for _, s := range []struct {
		name string
		p    *uintptr
	}{
		{"MPI_Init_thread", &initThread}, {"MPI_Comm_rank", &commRank}, {"MPI_Comm_size", &commSize},
		{"MPI_Allreduce", &w.fn.allreduce}, {"MPI_Bcast", &w.fn.bcast}, {"MPI_Barrier", &w.fn.barrier},
		{"MPI_Abort", &w.fn.abort}, {"MPI_Finalize", &w.fn.finalize}, {"MPI_Error_string", &w.fn.errorString},
		{"ompi_mpi_comm_world", &w.handle.comm}, {"ompi_mpi_float", &w.handle.float},
		{"ompi_mpi_double", &w.handle.double}, {"ompi_mpi_byte", &w.handle.byte}, {"ompi_mpi_op_sum", &w.handle.sum},
	} {
		p, err := sym(s.name)
		if err != nil {
			return err
		}
		*s.p = p
	}
	provided := new(int32)
	if rc, _, _ := purego.SyscallN(initThread, 0, 0, threadFunneled, uintptr(unsafe.Pointer(provided))); int32(rc) != 0 {
		return w.err("MPI_Init_thread", rc)
	}
	if *provided < threadFunneled {
		return &Error{Func: "MPI_Init_thread", Text: "the library does not support MPI_THREAD_FUNNELED"}
	}
	v := new(int32)
	if rc, _, _ := purego.SyscallN(commRank, w.handle.comm, uintptr(unsafe.Pointer(v))); int32(rc) != 0 {
		return w.err("MPI_Comm_rank", rc)
	}
	w.rank = int(*v)
	if rc, _, _ := purego.SyscallN(commSize, w.handle.comm, uintptr(unsafe.Pointer(v))); int32(rc) != 0 {
		return w.err("MPI_Comm_size", rc)
	}
	w.size = int(*v)
	return nil
}

// err turns a return code into an [Error] with Open MPI's text (on the MPI thread).
func (w *World) err(name string, rc uintptr) error {
	e := &Error{Func: name, Code: int(int32(rc))}
	buf := make([]byte, 256) // MPI_MAX_ERROR_STRING is 256 in Open MPI
	n := new(int32)
	if w.fn.errorString != 0 {
		if r, _, _ := purego.SyscallN(w.fn.errorString, rc, uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(n))); int32(r) == 0 && *n > 0 && int(*n) <= len(buf) {
			e.Text = string(buf[:*n])
		}
	}
	runtime.KeepAlive(buf)
	if e.Text == "" {
		e.Text = "unknown error"
	}
	return e
}

// do runs f on the MPI thread and waits for it.
func (w *World) do(name string, f func() uintptr) error {
	if w.finalized.Load() {
		panic("mpi: " + name + " after Finalize")
	}
	done := make(chan error, 1)
	w.calls <- func() {
		if rc := f(); int32(rc) != 0 {
			done <- w.err(name, rc)
			return
		}
		done <- nil
	}
	return <-done
}

// AllreduceFloat32 replaces buf on every rank by the element-wise sum of all ranks' bufs
// (MPI_Allreduce with MPI_IN_PLACE, MPI_FLOAT, MPI_SUM). Every rank must pass the same
// length.
func (w *World) AllreduceFloat32(buf []float32) error {
	return allreduce(w, buf, w.handle.float)
}

// AllreduceFloat64 is [World.AllreduceFloat32] for float64 (MPI_DOUBLE).
func (w *World) AllreduceFloat64(buf []float64) error {
	return allreduce(w, buf, w.handle.double)
}

func allreduce[T float32 | float64](w *World, buf []T, dtype uintptr) error {
	for len(buf) > 0 {
		n := min(len(buf), maxCount)
		part := buf[:n]
		err := w.do("MPI_Allreduce", func() uintptr {
			rc, _, _ := purego.SyscallN(w.fn.allreduce, inPlace, uintptr(unsafe.Pointer(unsafe.SliceData(part))),
				uintptr(n), dtype, w.handle.sum, w.handle.comm)
			runtime.KeepAlive(part)
			return rc
		})
		if err != nil {
			return err
		}
		buf = buf[n:]
	}
	return nil
}

// BcastFloat32 copies root's buf into every other rank's buf (MPI_Bcast). Every rank
// must pass the same length.
func (w *World) BcastFloat32(buf []float32, root int) error {
	return bcast(w, buf, w.handle.float, root)
}

// BcastFloat64 is [World.BcastFloat32] for float64.
func (w *World) BcastFloat64(buf []float64, root int) error {
	return bcast(w, buf, w.handle.double, root)
}

// BcastBytes is [World.BcastFloat32] for bytes.
func (w *World) BcastBytes(buf []byte, root int) error { return bcast(w, buf, w.handle.byte, root) }

func bcast[T float32 | float64 | byte](w *World, buf []T, dtype uintptr, root int) error {
	if root < 0 || root >= w.size {
		panic("mpi: broadcast root out of range")
	}
	for len(buf) > 0 {
		n := min(len(buf), maxCount)
		part := buf[:n]
		err := w.do("MPI_Bcast", func() uintptr {
			rc, _, _ := purego.SyscallN(w.fn.bcast, uintptr(unsafe.Pointer(unsafe.SliceData(part))), uintptr(n),
				dtype, uintptr(root), w.handle.comm)
			runtime.KeepAlive(part)
			return rc
		})
		if err != nil {
			return err
		}
		buf = buf[n:]
	}
	return nil
}

// Barrier waits until every rank has called it.
func (w *World) Barrier() error {
	return w.do("MPI_Barrier", func() uintptr {
		rc, _, _ := purego.SyscallN(w.fn.barrier, w.handle.comm)
		return rc
	})
}

// Abort ends every process of the job with the exit code (MPI_Abort); it does not return.
// It is called from the caller's thread, not the MPI thread, so that it works while
// another goroutine waits in a collective call (Open MPI allows this).
func (w *World) Abort(code int) {
	purego.SyscallN(w.fn.abort, w.handle.comm, uintptr(code))
	os.Exit(code) // not reached
}

// Finalize shuts MPI down (MPI_Finalize); every rank must call it before exiting
// normally. A World cannot be used afterwards, and MPI cannot be initialised again.
func (w *World) Finalize() error {
	err := w.do("MPI_Finalize", func() uintptr {
		rc, _, _ := purego.SyscallN(w.fn.finalize)
		return rc
	})
	w.finalized.Store(true)
	return err
}
