package data

import (
	"fmt"
	"math/rand/v2"
)

// Normalization maps a pixel byte p of channel ch to
//
//	v = Scale·p + Offset, then (v − Mean[ch]) / Std[ch] if Mean and Std are set.
//
// The zero value is the default, v = p/255 (Keras's Rescaling(1/255)): a zero
// Scale means 1/255.
type Normalization struct {
	Scale, Offset float32
	Mean, Std     []float32 // per channel; nil for none
}

// Apply writes the normalised values of src, pixels of the given number of
// channels, to dst. It panics if len(dst) < len(src), or Mean or Std is set
// with a length other than channels.
func (n Normalization) Apply(dst []float32, src []uint8, channels int) {
	scale := n.Scale
	if scale == 0 {
		scale = 1.0 / 255
	}
	dst = dst[:len(src)]
	if n.Mean == nil && n.Std == nil {
		for i, p := range src {
			dst[i] = scale*float32(p) + n.Offset
		}
		return
	}
	if len(n.Mean) != channels || len(n.Std) != channels {
		panic(fmt.Sprintf("data: Normalization: %d means and %d stds for %d channels", len(n.Mean), len(n.Std), channels))
	}
	for i, p := range src {
		ch := i % channels
		dst[i] = (scale*float32(p) + n.Offset - n.Mean[ch]) / n.Std[ch]
	}
}

// BatchOption configures [Dataset.Batches].
type BatchOption func(*batchConfig)

type batchConfig struct {
	shuffle, dropLast, flip bool
	seed                    uint64
	shift                   int
	norm                    Normalization
}

// Shuffle makes each epoch visit the images in a new seeded order (see [Seed]).
func Shuffle() BatchOption { return func(c *batchConfig) { c.shuffle = true } }

// Seed sets the seed of everything random in the iterator: the shuffle and the
// augmentations (default 0). The same seed gives the same batches, epoch by
// epoch.
func Seed(seed uint64) BatchOption { return func(c *batchConfig) { c.seed = seed } }

// DropLast drops an epoch's last batch when it is smaller than the batch size.
func DropLast() BatchOption { return func(c *batchConfig) { c.dropLast = true } }

// Normalize sets how pixel bytes become float32 (default: p/255).
func Normalize(n Normalization) BatchOption { return func(c *batchConfig) { c.norm = n } }

// RandomFlip flips each image left to right with probability 1/2 (Keras's
// RandomFlip("horizontal")).
func RandomFlip() BatchOption { return func(c *batchConfig) { c.flip = true } }

// RandomShift moves each image by a random whole number of pixels in
// [−pixels, pixels] along each axis, filling with zero bytes (black): the
// same as zero-padding by pixels and taking a random crop of the original
// size. [Dataset.Batches] panics if pixels < 0.
func RandomShift(pixels int) BatchOption { return func(c *batchConfig) { c.shift = pixels } }

// Batch is one batch of images, ready for a model.
type Batch struct {
	// X holds Size images in NHWC order, normalised: Size·H·W·C values.
	X []float32
	// Labels holds the Size labels.
	Labels []int
	// Indices holds the Size images' indices in the Dataset.
	Indices []int
	// Size is the number of images: the batch size, or fewer in an epoch's
	// last batch.
	Size int
}

// Batches iterates over a Dataset in batches, one epoch at a time:
//
//	it := ds.Batches(32, data.Shuffle(), data.Seed(1))
//	for epoch := range epochs {
//		for it.Next() {
//			b := it.Batch()
//			...
//		}
//		it.Reset()
//	}
//
// The Batch and its slices are reused by the next call to Next: copy what you
// keep. A Batches is not safe for concurrent use.
type Batches struct {
	d      *Dataset
	size   int
	cfg    batchConfig
	epoch  int
	pos    int
	order  []int
	aug    *rand.Rand
	batch  Batch
	buf    []uint8
	loaded bool
}

