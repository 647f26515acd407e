package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/pkg/errors"
	"golang.org/x/sys/unix"
)

// interruptible returns a context cancelled by SIGINT (Ctrl-C) or SIGTERM, and a function
// that gives the exit status for the signal that came: 130 or 143 (128 + its number, as a
// shell reports a process the signal killed), 0 if none.
func interruptible() (ctx context.Context, status func() int, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	var got atomic.Int32
	go func() {
		select {
		case s := <-ch:
			got.Store(int32(128 + s.(syscall.Signal)))
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() int { return int(got.Load()) }, func() {
		signal.Stop(ch)
		cancel()
	}
}

// interruptedError is the error a run stopped by a signal ends with, after saving.
func interruptedError(status int) error {
	name := "SIGINT"
	if status == 0 {
		status = 130
	}
	if status == 128+int(syscall.SIGTERM) {
		name = "SIGTERM"
	}
	return exitError{errors.New("interrupted by " + name), status}
}

// lockRunDir takes an exclusive lock on the run directory dir for as long as this process
// writes it (flock(2) on the directory itself, so no lock file is left behind, and the
// kernel drops the lock when the process dies, even by SIGKILL). A second run into the
// same directory gets an error at once instead of mixing its files with the first's.
func lockRunDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, errors.Errorf("--out %s: %v", dir, unwrapPath(err))
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, runDirBusy{dir}
		}
		return nil, errors.Errorf("--out %s: cannot lock the directory: %v", dir, err)
	}
	return func() { f.Close() }, nil
}

// runDirBusy is lockRunDir's error when another run holds the lock.
type runDirBusy struct{ dir string }

func (e runDirBusy) Error() string {
	return fmt.Sprintf("--out %s is in use by another convgraph run; wait for it to finish or choose another --out", e.dir)
}

// checkedWriter remembers the first error a write returned, so that output lost to a
// full disk or a closed pipe (convgraph eval >/dev/full) is an exit status 1, not a
// silent success; later writes are dropped.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	c.err = err
	return n, err
}
