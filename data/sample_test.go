package data_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/internal/testenv"
)

func TestSample(t *testing.T) {
	for _, name := range []string{data.FashionMNIST, data.MNIST} {
		s, err := data.Sample(name)
		if err != nil {
			t.Fatal(err)
		}
		spec, _ := data.Lookup(name)
		for _, d := range []*data.Dataset{s.Train, s.Test} {
			if !d.Sample || d.Source != data.SampleSource || d.Height() != 28 || d.Width() != 28 || d.Channels() != 1 {
				t.Errorf("%s: %v from %q", name, d, d.Source)
			}
			if !slices.Equal(d.Classes, spec.Classes) {
				t.Errorf("%s: classes %q", d.Name, d.Classes)
			}
		}
		for c, n := range s.Train.ClassCounts() {
			if n != 200 || s.Test.ClassCounts()[c] != 50 {
				t.Errorf("%s class %d: %d training and %d test images, want 200 and 50", name, c, n, s.Test.ClassCounts()[c])
			}
		}
		if !s.IsSample() || !strings.Contains(s.Notice(), "NOTICE: using the bundled SAMPLE of "+name) ||
			!strings.Contains(s.Train.String(), "(SAMPLE)") {
			t.Errorf("%s: notice %q", name, s.Notice())
		}
	}
	if _, err := data.Sample("cifar-10"); err == nil || !strings.Contains(err.Error(), `unknown data set "cifar-10"`) {
		t.Errorf("error %v", err)
	}
	registerToy()
	if _, err := data.Sample(toyName); err == nil || !strings.Contains(err.Error(), "no bundled sample of "+toyName) {
		t.Errorf("error %v", err)
	}
}

// The sample is the first images of a balanced draw from the full set: each
// sample image is a full-set image with the same label.
func TestSampleComesFromFullSet(t *testing.T) {
	full, err := data.Load(data.FashionMNIST, data.CacheDir(t.TempDir()), data.Offline())
	testenv.Require(t, err == nil, "full Fashion-MNIST not found (Debian: dataset-fashion-mnist): %v", err)
	s, err := data.Sample(data.FashionMNIST)
	if err != nil {
		t.Fatal(err)
	}
	want := full.Test.Take(500, 1)
	if !slices.Equal(want.Pixels(), s.Test.Pixels()) || !slices.Equal(want.Labels(), s.Test.Labels()) {
		t.Error("the test sample is not Take(500, 1) of the full test set: regenerate with go generate ./data")
	}
}
