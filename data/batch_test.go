package data_test

import (
	"math"
	"slices"
	"testing"

	"github.com/convgraph/convgraph/data"
)

// epoch collects one epoch of batches: their sizes and the image indices in order.
func epoch(it *data.Batches) (sizes, indices []int) {
	for it.Next() {
		b := it.Batch()
		if len(b.Labels) != b.Size || len(b.Indices) != b.Size {
			panic("batch slices disagree with Size")
		}
		sizes = append(sizes, b.Size)
		indices = append(indices, b.Indices...)
	}
	return sizes, indices
}

func TestBatchesSizes(t *testing.T) {
	d := imbalanced(t, 5, 5) // 10 images
	tests := []struct {
		size  int
		drop  bool
		sizes []int
	}{
		{3, false, []int{3, 3, 3, 1}},
		{3, true, []int{3, 3, 3}},
		{5, false, []int{5, 5}},
		{5, true, []int{5, 5}},
		{16, false, []int{10}},
		{16, true, nil},
	}
	for _, tt := range tests {
		var opts []data.BatchOption
		if tt.drop {
			opts = append(opts, data.DropLast())
		}
		it := d.Batches(tt.size, opts...)
		sizes, indices := epoch(it)
		if !slices.Equal(sizes, tt.sizes) || it.Len() != len(tt.sizes) {
			t.Errorf("size %d drop %v: sizes %v (Len %d), want %v", tt.size, tt.drop, sizes, it.Len(), tt.sizes)
		}
		if !tt.drop && !slices.Equal(indices, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
			t.Errorf("unshuffled order %v", indices)
		}
	}
}

func TestBatchesShuffle(t *testing.T) {
	d := imbalanced(t, 50, 50)
	it := d.Batches(32, data.Shuffle(), data.Seed(9))
	_, e0 := epoch(it)
	it.Reset()
	_, e1 := epoch(it)
	if it.Epoch() != 1 {
		t.Errorf("Epoch %d", it.Epoch())
	}
	if slices.Equal(e0, e1) {
		t.Error("two epochs in the same order")
	}
	for _, e := range [][]int{e0, e1} {
		s := slices.Sorted(slices.Values(e))
		for i, v := range s {
			if v != i {
				t.Fatalf("an epoch is not a permutation: %v", s)
			}
		}
	}
	again := d.Batches(32, data.Shuffle(), data.Seed(9))
	_, a0 := epoch(again)
	again.Reset()
	_, a1 := epoch(again)
	if !slices.Equal(e0, a0) || !slices.Equal(e1, a1) {
		t.Error("the same seed gives different orders")
	}
	_, other := epoch(d.Batches(32, data.Shuffle(), data.Seed(10)))
	if slices.Equal(e0, other) {
		t.Error("different seeds give the same order")
	}
}

