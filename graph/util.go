package graph

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// opHash is the Hashcode every op here uses: FNV-1a over WriteHash.
func opHash(op G.Op) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// nextID numbers stateful ops so that two of them never hash alike.
var nextID atomic.Uint64

func newID() uint64 { return nextID.Add(1) }

// tensorT is the Gorgonia type "tensor of d dimensions of a".
func tensorT(d int) G.TensorType { return G.TensorType{Dims: d, Of: hm.TypeVariable('a')} }

// fnT builds a function type from input and output types.
func fnT(ts ...hm.Type) hm.Type { return hm.NewFnType(ts...) }

// scalarT is the element type a, standing for a scalar of a.
var scalarT = hm.TypeVariable('a')

// denseArg returns input i as a float32 or float64 *tensor.Dense.
// denseArgs2 is denseArg for an op's first two inputs.
func denseArgs2(op fmt.Stringer, vs []G.Value) (a, b *tensor.Dense, err error) {
	if a, err = denseArg(op, vs, 0); err != nil {
		return nil, nil, err
	}
	if b, err = denseArg(op, vs, 1); err != nil {
		return nil, nil, err
	}
	return a, b, nil
}

func denseArg(op fmt.Stringer, vs []G.Value, i int) (*tensor.Dense, error) {
	if i >= len(vs) {
		return nil, errors.Errorf("graph: %v: want input %d, have %d inputs", op, i, len(vs))
	}
	d, ok := vs[i].(*tensor.Dense)
	if !ok {
		return nil, errors.Errorf("graph: %v: input %d is %T, not a dense tensor", op, i, vs[i])
	}
	if dt := d.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errors.Errorf("graph: %v: input %d has dtype %v; want float32 or float64", op, i, dt)
	}
	return d, nil
}

// scalarArg reads input i, a Gorgonia scalar or a one-element tensor, as float64.
func scalarArg(op fmt.Stringer, vs []G.Value, i int) (float64, error) {
	if i >= len(vs) {
		return 0, errors.Errorf("graph: %v: want input %d, have %d inputs", op, i, len(vs))
	}
	switch v := vs[i].(type) {
	case *G.F32:
		return float64(*v), nil
	case *G.F64:
		return float64(*v), nil
	case *tensor.Dense:
		if v.Size() == 1 {
			switch x := v.Data().(type) {
			case []float32:
				return float64(x[0]), nil
			case []float64:
				return x[0], nil
			case float32:
				return float64(x), nil
			case float64:
				return x, nil
			}
		}
	}
	return 0, errors.Errorf("graph: %v: input %d is %T; want a scalar", op, i, vs[i])
}

// scalarValue wraps v as a Gorgonia scalar of dtype dt.
func scalarValue(dt tensor.Dtype, v float64) G.Value {
	if dt == tensor.Float32 {
		return G.NewF32(float32(v))
	}
	return G.NewF64(v)
}

// newDense allocates a zeroed tensor.
func newDense(dt tensor.Dtype, shape ...int) *tensor.Dense {
	return tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
}

// f32 and f64 view a dense tensor's backing slice.
// (Dense.Data builds the slice by reflection and allocates twice per call; the typed
// accessors do not.) They panic on the wrong dtype, as the type assertion did.
func f32(d *tensor.Dense) []float32 {
	if d.Dtype() != tensor.Float32 {
		panic("graph: f32 on a " + d.Dtype().String() + " tensor")
	}
	return d.Float32s()
}

func f64(d *tensor.Dense) []float64 {
	if d.Dtype() != tensor.Float64 {
		panic("graph: f64 on a " + d.Dtype().String() + " tensor")
	}
	return d.Float64s()
}

// sameDtype checks that all tensors share the first one's dtype.
func sameDtype(op fmt.Stringer, ds ...*tensor.Dense) error {
	for i, d := range ds[1:] {
		if d.Dtype() != ds[0].Dtype() {
			return errors.Errorf("graph: %v: input %d has dtype %v, input 0 has %v", op, i+1, d.Dtype(), ds[0].Dtype())
		}
	}
	return nil
}

