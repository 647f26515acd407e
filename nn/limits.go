package nn

import (
	"github.com/pkg/errors"
)

// Size limits. A model's configuration comes from files (a checkpoint's spec) as well as
// from code, so its sizes are checked before anything is allocated: a spec asking for a
// Dense of a billion units is an error naming the layer, not an attempt to allocate 4 GB.
// They are variables only so that the fuzz tests can lower them.
var (
	// maxParams bounds a model's parameter count: 1<<28 values, 1 GiB of float32, far
	// above what a CPU trains (VGG-16 has 138 million).
	maxParams = 1 << 28
	// maxExampleValues bounds the values of one example at any layer's output, and a
	// convolution's im2col workspace per example: 1<<26, 256 MiB of float32 (a 224x224
	// image with 64 channels is 3.2 million values; its 3x3 im2col, 29 million).
	maxExampleValues = 1 << 26
	// maxLayers bounds a model's layers (ResNet-152 has about 520 with its batch
	// normalisations, activations and adds), so that a crafted spec cannot make a graph
	// too large to compile; maxGraphNodes is the bound that holds compile time.
	maxLayers = 1024
	// maxGraphNodes bounds the nodes of a compiled graph (forward and backward): Gorgonia
	// 0.9.18's code generator is quadratic in them (codegenerator.insertFree scans every
	// node's register for each value an instruction reads; docs/reliability.md), and
	// 16,384 nodes compile in about 4 s of CPU. A chain of 1,024 Dense+ReLU layers has
	// 9,200 nodes in training.
	maxGraphNodes = 1 << 14
	// maxFanIn bounds one layer's inputs (an Add or Concatenate): a crafted Add of
	// 200,000 inputs took minutes to compile.
	maxFanIn = 1024
)

// sizeWithin multiplies dims and reports whether every one is positive and the product
// is at most limit, without overflowing.
func sizeWithin(dims []int, limit int) (int, bool) {
	n := 1
	for _, d := range dims {
		if d <= 0 || d > limit/n {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// checkConfig checks the fields that the options check (a spec decoded from JSON does
// not go through the options) and bounds every size.
func checkConfig(c *Config) error {
	for _, f := range []struct {
		what string
		v    []int
	}{{"kernel size", c.KernelSize}, {"pool size", c.PoolSize}, {"strides", c.Strides}, {"dilation", c.Dilation}} {
		if f.v == nil {
			continue
		}
		if len(f.v) != 2 || f.v[0] <= 0 || f.v[1] <= 0 {
			return errors.Errorf("%s %v must be two positive sizes", f.what, f.v)
		}
		if f.v[0] > maxExampleValues || f.v[1] > maxExampleValues {
			return errors.Errorf("%s %v is too large", f.what, f.v)
		}
	}
	switch c.Padding {
	case "", Valid, Same:
		if len(c.Pads) != 0 {
			return errors.Errorf("pads %v need padding %q, not %q", c.Pads, Explicit, c.Padding)
		}
	case Explicit:
		if len(c.Pads) != 4 {
			return errors.Errorf("explicit padding needs 4 sizes (top, bottom, left, right), got %v", c.Pads)
		}
		for _, v := range c.Pads {
			if v < 0 || v > maxExampleValues {
				return errors.Errorf("padding %v must not be negative or too large", c.Pads)
			}
		}
	default:
		return errors.Errorf("padding %q is not %q, %q or %q", c.Padding, Same, Valid, Explicit)
	}
	if c.Activation != "" {
		if err := checkActivation(c.Activation); err != nil {
			return err
		}
	}
	for _, i := range []Initializer{c.KernelInit, c.BiasInit} {
		if i != "" {
			if err := checkInit(i); err != nil {
				return err
			}
		}
	}
	switch {
	case c.Alpha < 0:
		return errors.Errorf("alpha %v must not be negative", c.Alpha)
	case c.Momentum < 0 || c.Momentum >= 1:
		return errors.Errorf("momentum %v must be in [0, 1)", c.Momentum)
	case c.Epsilon < 0:
		return errors.Errorf("epsilon %v must be positive", c.Epsilon)
	case c.Units > maxExampleValues || c.Filters > maxExampleValues:
		return errors.Errorf("%d units or %d filters: more than the limit of %d", c.Units, c.Filters, maxExampleValues)
	}
	return nil
}

// checkPool checks a pooling layer's window.
func checkPool(c *Config) error {
	if len(c.PoolSize) != 2 {
		return errors.Errorf("pool size %v must be two positive sizes", c.PoolSize)
	}
	return nil
}
