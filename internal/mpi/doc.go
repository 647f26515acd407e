// Package mpi is convgraph's thin binding to Open MPI: the world communicator's rank and
// size, in-place sum all-reduce of float32 and float64 buffers, broadcast, barrier and
// abort. The train package builds data-parallel training on it.
//
// # Overview
//
// libmpi is loaded at run time with dlopen (github.com/ebitengine/purego), not linked with
// cgo, so the default build needs no C toolchain and the binary runs where Open MPI is
// absent; only [Init] needs the library. Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT,
// MPI_SUM, ...) are the addresses of global symbols (ompi_mpi_comm_world, ompi_mpi_float,
// ompi_mpi_op_sum, ...), found with dlsym; other MPI implementations (MPICH, whose handles
// are integer constants) are not supported. [LibraryEnv] names a library to load instead of
// searching the usual places.
//
// MPI is initialised with MPI_THREAD_FUNNELED and every call runs on one goroutine locked
// to the OS thread that initialised it, so callers may use a [World] from any goroutine;
// calls are serialised. A process joins the world once: [Init] returns the same World on
// every call, and after [World.Finalize] MPI cannot start again (an MPI rule).
//
// [Launched] reports whether mpirun (or srun, or another PMIx launcher) started the
// process; [Init] refuses to start otherwise, since Open MPI's singleton mode would start
// a helper daemon behind the user's back.
//
// Open MPI's own handlers for SIGSEGV, SIGBUS, SIGFPE and SIGILL would take those signals
// from the Go runtime (which turns nil dereferences into panics), so [Init] turns them off
// (OMPI_MCA_opal_signal empty) unless the user has set that variable.
//
// # Errors
//
// [Init] returns an error that says what is missing: the library (with the paths tried and
// the Debian package to install), an Open MPI symbol, or the launcher. Communication
// errors are fatal in Open MPI's default error handler (MPI_ERRORS_ARE_FATAL): a rank that
// dies, or a broken connection, ends the whole job with Open MPI's message instead of
// leaving the other ranks waiting. [World.Abort] ends the job from Go with an exit code.
// The World's methods panic if called after [World.Finalize] (a programmer error).
package mpi
