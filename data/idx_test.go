package data_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/data"
)

func TestIDXRoundTrip(t *testing.T) {
	images, _ := fakeSet(5, 4, 3, 10)
	for _, gz := range []bool{false, true} {
		b := encode(t, images, gz)
		x, err := data.DecodeIDX(bytes.NewReader(b), "x")
		if err != nil {
			t.Fatalf("gz=%v: %v", gz, err)
		}
		if !slices.Equal(x.Dims, images.Dims) || !bytes.Equal(x.Data, images.Data) {
			t.Errorf("gz=%v: got dims %v, want %v (or data differs)", gz, x.Dims, images.Dims)
		}
		if x.Magic() != data.MagicImages {
			t.Errorf("magic %#x", x.Magic())
		}
		raw := encode(t, images, false)
		sum := sha256.Sum256(raw)
		if got := x.ContentSHA256(); got != hex.EncodeToString(sum[:]) {
			t.Errorf("ContentSHA256 %s, want %x", got, sum)
		}
	}
}

// The gzip magic, not the name, decides: a raw file named .gz and a gzipped
// one without .gz both read.
func TestReadIDXDetectsGzipByMagic(t *testing.T) {
	dir := t.TempDir()
	images, _ := fakeSet(3, 2, 2, 10)
	writeFile(t, filepath.Join(dir, "raw.gz"), encode(t, images, false))
	writeFile(t, filepath.Join(dir, "zipped"), encode(t, images, true))
	for _, name := range []string{"raw.gz", "zipped"} {
		x, err := data.ReadIDX(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x.Data, images.Data) {
			t.Errorf("%s: data differs", name)
		}
	}
}

func header(magic uint32, dims ...uint32) []byte {
	b := []byte{byte(magic >> 24), byte(magic >> 16), byte(magic >> 8), byte(magic)}
	for _, d := range dims {
		b = append(b, byte(d>>24), byte(d>>16), byte(d>>8), byte(d))
	}
	return b
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestDecodeIDXErrors(t *testing.T) {
	full := append(header(0x803, 2, 2, 2), make([]byte, 8)...)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"short magic", []byte{0, 0}, "truncated: file ends inside the IDX header"},
		{"zip file", []byte("PK\x03\x04rest"), "bad magic 0x504b0304: not an IDX file"},
		{"float type", header(0x0d03, 1, 1, 1), "element type 0x0d not supported"},
		{"no dims", header(0x800), "0 dimensions"},
		{"short dims", header(0x803, 2)[:7], "truncated: file ends inside the IDX dimensions"},
		{"zero dim", header(0x803, 10, 0, 28), "dimension 1 of 10x0x28 is 0"},
		{"huge", header(0x803, 1<<30, 1<<30, 28), "promise more than"},
		{"truncated data", full[:len(full)-3], "truncated: dimensions 2x2x2 need 8 bytes of data, found 5"},
		{"trailing", append(slices.Clone(full), 9), "trailing bytes after the 8 bytes"},
		{"truncated gzip data", gzipBytes(full)[:20], "data: f.gz: truncated"},
		{"gzip of short data", gzipBytes(full[:len(full)-1]), "need 8 bytes of data, found 7"},
		{"gzip missing trailer", func() []byte { b := gzipBytes(full); return b[:len(b)-4] }(), "truncated: file ends inside the gzip trailer"},
		{"gzip bad crc", func() []byte { b := gzipBytes(full); b[len(b)-8] ^= 1; return b }(), "corrupt gzip stream"},
		{"gzip bad header", []byte{0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, "f.gz: corrupt gzip stream in the gzip header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := data.DecodeIDX(bytes.NewReader(tt.in), "f.gz")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "data: f.gz: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to name f.gz and contain %q", err, tt.want)
			}
		})
	}
}

// Every cut of a gzipped file, and every flipped byte, is a clean error (or
// for some flips in the header's unused fields, the right data), never a panic.
func TestDecodeIDXEveryTruncation(t *testing.T) {
	images, _ := fakeSet(3, 5, 5, 10)
	for _, gz := range []bool{false, true} {
		b := encode(t, images, gz)
		for n := range len(b) {
			if _, err := data.DecodeIDX(bytes.NewReader(b[:n]), "cut"); err == nil {
				t.Fatalf("gz=%v: cut at %d of %d bytes: no error", gz, n, len(b))
			}
		}
		for i := range b {
			c := slices.Clone(b)
			c[i] ^= 0x40
			if x, err := data.DecodeIDX(bytes.NewReader(c), "flip"); err == nil && !bytes.Equal(x.Data, images.Data) && gz {
				t.Errorf("gzip with byte %d flipped decoded to different data without an error", i)
			}
		}
	}
}

