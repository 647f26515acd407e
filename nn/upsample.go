package nn

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/convgraph/convgraph/graph"
)

// InterpolationMode is how [UpSampling2D] fills in the cells it adds.
type InterpolationMode string

// The interpolation modes of Keras's UpSampling2D.
const (
	// Nearest repeats each cell (the default).
	Nearest InterpolationMode = "nearest"
	// Bilinear interpolates between the four nearest cells, with half-pixel centres as
	// TensorFlow 2 and PyTorch's align_corners=False do.
	Bilinear InterpolationMode = "bilinear"
)

// UpSampling2D enlarges each image by size times in height and width (Keras's
// UpSampling2D(size)). Options: [Size] for different factors, [Interpolation].
func UpSampling2D(size int, opts ...Option) *Layer {
	l := newLayer("UpSampling2D", Config{Size: []int{size, size}}, opts)
	if l.err == nil && size <= 0 {
		l.err = errors.Errorf("size %d must be positive", size)
	}
	return l
}

// Size sets [UpSampling2D]'s factors for height and width.
func Size(h, w int) Option {
	return opt("Size", func(c *Config) (err error) {
		c.Size, err = pair("size", []int{h, w})
		return err
	})
}

// Interpolation sets how [UpSampling2D] and [Resizing] fill in cells: [Nearest] (the
// default of UpSampling2D) or [Bilinear] (the default of Resizing).
func Interpolation(m InterpolationMode) Option {
	return opt("Interpolation", func(c *Config) error {
		if m != Nearest && m != Bilinear {
			return errors.Errorf("interpolation %q is not %q or %q", m, Nearest, Bilinear)
		}
		c.Interpolation = m
		return nil
	})
}

var upsampleKind = kind{keras: "up_sampling2d", options: []string{"Size", "Interpolation"}, arity: 1,
	check: func(c *Config) error {
		if len(c.Size) != 2 || c.Size[0] <= 0 || c.Size[1] <= 0 || c.Size[0] > maxExampleValues || c.Size[1] > maxExampleValues {
			return errors.Errorf("size %v must be two positive factors", c.Size)
		}
		switch c.Interpolation {
		case "", Nearest, Bilinear:
			return nil
		}
		return errors.Errorf("interpolation %q is not %q or %q", c.Interpolation, Nearest, Bilinear)
	},
	out: func(c *Config, in []Shape) (Shape, error) {
		if len(in[0]) != 3 {
			return nil, errors.Errorf("input %v is not an image (height, width, channels)", in[0])
		}
		h, okH := sizeWithin([]int{in[0][0], c.Size[0]}, maxExampleValues)
		w, okW := sizeWithin([]int{in[0][1], c.Size[1]}, maxExampleValues)
		if !okH || !okW {
			return nil, errors.Errorf("size %v makes the input %v too large", c.Size, in[0])
		}
		return Shape{h, w, in[0][2]}, nil
	},
	apply: func(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
		return graph.Upsample2D(in[0], c.Size[0], c.Size[1], c.Interpolation == Bilinear)
	}}
