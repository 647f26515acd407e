package graph_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
)

// The benchmarks run the ops at the sizes of the course CNN, in float32 (BatchNorm at
// resnet-small's: 16, 32 and 64 channels of 28x28, 14x14 and 7x7):
//
//	input 1x28x28 -> conv1 Conv2D 32 3x3 same + ReLU -> pool1 MaxPool 2x2
//	-> conv2 Conv2D 64 3x3 same + ReLU -> pool2 MaxPool 2x2 -> Flatten (3136)
//	-> dense1 Dense 100 + ReLU -> dense2 Dense 10 -> softmax cross-entropy
//
// Each op has a forward and a backward sub-benchmark. The forward program is the op's node
// and its inputs. The backward program is built by G.Backpropagate with a fixed output
// gradient dy fed in as an input node, and compiled from the gradient nodes alone, so it
// holds the op's backward nodes and nothing else, except where a backward kernel reads the
// op's output y: then Gorgonia recomputes y in the same program (ReLU, BatchNorm; see
// TestBenchBackwardPrograms, which checks this claim for every op).

const benchBatch = 32

// benchSink keeps every benchmark's result alive.
var benchSink G.Value

// benchTensor returns a float32 tensor of seeded normal values scaled by s.
func benchTensor(rng *rand.Rand, s float64, shape ...int) *tensor.Dense {
	t := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(shape...))
	for i, d := 0, t.Data().([]float32); i < len(d); i++ {
		d[i] = float32(rng.NormFloat64() * s)
	}
	return t
}

// benchInput makes a named float32 input node holding benchTensor values.
func benchInput(g *G.ExprGraph, rng *rand.Rand, name string, s float64, shape ...int) *G.Node {
	return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name),
		G.WithValue(benchTensor(rng, s, shape...)))
}

// benchLabels makes an input node of n class indices in [0, k), as floats.
func benchLabels(g *G.ExprGraph, rng *rand.Rand, n, k int) *G.Node {
	l := make([]float32, n)
	for i := range l {
		l[i] = float32(rng.IntN(k))
	}
	return G.NewVector(g, tensor.Float32, G.WithShape(n), G.WithName("labels"),
		G.WithValue(tensor.New(tensor.WithShape(n), tensor.WithBacking(l))))
}

// benchHeScale is the standard deviation He initialisation gives a kernel of fanIn inputs, so
// that activations keep a realistic scale through the network.
func benchHeScale(fanIn int) float64 { return math.Sqrt(2 / float64(fanIn)) }

var benchSamePad = graph.Pad{Top: 1, Bottom: 1, Left: 1, Right: 1}

// benchOp is one op at one layer's size: build returns its output and the inputs that get
// gradients.
type benchOp struct {
	layer string
	build func(g *G.ExprGraph, rng *rand.Rand, n int) (y *G.Node, wrt G.Nodes, err error)
	// readsY marks ops whose backward kernel reads the output, so the backward program
	// also recomputes the forward op.
	readsY bool
}

func benchConv(layer string, c, hw, f int) benchOp {
	return benchOp{layer: layer, build: func(g *G.ExprGraph, rng *rand.Rand, n int) (*G.Node, G.Nodes, error) {
		x := benchInput(g, rng, "x", 1, n, c, hw, hw)
		w := benchInput(g, rng, "w", benchHeScale(c*9), f, c, 3, 3)
		y, err := graph.Conv2D(x, w, graph.Conv2DConfig{Pad: benchSamePad})
		return y, G.Nodes{x, w}, err
	}}
}

func benchMaxPool(layer string, c, hw int) benchOp {
	return benchOp{layer: layer, build: func(g *G.ExprGraph, rng *rand.Rand, n int) (*G.Node, G.Nodes, error) {
		x := benchInput(g, rng, "x", 1, n, c, hw, hw)
		y, err := graph.MaxPool2D(x, graph.Pool2DConfig{KH: 2, KW: 2})
		return y, G.Nodes{x}, err
	}}
}

// benchDense is a Dense layer: MatMul then BiasAdd.
func benchDense(layer string, in, out int) benchOp {
	return benchOp{layer: layer, build: func(g *G.ExprGraph, rng *rand.Rand, n int) (*G.Node, G.Nodes, error) {
		x := benchInput(g, rng, "x", 1, n, in)
		w := benchInput(g, rng, "w", benchHeScale(in), in, out)
		b := benchInput(g, rng, "b", 0.05, out)
		y, err := graph.MatMul(x, w)
		if err != nil {
			return nil, nil, err
		}
		y, err = graph.BiasAdd(y, b)
		return y, G.Nodes{x, w, b}, err
	}}
}

