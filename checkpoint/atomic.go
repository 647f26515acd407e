package checkpoint

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkg/errors"
)

// writeStep, when set (by tests only), is called after each step of writeAtomic with the
// step's name and the temporary file; the fault tests stop the process there with SIGKILL.
var writeStep func(step, tmp string)

// staleTempAge is how long a temporary file of writeAtomic must have gone unmodified
// before a later successful write of the same file removes it as abandoned (left by a
// process killed mid-write). A write in progress touches its file at every buffer flush,
// so a live one is this old only if its process has stalled; the tests set it to 0.
var staleTempAge = 10 * time.Minute

// removeStaleTemps deletes the abandoned temporary files of writes to dir/base, named as
// writeAtomic names them (best effort: a file it cannot remove stays, as before).
func removeStaleTemps(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + ".tmp"
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) >= staleTempAge {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// writeAtomic writes a file through a temporary file in the same directory, synced and
// renamed over path, readable by all (0644). Its errors carry no prefix: callers name what
// they were writing.
func writeAtomic(path string, write func(*bufio.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	step := func(name string) {
		if writeStep != nil {
			writeStep(name, tmp)
		}
	}
	step("created")
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	if err = write(w); err != nil {
		return err
	}
	step("written") // all but the last buffer's worth is in the file
	if err = w.Flush(); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	step("synced")
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	step("renamed")
	removeStaleTemps(dir, filepath.Base(path))
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the rename durable; failure here loses nothing already written
		d.Close()
	}
	return nil
}

// WriteFileAtomic writes data to path through a temporary file in the same directory,
// synced and renamed over path: a crash leaves the old file or the new one. Errors name
// the file.
func WriteFileAtomic(path string, data []byte) error {
	err := writeAtomic(path, func(w *bufio.Writer) error {
		_, err := w.Write(data)
		return err
	})
	return errors.Wrapf(err, "cannot write %q", path)
}
