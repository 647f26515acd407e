package onnx

import (
	"github.com/pkg/errors"

	pb "github.com/convgraph/convgraph/onnx/internal/onnxpb"
)

// fold computes a node whose inputs are all constants: the shape arithmetic exporters
// emit (PyTorch's x.view(x.size(0), -1) is Shape, Gather, Unsqueeze, Concat and a
// Reshape) and constant weights they did not fold themselves. ok is false for operators
// it does not fold.
func (im *importer) fold(op string, a attrs, ins []*value) (v *value, ok bool, err error) {
	cs := make([]*constant, len(ins))
	for i, in := range ins {
		if in != nil {
			cs[i] = in.c
		}
	}
	arg := func(i int) (*constant, error) {
		if i >= len(cs) || cs[i] == nil {
			return nil, errors.Errorf("input %d is missing", i)
		}
		return cs[i], nil
	}
	axesOf := func(i int) ([]int64, error) {
		if im.opset < 13 {
			ax, _ := a.ints("axes")
			return ax, nil
		}
		if i >= len(cs) || cs[i] == nil {
			return nil, nil
		}
		return cs[i].ints()
	}
	var c *constant
	switch op {
	case "Constant":
		c, err = constantNode(a)
	case "Identity", "Dropout":
		c, err = arg(0)
	case "Cast":
		if c, err = arg(0); err != nil {
			break
		}
		to := pb.TensorProto_DataType(a.int("to", 0))
		switch to {
		case pb.TensorProto_FLOAT, pb.TensorProto_DOUBLE:
			if c.isInt {
				if _, err = c.ints(); err != nil {
					break
				}
			}
			c = &constant{shape: c.shape, f: append([]float64(nil), c.floats()...)}
		case pb.TensorProto_INT64, pb.TensorProto_INT32, pb.TensorProto_INT16, pb.TensorProto_INT8, pb.TensorProto_UINT8, pb.TensorProto_BOOL:
			if !c.isInt {
				vals := make([]int64, len(c.f))
				for i, f := range c.f {
					vals[i] = int64(f)
				}
				c = intConst(c.shape, vals, nil)
			}
		default:
			err = errors.Errorf("cast to %s is not supported", to)
		}
	case "Shape":
		if c, err = arg(0); err == nil {
			c = intConst([]int{len(c.shape)}, toInt64(c.shape), nil)
		}
	case "Gather":
		var d, i *constant
		if d, err = arg(0); err == nil {
			if i, err = arg(1); err == nil {
				c, err = gather(d, i, a.int("axis", 0))
			}
		}
	case "Unsqueeze", "Squeeze":
		if c, err = arg(0); err != nil {
			break
		}
		var axes []int64
		if axes, err = axesOf(1); err != nil {
			break
		}
		c, err = squeezeConst(c, axes, op == "Unsqueeze")
	case "Concat":
		var all []*constant
		for i := range cs {
			var ci *constant
			if ci, err = arg(i); err != nil {
				break
			}
			all = append(all, ci)
		}
		if err == nil {
			c, err = concat(all, a.int("axis", 0))
		}
	case "Slice":
		c, err = im.sliceConst(a, cs)
	case "Add", "Sub", "Mul", "Div":
		var x, y *constant
		if x, err = arg(0); err != nil {
			break
		}
		if y, err = arg(1); err != nil {
			break
		}
		if x.isInt != y.isInt {
			err = errors.New("mixes integer and float tensors")
			break
		}
		c, err = broadcast(x, y, floatOp(op), intOp(op))
	case "Reshape":
		var x, s *constant
		if x, err = arg(0); err != nil {
			break
		}
		if s, err = arg(1); err != nil {
			break
		}
		c, err = reshapeConst(x, s)
	case "Transpose":
		if c, err = arg(0); err == nil {
			perm, _ := a.ints("perm")
			c, err = transposeConst(c, perm)
		}
	case "ConstantOfShape":
		var s *constant
		if s, err = arg(0); err != nil {
			break
		}
		var dims []int64
		if dims, err = s.ints(); err != nil {
			break
		}
		var n int
		if n, err = numel(dims); err != nil {
			break
		}
		if n > maxComputedValues {
			err = errors.Errorf("the result would hold %d values", n)
			break
		}
		fill := &constant{f: []float64{0}}
		if at, ok := a["value"]; ok {
			if fill, err = tensorConst(at.GetT()); err != nil {
				break
			}
		}
		shape := make([]int, len(dims))
		for i, d := range dims {
			shape[i] = int(d)
		}
		idx := make([]int, n)
		if fill.size() != 1 {
			err = errors.New("value must hold one value")
			break
		}
		c = fill.pick(shape, idx)
	default:
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	return &value{c: c}, true, nil
}

func floatOp(op string) func(x, y float64) float64 {
	return map[string]func(x, y float64) float64{
		"Add": func(x, y float64) float64 { return x + y },
		"Sub": func(x, y float64) float64 { return x - y },
		"Mul": func(x, y float64) float64 { return x * y },
		"Div": func(x, y float64) float64 { return x / y },
	}[op]
}

func intOp(op string) func(x, y int64) (int64, bool) {
	return map[string]func(x, y int64) (int64, bool){
		"Add": func(x, y int64) (int64, bool) { return x + y, true },
		"Sub": func(x, y int64) (int64, bool) { return x - y, true },
		"Mul": func(x, y int64) (int64, bool) { return x * y, true },
		"Div": func(x, y int64) (int64, bool) {
			if y == 0 {
				return 0, false
			}
			return x / y, true
		},
	}[op]
}

// constantNode reads a Constant node's value.
func constantNode(a attrs) (*constant, error) {
	if at, ok := a["value"]; ok {
		if at.GetT() == nil {
			return nil, errors.New("value holds no tensor")
		}
		return tensorConst(at.GetT())
	}
	if at, ok := a["value_float"]; ok {
		return &constant{f: []float64{float64(at.GetF())}}, nil
	}
	if at, ok := a["value_floats"]; ok {
		c := &constant{shape: []int{len(at.Floats)}}
		for _, f := range at.Floats {
			c.f = append(c.f, float64(f))
		}
		return c, nil
	}
	if at, ok := a["value_int"]; ok {
		return intConst(nil, []int64{at.GetI()}, nil), nil
	}
	if at, ok := a["value_ints"]; ok {
		return intConst([]int{len(at.Ints)}, append([]int64{}, at.Ints...), nil), nil
	}
	return nil, errors.New("no value, value_float(s) or value_int(s) attribute (sparse and string values are not supported)")
}

// squeezeConst removes (or, for Unsqueeze, inserts) axes of size 1.
func squeezeConst(c *constant, axes []int64, unsqueeze bool) (*constant, error) {
	out := &constant{isInt: c.isInt, f: c.f, i: c.i, batch: c.batch}
	if unsqueeze {
		rank := len(c.shape) + len(axes)
		ins := make([]bool, rank)
		for _, ax := range axes {
			k, err := normAxis(ax, rank)
			if err != nil {
				return nil, err
			}
			if ins[k] {
				return nil, errors.Errorf("axis %d given twice", ax)
			}
			ins[k] = true
		}
		j := 0
		for k := 0; k < rank; k++ {
			if ins[k] {
				out.shape = append(out.shape, 1)
			} else {
				out.shape = append(out.shape, c.shape[j])
				j++
			}
		}
		return out, nil
	}
	drop := make([]bool, len(c.shape))
	for _, ax := range axes {
		k, err := normAxis(ax, len(c.shape))
		if err != nil {
			return nil, err
		}
		if c.shape[k] != 1 {
			return nil, errors.Errorf("axis %d has size %d, not 1", ax, c.shape[k])
		}
		drop[k] = true
	}
	for k, d := range c.shape {
		if !drop[k] && !(len(axes) == 0 && d == 1) {
			out.shape = append(out.shape, d)
		}
	}
	return out, nil
}

// sliceConst implements Slice on constants (starts, ends, axes, steps as inputs from
// operator set 10, as attributes before).
func (im *importer) sliceConst(a attrs, cs []*constant) (*constant, error) {
	if len(cs) == 0 || cs[0] == nil {
		return nil, errors.New("input 0 is missing")
	}
	data := cs[0]
	var starts, ends, axes, steps []int64
	if im.opset < 10 {
		starts, _ = a.ints("starts")
		ends, _ = a.ints("ends")
		axes, _ = a.ints("axes")
	} else {
		get := func(i int) ([]int64, error) {
			if i >= len(cs) || cs[i] == nil {
				return nil, nil
			}
			return cs[i].ints()
		}
		var err error
		if starts, err = get(1); err != nil {
			return nil, err
		}
		if ends, err = get(2); err != nil {
			return nil, err
		}
		if axes, err = get(3); err != nil {
			return nil, err
		}
		if steps, err = get(4); err != nil {
			return nil, err
		}
	}
	rank := len(data.shape)
	if len(starts) != len(ends) || axes != nil && len(axes) != len(starts) || steps != nil && len(steps) != len(starts) {
		return nil, errors.New("starts, ends, axes and steps differ in length")
	}
	// Per axis: the first index, the step and the count of indices taken.
	first, step, shape := make([]int, rank), make([]int, rank), append([]int(nil), data.shape...)
	for k := range step {
		step[k] = 1
	}
	for i := range starts {
		ax := int64(i)
		if axes != nil {
			ax = axes[i]
		}
		k, err := normAxis(ax, rank)
		if err != nil {
			return nil, err
		}
		st := int64(1)
		if steps != nil {
			st = steps[i]
		}
		if st == 0 || st > 1<<30 || st < -(1<<30) {
			return nil, errors.Errorf("step %d is not valid", st)
		}
		dim := int64(data.shape[k])
		lo, hi := starts[i], ends[i]
		if lo < 0 {
			lo += dim
		}
		if hi < 0 {
			hi += dim
		}
		var count int64
		if st > 0 {
			lo, hi = max(0, min(lo, dim)), max(0, min(hi, dim))
			if hi > lo {
				count = (hi - lo + st - 1) / st
			}
		} else {
			lo, hi = max(0, min(lo, dim-1)), max(-1, min(hi, dim-1))
			if lo > hi {
				count = (lo - hi - st - 1) / -st
			}
		}
		first[k], step[k], shape[k] = int(lo), int(st), int(count)
	}
	n, err := numel(toInt64(shape))
	if err != nil {
		return nil, err
	}
	ist, ost := strides(data.shape), strides(shape)
	idx := make([]int, n)
	for j := range idx {
		src := 0
		for k := 0; k < rank; k++ {
			src += (first[k] + (j/ost[k]%shape[k])*step[k]) * ist[k]
		}
		idx[j] = src
	}
	return data.pick(shape, idx), nil
}

// reshapeConst reshapes a constant (0 copies a dimension, -1 is inferred).
func reshapeConst(x, s *constant) (*constant, error) {
	dims, err := s.ints()
	if err != nil {
		return nil, err
	}
	shape := make([]int, len(dims))
	infer, rest := -1, 1
	for i, d := range dims {
		switch {
		case d == 0 && i < len(x.shape):
			shape[i] = x.shape[i]
		case d == -1 && infer < 0:
			infer = i
			continue
		case d > 0:
			shape[i] = int(d)
		default:
			return nil, errors.Errorf("shape %v is not valid", dims)
		}
		rest *= shape[i]
		if rest > maxTensorValues {
			return nil, errors.Errorf("shape %v is too large", dims)
		}
	}
	n := x.size()
	if infer >= 0 {
		if rest == 0 || n%rest != 0 {
			return nil, errors.Errorf("shape %v does not fit %v", dims, x.shape)
		}
		shape[infer] = n / rest
		rest = n
	}
	if rest != n {
		return nil, errors.Errorf("shape %v does not fit %v", dims, x.shape)
	}
	return &constant{shape: shape, isInt: x.isInt, f: x.f, i: x.i, batch: x.batch}, nil
}
