package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/internal/console"
	"github.com/convgraph/convgraph/nn"
)

// dataFlags are the flags that choose a data set.
type dataFlags struct {
	dataset string
	dataDir string
}

// load finds the data set the flags name. A named set falls back, with a loud notice on
// stderr, to the bundled sample when the full set is nowhere to be found; "sample" asks for
// the sample; anything else is an image folder (root/<class>/*.png|jpg), split 80/20 into
// train and test with seed.
func (f dataFlags) load(m *nn.Model, seed uint64, stderr io.Writer) (*data.Split, error) {
	switch f.dataset {
	case "sample":
		s, err := data.Sample(data.FashionMNIST)
		if err == nil {
			fmt.Fprintln(stderr, "NOTE: using the bundled Fashion-MNIST sample (2,000 train / 500 test images), as --dataset sample asked.")
		}
		return s, err
	case "sample-mnist":
		return data.Sample(data.MNIST)
	}
	if _, known := data.Lookup(f.dataset); known {
		opts := []data.Option{}
		if console.IsTerminal(stderr) {
			opts = append(opts, data.ProgressBar(stderr))
		}
		if f.dataDir != "" {
			// An explicit directory must hold the set: no silent fallback elsewhere.
			opts = append(opts, data.Dir(f.dataDir), data.Offline(), data.SystemDir(""), data.CacheDir(f.dataDir))
		} else {
			opts = append(opts, data.SampleFallback())
		}
		s, err := data.Load(f.dataset, opts...)
		var nf *data.NotFoundError
		if f.dataDir != "" && errors.As(err, &nf) {
			// Only --data-dir was searched: say what it lacks, not the places skipped.
			for _, a := range nf.Tried {
				if a.Place == "--data-dir" {
					return nil, usagef("--data-dir %s does not hold %s: %s; put its four *-ubyte.gz (or uncompressed) files there, or drop --data-dir to search the usual places",
						f.dataDir, f.dataset, a.Reason)
				}
			}
		}
		if err != nil {
			return nil, err
		}
		if s.Mismatch != "" {
			fmt.Fprintln(stderr, "WARNING: "+s.Mismatch)
		}
		if f.dataDir != "" {
			abs, _ := filepath.Abs(f.dataDir)
			src, _ := filepath.Abs(s.Train.Source)
			if !strings.HasPrefix(src, abs) {
				return nil, usagef("--data-dir %s does not hold the %s files", f.dataDir, f.dataset)
			}
		}
		if s.IsSample() {
			fmt.Fprintln(stderr, s.Notice())
		}
		return s, nil
	}
	st, err := os.Stat(f.dataset)
	if err != nil || !st.IsDir() {
		return nil, usagef("--dataset %q is not fashion-mnist, mnist, sample, or an image folder", f.dataset)
	}
	in := m.InputShape()
	if len(in) != 3 {
		return nil, errors.Errorf("model %q takes vectors, not images from %s", m.Name(), f.dataset)
	}
	all, err := data.ImageFolder(f.dataset, in[0], in[1], in[2])
	if err != nil {
		return nil, err
	}
	tr, te, err := all.ValidationSplit(0.2, seed)
	if err != nil {
		return nil, errors.Wrapf(err, "--dataset %s", f.dataset)
	}
	te.Name = all.Name + "/test" // the held-out 20% is this run's test set
	return &data.Split{Train: tr, Test: te}, nil
}