// Batches returns an iterator over d in batches of size images. By default
// batches follow d's order, keep a smaller last batch and normalise by
// p/255; options change that. It panics if size < 1 or an option is out of
// range.
func (d *Dataset) Batches(size int, opts ...BatchOption) *Batches {
	if size < 1 {
		panic(fmt.Sprintf("data: Batches: batch size %d < 1", size))
	}
	it := &Batches{d: d, size: size}
	for _, o := range opts {
		o(&it.cfg)
	}
	if it.cfg.shift < 0 {
		panic(fmt.Sprintf("data: Batches: RandomShift(%d) < 0", it.cfg.shift))
	}
	n := d.ImageSize()
	// A batch never holds more than the whole data set, so a huge batch size costs no
	// memory (--batch 1000000000 used to die allocating 3 TB).
	k := min(size, d.Len())
	it.batch.X = make([]float32, k*n)
	it.batch.Labels = make([]int, k)
	it.batch.Indices = make([]int, k)
	it.buf = make([]uint8, n)
	it.order = make([]int, d.Len())
	it.start()
	return it
}

// start sets up the current epoch: its order and its augmentation stream,
// each drawn from its own PCG stream of (seed, epoch).
func (it *Batches) start() {
	for i := range it.order {
		it.order[i] = i
	}
	e := uint64(it.epoch)
	if it.cfg.shuffle {
		rng := rand.New(rand.NewPCG(it.cfg.seed, e<<1))
		rng.Shuffle(len(it.order), func(a, b int) { it.order[a], it.order[b] = it.order[b], it.order[a] })
	}
	it.aug = rand.New(rand.NewPCG(it.cfg.seed, e<<1|1))
	it.pos = 0
	it.loaded = false
}

// Len returns the number of batches per epoch.
func (it *Batches) Len() int {
	n := it.d.Len()
	if it.cfg.dropLast {
		return n / it.size
	}
	return (n + it.size - 1) / it.size
}

// Epoch returns the current epoch, counting from 0.
func (it *Batches) Epoch() int { return it.epoch }

// Reset starts the next epoch (with a new order if shuffling).
func (it *Batches) Reset() {
	it.epoch++
	it.start()
}

// Next prepares the next batch of the epoch and reports whether there is one.
func (it *Batches) Next() bool {
	it.loaded = false
	rest := len(it.order) - it.pos
	if rest <= 0 || (it.cfg.dropLast && rest < it.size) {
		return false
	}
	k := min(rest, it.size)
	n := it.d.ImageSize()
	b := &it.batch
	b.Size = k
	b.X, b.Labels, b.Indices = b.X[:k*n], b.Labels[:k], b.Indices[:k]
	for j := range k {
		i := it.order[it.pos+j]
		b.Indices[j] = i
		b.Labels[j] = it.d.labels[i]
		img := it.augment(it.d.Image(i))
		it.cfg.norm.Apply(b.X[j*n:(j+1)*n], img, it.d.c)
	}
	it.pos += k
	it.loaded = true
	return true
}

// Batch returns the batch prepared by the last call to Next. It panics if
// Next has not returned true.
func (it *Batches) Batch() *Batch {
	if !it.loaded {
		panic("data: Batches.Batch called without a successful Next")
	}
	return &it.batch
}

// augment returns img, flipped and shifted as configured (in a scratch buffer).
func (it *Batches) augment(img []uint8) []uint8 {
	if !it.cfg.flip && it.cfg.shift == 0 {
		return img
	}
	h, w, c := it.d.h, it.d.w, it.d.c
	flip := it.cfg.flip && it.aug.IntN(2) == 1
	dx, dy := 0, 0
	if s := it.cfg.shift; s > 0 {
		dx, dy = it.aug.IntN(2*s+1)-s, it.aug.IntN(2*s+1)-s
	}
	out := it.buf
	for y := range h {
		sy := y - dy
		row := out[y*w*c : (y+1)*w*c]
		if sy < 0 || sy >= h {
			clear(row)
			continue
		}
		for x := range w {
			sx := x - dx
			if flip {
				sx = w - 1 - sx
			}
			px := row[x*c : (x+1)*c]
			if sx < 0 || sx >= w {
				clear(px)
				continue
			}
			copy(px, img[(sy*w+sx)*c:(sy*w+sx+1)*c])
		}
	}
	return out
}
