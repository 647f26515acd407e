package graph

import (
	"reflect"
	"slices"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// buffer is memory that several ops of one machine write their outputs into, one after
// another: ops whose values are never alive at the same time.
type buffer struct {
	dt   tensor.Dtype
	size int // elements: the largest output that uses it
	data any // []float32 or []float64 of size elements, allocated on first use
}

// view returns a tensor of dtype dt and shape over the buffer's first elements, or nil if
// it does not fit (an op whose output differs from its node's shape then keeps a
// tensor of its own).
func (b *buffer) view(dt tensor.Dtype, shape []int) *tensor.Dense {
	n := tensor.Shape(shape).TotalSize()
	if dt != b.dt || n > b.size {
		return nil
	}
	switch dt {
	case tensor.Float32:
		if b.data == nil {
			b.data = make([]float32, b.size)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(b.data.([]float32)[:n:n]))
	case tensor.Float64:
		if b.data == nil {
			b.data = make([]float64, b.size)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(b.data.([]float64)[:n:n]))
	}
	return nil
}

// BufferStats describes a machine's buffer plan.
type BufferStats struct {
	// Shared is the number of ops that write into shared buffers, Buffers the number of
	// those buffers and SharedBytes their total size.
	Shared, Buffers int
	SharedBytes     int64
	// Own is the number of ops that write into tensors of their own (those whose values
	// are kept, or may be aliased by a kept value; scalars) and OwnBytes their size.
	Own      int
	OwnBytes int64
	// Disabled says why nothing is shared, if so ("" when sharing is on or not asked for).
	Disabled string
}

// step is one instruction of a compiled tape program, as the planner sees it.
type step struct {
	kind   stepKind
	node   *G.Node // execOp and loadArg: the node it computes or loads
	reads  []int   // CPU registers read (execOp)
	writes int     // CPU register written, -1 for none
}

type stepKind int

const (
	stepExec  stepKind = iota // an op runs: reads registers, writes one
	stepLoad                  // an input or parameter's bound value is put in a register
	stepAlloc                 // Gorgonia allocates a fresh value into a register
	stepNone                  // no effect on CPU registers (free, flush)
)

// program reads the instructions of a tape machine's compiled program, in the order the
// machine runs them. Gorgonia keeps them unexported, so this reads them by reflection and
// fails on anything it does not recognise (a different Gorgonia version, a device
// transfer), in which case the caller shares nothing.
func program(tm G.VM, g *G.ExprGraph) (steps []step, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("reading the tape program: %v", r)
		}
	}()
	prog := reflect.ValueOf(tm).MethodByName("Prog")
	if !prog.IsValid() {
		return nil, errors.Errorf("%T has no program", tm)
	}
	p := prog.Call(nil)[0]
	if p.Kind() != reflect.Pointer || p.IsNil() {
		return nil, errors.New("no program")
	}
	ins := p.Elem().FieldByName("instructions")
	if !ins.IsValid() || ins.Kind() != reflect.Slice {
		return nil, errors.New("program has no instruction list")
	}
	node := func(id int64) (*G.Node, error) {
		n, ok := g.Node(id).(*G.Node)
		if !ok || n == nil {
			return nil, errors.Errorf("instruction for node %d, which is not in the graph", id)
		}
		return n, nil
	}
	for i := range ins.Len() {
		v := ins.Index(i)
		for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		var s step
		switch name := v.Type().Name(); name {
		case "execOp":
			s.kind = stepExec
			if s.node, err = node(v.FieldByName("id").Int()); err != nil {
				return nil, err
			}
			rs := v.FieldByName("readFrom")
			for j := range rs.Len() {
				r, err := cpuRegister(rs.Index(j))
				if err != nil {
					return nil, err
				}
				s.reads = append(s.reads, r)
			}
			if s.writes, err = cpuRegister(v.FieldByName("writeTo")); err != nil {
				return nil, err
			}
		case "loadArg":
			s.kind = stepLoad
			if s.node, err = node(v.FieldByName("index").Int()); err != nil {
				return nil, err
			}
			if s.writes, err = cpuRegister(v.FieldByName("writeTo")); err != nil {
				return nil, err
			}
		case "alloc":
			s.kind = stepAlloc
			if s.writes, err = cpuRegister(v.FieldByName("writeTo")); err != nil {
				return nil, err
			}
		case "free", "flushInstr":
			s.kind, s.writes = stepNone, -1
		default:
			return nil, errors.Errorf("unknown instruction %s", name)
		}
		steps = append(steps, s)
	}
	return steps, nil
}

// cpuRegister reads a Gorgonia register (fields id and device); it must be on the CPU.
func cpuRegister(v reflect.Value) (int, error) {
	id, dev := v.FieldByName("id"), v.FieldByName("device")
	if !id.IsValid() || !dev.IsValid() {
		return 0, errors.Errorf("register %v has no id or device", v.Type())
	}
	if dev.Int() != int64(G.CPU) {
		return 0, errors.Errorf("register on device %d", dev.Int())
	}
	return int(id.Int()), nil
}

