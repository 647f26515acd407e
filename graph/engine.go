package graph

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/kernels"
)

// engine is the tensor engine a [Machine] gives every value it computes (Gorgonia's tape
// machine sets its engine on each op's result). It is Gorgonia's standard engine except
// for Add, which Gorgonia's symbolic differentiation uses to sum the gradients reaching a
// node that feeds several ops (every ResNet block input): the standard engine copies a
// into the result and then adds b, two single-threaded passes; this one is
// [kernels.Add], one pass split over the cores. Tensors that are not plain float32 or
// float64 arrays of one shape, and the options it does not handle (an increment, a change
// of type), go to the standard engine as before.
type engine struct{ G.StandardEngine }

// Add returns a + b, into the reuse tensor if given, else into a if the call is unsafe,
// else into a new tensor, as tensor.Add does.
func (e engine) Add(a, b tensor.Tensor, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	da, okA := a.(*tensor.Dense)
	db, okB := b.(*tensor.Dense)
	var fo tensor.OpOpt // not ParseFuncOpts, whose pooled value only tensor can give back
	for _, o := range opts {
		o(&fo)
	}
	if !okA || !okB || !plain(da) || !plain(db) || da.Dtype() != db.Dtype() || !da.Shape().Eq(db.Shape()) ||
		fo.Incr() != nil || fo.As() != (tensor.Dtype{}) {
		return e.StandardEngine.Add(a, b, opts...)
	}
	var out *tensor.Dense
	switch {
	case fo.Reuse() != nil:
		r, ok := fo.Reuse().(*tensor.Dense)
		if !ok || !plain(r) || r.Dtype() != da.Dtype() || r.Shape().TotalSize() != da.Shape().TotalSize() {
			return e.StandardEngine.Add(a, b, opts...)
		}
		out = r
	case !fo.Safe():
		out = da
	default:
		out = newDense(da.Dtype(), da.Shape()...)
	}
	if da.Dtype() == tensor.Float32 {
		kernels.Add(f32(da), f32(db), f32(out))
	} else {
		kernels.Add(f64(da), f64(db), f64(out))
	}
	return out, nil
}

// plain reports whether d is a float32 or float64 array laid out contiguously in its
// row-major order, without a mask: what kernels.Add can read and write directly.
func plain(d *tensor.Dense) bool {
	dt := d.Dtype()
	return (dt == tensor.Float32 || dt == tensor.Float64) && !d.RequiresIterator() && d.DataOrder().IsRowMajor()
}
