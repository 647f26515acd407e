package data

import (
	"embed"
	"path"

	"github.com/pkg/errors"
)

//go:generate go run ../tools/sample -out sample

// The bundled samples, written by tools/sample from the official files.
//
//go:embed sample/fashion-mnist/*.gz sample/mnist/*.gz
var sampleFS embed.FS

// SampleSource is the Source of the bundled samples' datasets.
const SampleSource = "bundled sample"

// Sample returns the bundled sample of a data set ("fashion-mnist" or
// "mnist"): 2,000 training and 500 test images, class-balanced (200 and 50 of
// each class), drawn by a seeded shuffle from the official files. Its
// datasets have Sample set; programs using it should print [Split.Notice].
func Sample(name string) (*Split, error) {
	spec, ok := Lookup(name)
	if !ok {
		return nil, errors.Errorf("data: unknown data set %q", name)
	}
	dir := path.Join("sample", name)
	if _, err := sampleFS.ReadDir(dir); err != nil {
		return nil, errors.Errorf("data: no bundled sample of %s (samples: %s, %s)", name, FashionMNIST, MNIST)
	}
	files := spec.files()
	idx := make([]*IDX, 4)
	names := make([]string, 4)
	for i, f := range files {
		names[i] = path.Join(dir, f.Name)
		r, err := sampleFS.Open(names[i])
		if err != nil {
			return nil, errors.Wrap(err, "data: bundled sample")
		}
		idx[i], err = DecodeIDX(r, names[i])
		r.Close()
		if err != nil {
			return nil, err
		}
	}
	train, err := idxDataset(idx[0], names[0], idx[1], names[1], spec.Classes)
	if err != nil {
		return nil, err
	}
	test, err := idxDataset(idx[2], names[2], idx[3], names[3], spec.Classes)
	if err != nil {
		return nil, err
	}
	train.Name, test.Name = name+"/train", name+"/test"
	for _, d := range []*Dataset{train, test} {
		d.Sample, d.Source = true, SampleSource
	}
	return &Split{Train: train, Test: test}, nil
}
