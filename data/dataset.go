package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/pkg/errors"
)

// Dataset is N labelled images of one size, stored as raw bytes in NHWC
// order (image, row, column, channel: Keras's channels-last layout). Pixels
// stay uint8 in memory, a quarter of float32's size; [Batches] turns them into
// normalised float32.
//
// A Dataset is not changed by any method: Subset, Take and ValidationSplit
// return new ones. It is safe for concurrent reads.
type Dataset struct {
	// Name names the data set in messages, e.g. "fashion-mnist/train".
	Name string
	// Classes holds the class names; a label is an index into it.
	Classes []string
	// Sample is true for the bundled sample (see [Sample]): a small subset,
	// not the full data set. Programs should say so loudly.
	Sample bool
	// Source says where the images came from: a directory, or "bundled sample".
	Source string
	// Resize says how images of other sizes were brought to the data set's size:
	// "stretch" for image folders (bilinear, the aspect ratio ignored, as Keras's
	// image_dataset_from_directory does), "" for sets stored at their size. Training
	// records it in the model's preprocessing, so predict resizes the same way.
	Resize string

	h, w, c int
	pixels  []uint8
	labels  []int
}

// New returns a Dataset of len(labels) images of h×w×c bytes each, taken from
// pixels in NHWC order. It returns an error if the sizes disagree or a label
// is outside [0, len(classes)). The Dataset keeps pixels and labels without
// copying them.
func New(pixels []uint8, labels []int, h, w, c int, classes []string) (*Dataset, error) {
	if h < 1 || w < 1 || c < 1 {
		return nil, errors.Errorf("data: New: bad image shape %dx%dx%d", h, w, c)
	}
	if len(pixels) != len(labels)*h*w*c {
		return nil, errors.Errorf("data: New: %d pixel bytes for %d images of %dx%dx%d, want %d",
			len(pixels), len(labels), h, w, c, len(labels)*h*w*c)
	}
	if len(classes) == 0 {
		return nil, errors.New("data: New: no classes")
	}
	for i, y := range labels {
		if y < 0 || y >= len(classes) {
			return nil, errors.Errorf("data: New: label %d of image %d is out of range for %d classes", y, i, len(classes))
		}
	}
	return newDataset(pixels, labels, h, w, c, classes), nil
}

func newDataset(pixels []uint8, labels []int, h, w, c int, classes []string) *Dataset {
	return &Dataset{Classes: classes, h: h, w: w, c: c, pixels: pixels, labels: labels}
}

// Len returns the number of images.
func (d *Dataset) Len() int { return len(d.labels) }

// Height returns the image height in pixels.
func (d *Dataset) Height() int { return d.h }

// Width returns the image width in pixels.
func (d *Dataset) Width() int { return d.w }

// Channels returns the number of channels per pixel: 1 (gray), 3 (RGB) or 4 (RGBA).
func (d *Dataset) Channels() int { return d.c }

// ImageSize returns the number of bytes (and of float32s once batched) per
// image: Height·Width·Channels.
func (d *Dataset) ImageSize() int { return d.h * d.w * d.c }

// NumClasses returns len(d.Classes).
func (d *Dataset) NumClasses() int { return len(d.Classes) }

// Image returns the pixels of image i in HWC order. The slice aliases the
// Dataset: do not modify it. It panics if i is out of range.
func (d *Dataset) Image(i int) []uint8 {
	n := d.ImageSize()
	return d.pixels[i*n : (i+1)*n : (i+1)*n]
}

// Label returns the label of image i. It panics if i is out of range.
func (d *Dataset) Label(i int) int { return d.labels[i] }

// Pixels returns all pixels in NHWC order; the slice aliases the Dataset.
func (d *Dataset) Pixels() []uint8 { return d.pixels }

// Labels returns all labels; the slice aliases the Dataset.
func (d *Dataset) Labels() []int { return d.labels }

