package graph

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GradCheckConfig configures [GradCheck]. Zero fields take the defaults given.
type GradCheckConfig struct {
	// Step is the central-difference step h (default 1e-6).
	Step float64
	// RTol and ATol bound the error: a gradient passes when max|analytic-numeric| <=
	// ATol + RTol*max|numeric| (defaults 1e-6 and 1e-10). ATol is raised to the central
	// difference's resolution, ulp(loss)/Step: one rounding step in the loss moves the
	// numeric gradient by half that, so a gradient that is truly zero may read as noise
	// of that size (GEMMs that round differently, such as OpenBLAS's, show it).
	RTol, ATol float64
	// Samples, when positive, checks only that many elements of each input, chosen at
	// random (seeded by Seed), instead of all of them: for inputs too large to perturb
	// one by one, such as a whole network's kernels.
	Samples int
	Seed    uint64
}

// GradCheckResult reports one input's gradient check.
type GradCheckResult struct {
	Name string
	// MaxAbsErr is max|analytic-numeric| over the input's elements; RelErr divides it by
	// max|numeric| (or 1 if that is 0).
	MaxAbsErr, RelErr float64
	// Worst is the flat index of the element with the largest error.
	Worst int
	// Analytic and Numeric at Worst.
	Analytic, Numeric float64
	Pass              bool
}

func (r GradCheckResult) String() string {
	status := "ok"
	if !r.Pass {
		status = "FAIL"
	}
	return fmt.Sprintf("%s %s: rel err %.2e, abs err %.2e (at %d: analytic %.9g, numeric %.9g)",
		status, r.Name, r.RelErr, r.MaxAbsErr, r.Worst, r.Analytic, r.Numeric)
}

// GradCheck compares the symbolic gradients of the scalar loss with respect to each node of
// wrt (input nodes holding float64 *tensor.Dense values) with central finite differences,
// like torch.autograd.gradcheck. It returns one result per wrt node and an error if any
// fails. The loss must be a deterministic function of its inputs: give dropout a fixed mask.
// It adds the gradient nodes to loss's graph.
func GradCheck(loss *G.Node, wrt G.Nodes, cfg GradCheckConfig) ([]GradCheckResult, error) {
	if cfg.Step == 0 {
		cfg.Step = 1e-6
	}
	if cfg.RTol == 0 {
		cfg.RTol = 1e-6
	}
	if cfg.ATol == 0 {
		cfg.ATol = 1e-10
	}
	values := make([][]float64, len(wrt))
	for i, n := range wrt {
		d, ok := n.Value().(*tensor.Dense)
		if !ok || d.Dtype() != tensor.Float64 {
			return nil, errors.Errorf("graph: gradcheck: %s must hold a float64 tensor, has %T", n.Name(), n.Value())
		}
		values[i] = f64(d)
	}
	var grads G.Nodes
	if err := Safely(func() (err error) { grads, err = G.Grad(loss, wrt...); return err }); err != nil {
		return nil, errors.Wrap(err, "graph: gradcheck: differentiating")
	}
	g := loss.Graph()
	full, err := NewMachine(g.SubgraphRoots(append(G.Nodes{loss}, grads...)...))
	if err != nil {
		return nil, err
	}
	defer full.Close()
	if err := full.Run(); err != nil {
		return nil, err
	}
	l0, err := scalarArg(loss, []G.Value{loss.Value()}, 0)
	if err != nil {
		return nil, err
	}
	atol := math.Max(cfg.ATol, ulp(l0)/cfg.Step)
	analytic := make([][]float64, len(wrt))
	for i, gn := range grads {
		d, ok := gn.Value().(*tensor.Dense)
		if !ok {
			return nil, errors.Errorf("graph: gradcheck: gradient of %s is %T", wrt[i].Name(), gn.Value())
		}
		analytic[i] = append([]float64(nil), f64(d)...)
	}

	fwd, err := NewMachine(g.SubgraphRoots(loss))
	if err != nil {
		return nil, err
	}
	defer fwd.Close()
	eval := func() (float64, error) {
		if err := fwd.Run(); err != nil {
			return 0, err
		}
		return scalarArg(loss, []G.Value{loss.Value()}, 0)
	}

	var results []GradCheckResult
	var failed []string
	for i, x := range values {
		r := GradCheckResult{Name: wrt[i].Name()}
		var maxNum float64
		numeric := make([]float64, len(x))
		idx := sampleIndices(len(x), cfg.Samples, cfg.Seed+uint64(i))
		for _, j := range idx {
			orig := x[j]
			x[j] = orig + cfg.Step
			lp, err := eval()
			if err != nil {
				x[j] = orig
				return nil, err
			}
			x[j] = orig - cfg.Step
			lm, err := eval()
			x[j] = orig
			if err != nil {
				return nil, err
			}
			numeric[j] = (lp - lm) / (2 * cfg.Step)
			maxNum = math.Max(maxNum, math.Abs(numeric[j]))
		}
		for k, j := range idx {
			if e := math.Abs(analytic[i][j] - numeric[j]); e > r.MaxAbsErr || k == 0 {
				r.MaxAbsErr, r.Worst, r.Analytic, r.Numeric = e, j, analytic[i][j], numeric[j]
			}
		}
		r.RelErr = r.MaxAbsErr / math.Max(maxNum, 1e-300)
		if maxNum == 0 {
			r.RelErr = r.MaxAbsErr
		}
		r.Pass = r.MaxAbsErr <= atol+cfg.RTol*maxNum && !math.IsNaN(r.MaxAbsErr)
		if !r.Pass {
			failed = append(failed, r.String())
		}
		results = append(results, r)
	}
	if len(failed) > 0 {
		return results, errors.Errorf("graph: gradcheck failed: %v", failed)
	}
	return results, nil
}

// ulp is the gap between |x| and the next float64 away from zero.
func ulp(x float64) float64 {
	x = math.Abs(x)
	return math.Nextafter(x, math.Inf(1)) - x
}

// sampleIndices returns all of 0..n-1, or k of them drawn without replacement.
func sampleIndices(n, k int, seed uint64) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if k <= 0 || k >= n {
		return idx
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	rng.Shuffle(n, func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
	return idx[:k]
}
