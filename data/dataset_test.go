package data_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/data"
)

// imbalanced returns a Dataset of 1×1×1 images whose pixel is the image
// index, with counts[c] images of class c, classes interleaved.
func imbalanced(t testing.TB, counts ...int) *data.Dataset {
	t.Helper()
	var labels []int
	left := slices.Clone(counts)
	for more := true; more; {
		more = false
		for c := range left {
			if left[c] > 0 {
				labels = append(labels, c)
				left[c]--
				more = true
			}
		}
	}
	pixels := make([]uint8, len(labels))
	for i := range pixels {
		pixels[i] = uint8(i)
	}
	classes := make([]string, len(counts))
	for i := range classes {
		classes[i] = string(rune('a' + i))
	}
	d, err := data.New(pixels, labels, 1, 1, 1, classes)
	if err != nil {
		t.Fatal(err)
	}
	d.Name = "toy"
	return d
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		pixels  int
		labels  []int
		h, w, c int
		classes []string
		want    string
	}{
		{4, []int{0}, 2, 2, 0, []string{"a"}, "bad image shape 2x2x0"},
		{5, []int{0}, 2, 2, 1, []string{"a"}, "5 pixel bytes for 1 images of 2x2x1, want 4"},
		{4, []int{0}, 2, 2, 1, nil, "no classes"},
		{8, []int{0, 2}, 2, 2, 1, []string{"a", "b"}, "label 2 of image 1 is out of range for 2 classes"},
		{8, []int{-1, 0}, 2, 2, 1, []string{"a", "b"}, "label -1 of image 0"},
	}
	for _, tt := range tests {
		_, err := data.New(make([]uint8, tt.pixels), tt.labels, tt.h, tt.w, tt.c, tt.classes)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New: error %v, want %q", err, tt.want)
		}
	}
}

func TestDatasetAccessors(t *testing.T) {
	pixels := []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	d, err := data.New(pixels, []int{1, 0}, 1, 2, 3, []string{"x", "y"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 2 || d.ImageSize() != 6 || d.NumClasses() != 2 {
		t.Errorf("Len %d ImageSize %d NumClasses %d", d.Len(), d.ImageSize(), d.NumClasses())
	}
	if !slices.Equal(d.Image(1), pixels[6:]) || d.Label(0) != 1 {
		t.Errorf("Image(1) %v Label(0) %d", d.Image(1), d.Label(0))
	}
	if !slices.Equal(d.ClassCounts(), []int{1, 1}) {
		t.Errorf("ClassCounts %v", d.ClassCounts())
	}
	d.Name = "two"
	if got := d.String(); got != "two: 2 images 1x2x3, 2 classes" {
		t.Errorf("String %q", got)
	}
	s := d.Subset([]int{1, 1, 0})
	if s.Len() != 3 || !slices.Equal(s.Labels(), []int{0, 0, 1}) || !slices.Equal(s.Image(2), pixels[:6]) || s.Name != "two" {
		t.Errorf("Subset: %v %v", s, s.Labels())
	}
	s.Pixels()[0] = 99
	if pixels[0] != 1 {
		t.Error("Subset shares pixels with its parent")
	}
}

func TestTake(t *testing.T) {
	d := imbalanced(t, 50, 30, 5, 20)
	for _, n := range []int{0, 1, 4, 10, 23, 40, 100, 105, 1000} {
		got := d.Take(n, 7)
		if got.Len() != min(n, d.Len()) {
			t.Fatalf("Take(%d): %d images", n, got.Len())
		}
		// Balanced: class counts differ by at most one, except classes that ran out.
		counts := got.ClassCounts()
		lo, hi := n, 0
		for c, k := range counts {
			if k < d.ClassCounts()[c] {
				lo = min(lo, k)
			}
			hi = max(hi, k)
		}
		if lo < n && hi-lo > 1 {
			t.Errorf("Take(%d): class counts %v not balanced", n, counts)
		}
		// Original order: the pixel (= original index) increases.
		if !slices.IsSorted(got.Pixels()) {
			t.Errorf("Take(%d): not in original order", n)
		}
	}
	a, b, c := d.Take(10, 1), d.Take(10, 1), d.Take(10, 2)
	if !slices.Equal(a.Pixels(), b.Pixels()) {
		t.Error("Take with the same seed differs")
	}
	if slices.Equal(a.Pixels(), c.Pixels()) {
		t.Error("Take with different seeds gives the same images")
	}
}

func TestValidationSplit(t *testing.T) {
	d := imbalanced(t, 100, 40, 10)
	train, val, err := d.ValidationSplit(0.2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(val.ClassCounts(), []int{20, 8, 2}) || !slices.Equal(train.ClassCounts(), []int{80, 32, 8}) {
		t.Errorf("not stratified: train %v, val %v", train.ClassCounts(), val.ClassCounts())
	}
	if train.Name != "toy/train" || val.Name != "toy/validation" {
		t.Errorf("names %q %q", train.Name, val.Name)
	}
	all := append(slices.Clone(train.Pixels()), val.Pixels()...)
	slices.Sort(all)
	if !slices.Equal(all, d.Pixels()) {
		t.Error("train and validation are not a partition")
	}
	_, val2, _ := d.ValidationSplit(0.2, 3)
	_, val3, _ := d.ValidationSplit(0.2, 4)
	if !slices.Equal(val.Pixels(), val2.Pixels()) || slices.Equal(val.Pixels(), val3.Pixels()) {
		t.Error("the seed does not decide the split")
	}
	for _, frac := range []float64{0, 1, -0.5, 2} {
		if _, _, err := d.ValidationSplit(frac, 1); err == nil || !strings.Contains(err.Error(), "toy: validation fraction") {
			t.Errorf("ValidationSplit(%g): error %v", frac, err)
		}
	}
	if _, _, err := imbalanced(t, 1, 1).ValidationSplit(0.1, 1); err == nil || !strings.Contains(err.Error(), "leaves 2 for training and 0") {
		t.Errorf("tiny split: error %v", err)
	}
}