// plan decides which of a program's ops share output buffers, by liveness: an op's value
// is alive from the step that computes it to the last step that reads it, and two ops
// may share a buffer only if their values are never alive at once. A buffer is reused
// only after the step that last reads it, so no op's output shares with its inputs.
//
// Gorgonia's own ops (the additions that sum gradients, say) may return an input, write
// into an input (UnsafeDo) or into the value a register held earlier in the run
// (UsePreallocDo); their values are therefore taken to alias all of these, so that what
// aliases an op's buffer keeps it alive. The values of keep, and everything they alias,
// are never shared. Ops that run more than once in the program keep their own tensor.
//
// It returns each op's buffer (absent: the op keeps its own tensor) and the statistics.
func plan(steps []step, keep []*G.Node) (map[*baseOp]*buffer, BufferStats) {
	type value struct {
		b         *baseOp // nil for a Gorgonia op's value
		def, end  int     // the step that computes it, the last that reads it
		parent    int     // union-find: values that may alias one another
		kept      bool
		dt        tensor.Dtype
		size      int
		shareable bool
	}
	var vals []value
	find := func(i int) int {
		for vals[i].parent != i {
			vals[i].parent = vals[vals[i].parent].parent
			i = vals[i].parent
		}
		return i
	}
	union := func(i, j int) {
		i, j = find(i), find(j)
		if i == j {
			return
		}
		vals[j].parent = i
		vals[i].end = max(vals[i].end, vals[j].end)
		vals[i].kept = vals[i].kept || vals[j].kept
	}
	const none = -1
	occupant := map[int]int{} // register -> value it holds this run; none for loaded or Gorgonia-allocated values
	byNode := map[*G.Node]int{}
	runs := map[*baseOp]int{}
	for t, s := range steps {
		switch s.kind {
		case stepLoad, stepAlloc:
			occupant[s.writes] = none
			continue
		case stepNone:
			continue
		}
		for _, r := range s.reads {
			o, ok := occupant[r]
			if !ok {
				return nil, BufferStats{Disabled: "a step reads a register nothing wrote"}
			}
			if o != none {
				root := find(o)
				vals[root].end = max(vals[root].end, t)
			}
		}
		i := len(vals)
		v := value{def: t, end: t, parent: i}
		if bo, ok := s.node.Op().(interface{ base() *baseOp }); ok {
			v.b = bo.base()
			runs[v.b]++
			v.shareable = Safely(func() error {
				v.dt, v.size = s.node.Dtype(), s.node.Shape().TotalSize()
				return nil
			}) == nil && s.node.Shape().Dims() > 0 && (v.dt == tensor.Float32 || v.dt == tensor.Float64)
		}
		vals = append(vals, v)
		if _, dup := byNode[s.node]; dup {
			return nil, BufferStats{Disabled: "a node runs twice"}
		}
		byNode[s.node] = i
		if v.b == nil {
			// A Gorgonia op: its value may be any of its inputs or the register's
			// previous value.
			for _, r := range s.reads {
				if o := occupant[r]; o != none {
					union(o, i)
				}
			}
			if o, ok := occupant[s.writes]; ok && o != none {
				union(o, i)
			}
		}
		occupant[s.writes] = i
	}
	for _, n := range keep {
		if i, ok := byNode[n]; ok {
			vals[find(i)].kept = true
		}
	}

	// Greedy best fit in the order the values are computed.
	bufs := map[*baseOp]*buffer{}
	var st BufferStats
	type live struct {
		end int
		buf *buffer
	}
	var active []live
	var free []*buffer
	for i := range vals {
		v := &vals[i]
		if v.b == nil {
			continue
		}
		root := &vals[find(i)]
		if !v.shareable || root.kept || runs[v.b] > 1 {
			st.Own++
			if v.shareable {
				st.OwnBytes += int64(v.size) * int64(v.dt.Size())
			}
			continue
		}
		end := root.end
		active = slices.DeleteFunc(active, func(l live) bool {
			if l.end < v.def {
				free = append(free, l.buf)
				return true
			}
			return false
		})
		// The smallest free buffer that fits, else the largest, to grow.
		fit, grow := -1, -1
		for j, b := range free {
			switch {
			case b.dt != v.dt:
			case b.size >= v.size:
				if fit < 0 || b.size < free[fit].size {
					fit = j
				}
			case grow < 0 || b.size > free[grow].size:
				grow = j
			}
		}
		best := fit
		if best < 0 {
			best = grow
		}
		var b *buffer
		if best >= 0 {
			b = free[best]
			free = slices.Delete(free, best, best+1)
			b.size = max(b.size, v.size)
		} else {
			b = &buffer{dt: v.dt, size: v.size}
			st.Buffers++
		}
		bufs[v.b] = b
		st.Shared++
		active = append(active, live{end, b})
	}
	seen := map[*buffer]bool{}
	for _, b := range bufs {
		if !seen[b] {
			seen[b] = true
			st.SharedBytes += int64(b.size) * int64(b.dt.Size())
		}
	}
	return bufs, st
}
