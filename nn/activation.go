package nn

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/convgraph/convgraph/graph"
)

// Activate applies an activation function as a layer of its own (Keras's Activation
// layer, and its Softmax, ReLU and ELU layers). Options: [Alpha] (for [LeakyReLU] and
// [ELU]) and, for [Softmax], [Axis]: softmax then works on any input, images included,
// normalising along one axis (the channels by default).
func Activate(a ActivationFn, opts ...Option) *Layer {
	return newLayer("Activation", Config{Activation: a}, opts)
}

// Axis sets the axis a softmax layer normalises along, counted as Keras counts it on an
// example with its batch axis first: on an image (height, width, channels), 3 or -1 is the
// channels (the default), 1 or -3 the rows, 2 or -2 the columns; on a vector, 1 or -1.
func Axis(axis int) Option {
	return opt("Axis", func(c *Config) error {
		if axis == 0 {
			return errors.New("axis 0 is the batch; a softmax normalises along an axis of each example")
		}
		c.Axis = axis
		return nil
	})
}

var activationKind = kind{keras: "activation", options: []string{"Alpha", "Axis"}, arity: 1,
	check: func(c *Config) error {
		if err := checkActivation(c.Activation); err != nil {
			return err
		}
		if c.Axis != 0 && c.Activation != Softmax {
			return errors.Errorf("axis %d applies only to softmax, not %s", c.Axis, c.Activation)
		}
		return nil
	},
	out: func(c *Config, in []Shape) (Shape, error) {
		if c.Activation == Softmax {
			if _, err := softmaxAxis(c.Axis, in[0]); err != nil {
				return nil, err
			}
		}
		return in[0], nil
	},
	apply: func(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
		if c.Activation != Softmax || in[0].Shape().Dims() == 2 {
			return a.activate(in[0], c.Activation, c.alpha())
		}
		axis, err := softmaxAxis(c.Axis, a.n.inputs[0].out)
		if err != nil {
			return nil, err
		}
		a.logits = nil
		return graph.SoftmaxAxis(in[0], axis)
	}}

// softmaxAxis maps a Keras axis (0 for the default, -1) on an example of shape s to the
// axis of the graph's tensor: images are NCHW inside, so Keras's channels (3) are axis 1.
func softmaxAxis(axis int, s Shape) (int, error) {
	r := len(s)
	k := axis
	if k == 0 {
		k = -1
	}
	if k < 0 {
		k += r + 1
	}
	if k < 1 || k > r {
		return 0, errors.Errorf("softmax axis %d is outside the input %v (axes 1 to %d, or -1 to -%d)", axis, s, r, r)
	}
	if r == 3 {
		return [...]int{0, 2, 3, 1}[k], nil
	}
	return k, nil
}

// activateMore applies the activations beyond the course's (which applier.activate
// handles itself).
func activateMore(x *G.Node, fn ActivationFn, alpha float64) (*G.Node, error) {
	switch fn {
	case ReLU6:
		return graph.ReLU6(x)
	case ELU:
		return graph.ELU(x, alpha)
	case GELU:
		return graph.GELU(x)
	case Swish:
		return graph.Swish(x)
	}
	return nil, errors.Errorf("unknown activation %q", fn)
}