func benchReLU(layer string, shape ...int) benchOp {
	return benchOp{layer: layer, readsY: true, build: func(g *G.ExprGraph, rng *rand.Rand, n int) (*G.Node, G.Nodes, error) {
		x := benchInput(g, rng, "x", 1, append([]int{n}, shape...)...)
		y, err := graph.ReLU(x)
		return y, G.Nodes{x}, err
	}}
}

func benchBiasAdd(layer string, shape ...int) benchOp {
	return benchOp{layer: layer, build: func(g *G.ExprGraph, rng *rand.Rand, n int) (*G.Node, G.Nodes, error) {
		x := benchInput(g, rng, "x", 1, append([]int{n}, shape...)...)
		b := benchInput(g, rng, "b", 0.05, shape[0])
		y, err := graph.BiasAdd(x, b)
		return y, G.Nodes{x, b}, err
	}}
}

// benchBatchNorm is a training-mode BatchNorm on c channels of hw x hw, the size of
// resnet-small's stage with c filters. Its gradient ops take the forward output as an input
// (so that a step computes the batch moments once), so its backward program recomputes it.
func benchBatchNorm(layer string, c, hw int) benchOp {
	return benchOp{layer: layer, readsY: true, build: func(g *G.ExprGraph, rng *rand.Rand, n int) (*G.Node, G.Nodes, error) {
		x := benchInput(g, rng, "x", 1, n, c, hw, hw)
		gamma, beta := benchInput(g, rng, "gamma", 0.1, c), benchInput(g, rng, "beta", 0.1, c)
		st := &graph.BatchNormStats{Mean: tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(c)),
			Variance: tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(c)), Momentum: 0.99, Epsilon: 1e-3}
		y, err := graph.BatchNormTrain(x, gamma, beta, st)
		return y, G.Nodes{x, gamma, beta}, err
	}}
}

var benchXent = benchOp{layer: "loss", build: func(g *G.ExprGraph, rng *rand.Rand, n int) (*G.Node, G.Nodes, error) {
	logits := benchInput(g, rng, "logits", 3, n, 10)
	y, err := graph.SoftmaxCrossEntropy(logits, benchLabels(g, rng, n, 10))
	return y, G.Nodes{logits}, err
}}

// benchOps lists every benchmarked op by benchmark name.
var benchOps = map[string][]benchOp{
	"Conv2D":              {benchConv("conv1", 1, 28, 32), benchConv("conv2", 32, 14, 64)},
	"MaxPool2D":           {benchMaxPool("pool1", 32, 28), benchMaxPool("pool2", 64, 14)},
	"Dense":               {benchDense("dense1", 3136, 100), benchDense("dense2", 100, 10)},
	"ReLU":                {benchReLU("conv1", 32, 28, 28), benchReLU("conv2", 64, 14, 14), benchReLU("dense1", 100)},
	"BiasAdd":             {benchBiasAdd("conv1", 32, 28, 28), benchBiasAdd("conv2", 64, 14, 14), benchBiasAdd("dense1", 100)},
	"SoftmaxCrossEntropy": {benchXent},
	"BatchNorm":           {benchBatchNorm("stage1", 16, 28), benchBatchNorm("stage2", 32, 14), benchBatchNorm("stage3", 64, 7)},
}

// forward builds op at batch n and returns its graph and output.
func (op benchOp) forward(n int) (*G.ExprGraph, *G.Node, error) {
	g := G.NewGraph()
	y, _, err := op.build(g, rand.New(rand.NewPCG(1, 2)), n)
	return g, y, err
}

// backward builds op at batch n with a fixed output gradient dy and returns its graph and
// the gradient nodes.
func (op benchOp) backward(n int) (*G.ExprGraph, G.Nodes, error) {
	g := G.NewGraph()
	rng := rand.New(rand.NewPCG(1, 2))
	y, wrt, err := op.build(g, rng, n)
	if err != nil {
		return nil, nil, err
	}
	var dy *G.Node
	if y.IsScalar() {
		dy = G.NewScalar(g, tensor.Float32, G.WithName("dy"), G.WithValue(float32(1)))
	} else {
		dy = benchInput(g, rng, "dy", 1, y.Shape()...)
	}
	var grads G.Nodes
	err = graph.Safely(func() (err error) {
		grads, err = G.Backpropagate(G.Nodes{y}, G.Nodes{dy}, wrt)
		return err
	})
	return g, grads, err
}

