package data_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/internal/limits"
)

// idxHeader is an IDX header of unsigned bytes with the given dimensions.
func idxHeader(dims ...uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(0x800|len(dims)))
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return b
}

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// An IDX file's header is held to what the file can deliver (its raw size, or deflate's
// best ratio for a gzip) and to the memory budget before any data memory is allocated;
// a gzip bomb within deflate's ratio is refused by the budget.
func TestReadIDXBoundsItsHeader(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, b)
		return p
	}
	// 64 MiB of zeros gzip to about 64 KB: a 1000:1 bomb.
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zw.Write(idxHeader(1<<16, 32, 32))
	zw.Write(make([]byte, 1<<26))
	zw.Close()
	var small bytes.Buffer
	zw = gzip.NewWriter(&small)
	zw.Write(idxHeader(1<<20, 28, 28)) // promises 784 MiB from a few bytes
	zw.Write(make([]byte, 1000))
	zw.Close()

	limits.SetMemory(16 << 20)
	defer limits.SetMemory(0)
	cases := []struct {
		path, want string
	}{
		{write("raw", append(idxHeader(1000, 28, 28), make([]byte, 5000)...)), "a file of 5016 bytes holds 5000"},
		{write("small.gz", small.Bytes()), "can expand to at most"},
		{write("bomb.gz", bomb.Bytes()), "more than the limit of 16.0 MiB"},
	}
	for _, c := range cases {
		var err error
		n := allocated(func() { _, err = data.ReadIDX(c.path) })
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("%s: error %v, want %q", c.path, err, c.want)
		}
		if n > 4<<20 {
			t.Errorf("%s: allocated %d bytes before refusing it", c.path, n)
		}
	}
	limits.SetMemory(128 << 20)
	var x *data.IDX
	var err error
	n := allocated(func() { x, err = data.ReadIDX(cases[2].path) })
	if err != nil || len(x.Data) != 1<<26 {
		t.Fatalf("the bomb within a 128 MiB budget: %v", err)
	}
	// One allocation of the promised size (a growing buffer would take twice that).
	if n > 1<<26+4<<20 {
		t.Errorf("reading 64 MiB allocated %d MiB", n>>20)
	}
}

// Readers refuse what is not a regular file before reading it (a /dev/zero or a named
// pipe would never end), and follow symbolic links to regular files.
func TestReadersRefuseDevicesAndPipes(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.png")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.gz")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := data.ReadImage(fifo, 28, 28, 1); err == nil || !strings.Contains(err.Error(), fifo+": is a named pipe") {
			t.Errorf("ReadImage on a FIFO: %v", err)
		}
		if _, err := data.ReadIDX(zero); err == nil || !strings.Contains(err.Error(), zero+": is a device") {
			t.Errorf("ReadIDX on a link to /dev/zero: %v", err)
		}
		if _, err := data.ReadIDX(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Errorf("ReadIDX on a folder: %v", err)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a reader blocked")
	}
}

// A tall, thin image is refused before it is resized when the bilinear scaler's
// scratch (destination width × source height) would pass its limit: 1 x 4,194,304
// pixels resized to 28 x 28 took 3.9 GB.
func TestReadImageBoundsTheResizeScratch(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1<<22))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "thin.png")
	writeFile(t, path, buf.Bytes())
	var err error
	n := allocated(func() { _, err = data.ReadImage(path, 28, 28, 1) })
	if err == nil || !strings.Contains(err.Error(), "1x4194304 pixels is too large to resize to 28x28") {
		t.Errorf("got %v", err)
	}
	if n > 1<<20 {
		t.Errorf("allocated %d bytes before refusing it", n)
	}
	// Read at its own size it needs no scratch.
	if px, err := data.ReadImage(path, 1<<22, 1, 1); err != nil || len(px) != 1<<22 {
		t.Errorf("at its own size: %v", err)
	}
}

// A class folder that is a symbolic link is followed; a link to a folder inside a class
// folder, a .png that links to a device and an image folder over the memory budget are
// errors that name the place.
func TestImageFolderLinksAndBudget(t *testing.T) {
	root, elsewhere := t.TempDir(), t.TempDir()
	writePNG(t, filepath.Join(root, "cat", "a.png"), solid(4, 4, color.NRGBA{200, 0, 0, 255}))
	writePNG(t, filepath.Join(elsewhere, "dogs", "b.png"), solid(4, 4, color.NRGBA{0, 200, 0, 255}))
	if err := os.Symlink(filepath.Join(elsewhere, "dogs"), filepath.Join(root, "dog")); err != nil {
		t.Fatal(err)
	}
	d, err := data.ImageFolder(root, 4, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 2 || strings.Join(d.Classes, ",") != "cat,dog" || d.Label(1) != 1 {
		t.Errorf("linked class folder: %d images, classes %v", d.Len(), d.Classes)
	}

	limits.SetMemory(4 * 4 * 3) // one image
	_, err = data.ImageFolder(root, 4, 4, 3)
	limits.SetMemory(0)
	if err == nil || !strings.Contains(err.Error(), "2 images of 4x4x3 needs 96 B") {
		t.Errorf("over the budget: %v", err)
	}

	if err := os.Symlink(elsewhere, filepath.Join(root, "cat", "more")); err != nil {
		t.Fatal(err)
	}
	if _, err := data.ImageFolder(root, 4, 4, 3); err == nil || !strings.Contains(err.Error(), "cat/more: a symbolic link to a folder inside class folder") {
		t.Errorf("link to a folder inside a class: %v", err)
	}
	os.Remove(filepath.Join(root, "cat", "more"))
	if err := os.Symlink("/dev/zero", filepath.Join(root, "cat", "z.png")); err != nil {
		t.Fatal(err)
	}
	if _, err := data.ImageFolder(root, 4, 4, 3); err == nil || !strings.Contains(err.Error(), "z.png: is a device") {
		t.Errorf("a .png linked to /dev/zero: %v", err)
	}
}

// FuzzReadIDX writes arbitrary bytes to a file and reads it with ReadIDX, whose header
// checks use the file's size (what a raw or gzipped file can deliver) as DecodeIDX's
// cannot: data exactly as long as the header says, or an error naming the file, and
// never more allocated than the budget.
//
//	go test -run '^$' -fuzz '^FuzzReadIDX$' -fuzztime 1m ./data
func FuzzReadIDX(f *testing.F) {
	f.Add(append(idxHeader(2, 2, 2), make([]byte, 8)...))
	f.Add(append(idxHeader(1000, 28, 28), make([]byte, 16)...))
	f.Add(idxHeader(1))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(append(idxHeader(3, 4), make([]byte, 12)...))
	zw.Close()
	f.Add(gz.Bytes())
	f.Add(gz.Bytes()[:len(gz.Bytes())-3])
	path := filepath.Join(f.TempDir(), "f.gz")
	limits.SetMemory(64 << 20)
	f.Cleanup(func() { limits.SetMemory(0) })
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		x, err := data.ReadIDX(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		n := 1
		for _, d := range x.Dims {
			n *= d
		}
		if n != len(x.Data) {
			t.Fatalf("%d bytes for dimensions %v", len(x.Data), x.Dims)
		}
	})
}