// checkShape reports whether d has exactly the given shape.
func checkShape(op fmt.Stringer, what string, d *tensor.Dense, want ...int) error {
	if !d.Shape().Eq(tensor.Shape(want)) {
		return errors.Errorf("graph: %v: %s has shape %v; want %v", op, what, d.Shape(), tensor.Shape(want))
	}
	return nil
}

// shapesOf converts Gorgonia's DimSizers to shapes.
func shapesOf(op fmt.Stringer, n int, ds []G.DimSizer) ([]tensor.Shape, error) {
	if len(ds) != n {
		return nil, errors.Errorf("graph: %v: want %d input shapes, have %d", op, n, len(ds))
	}
	return G.DimSizersToShapes(ds)
}

// baseOp supplies the Op methods that every op here answers the same way, and keeps the
// tensor the op writes its output into between runs.
//
// Every op's Do returns that tensor (or a fresh scalar), never one of its inputs: the
// buffer plan of a [Machine] built with [ShareBuffers] relies on it.
type baseOp struct {
	out *tensor.Dense // the op's own output tensor, when it has no shared buffer

	// The machine that ran the op last sets these before its run (see Machine.claim):
	// the buffer its plan gives the op (nil for none) and the op's view of it.
	owner *Machine
	buf   *buffer
	view  *tensor.Dense
}

// output returns the tensor an op's Do writes its result into: its view of the buffer the
// running machine's plan gives it, if it has one and the result fits, else the tensor it
// returned last run when dtype and shape agree, else a new one. Reusing it means a
// training step makes no garbage proportional to its activations (Gorgonia's tape machine
// drops every value on Reset). It is safe because every node has its own op, a step runs
// each node once, kernels overwrite their whole output, and a machine shares a buffer only
// between ops whose values are never alive at the same time (an op's output never shares
// with its inputs). So a value read from a graph's node is valid until the next op that
// reuses its buffer: for the nodes a machine keeps ([ShareBuffers]'s arguments) and every
// node of a machine without sharing, until the graph runs again; for any other node,
// possibly not even until the end of the run that computed it.
func (b *baseOp) output(dt tensor.Dtype, shape ...int) *tensor.Dense {
	if b.buf != nil {
		if d := b.view; d != nil && d.Dtype() == dt && d.Shape().Eq(tensor.Shape(shape)) {
			return d
		}
		if d := b.buf.view(dt, shape); d != nil {
			b.view = d
			return d
		}
	}
	if d := b.out; d != nil && d.Dtype() == dt && d.Shape().Eq(tensor.Shape(shape)) {
		return d
	}
	b.out = newDense(dt, shape...)
	return b.out
}

// base gives the planner an op's baseOp.
func (b *baseOp) base() *baseOp { return b }

func (baseOp) ReturnsPtr() bool     { return false }
func (baseOp) CallsExtern() bool    { return false }
func (baseOp) OverwritesInput() int { return -1 }

// writeHash writes an op's String form, which names every parameter, into h.
func writeHash(h hash.Hash, s fmt.Stringer) { fmt.Fprint(h, s.String()) }

// apply wraps G.ApplyOp, turning a Gorgonia panic into an error.
func apply(op G.Op, children ...*G.Node) (n *G.Node, err error) {
	err = Safely(func() error {
		var e error
		n, e = G.ApplyOp(op, children...)
		return e
	})
	if err != nil {
		return nil, errors.Wrapf(err, "graph: %v", op)
	}
	return n, nil
}

// Safely runs f and turns a panic inside it (Gorgonia panics on many bad inputs) into an
// error.
func Safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = errors.Wrap(e, "panic")
			} else {
				err = errors.Errorf("panic: %v", r)
			}
		}
	}()
	return f()
}

// recoverOp turns a panic inside an op's Do into the op's error. Gorgonia's tape machine
// runs the ops on a goroutine of its own, where a panic would end the process before
// [Machine.Run]'s recover could see it.
func recoverOp(op fmt.Stringer, err *error) {
	if r := recover(); r != nil {
		*err = errors.Errorf("%v: %v", op, r)
	}
}
