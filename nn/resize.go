package nn

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/convgraph/convgraph/graph"
)

// Resizing resizes each image to height x width, enlarging or shrinking by any ratio
// (Keras's Resizing layer, PyTorch's F.interpolate(size=...)). [Interpolation] picks
// [Bilinear] (the default, as in Keras: half-pixel centres, PyTorch's
// align_corners=False) or [Nearest] (cell floor(o*in/out), PyTorch's nearest). For whole
// factors, [UpSampling2D] gives the same values.
func Resizing(height, width int, opts ...Option) *Layer {
	return newLayer("Resizing", Config{Height: height, Width: width}, opts)
}

var resizingKind = kind{keras: "resizing", options: []string{"Interpolation"}, arity: 1,
	check: func(c *Config) error {
		if c.Height <= 0 || c.Width <= 0 || c.Height > maxExampleValues || c.Width > maxExampleValues {
			return errors.Errorf("size %dx%d must be positive", c.Height, c.Width)
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
		if _, ok := sizeWithin([]int{c.Height, c.Width, in[0][2]}, maxExampleValues); !ok {
			return nil, errors.Errorf("size %dx%d over %d channels is too large", c.Height, c.Width, in[0][2])
		}
		return Shape{c.Height, c.Width, in[0][2]}, nil
	},
	apply: func(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
		return graph.Resize2D(in[0], c.Height, c.Width, c.Interpolation != Nearest)
	}}
