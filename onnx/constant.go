package onnx

import (
	"encoding/binary"
	"math"

	"github.com/pkg/errors"

	pb "github.com/convgraph/convgraph/onnx/internal/onnxpb"
)

// maxTensorValues bounds one constant tensor (as nn bounds a model: 2^28 parameters),
// checked before anything is allocated, so a file cannot claim a huge tensor.
const maxTensorValues = 1 << 28

// maxComputedValues bounds a constant computed while folding (ConstantOfShape, a
// broadcast, a Gather), which may be larger than the file: shape arithmetic is tiny.
const maxComputedValues = 1 << 20

// constant is a tensor whose values are known when the file is read: an initializer, a
// Constant node, or the result of folding shape arithmetic. Integer tensors carry, per
// value, whether it stands for the batch size (unknown until run time: the file's
// symbolic first dimension, read by Shape).
type constant struct {
	shape []int
	isInt bool
	f     []float64 // float tensors
	i     []int64   // integer tensors
	batch []bool    // for integer tensors: the value is (derived from) the batch size
}

func (c *constant) size() int { return len(c.f) + len(c.i) }

// floats returns the values as float64s.
func (c *constant) floats() []float64 {
	if !c.isInt {
		return c.f
	}
	out := make([]float64, len(c.i))
	for i, v := range c.i {
		out[i] = float64(v)
	}
	return out
}

// ints returns the values as integers; it fails if one depends on the batch size.
func (c *constant) ints() ([]int64, error) {
	if !c.isInt {
		out := make([]int64, len(c.f))
		for i, v := range c.f {
			if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
				return nil, errors.Errorf("value %v is not an integer", v)
			}
			out[i] = int64(v)
		}
		return out, nil
	}
	for _, b := range c.batch {
		if b {
			return nil, errors.New("a value depends on the batch size")
		}
	}
	return c.i, nil
}

func intConst(shape []int, vals []int64, batch []bool) *constant {
	if batch == nil {
		batch = make([]bool, len(vals))
	}
	return &constant{shape: shape, isInt: true, i: vals, batch: batch}
}

// numel multiplies dims, failing on a negative dimension or a total over the limit.
func numel(dims []int64) (int, error) {
	n := 1
	for _, d := range dims {
		if d < 0 {
			return 0, errors.Errorf("negative dimension %d", d)
		}
		if d > 0 && n > maxTensorValues/int(min(d, maxTensorValues+1)) {
			return 0, errors.Errorf("dimensions %v hold more than %d values", dims, maxTensorValues)
		}
		n *= int(d)
	}
	return n, nil
}

