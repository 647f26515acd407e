package nn

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// PReLU is the parametric ReLU (Keras's PReLU with shared_axes over height and width,
// PyTorch's nn.PReLU(channels)): max(x, 0) + alpha*min(x, 0), with alpha learned, one per
// channel of an image or feature of a vector. [SharedAlpha] makes it one alpha for all
// (PyTorch's nn.PReLU()). Its parameter is "alpha" ([channels], or [1]), zeros at first as
// in Keras (the layer starts as a ReLU).
func PReLU(opts ...Option) *Layer { return newLayer("PReLU", Config{}, opts) }

// SharedAlpha makes a [PReLU] learn one slope for every channel instead of one per channel.
func SharedAlpha(shared bool) Option {
	return opt("SharedAlpha", func(c *Config) error {
		c.SharedAlpha = shared
		return nil
	})
}

var preluKind = kind{keras: "p_re_lu", options: []string{"SharedAlpha"}, arity: 1,
	out: func(c *Config, in []Shape) (Shape, error) {
		if len(in[0]) != 1 && len(in[0]) != 3 {
			return nil, errors.Errorf("input %v must be (features) or (height, width, channels)", in[0])
		}
		return in[0], nil
	},
	params: func(c *Config, in []Shape) []paramDecl {
		n := in[0][len(in[0])-1]
		if c.SharedAlpha {
			n = 1
		}
		return []paramDecl{{name: "alpha", shape: tensor.Shape{n}, init: Zeros}}
	},
	apply: func(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
		return graph.PReLU(in[0], a.param("alpha"))
	}}
