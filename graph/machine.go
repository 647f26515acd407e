package graph

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
)

// Machine runs a compiled Gorgonia graph step after step. It wraps Gorgonia's tape
// machine so that a panic inside Gorgonia comes back as an error and every run starts
// from a clean tape.
//
// A Machine is not safe for concurrent use: a run points the graph's ops at the
// machine's buffers and writes every node's value. Machines of different graphs may run
// at the same time (nothing in this package or in the kernels is shared between runs
// but pools guarded for concurrent use); two machines of one graph may not, since they
// share the ops.
type Machine struct {
	tm    G.VM
	ops   []*baseOp           // every op of ours in the program, claimed before each run
	own   []*G.Node           // the nodes of ops, as ops
	other []*G.Node           // every op node of Gorgonia's (they allocate their outputs as they run)
	bufs  map[*baseOp]*buffer // the buffer plan: absent ops keep their own output
	stats BufferStats
}

// MachineOption configures [NewMachine].
type MachineOption func(*machineConfig)

type machineConfig struct {
	share bool
	keep  []*G.Node
}

// ShareBuffers lets ops whose values are never alive at the same time write into the same
// memory, planned once from the order the machine runs the ops: a buffer is reused after
// the last op that reads it has run, never by an op that reads it. The values of keep
// stay valid until the next run, as without sharing; any other node's value is valid only
// until the next op that reuses its buffer, which may come later in the same run.
//
// The plan belongs to the machine: when another machine runs the same ops, they write
// into their own tensors until this one runs again. If the compiled program holds
// something the planner does not know, nothing is shared ([Machine.Buffers] says why).
func ShareBuffers(keep ...*G.Node) MachineOption {
	return func(c *machineConfig) {
		c.share = true
		c.keep = append(c.keep, keep...)
	}
}

// NewMachine compiles g for Gorgonia's tape machine. Compile only what a step needs
// (g.SubgraphRoots of the outputs): every node in g becomes an instruction.
func NewMachine(g *G.ExprGraph, opts ...MachineOption) (*Machine, error) {
	var cfg machineConfig
	for _, o := range opts {
		o(&cfg)
	}
	m := &Machine{}
	err := Safely(func() error {
		m.tm = G.NewTapeMachine(g, G.WithEngine(engine{}))
		return nil
	})
	if err != nil {
		return nil, errors.Wrap(err, "graph: compiling")
	}
	for _, n := range g.AllNodes() {
		if bo, ok := n.Op().(interface{ base() *baseOp }); ok {
			m.ops, m.own = append(m.ops, bo.base()), append(m.own, n)
		} else if n.Op() != nil {
			m.other = append(m.other, n)
		}
	}
	if cfg.share {
		steps, err := program(m.tm, g)
		if err != nil {
			m.stats.Disabled = err.Error()
		} else {
			m.bufs, m.stats = plan(steps, cfg.keep)
		}
	}
	return m, nil
}

// claim points the program's ops at this machine's buffers (or at their own tensors),
// unless this machine ran them last.
func (m *Machine) claim() {
	for _, b := range m.ops {
		if b.owner == m {
			continue
		}
		b.owner = m
		if buf := m.bufs[b]; buf != b.buf {
			b.buf, b.view = buf, nil
		}
	}
}

// ValueBytes is the memory the values of the machine's ops take once it has run, worked
// out from the compiled program and the nodes' shapes before anything is allocated (a
// new machine holds no values): the buffers its ops share ([ShareBuffers]), the tensors
// of the ops that keep their own, the state some ops keep (a max pool's winners, a
// dropout mask), and the output of every op of Gorgonia's. Without a
// buffer plan every op counts its own output. Inputs, parameters and the kernels'
// scratch memory are not included.
func (m *Machine) ValueBytes() int64 {
	var total int64
	if m.bufs != nil {
		total = m.stats.SharedBytes + m.stats.OwnBytes
	} else {
		for _, n := range m.own {
			total += NodeBytes(n)
		}
	}
	for _, n := range m.other {
		total += NodeBytes(n)
	}
	for _, n := range m.own {
		if st, ok := n.Op().(interface{ stateBytes(*G.Node) int64 }); ok {
			total += st.stateBytes(n)
		}
	}
	return total
}

// NodeBytes is the size of n's value: its shape's values times its dtype's size (0 for
// a scalar or a node whose shape or dtype is unknown).
func NodeBytes(n *G.Node) int64 {
	var b int64
	Safely(func() error {
		if s := n.Shape(); s.Dims() > 0 {
			b = int64(s.TotalSize()) * int64(n.Dtype().Size())
		}
		return nil
	})
	return b
}

// Buffers describes the machine's buffer plan (see [ShareBuffers]).
func (m *Machine) Buffers() BufferStats { return m.stats }

// Run executes the graph once.
func (m *Machine) Run() error {
	m.claim()
	err := Safely(func() error {
		defer m.tm.Reset()
		return m.tm.RunAll()
	})
	return errors.Wrap(err, "graph: running")
}

// Instructions returns the compiled program's instructions, one string each; tests count
// them to prove what was (not) compiled.
func (m *Machine) Instructions() []string {
	prog := reflect.ValueOf(m.tm).MethodByName("Prog")
	if !prog.IsValid() {
		return nil
	}
	s, ok := prog.Call(nil)[0].Interface().(fmt.Stringer)
	if !ok {
		return nil
	}
	text := s.String()
	text = strings.TrimPrefix(text, "Instructions:\n")
	if i := strings.Index(text, "\nArgs:"); i >= 0 {
		text = text[:i]
	}
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// Close releases the machine.
func (m *Machine) Close() error { return m.tm.Close() }
