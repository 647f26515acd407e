// Command stockgorgonia times the course CNN built from stock Gorgonia 0.9.18 ops
// (Conv2d, MaxPool2D, Rectify, Mul, SoftMax, its Adam solver and tape machine), the
// baseline convgraph replaces. It prints the JSON fields `convgraph bench --json` prints,
// so bench/compare.py can put it in the same table.
//
//	go run ./bench/stockgorgonia --batch 32 --threads 2
//
// The network is the course CNN without convolution biases (as in Gorgonia's own convnet
// example: broadcasting a [C] bias over NCHW is not one op there), so it does slightly
// less work than convgraph's fashion-cnn.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/benchrun"
)

type net struct {
	g          *G.ExprGraph
	x, y       *G.Node
	out, loss  *G.Node
	learnables G.Nodes
	vm         G.VM
	solver     G.Solver
	xVal, yVal *tensor.Dense
}

func randT(rng *rand.Rand, scale float64, shape ...int) *tensor.Dense {
	t := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(shape...))
	for i, d := 0, t.Data().([]float32); i < len(d); i++ {
		d[i] = float32(rng.NormFloat64() * scale)
	}
	return t
}

func build(batch int, train bool) (*net, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := &net{g: G.NewGraph()}
	g := n.g
	param := func(name string, scale float64, shape ...int) *G.Node {
		p := G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(randT(rng, scale, shape...)))
		n.learnables = append(n.learnables, p)
		return p
	}
	n.xVal = randT(rng, 1, batch, 1, 28, 28)
	n.x = G.NewTensor(g, tensor.Float32, 4, G.WithShape(batch, 1, 28, 28), G.WithName("x"), G.WithValue(n.xVal))
	n.yVal = tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(batch, 10))
	for i := 0; i < batch; i++ {
		n.yVal.Data().([]float32)[i*10+rng.IntN(10)] = 1
	}
	n.y = G.NewMatrix(g, tensor.Float32, G.WithShape(batch, 10), G.WithName("y"), G.WithValue(n.yVal))
	w1 := param("w1", 0.3, 32, 1, 3, 3)
	w2 := param("w2", 0.08, 64, 32, 3, 3)
	w3 := param("w3", 0.02, 64*7*7, 100)
	b3 := param("b3", 0.01, 100)
	w4 := param("w4", 0.1, 100, 10)
	b4 := param("b4", 0.01, 10)

	h := G.Must(G.Conv2d(n.x, w1, tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1}))
	h = G.Must(G.Rectify(h))
	h = G.Must(G.MaxPool2D(h, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2}))
	h = G.Must(G.Conv2d(h, w2, tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1}))
	h = G.Must(G.Rectify(h))
	h = G.Must(G.MaxPool2D(h, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2}))
	h = G.Must(G.Reshape(h, tensor.Shape{batch, 64 * 7 * 7}))
	h = G.Must(G.BroadcastAdd(G.Must(G.Mul(h, w3)), b3, nil, []byte{0}))
	h = G.Must(G.Rectify(h))
	h = G.Must(G.BroadcastAdd(G.Must(G.Mul(h, w4)), b4, nil, []byte{0}))
	n.out = G.Must(G.SoftMax(h))
	n.loss = G.Must(G.Neg(G.Must(G.Mean(G.Must(G.Sum(G.Must(G.HadamardProd(G.Must(G.Log(n.out)), n.y)), 1))))))
	if train {
		if _, err := G.Grad(n.loss, n.learnables...); err != nil {
			return nil, err
		}
		n.vm = G.NewTapeMachine(g, G.BindDualValues(n.learnables...))
		n.solver = G.NewAdamSolver(G.WithLearnRate(1e-3))
	} else {
		n.vm = G.NewTapeMachine(g)
	}
	return n, nil
}

func (n *net) step() error {
	defer n.vm.Reset()
	if err := n.vm.RunAll(); err != nil {
		return err
	}
	if n.solver != nil {
		return n.solver.Step(G.NodesToValueGrads(n.learnables))
	}
	return nil
}

func main() {
	batch := flag.Int("batch", 32, "training batch size")
	inferBatch := flag.Int("infer-batch", 256, "inference batch size")
	threads := flag.Int("threads", 0, "GOMAXPROCS (0: every core)")
	seconds := flag.Float64("seconds", 3, "minimum seconds per timed loop")
	warmup := flag.Int("warmup", 3, "untimed steps first")
	flag.String("model", "fashion-cnn", "only fashion-cnn (accepted for bench/compare.py)")
	flag.Bool("json", true, "JSON output (always)")
	flag.Parse()
	if *threads > 0 {
		runtime.GOMAXPROCS(*threads)
	}
	res := map[string]any{"model": "fashion-cnn", "path": "stock gorgonia 0.9.18", "threads": runtime.GOMAXPROCS(0),
		"batch": *batch, "infer_batch": *inferBatch}
	minTime := time.Duration(*seconds * float64(time.Second))
	for _, c := range []struct {
		key   string
		batch int
		train bool
	}{{"train", *batch, true}, {"infer", *inferBatch, false}} {
		n, err := build(c.batch, c.train)
		if err != nil {
			fmt.Fprintln(os.Stderr, "stockgorgonia:", err)
			os.Exit(1)
		}
		r, err := benchrun.Time(n.step, c.batch, *warmup, 1, minTime)
		if err != nil {
			fmt.Fprintln(os.Stderr, "stockgorgonia:", err)
			os.Exit(1)
		}
		res[c.key+"_img_per_s"], res[c.key+"_steps"] = r.ImgPerS, r.Steps
		if c.train {
			res["train_bytes_per_step"], res["train_allocs_per_step"] = r.BytesPerOp, r.AllocsPerOp
		}
	}
	res["max_rss_mb"] = benchrun.MaxRSSMB()
	json.NewEncoder(os.Stdout).Encode(res) //nolint:errcheck
}
