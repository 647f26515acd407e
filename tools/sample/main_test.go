package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/internal/testenv"
)

// The committed samples are what this program writes (compared after
// decompression, since another Go version may compress differently).
func TestCommittedSamplesAreReproducible(t *testing.T) {
	mod, version, _ := strings.Cut(goMNIST, "@")
	sources := map[string]string{
		data.FashionMNIST: filepath.Join(data.DefaultSystemDir, data.FashionMNIST),
		data.MNIST:        filepath.Join(testenv.ModuleDir(mod, version), "data"),
	}
	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			testenv.RequireFile(t, src, "the full "+name+" set")
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
