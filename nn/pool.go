package nn

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/convgraph/convgraph/graph"
)

// GlobalMaxPool2D keeps the maximum of each channel over the whole image: (H, W, C) to
// (C).
func GlobalMaxPool2D(opts ...Option) *Layer {
	return newLayer("GlobalMaxPooling2D", Config{}, opts)
}

var globalMaxPoolKind = kind{keras: "global_max_pooling2d", arity: 1,
	out: func(c *Config, in []Shape) (Shape, error) {
		if len(in[0]) != 3 {
			return nil, errors.Errorf("input %v is not an image (height, width, channels)", in[0])
		}
		return Shape{in[0][2]}, nil
	},
	apply: func(a *applier, c *Config, in []*G.Node) (*G.Node, error) { return graph.GlobalMaxPool2D(in[0]) }}