func TestBatchesContent(t *testing.T) {
	d, err := data.New([]uint8{0, 51, 255, 102, 10, 20}, []int{1, 0, 1}, 1, 2, 1, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	it := d.Batches(2)
	if !it.Next() {
		t.Fatal("no batch")
	}
	b := it.Batch()
	want := []float32{0, 0.2, 1, 0.4}
	for i := range want {
		if math.Abs(float64(b.X[i]-want[i])) > 1e-6 {
			t.Fatalf("X %v, want %v", b.X, want)
		}
	}
	if !slices.Equal(b.Labels, []int{1, 0}) {
		t.Errorf("Labels %v", b.Labels)
	}
	it.Next()
	if b = it.Batch(); b.Size != 1 || len(b.X) != 2 || !slices.Equal(b.Labels, []int{1}) {
		t.Errorf("last batch: %+v", b)
	}
	if it.Next() {
		t.Error("a third batch")
	}
}

func TestNormalization(t *testing.T) {
	src := []uint8{0, 255, 51, 255}
	tests := []struct {
		n    data.Normalization
		want []float32
	}{
		{data.Normalization{}, []float32{0, 1, 0.2, 1}},
		{data.Normalization{Scale: 2.0 / 255, Offset: -1}, []float32{-1, 1, -0.6, 1}},
		{data.Normalization{Scale: 1, Offset: 0}, []float32{0, 255, 51, 255}},
		{data.Normalization{Mean: []float32{0.5, 0}, Std: []float32{0.5, 2}}, []float32{-1, 0.5, -0.6, 0.5}},
	}
	for _, tt := range tests {
		got := make([]float32, 4)
		tt.n.Apply(got, src, 2)
		for i := range got {
			if math.Abs(float64(got[i]-tt.want[i])) > 1e-6 {
				t.Errorf("%+v: got %v, want %v", tt.n, got, tt.want)
				break
			}
		}
	}
	d, _ := data.New(src, []int{0, 0}, 1, 1, 2, []string{"a"})
	it := d.Batches(2, data.Normalize(data.Normalization{Scale: 1}))
	it.Next()
	if !slices.Equal(it.Batch().X, []float32{0, 255, 51, 255}) {
		t.Errorf("Normalize option ignored: %v", it.Batch().X)
	}
}

// A 3×4 two-channel image whose pixel (y, x) is (10y+x+1, 100+10y+x).
func gridImage(t *testing.T) *data.Dataset {
	t.Helper()
	h, w, c := 3, 4, 2
	pix := make([]uint8, h*w*c)
	for y := range h {
		for x := range w {
			pix[(y*w+x)*c] = uint8(10*y + x + 1)
			pix[(y*w+x)*c+1] = uint8(100 + 10*y + x)
		}
	}
	d, err := data.New(pix, []int{0}, h, w, c, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// pixelsOf undoes the normalisation p/1 of a batch's first image.
func pixelsOf(b *data.Batch) []uint8 {
	out := make([]uint8, len(b.X))
	for i, v := range b.X {
		out[i] = uint8(v)
	}
	return out
}

func TestRandomFlip(t *testing.T) {
	d := gridImage(t)
	orig := d.Image(0)
	flipped := make([]uint8, len(orig))
	for y := range 3 {
		for x := range 4 {
			copy(flipped[(y*4+x)*2:][:2], orig[(y*4+3-x)*2:][:2])
		}
	}
	it := d.Batches(1, data.RandomFlip(), data.Seed(5), data.Normalize(data.Normalization{Scale: 1}))
	seen := map[bool]int{}
	for range 200 {
		it.Next()
		got := pixelsOf(it.Batch())
		switch {
		case slices.Equal(got, orig):
			seen[false]++
		case slices.Equal(got, flipped):
			seen[true]++
		default:
			t.Fatalf("neither the image nor its mirror: %v", got)
		}
		it.Reset()
	}
	if seen[true] < 70 || seen[false] < 70 {
		t.Errorf("flips %d, not %d of 200: not a fair coin", seen[true], seen[false])
	}
	if !slices.Equal(d.Image(0), orig) {
		t.Error("augmentation changed the dataset")
	}
}

func TestRandomShift(t *testing.T) {
	d := gridImage(t)
	it := d.Batches(1, data.RandomShift(1), data.Seed(3), data.Normalize(data.Normalization{Scale: 1}))
	shifts := map[[2]int]bool{}
	for range 300 {
		it.Next()
		got := pixelsOf(it.Batch())
		// Find the shift (dx, dy) for which got is the image moved by it, zero-filled.
		found := false
		for dy := -1; dy <= 1 && !found; dy++ {
			for dx := -1; dx <= 1 && !found; dx++ {
				ok := true
				for y := range 3 {
					for x := range 4 {
						sy, sx := y-dy, x-dx
						want := [2]uint8{}
						if sy >= 0 && sy < 3 && sx >= 0 && sx < 4 {
							want = [2]uint8{uint8(10*sy + sx + 1), uint8(100 + 10*sy + sx)}
						}
						if got[(y*4+x)*2] != want[0] || got[(y*4+x)*2+1] != want[1] {
							ok = false
						}
					}
				}
				if ok {
					shifts[[2]int{dx, dy}] = true
					found = true
				}
			}
		}
		if !found {
			t.Fatalf("not a shift by at most 1 pixel: %v", got)
		}
		it.Reset()
	}
	if len(shifts) != 9 {
		t.Errorf("saw %d of the 9 shifts", len(shifts))
	}
	// Augmentation is seeded: the same seed gives the same pixels.
	a := d.Batches(1, data.RandomShift(2), data.RandomFlip(), data.Seed(8))
	b := d.Batches(1, data.RandomShift(2), data.RandomFlip(), data.Seed(8))
	for range 20 {
		a.Next()
		b.Next()
		if !slices.Equal(a.Batch().X, b.Batch().X) {
			t.Fatal("the same seed gives different augmentations")
		}
		a.Reset()
		b.Reset()
	}
}

func TestBatchesPanics(t *testing.T) {
	d := imbalanced(t, 2)
	for name, f := range map[string]func(){
		"size 0":            func() { d.Batches(0) },
		"negative shift":    func() { d.Batches(1, data.RandomShift(-1)) },
		"Batch before Next": func() { d.Batches(1).Batch() },
		"negative Take":     func() { d.Take(-1, 0) },
		"Mean of wrong size": func() {
			data.Normalization{Mean: []float32{1}, Std: []float32{1}}.Apply(make([]float32, 2), []uint8{1, 2}, 2)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

var sink float32

func BenchmarkBatches(b *testing.B) {
	split, err := data.Sample(data.FashionMNIST)
	if err != nil {
		b.Fatal(err)
	}
	for _, aug := range []bool{false, true} {
		name := "batch=32"
		opts := []data.BatchOption{data.Shuffle(), data.Seed(1)}
		if aug {
			name += "/augment"
			opts = append(opts, data.RandomFlip(), data.RandomShift(2))
		}
		b.Run(name, func(b *testing.B) {
			it := split.Train.Batches(32, opts...)
			b.ResetTimer()
			for range b.N {
				if !it.Next() {
					it.Reset()
					it.Next()
				}
				sink += it.Batch().X[0]
			}
		})
	}
}
