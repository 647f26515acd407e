package mpi

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// LibraryEnv names an MPI shared library to load instead of searching the usual places.
const LibraryEnv = "CONVGRAPH_LIBMPI"

// launcherEnv lists variables a launcher sets in every process it starts: Open MPI's
// mpirun (OMPI_COMM_WORLD_SIZE) and PMIx launchers such as Slurm's srun (PMIX_RANK).
var launcherEnv = []string{"OMPI_COMM_WORLD_SIZE", "PMIX_RANK"}

// Launched reports whether an MPI launcher (mpirun, mpiexec, srun) started this process.
func Launched() bool {
	for _, v := range launcherEnv {
		if _, ok := os.LookupEnv(v); ok {
			return true
		}
	}
	return false
}

// LaunchedSize returns the number of processes the launcher started (from
// OMPI_COMM_WORLD_SIZE), or 0 when it cannot tell without initialising MPI.
func LaunchedSize() int {
	n, err := strconv.Atoi(os.Getenv("OMPI_COMM_WORLD_SIZE"))
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// LaunchedRank returns this process's rank as the launcher set it (OMPI_COMM_WORLD_RANK
// or PMIX_RANK), or -1 when neither is set.
func LaunchedRank() int {
	for _, v := range []string{"OMPI_COMM_WORLD_RANK", "PMIX_RANK"} {
		if n, err := strconv.Atoi(os.Getenv(v)); err == nil && n >= 0 {
			return n
		}
	}
	return -1
}

// ErrNotLaunched is returned by [Init] in a process that no MPI launcher started.
var ErrNotLaunched = errors.New("mpi: this process was not started by mpirun, mpiexec or srun (OMPI_COMM_WORLD_SIZE and PMIX_RANK are unset): launch it as mpirun -np N ...")

// Error is a failed MPI call: the function and Open MPI's error text.
type Error struct {
	Func string
	Code int
	Text string
}

func (e *Error) Error() string {
	return fmt.Sprintf("mpi: %s failed (error %d: %s)", e.Func, e.Code, e.Text)
}

var (
	initOnce  sync.Once
	initWorld *World
	initErr   error
)

// Init loads libmpi, initialises MPI and returns MPI_COMM_WORLD. Later calls return the
// same World (or the same error). It fails with [ErrNotLaunched] when no launcher started
// the process, and with an error naming the paths tried when libmpi cannot be loaded.
func Init() (*World, error) {
	initOnce.Do(func() {
		if !Launched() {
			initErr = ErrNotLaunched
			return
		}
		initWorld, initErr = start()
	})
	return initWorld, initErr
}

// libraryCandidates are tried in order after [LibraryEnv]: Debian's and most Linux
// distributions' soname, then the development link, then macOS (Homebrew).
var libraryCandidates = []string{
	"libmpi.so.40",
	"libmpi.so",
	"/usr/lib/x86_64-linux-gnu/libmpi.so.40",
	"/usr/lib/aarch64-linux-gnu/libmpi.so.40",
	"/usr/lib64/openmpi/lib/libmpi.so.40",
	"libmpi.40.dylib",
	"/opt/homebrew/lib/libmpi.40.dylib",
	"/usr/local/lib/libmpi.40.dylib",
}

func noLibrary(tried []string) error {
	return errors.New("mpi: no Open MPI library found (install Debian's openmpi-bin, or set " + LibraryEnv +
		" to libmpi's path); tried " + strings.Join(tried, "; "))
}