// benchRun compiles the part of g that computes roots and times one run per iteration.
func benchRun(b *testing.B, g *G.ExprGraph, roots ...*G.Node) *graph.Machine {
	b.Helper()
	m, err := graph.NewMachine(g.SubgraphRoots(roots...))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	if err := m.Run(); err != nil { // warm up: first-run allocations are not per-step costs
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := m.Run(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	benchSink = roots[0].Value()
	return m
}

func benchmarkOp(b *testing.B, name string) {
	for _, op := range benchOps[name] {
		b.Run(fmt.Sprintf("%s/forward/batch=%d", op.layer, benchBatch), func(b *testing.B) {
			g, y, err := op.forward(benchBatch)
			if err != nil {
				b.Fatal(err)
			}
			benchRun(b, g, y)
		})
		b.Run(fmt.Sprintf("%s/backward/batch=%d", op.layer, benchBatch), func(b *testing.B) {
			g, grads, err := op.backward(benchBatch)
			if err != nil {
				b.Fatal(err)
			}
			benchRun(b, g, grads...)
		})
	}
}

func BenchmarkConv2D(b *testing.B)              { benchmarkOp(b, "Conv2D") }
func BenchmarkMaxPool2D(b *testing.B)           { benchmarkOp(b, "MaxPool2D") }
func BenchmarkDense(b *testing.B)               { benchmarkOp(b, "Dense") }
func BenchmarkReLU(b *testing.B)                { benchmarkOp(b, "ReLU") }
func BenchmarkBiasAdd(b *testing.B)             { benchmarkOp(b, "BiasAdd") }
func BenchmarkSoftmaxCrossEntropy(b *testing.B) { benchmarkOp(b, "SoftmaxCrossEntropy") }
func BenchmarkBatchNorm(b *testing.B)           { benchmarkOp(b, "BatchNorm") }

// benchCourseCNN builds the course CNN on a batch of n images with seeded He-initialised weights
// and returns its logits, labels and parameters.
func benchCourseCNN(g *G.ExprGraph, n int) (logits, labels *G.Node, params G.Nodes, err error) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(n, 1, 28, 28), G.WithName("x"),
		G.WithValue(benchImages(rng, n)))
	labels = benchLabels(g, rng, n, 10)
	w1, b1 := benchInput(g, rng, "conv1/kernel", benchHeScale(9), 32, 1, 3, 3), benchInput(g, rng, "conv1/bias", 0.05, 32)
	w2, b2 := benchInput(g, rng, "conv2/kernel", benchHeScale(32*9), 64, 32, 3, 3), benchInput(g, rng, "conv2/bias", 0.05, 64)
	w3, b3 := benchInput(g, rng, "dense1/kernel", benchHeScale(3136), 3136, 100), benchInput(g, rng, "dense1/bias", 0.05, 100)
	w4, b4 := benchInput(g, rng, "dense2/kernel", benchHeScale(100), 100, 10), benchInput(g, rng, "dense2/bias", 0.05, 10)
	params = G.Nodes{w1, b1, w2, b2, w3, b3, w4, b4}

	// then applies each layer to h in turn; after the first error it does nothing.
	h := x
	then := func(f func(h *G.Node) (*G.Node, error)) {
		if err == nil {
			h, err = f(h)
		}
	}
	for _, l := range []struct{ w, b *G.Node }{{w1, b1}, {w2, b2}} {
		then(func(h *G.Node) (*G.Node, error) { return graph.Conv2D(h, l.w, graph.Conv2DConfig{Pad: benchSamePad}) })
		then(func(h *G.Node) (*G.Node, error) { return graph.BiasAdd(h, l.b) })
		then(graph.ReLU)
		then(func(h *G.Node) (*G.Node, error) { return graph.MaxPool2D(h, graph.Pool2DConfig{KH: 2, KW: 2}) })
	}
	then(graph.Flatten)
	then(func(h *G.Node) (*G.Node, error) { return graph.MatMul(h, w3) })
	then(func(h *G.Node) (*G.Node, error) { return graph.BiasAdd(h, b3) })
	then(graph.ReLU)
	then(func(h *G.Node) (*G.Node, error) { return graph.MatMul(h, w4) })
	then(func(h *G.Node) (*G.Node, error) { return graph.BiasAdd(h, b4) })
	logits = h
	return logits, labels, params, err
}

