package graph

import (
	"fmt"
	"hash"
	"math/rand/v2"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// DropoutConfig configures [Dropout].
type DropoutConfig struct {
	// Rate is the fraction of inputs zeroed, in [0, 1).
	Rate float64
	// Seed seeds the mask generator; the same seed gives the same sequence of masks.
	Seed uint64
	// FixedMask draws one mask on the first run and reuses it, so the op is a fixed
	// function (for gradient checks).
	FixedMask bool
	// Step, when set, makes each run's mask a function of Seed and *Step alone (read at
	// run time), so a training run resumed at step n draws the masks an uninterrupted
	// run would have.
	Step *uint64
}

// Dropout zeroes each element of x with probability cfg.Rate and scales the survivors by
// 1/(1-Rate) (inverted dropout), drawing a new mask each time the graph runs; its gradient
// uses the same mask and scale. Gorgonia 0.9.18's Dropout divides by the wrong factor in
// its gradient and seeds from the clock. Build the op only into training graphs: inference
// is the identity.
func Dropout(x *G.Node, cfg DropoutConfig) (*G.Node, error) {
	if cfg.Rate < 0 || cfg.Rate >= 1 {
		return nil, errors.Errorf("graph: dropout: rate %v must be in [0, 1)", cfg.Rate)
	}
	if x.Shape().Dims() == 0 {
		return nil, errors.New("graph: dropout: input is a scalar; want a tensor")
	}
	st := &dropoutState{id: newID(), rate: cfg.Rate, fixed: cfg.FixedMask, seed: cfg.Seed, step: cfg.Step,
		rng: rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))}
	return apply(&dropoutOp{st: st, dims: x.Shape().Dims()}, x)
}

// dropoutState is the mask shared by a dropout op and its gradient.
type dropoutState struct {
	id    uint64
	rate  float64
	fixed bool
	rng   *rand.Rand
	seed  uint64
	step  *uint64
	keep  []bool
	drawn bool
}

func (s *dropoutState) draw(n int) {
	if s.fixed && s.drawn && len(s.keep) == n {
		return
	}
	if cap(s.keep) < n {
		s.keep = make([]bool, n)
	}
	s.keep = s.keep[:n]
	if s.step != nil {
		s.rng = rand.New(rand.NewPCG(s.seed, *s.step))
	}
	for i := range s.keep {
		s.keep[i] = s.rng.Float64() >= s.rate
	}
	s.drawn = true
}

// apply computes out = in * mask / (1-rate).
func (s *dropoutState) apply(in, out *tensor.Dense) error {
	if len(s.keep) != in.Size() {
		return errors.Errorf("graph: dropout: mask of %d elements for an input of %d", len(s.keep), in.Size())
	}
	scale := 1 / (1 - s.rate)
	if in.Dtype() == tensor.Float32 {
		x, y := f32(in), f32(out)
		for i, k := range s.keep {
			y[i] = 0
			if k {
				y[i] = x[i] * float32(scale)
			}
		}
		return nil
	}
	x, y := f64(in), f64(out)
	for i, k := range s.keep {
		y[i] = 0
		if k {
			y[i] = x[i] * scale
		}
	}
	return nil
}

// dropoutOp applies a fresh mask (forward) or the same mask (back) to its input.
type dropoutOp struct {
	baseOp
	st   *dropoutState
	dims int
	back bool
}

func (op *dropoutOp) Arity() int    { return 1 }
func (op *dropoutOp) Type() hm.Type { return fnT(tensorT(op.dims), tensorT(op.dims)) }
func (op *dropoutOp) String() string {
	name := "Dropout"
	if op.back {
		name += "Backward"
	}
	return fmt.Sprintf("%s{rate:%g id:%d}", name, op.st.rate, op.st.id)
}
func (op *dropoutOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *dropoutOp) Hashcode() uint32      { return opHash(op) }
func (op *dropoutOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapesOf(op, 1, ds)
	if err != nil {
		return nil, err
	}
	return ss[0].Clone(), nil
}

func (op *dropoutOp) Do(vs ...G.Value) (retVal G.Value, err error) {
	defer recoverOp(op, &err)
	x, err := denseArg(op, vs, 0)
	if err != nil {
		return nil, err
	}
	if !op.back {
		op.st.draw(x.Size())
	}
	y := op.output(x.Dtype(), x.Shape()...)
	if err := op.st.apply(x, y); err != nil {
		return nil, err
	}
	return y, nil
}

func (op *dropoutOp) DiffWRT(int) []bool { return []bool{true} }

func (op *dropoutOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(&dropoutOp{st: op.st, dims: op.dims, back: true}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// stateBytes is the memory the op keeps besides its output: the forward op's mask, one
// bool per value.
func (op *dropoutOp) stateBytes(n *G.Node) int64 {
	if op.back {
		return 0
	}
	return NodeBytes(n) / int64(n.Dtype().Size())
}
