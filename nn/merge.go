package nn

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/convgraph/convgraph/graph"
)

// The merge layers join branches, as Keras's do. [Add] sums; these concatenate, multiply,
// average, take the maximum or subtract.

// Concatenate joins two or more inputs along their last axis: the channels of images
// (height and width must agree) or the features of vectors, as Keras's
// Concatenate(axis=-1) does.
func Concatenate(opts ...Option) *Layer { return newLayer("Concatenate", Config{}, opts) }

// Multiply multiplies two or more inputs of the same shape, element by element.
func Multiply(opts ...Option) *Layer { return newLayer("Multiply", Config{}, opts) }

// Average averages two or more inputs of the same shape, element by element.
func Average(opts ...Option) *Layer { return newLayer("Average", Config{}, opts) }

// Maximum keeps the element-wise maximum of two or more inputs of the same shape. Where
// inputs tie, they share the gradient equally (PyTorch's rule).
func Maximum(opts ...Option) *Layer { return newLayer("Maximum", Config{}, opts) }

// Subtract subtracts its second input from its first (two inputs of the same shape).
func Subtract(opts ...Option) *Layer { return newLayer("Subtract", Config{}, opts) }

var (
	concatenateKind = kind{keras: "concatenate", arity: -1, out: concatOut,
		apply: func(a *applier, c *Config, in []*G.Node) (*G.Node, error) { return graph.Concat(in...) }}
	multiplyKind = kind{keras: "multiply", arity: -1, out: sameShapes, apply: chain(graph.Multiply)}
	averageKind  = kind{keras: "average", arity: -1, out: sameShapes,
		apply: func(a *applier, c *Config, in []*G.Node) (*G.Node, error) { return graph.Average(in...) }}
	maximumKind  = kind{keras: "maximum", arity: -1, out: sameShapes, apply: chain(graph.Maximum)}
	subtractKind = kind{keras: "subtract", arity: 2, out: sameShapes,
		apply: func(a *applier, c *Config, in []*G.Node) (*G.Node, error) { return graph.Subtract(in[0], in[1]) }}
)

// sameShapes is the shape rule of the element-wise merges: every input has the first's
// shape.
func sameShapes(c *Config, in []Shape) (Shape, error) {
	for _, s := range in[1:] {
		if !s.equal(in[0]) {
			return nil, errors.Errorf("inputs have different shapes %v and %v", in[0], s)
		}
	}
	return in[0], nil
}

func concatOut(c *Config, in []Shape) (Shape, error) {
	out := append(Shape(nil), in[0]...)
	for i, s := range in[1:] {
		if len(s) != len(in[0]) || !s[:len(s)-1].equal(in[0][:len(s)-1]) {
			return nil, errors.Errorf("input %d has shape %v, input 0 has %v: only the last axis may differ", i+1, s, in[0])
		}
		out[len(out)-1] += s[len(s)-1]
	}
	return out, nil
}

// chain applies a binary op left to right over two or more inputs.
func chain(op func(a, b *G.Node) (*G.Node, error)) func(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
	return func(a *applier, c *Config, in []*G.Node) (*G.Node, error) {
		y := in[0]
		for _, x := range in[1:] {
			var err error
			if y, err = op(y, x); err != nil {
				return nil, err
			}
		}
		return y, nil
	}
}