// ClassCounts returns the number of images of each class.
func (d *Dataset) ClassCounts() []int {
	counts := make([]int, len(d.Classes))
	for _, y := range d.labels {
		counts[y]++
	}
	return counts
}

// String describes the Dataset in one line.
func (d *Dataset) String() string {
	s := fmt.Sprintf("%s: %d images %dx%dx%d, %d classes", d.Name, d.Len(), d.h, d.w, d.c, len(d.Classes))
	if d.Sample {
		s += " (SAMPLE)"
	}
	return s
}

// Subset returns a new Dataset of the images at the given indices, in that
// order (indices may repeat). Pixels are copied. It panics if an index is out
// of range.
func (d *Dataset) Subset(indices []int) *Dataset {
	n := d.ImageSize()
	pixels := make([]uint8, 0, len(indices)*n)
	labels := make([]int, len(indices))
	for j, i := range indices {
		pixels = append(pixels, d.Image(i)...)
		labels[j] = d.labels[i]
	}
	s := *d
	s.pixels, s.labels = pixels, labels
	return &s
}

// byClass returns the indices of each class's images, each list shuffled by rng.
func (d *Dataset) byClass(rng *rand.Rand) [][]int {
	lists := make([][]int, len(d.Classes))
	for i, y := range d.labels {
		lists[y] = append(lists[y], i)
	}
	for _, l := range lists {
		rng.Shuffle(len(l), func(a, b int) { l[a], l[b] = l[b], l[a] })
	}
	return lists
}

// Take returns the first n images of a class-balanced shuffle seeded by seed:
// the shuffle deals one image of each class in turn (classes in a seeded
// order each round), so class counts differ by at most one while every class
// has images left. The result keeps the images in their original order. Take
// is what a --train-limit flag wants. If n >= d.Len(), it returns all images.
// It panics if n < 0.
func (d *Dataset) Take(n int, seed uint64) *Dataset {
	if n < 0 {
		panic(fmt.Sprintf("data: Take(%d): negative count", n))
	}
	rng := rand.New(rand.NewPCG(seed, 0x7a6b))
	lists := d.byClass(rng)
	picked := make([]int, 0, min(n, d.Len()))
	order := make([]int, len(lists))
	for round := 0; len(picked) < cap(picked); round++ {
		for i := range order {
			order[i] = i
		}
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, c := range order {
			if round < len(lists[c]) && len(picked) < cap(picked) {
				picked = append(picked, lists[c][round])
			}
		}
	}
	slices.Sort(picked)
	return d.Subset(picked)
}

// ValidationSplit splits d into a training and a validation set, seeded and
// stratified: each class puts round(frac·count) of its images, chosen by a
// seeded shuffle, into the validation set, so both keep d's class balance.
// Both keep the images in their original order. It returns an error if frac
// is not in (0, 1) or either part would be empty.
func (d *Dataset) ValidationSplit(frac float64, seed uint64) (train, val *Dataset, err error) {
	if !(frac > 0 && frac < 1) {
		return nil, nil, errors.Errorf("data: %s: validation fraction %g is not in (0, 1)", d.Name, frac)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5a1d))
	var ti, vi []int
	for _, l := range d.byClass(rng) {
		k := int(math.Round(frac * float64(len(l))))
		vi = append(vi, l[:k]...)
		ti = append(ti, l[k:]...)
	}
	if len(ti) == 0 || len(vi) == 0 {
		return nil, nil, errors.Errorf("data: %s: validation fraction %g of %d images leaves %d for training and %d for validation",
			d.Name, frac, d.Len(), len(ti), len(vi))
	}
	slices.Sort(ti)
	slices.Sort(vi)
	train, val = d.Subset(ti), d.Subset(vi)
	// Split off a training set, the parts are that set's training and validation images:
	// "fashion-mnist/train" gives "fashion-mnist/train" and "fashion-mnist/validation".
	base := strings.TrimSuffix(d.Name, "/train")
	train.Name, val.Name = base+"/train", base+"/validation"
	return train, val, nil
}
