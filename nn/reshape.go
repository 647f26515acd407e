package nn

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/convgraph/convgraph/graph"
)

// ZeroPadding2D adds pad rows and columns of zeros on every side of each image (Keras's
// padding=pad). [ExplicitPadding] sets each side instead: Keras's ((1, 2), (3, 4)) is
// ZeroPadding2D(0, ExplicitPadding(1, 2, 3, 4)).
func ZeroPadding2D(pad int, opts ...Option) *Layer {
	l := newLayer("ZeroPadding2D", Config{Padding: Explicit, Pads: []int{pad, pad, pad, pad}}, opts)
	if l.err == nil && pad < 0 {
		l.err = errors.Errorf("padding %d must not be negative", pad)
	}
	return l
}

// Cropping2D removes crop rows and columns from every edge of each image (Keras's
// cropping=crop); [Crop] sets each edge instead.
func Cropping2D(crop int, opts ...Option) *Layer {
	l := newLayer("Cropping2D", Config{Cropping: []int{crop, crop, crop, crop}}, opts)
	if l.err == nil && crop < 0 {
		l.err = errors.Errorf("cropping %d must not be negative", crop)
	}
	return l
}

// Crop sets how many rows [Cropping2D] removes from the top and bottom and how many
// columns from the left and right (Keras's ((top, bottom), (left, right))).
func Crop(top, bottom, left, right int) Option {
	return opt("Crop", func(c *Config) error {
		c.Cropping = []int{top, bottom, left, right}
		return checkMargins("cropping", c.Cropping)
	})
}

func checkMargins(what string, v []int) error {
	if len(v) != 4 {
		return errors.Errorf("%s %v must be four sizes (top, bottom, left, right)", what, v)
	}
	for _, m := range v {
		if m < 0 || m > maxExampleValues {
			return errors.Errorf("%s %v must not be negative or too large", what, v)
		}
	}
	return nil
}

var zeroPaddingKind = kind{keras: "zero_padding2d", options: []string{"Padding"}, arity: 1,
	check: func(c *Config) error {
		if c.Padding != Explicit {
			return errors.Errorf("padding %q must be explicit sizes (ExplicitPadding)", c.Padding)
		}
		return checkMargins("padding", c.Pads)
	},
	out: func(c *Config, in []Shape) (Shape, error) {
		if len(in[0]) != 3 {
			return nil, errors.Errorf("input %v is not an image (height, width, channels)", in[0])
		}
		p := c.Pads
		return Shape{in[0][0] + p[0] + p[1], in[0][1] + p[2] + p[3], in[0][2]}, nil
	},
	apply: func(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
		p := c.Pads
		return graph.ZeroPad2D(in[0], graph.Pad{Top: p[0], Bottom: p[1], Left: p[2], Right: p[3]})
	}}

var croppingKind = kind{keras: "cropping2d", options: []string{"Crop"}, arity: 1,
	check: func(c *Config) error { return checkMargins("cropping", c.Cropping) },
	out: func(c *Config, in []Shape) (Shape, error) {
		if len(in[0]) != 3 {
			return nil, errors.Errorf("input %v is not an image (height, width, channels)", in[0])
		}
		p := c.Cropping
		h, w := in[0][0]-p[0]-p[1], in[0][1]-p[2]-p[3]
		if h < 1 || w < 1 {
			return nil, errors.Errorf("cropping %d,%d,%d,%d leaves nothing of a %dx%d input", p[0], p[1], p[2], p[3], in[0][0], in[0][1])
		}
		return Shape{h, w, in[0][2]}, nil
	},
	apply: func(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
		p := c.Cropping
		return graph.Crop2D(in[0], graph.Pad{Top: p[0], Bottom: p[1], Left: p[2], Right: p[3]})
	}}

// Reshape gives each example a new shape with the same number of values: (features) or
// (height, width, channels), one size of which may be -1 to be inferred. Values keep the
// order [Flatten] gives them (channel, row, column for images: PyTorch's view, where Keras
// reshapes in row, column, channel order), so Reshape(h, w, c) undoes a Flatten of an
// (h, w, c) image.
func Reshape(target Shape, opts ...Option) *Layer {
	return newLayer("Reshape", Config{TargetShape: append([]int(nil), target...)}, opts)
}

var reshapeKind = kind{keras: "reshape", arity: 1,
	check: func(c *Config) error {
		t := c.TargetShape
		if len(t) != 1 && len(t) != 3 {
			return errors.Errorf("target shape %v must be (features) or (height, width, channels)", t)
		}
		infer := 0
		for _, d := range t {
			switch {
			case d == -1:
				infer++
			case d <= 0 || d > maxExampleValues:
				return errors.Errorf("target shape %v must hold positive sizes (one may be -1)", t)
			}
		}
		if infer > 1 {
			return errors.Errorf("target shape %v may have only one -1", t)
		}
		return nil
	},
	out: func(c *Config, in []Shape) (Shape, error) {
		size := in[0].Size()
		known, hole := 1, -1
		out := append(Shape(nil), c.TargetShape...)
		for i, d := range out {
			if d == -1 {
				hole = i
				continue
			}
			if d > size/known {
				return nil, errors.Errorf("target shape %v holds more than the input's %d values", c.TargetShape, size)
			}
			known *= d
		}
		if hole >= 0 {
			if size%known != 0 {
				return nil, errors.Errorf("target shape %v does not divide the input's %d values", c.TargetShape, size)
			}
			out[hole] = size / known
		}
		if out.Size() != size {
			return nil, errors.Errorf("target shape %v holds %d values; the input %v holds %d", c.TargetShape, out.Size(), in[0], size)
		}
		return out, nil
	},
	apply: func(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
		want := a.n.out.internal(in[0].Shape()[0])
		if in[0].Shape().Eq(want) {
			return in[0], nil
		}
		return graph.Reshape(in[0], want)
	}}

// describeMore is the DOT label's settings of the layers beyond the course's.
func describeMore(kind string, c Config) []string {
	edges := func(v []int) []string {
		if len(v) != 4 {
			return nil
		}
		if v[0] == v[1] && v[1] == v[2] && v[2] == v[3] {
			return []string{fmt.Sprint(v[0])}
		}
		return []string{fmt.Sprintf("%d,%d,%d,%d", v[0], v[1], v[2], v[3])}
	}
	switch kind {
	case "ZeroPadding2D":
		return edges(c.Pads)
	case "Cropping2D":
		return edges(c.Cropping)
	case "UpSampling2D":
		out := []string{}
		if len(c.Size) == 2 {
			out = append(out, fmt.Sprintf("%dx%d", c.Size[0], c.Size[1]))
		}
		if c.Interpolation == Bilinear {
			out = append(out, string(Bilinear))
		}
		return out
	case "Reshape":
		return []string{strings.Trim(fmt.Sprint(c.TargetShape), "[]")}
	case "Resizing":
		mode := Bilinear
		if c.Interpolation == Nearest {
			mode = Nearest
		}
		return []string{fmt.Sprintf("%dx%d", c.Height, c.Width), string(mode)}
	case "PReLU":
		if c.SharedAlpha {
			return []string{"shared"}
		}
	case "Activation":
		if c.Axis != 0 {
			return []string{fmt.Sprintf("axis %d", c.Axis)}
		}
	}
	return nil
}