// tensorConst reads an ONNX tensor, checking that its data matches its dimensions.
func tensorConst(t *pb.TensorProto) (*constant, error) {
	if t.GetDataLocation() == pb.TensorProto_EXTERNAL || len(t.ExternalData) > 0 {
		return nil, errors.New("its data is in an external file; save the model with all tensors inside it")
	}
	if t.Segment != nil {
		return nil, errors.New("segmented tensors are not supported")
	}
	n, err := numel(t.Dims)
	if err != nil {
		return nil, err
	}
	c := &constant{}
	for _, d := range t.Dims {
		c.shape = append(c.shape, int(d))
	}
	raw := t.RawData
	hasRaw := t.RawData != nil
	count := func(have, size int) error {
		if hasRaw {
			if len(raw) != n*size {
				return errors.Errorf("raw data has %d bytes for %d values of %d bytes", len(raw), n, size)
			}
			return nil
		}
		if have != n {
			return errors.Errorf("%d values for dimensions %v", have, c.shape)
		}
		return nil
	}
	switch dt := pb.TensorProto_DataType(t.GetDataType()); dt {
	case pb.TensorProto_FLOAT:
		if err := count(len(t.FloatData), 4); err != nil {
			return nil, err
		}
		c.f = make([]float64, n)
		for i := range c.f {
			if hasRaw {
				c.f[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
			} else {
				c.f[i] = float64(t.FloatData[i])
			}
		}
	case pb.TensorProto_DOUBLE:
		if err := count(len(t.DoubleData), 8); err != nil {
			return nil, err
		}
		c.f = make([]float64, n)
		for i := range c.f {
			if hasRaw {
				c.f[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
			} else {
				c.f[i] = t.DoubleData[i]
			}
		}
	case pb.TensorProto_INT64:
		if err := count(len(t.Int64Data), 8); err != nil {
			return nil, err
		}
		c.isInt = true
		c.i = make([]int64, n)
		for i := range c.i {
			if hasRaw {
				c.i[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			} else {
				c.i[i] = t.Int64Data[i]
			}
		}
	case pb.TensorProto_INT32, pb.TensorProto_INT16, pb.TensorProto_INT8, pb.TensorProto_UINT8,
		pb.TensorProto_UINT16, pb.TensorProto_BOOL:
		size := map[pb.TensorProto_DataType]int{pb.TensorProto_INT32: 4, pb.TensorProto_INT16: 2, pb.TensorProto_UINT16: 2}[dt]
		if size == 0 {
			size = 1
		}
		if err := count(len(t.Int32Data), size); err != nil {
			return nil, err
		}
		c.isInt = true
		c.i = make([]int64, n)
		for i := range c.i {
			switch {
			case !hasRaw:
				c.i[i] = int64(t.Int32Data[i])
			case dt == pb.TensorProto_INT32:
				c.i[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
			case dt == pb.TensorProto_INT16:
				c.i[i] = int64(int16(binary.LittleEndian.Uint16(raw[2*i:])))
			case dt == pb.TensorProto_UINT16:
				c.i[i] = int64(binary.LittleEndian.Uint16(raw[2*i:]))
			case dt == pb.TensorProto_INT8:
				c.i[i] = int64(int8(raw[i]))
			default:
				c.i[i] = int64(raw[i])
			}
		}
	default:
		return nil, errors.Errorf("data type %s is not supported (float, double and integers are)", dt)
	}
	if c.isInt {
		c.batch = make([]bool, n)
	}
	return c, nil
}

// shapeConst is the result of Shape: the dimensions of a value, the first being the batch.
func shapeConst(dims []int) *constant {
	vals := make([]int64, len(dims))
	batch := make([]bool, len(dims))
	for i, d := range dims {
		vals[i] = int64(d)
	}
	batch[0] = true
	return intConst([]int{len(dims)}, vals, batch)
}

// strides of a row-major shape.
func strides(shape []int) []int {
	s := make([]int, len(shape))
	n := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = n
		n *= shape[i]
	}
	return s
}

// pick builds a constant from c's values at the given flat indices.
func (c *constant) pick(shape []int, idx []int) *constant {
	out := &constant{shape: shape, isInt: c.isInt}
	for _, i := range idx {
		if c.isInt {
			out.i = append(out.i, c.i[i])
			out.batch = append(out.batch, c.batch[i])
		} else {
			out.f = append(out.f, c.f[i])
		}
	}
	if out.isInt && out.i == nil {
		out.i, out.batch = []int64{}, []bool{}
	}
	return out
}

// normAxis turns a possibly negative axis into an index below rank.
func normAxis(axis int64, rank int) (int, error) {
	if axis < 0 {
		axis += int64(rank)
	}
	if axis < 0 || axis >= int64(rank) {
		return 0, errors.Errorf("axis %d is out of range for rank %d", axis, rank)
	}
	return int(axis), nil
}

// gather implements Gather on constants.
func gather(data, indices *constant, axis int64) (*constant, error) {
	if len(data.shape) == 0 {
		return nil, errors.New("gather from a scalar")
	}
	ax, err := normAxis(axis, len(data.shape))
	if err != nil {
		return nil, err
	}
	ind, err := indices.ints()
	if err != nil {
		return nil, err
	}
	dim := data.shape[ax]
	if n := data.size() / max(dim, 1) * len(ind); n > maxComputedValues {
		return nil, errors.Errorf("the result would hold %d values", n)
	}
	outShape := append(append(append([]int(nil), data.shape[:ax]...), indices.shape...), data.shape[ax+1:]...)
	outer, inner := 1, 1
	for _, d := range data.shape[:ax] {
		outer *= d
	}
	for _, d := range data.shape[ax+1:] {
		inner *= d
	}
	var idx []int
	for o := 0; o < outer; o++ {
		for _, k := range ind {
			if k < 0 {
				k += int64(dim)
			}
			if k < 0 || k >= int64(dim) {
				return nil, errors.Errorf("index %d is out of range for dimension %d", k, dim)
			}
			for in := 0; in < inner; in++ {
				idx = append(idx, (o*dim+int(k))*inner+in)
			}
		}
	}
	return data.pick(outShape, idx), nil
}

// concat implements Concat on constants.
func concat(cs []*constant, axis int64) (*constant, error) {
	if len(cs) == 0 {
		return nil, errors.New("nothing to concatenate")
	}
	rank := len(cs[0].shape)
	ax, err := normAxis(axis, rank)
	if err != nil {
		return nil, err
	}
	isInt := cs[0].isInt
	out := &constant{isInt: isInt, shape: append([]int(nil), cs[0].shape...)}
	out.shape[ax] = 0
	for _, c := range cs {
		if len(c.shape) != rank || c.isInt != isInt {
			return nil, errors.New("inputs differ in rank or type")
		}
		for i := range c.shape {
			if i != ax && c.shape[i] != cs[0].shape[i] {
				return nil, errors.Errorf("shapes %v and %v differ off axis %d", cs[0].shape, c.shape, ax)
			}
		}
		out.shape[ax] += c.shape[ax]
	}
	outer := 1
	for _, d := range out.shape[:ax] {
		outer *= d
	}
	for o := 0; o < outer; o++ {
		for _, c := range cs {
			block := c.size() / max(outer, 1)
			var idx []int
			for k := 0; k < block; k++ {
				idx = append(idx, o*block+k)
			}
			p := c.pick(nil, idx)
			out.f = append(out.f, p.f...)
			out.i = append(out.i, p.i...)
			out.batch = append(out.batch, p.batch...)
		}
	}
	if isInt && out.i == nil {
		out.i, out.batch = []int64{}, []bool{}
	}
	return out, nil
}

// broadcast applies f elementwise to a and b with numpy broadcasting.
func broadcast(a, b *constant, f func(x, y float64) float64, fi func(x, y int64) (int64, bool)) (*constant, error) {
	rank := max(len(a.shape), len(b.shape))
	pad := func(s []int) []int {
		out := make([]int, rank)
		for i := range out {
			out[i] = 1
		}
		copy(out[rank-len(s):], s)
		return out
	}
	as, bs := pad(a.shape), pad(b.shape)
	shape := make([]int, rank)
	for i := range shape {
		switch {
		case as[i] == bs[i] || bs[i] == 1:
			shape[i] = as[i]
		case as[i] == 1:
			shape[i] = bs[i]
		default:
			return nil, errors.Errorf("shapes %v and %v do not broadcast", a.shape, b.shape)
		}
	}
	n, err := numel(toInt64(shape))
	if err != nil {
		return nil, err
	}
	if n > max(a.size(), b.size(), maxComputedValues) {
		return nil, errors.Errorf("the result would hold %d values", n)
	}
	ast, bst, ost := strides(as), strides(bs), strides(shape)
	isInt := a.isInt && b.isInt
	out := &constant{shape: shape, isInt: isInt}
	af, bf := a.floats(), b.floats()
	for k := 0; k < n; k++ {
		ia, ib := 0, 0
		for d := 0; d < rank; d++ {
			c := k / ost[d] % shape[d]
			if as[d] != 1 {
				ia += c * ast[d]
			}
			if bs[d] != 1 {
				ib += c * bst[d]
			}
		}
		if isInt {
			v, ok := fi(a.i[ia], b.i[ib])
			if !ok {
				return nil, errors.New("integer division by zero")
			}
			out.i = append(out.i, v)
			out.batch = append(out.batch, a.batch[ia] || b.batch[ib])
		} else {
			out.f = append(out.f, f(af[ia], bf[ib]))
		}
	}
	if isInt && out.i == nil {
		out.i, out.batch = []int64{}, []bool{}
	}
	return out, nil
}

func toInt64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = int64(v)
	}
	return out
}

// transposeConst permutes a constant's axes.
func transposeConst(c *constant, perm []int64) (*constant, error) {
	rank := len(c.shape)
	if len(perm) == 0 {
		for i := rank - 1; i >= 0; i-- {
			perm = append(perm, int64(i))
		}
	}
	if len(perm) != rank {
		return nil, errors.Errorf("perm %v for rank %d", perm, rank)
	}
	seen := make([]bool, rank)
	shape := make([]int, rank)
	for i, p := range perm {
		if p < 0 || p >= int64(rank) || seen[p] {
			return nil, errors.Errorf("perm %v is not a permutation", perm)
		}
		seen[p] = true
		shape[i] = c.shape[p]
	}
	ist, ost := strides(c.shape), strides(shape)
	idx := make([]int, c.size())
	for k := range idx {
		src := 0
		for d := 0; d < rank; d++ {
			src += (k / ost[d] % shape[d]) * ist[perm[d]]
		}
		idx[k] = src
	}
	return c.pick(shape, idx), nil
}
