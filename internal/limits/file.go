package limits

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// FileError is a file refused before it was read: not a regular file, or too large.
type FileError struct {
	Path   string
	Reason string
}

func (e *FileError) Error() string { return e.Path + ": " + e.Reason }

// Open opens path for reading if it is a regular file (symbolic links followed) of at
// most maxBytes bytes (maxBytes <= 0: no size limit), and returns it with its size.
// Directories, devices, named pipes and sockets are refused by a stat made before the
// open, and checked again on the open file, so a pipe swapped in between cannot block.
func Open(path string, maxBytes int64) (*os.File, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		if pe, ok := err.(*fs.PathError); ok {
			pe.Op = "open" // what the caller asked for; the stat is a detail
		}
		return nil, 0, err
	}
	if err := checkInfo(path, st, maxBytes); err != nil {
		return nil, 0, err
	}
	// O_NONBLOCK: opening a named pipe put in place since the stat returns at once.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, err
	}
	if st, err = f.Stat(); err == nil {
		err = checkInfo(path, st, maxBytes)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func checkInfo(path string, st fs.FileInfo, maxBytes int64) error {
	mode := st.Mode()
	switch {
	case mode.IsDir():
		return &FileError{path, "is a directory, not a file"}
	case mode&fs.ModeNamedPipe != 0:
		return &FileError{path, "is a named pipe (FIFO), not a regular file"}
	case mode&fs.ModeSocket != 0:
		return &FileError{path, "is a socket, not a regular file"}
	case mode&fs.ModeDevice != 0:
		return &FileError{path, "is a device, not a regular file"}
	case !mode.IsRegular():
		return &FileError{path, fmt.Sprintf("is not a regular file (%v)", mode.Type())}
	case maxBytes > 0 && st.Size() > maxBytes:
		size, limit := FormatBytes(st.Size()), FormatBytes(maxBytes)
		if size == limit { // "2.0 GiB is larger than 2.0 GiB" would say nothing
			size, limit = fmt.Sprintf("%d bytes", st.Size()), fmt.Sprintf("%d bytes", maxBytes)
		}
		return &FileError{path, fmt.Sprintf("file of %s is larger than the limit of %s for this kind of file", size, limit)}
	}
	return nil
}

// ReadFile reads a whole regular file of at most maxBytes bytes (see [Open]). A file
// that grows past the limit while it is read is refused too.
func ReadFile(path string, maxBytes int64) ([]byte, error) {
	f, size, err := Open(path, maxBytes)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 0, size+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if maxBytes > 0 && int64(len(b)) > maxBytes {
			return nil, &FileError{path, fmt.Sprintf("file grew past the limit of %s while it was read", FormatBytes(maxBytes))}
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Named returns err, an error from [Open] or [ReadFile], as the error of a file that is
// what ("train: checkpoint"), naming the file once: `train: checkpoint "a.bin": is a
// device, not a regular file`, `train: checkpoint "a.bin": no such file or directory`.
// errors.Is and errors.As still see err. A nil err gives nil.
func Named(what string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FileError
	var pe *fs.PathError
	switch {
	case errors.As(err, &fe):
		return &namedError{fmt.Sprintf("%s %q: %s", what, fe.Path, fe.Reason), err}
	case errors.As(err, &pe):
		return &namedError{fmt.Sprintf("%s %q: %v", what, pe.Path, pe.Err), err}
	}
	return &namedError{what + ": " + err.Error(), err}
}

type namedError struct {
	msg string
	err error
}

func (e *namedError) Error() string { return e.msg }
func (e *namedError) Unwrap() error { return e.err }
