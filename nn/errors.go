package nn

import "fmt"

// LayerError is a problem with one layer of a model: a bad configuration, a shape its
// input does not fit, or a failure while its part of a graph was built. Errors from
// [Builder.Model], [Sequential], [FromSpec], [UnmarshalSpec] and [Model.Compile] that
// concern a layer carry one, wrapped with context by github.com/pkg/errors; find it with
// the standard library's errors.As:
//
//	var le *nn.LayerError
//	if errors.As(err, &le) {
//		fmt.Println(le.Layer, le.Kind, le.Err)
//	}
//
// github.com/pkg/errors's Cause stops at a LayerError (it has no Cause method), so
// errors.Cause(err) returns the LayerError too.
type LayerError struct {
	// Layer is the layer's full name: "block1/conv1".
	Layer string
	// Kind is the layer's type as Keras spells it: "Conv2D".
	Kind string
	// Err is the problem: "kernel 3x3 larger than padded input 2x2".
	Err error
}

// Error reads `layer "conv2d_1" (Conv2D): kernel 3x3 larger than padded input 2x2`.
func (e *LayerError) Error() string {
	return fmt.Sprintf("layer %q (%s): %v", e.Layer, e.Kind, e.Err)
}

// Unwrap returns the problem, for errors.Is and errors.As.
func (e *LayerError) Unwrap() error { return e.Err }

func (n *node) errorf(err error) *LayerError {
	return &LayerError{Layer: n.name, Kind: n.layer.kind, Err: err}
}
