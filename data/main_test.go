package data_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/convgraph/convgraph/data"
)

// TestMain makes sure no test reaches the network: the default transport
// only dials loopback addresses (the httptest servers).
func TestMain(m *testing.M) {
	dialer := &net.Dialer{}
	http.DefaultTransport = &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return nil, fmt.Errorf("test transport: refusing to dial %s: tests stay off the network", addr)
			}
			return dialer.DialContext(ctx, network, addr)
		},
	}
	// Keep the user's environment out of Load's search.
	os.Unsetenv("CONVGRAPH_DATA")
	os.Exit(m.Run())
}

// fakeSet returns n images of h×w with labels i%classes and pixels that
// depend on the image, row and column.
func fakeSet(n, h, w, classes int) (images, labels *data.IDX) {
	images = &data.IDX{Dims: []int{n, h, w}, Data: make([]byte, n*h*w)}
	labels = &data.IDX{Dims: []int{n}, Data: make([]byte, n)}
	for i := range n {
		labels.Data[i] = byte(i % classes)
		for p := range h * w {
			images.Data[i*h*w+p] = byte(i*7 + p*3)
		}
	}
	return images, labels
}

// encode returns x as an IDX file, gzipped if gz. It panics on errors (t may be nil).
func encode(t testing.TB, x *data.IDX, gz bool) []byte {
	var buf bytes.Buffer
	var w io.Writer = &buf
	zw := gzip.NewWriter(&buf)
	if gz {
		w = zw
	}
	if err := data.EncodeIDX(w, x); err != nil {
		panic(err)
	}
	if gz {
		zw.Close()
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeSet writes a fake four-file set (train n, test n/2 images of 4×3) to dir.
func writeSet(t testing.TB, dir string, n int, gz bool) {
	t.Helper()
	suffix := ""
	if gz {
		suffix = ".gz"
	}
	ti, tl := fakeSet(n, 4, 3, 10)
	vi, vl := fakeSet(n/2, 4, 3, 10)
	writeFile(t, filepath.Join(dir, "train-images-idx3-ubyte"+suffix), encode(t, ti, gz))
	writeFile(t, filepath.Join(dir, "train-labels-idx1-ubyte"+suffix), encode(t, tl, gz))
	writeFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte"+suffix), encode(t, vi, gz))
	writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"+suffix), encode(t, vl, gz))
}