// benchImages returns n 1x28x28 images with pixels uniform in [0, 1).
func benchImages(rng *rand.Rand, n int) *tensor.Dense {
	px := make([]float32, n*28*28)
	for i := range px {
		px[i] = rng.Float32()
	}
	return tensor.New(tensor.WithShape(n, 1, 28, 28), tensor.WithBacking(px))
}

// BenchmarkTrainStep times one training step of the course CNN: forward, loss and the
// gradients of every parameter (not the input). The optimizer update is package train's
// and is not included.
func BenchmarkTrainStep(b *testing.B) {
	b.Run(fmt.Sprintf("batch=%d", benchBatch), func(b *testing.B) {
		g := G.NewGraph()
		logits, labels, params, err := benchCourseCNN(g, benchBatch)
		if err != nil {
			b.Fatal(err)
		}
		loss, err := graph.SoftmaxCrossEntropy(logits, labels)
		if err != nil {
			b.Fatal(err)
		}
		var grads G.Nodes
		if err := graph.Safely(func() (err error) { grads, err = G.Grad(loss, params...); return err }); err != nil {
			b.Fatal(err)
		}
		benchRun(b, g, append(G.Nodes{loss}, grads...)...)
		b.ReportMetric(float64(benchBatch*b.N)/b.Elapsed().Seconds(), "img/s")
	})
}

// BenchmarkInferenceStep times the course CNN's forward pass to class probabilities.
func BenchmarkInferenceStep(b *testing.B) {
	b.Run(fmt.Sprintf("batch=%d", benchBatch), func(b *testing.B) {
		g := G.NewGraph()
		logits, _, _, err := benchCourseCNN(g, benchBatch)
		if err != nil {
			b.Fatal(err)
		}
		probs, err := graph.Softmax(logits)
		if err != nil {
			b.Fatal(err)
		}
		benchRun(b, g, probs)
		b.ReportMetric(float64(benchBatch*b.N)/b.Elapsed().Seconds(), "img/s")
	})
}

// benchExecOps returns the op of every executed instruction in m's program, without the
// ids that tell stateful ops (BatchNormTrain) of different graphs apart.
func benchExecOps(m *graph.Machine) []string {
	var ops []string
	for _, in := range m.Instructions() {
		if f := strings.Split(in, "\t"); len(f) >= 3 {
			ops = append(ops, benchOpID.ReplaceAllString(f[1], ""))
		}
	}
	return ops
}

var benchOpID = regexp.MustCompile(` id:[0-9]+`)

// TestBenchBackwardPrograms checks what the backward benchmarks time: the backward program
// executes none of the forward program's instructions, except the recomputed output of the
// ops marked readsY. It compiles at batch 2 and runs nothing.
func TestBenchBackwardPrograms(t *testing.T) {
	for name, ops := range benchOps {
		for _, op := range ops {
			t.Run(name+"/"+op.layer, func(t *testing.T) {
				g, y, err := op.forward(2)
				if err != nil {
					t.Fatal(err)
				}
				fm, err := graph.NewMachine(g.SubgraphRoots(y))
				if err != nil {
					t.Fatal(err)
				}
				defer fm.Close()
				fwd := map[string]bool{}
				for _, o := range benchExecOps(fm) {
					fwd[o] = true
				}
				g, grads, err := op.backward(2)
				if err != nil {
					t.Fatal(err)
				}
				bm, err := graph.NewMachine(g.SubgraphRoots(grads...))
				if err != nil {
					t.Fatal(err)
				}
				defer bm.Close()
				var again, back []string
				for _, o := range benchExecOps(bm) {
					if fwd[o] {
						again = append(again, o)
					} else {
						back = append(back, o)
					}
				}
				t.Logf("backward program: %v; forward ops recomputed: %v", back, again)
				if len(back) == 0 {
					t.Error("backward program has no backward ops")
				}
				if op.readsY != (len(again) > 0) {
					t.Errorf("backward program recomputes %v; readsY is %v", again, op.readsY)
				}
			})
		}
	}
}
