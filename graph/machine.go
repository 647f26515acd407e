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
type Machine struct {
	tm G.VM
}

// NewMachine compiles g for Gorgonia's tape machine. Compile only what a step needs
// (g.SubgraphRoots of the outputs): every node in g becomes an instruction.
func NewMachine(g *G.ExprGraph) (*Machine, error) {
	m := &Machine{}
	err := Safely(func() error {
		m.tm = G.NewTapeMachine(g)
		return nil
	})
	if err != nil {
		return nil, errors.Wrap(err, "graph: compiling")
	}
	return m, nil
}

// Run executes the graph once.
func (m *Machine) Run() error {
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