func FuzzDecodeIDX(f *testing.F) {
	images, labels := fakeSet(3, 2, 2, 10)
	f.Add(encode(f, images, false))
	f.Add(encode(f, images, true))
	f.Add(encode(f, labels, true))
	f.Add(header(0x803, 1<<31, 1<<31, 1<<31))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := data.DecodeIDX(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		n := 1
		for _, d := range x.Dims {
			n *= d
		}
		if n != len(x.Data) {
			t.Fatalf("dims %v but %d bytes", x.Dims, len(x.Data))
		}
	})
}

func TestEncodeIDXErrors(t *testing.T) {
	for _, x := range []*data.IDX{
		{Dims: []int{2, 2}, Data: make([]byte, 3)},
		{Dims: nil, Data: nil},
		{Dims: []int{0}, Data: nil},
	} {
		if err := data.EncodeIDX(&bytes.Buffer{}, x); err == nil {
			t.Errorf("EncodeIDX(%v, %d bytes): no error", x.Dims, len(x.Data))
		}
	}
}

func TestReadIDXDataset(t *testing.T) {
	dir := t.TempDir()
	images, labels := fakeSet(12, 4, 3, 10)
	ip, lp := filepath.Join(dir, "images.gz"), filepath.Join(dir, "labels.gz")
	writeFile(t, ip, encode(t, images, true))
	writeFile(t, lp, encode(t, labels, true))
	d, err := data.ReadIDXDataset(ip, lp, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 12 || d.Height() != 4 || d.Width() != 3 || d.Channels() != 1 {
		t.Errorf("got %v", d)
	}
	if !slices.Equal(d.Classes, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}) {
		t.Errorf("classes %q", d.Classes)
	}
	if d.Label(11) != 1 || !bytes.Equal(d.Image(1), images.Data[12:24]) {
		t.Errorf("image 1 or label 11 wrong")
	}
}

func TestReadIDXDatasetErrors(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	images, labels := fakeSet(10000, 2, 2, 10)
	_, shortLabels := fakeSet(9999, 2, 2, 10)
	writeFile(t, path("t10k-images-idx3-ubyte.gz"), encode(t, images, true))
	writeFile(t, path("t10k-labels-idx1-ubyte.gz"), encode(t, labels, true))
	writeFile(t, path("short-labels.gz"), encode(t, shortLabels, true))
	writeFile(t, path("2d-images"), encode(t, &data.IDX{Dims: []int{10000, 4}, Data: make([]byte, 40000)}, false))
	writeFile(t, path("bad.gz"), []byte("not an idx file"))

	tests := []struct {
		images, labels string
		classes        []string
		want           string
	}{
		{"t10k-images-idx3-ubyte.gz", "short-labels.gz", nil,
			path("short-labels.gz") + ": 9999 labels but 10000 images in " + path("t10k-images-idx3-ubyte.gz")},
		{"t10k-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz", nil,
			path("t10k-labels-idx1-ubyte.gz") + ": magic 0x00000801 (1 dimensions), want 0x00000803 (IDX images); this is an IDX labels file"},
		{"t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz", nil,
			path("t10k-images-idx3-ubyte.gz") + ": magic 0x00000803 (3 dimensions), want 0x00000801 (IDX labels); this is an IDX images file"},
		{"2d-images", "t10k-labels-idx1-ubyte.gz", nil, path("2d-images") + ": magic 0x00000802 (2 dimensions), want 0x00000803"},
		{"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", []string{"a", "b"},
			path("t10k-labels-idx1-ubyte.gz") + ": label 2 of image 2 is out of range for 2 classes"},
		{"missing.gz", "t10k-labels-idx1-ubyte.gz", nil, "open " + path("missing.gz") + ": no such file"},
		{"t10k-images-idx3-ubyte.gz", "missing.gz", nil, "open " + path("missing.gz") + ": no such file"},
		{"bad.gz", "t10k-labels-idx1-ubyte.gz", nil, path("bad.gz") + ": bad magic"},
	}
	for _, tt := range tests {
		_, err := data.ReadIDXDataset(path(tt.images), path(tt.labels), tt.classes)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadIDXDataset(%s, %s): error %v, want %q", tt.images, tt.labels, err, tt.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "data: ") {
			t.Errorf("error %q does not start with \"data: \"", err)
		}
	}
}
