package train_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/internal/kernels"
	"github.com/convgraph/convgraph/internal/mpi/mpitest"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
)

// dpJob is one data-parallel training run of a small model on part of the bundled sample,
// as the parent test and every rank run it.
type dpJob struct {
	Model     string // "cnn" (no batch norm, no dropout) or "bn" (batch norm and dropout)
	Optimizer string
	Batch     int // per rank
	Epochs    int
	Images    int
	Out       string
	DieRank   int // with DieStep > 0: that rank exits with status 7 after DieStep steps
	DieStep   int
	// With CancelStep > 0, rank CancelRank cancels its context after that step.
	CancelRank, CancelStep int
	InfBias                bool // rank 0's dense bias gets an infinity (broadcast to all)
}

const dpJobEnv = "CONVGRAPH_DP_JOB"

func init() { mpitest.Register("fit", fitRank) }

func (j dpJob) model() (*nn.Model, error) {
	layers := []*nn.Layer{nn.Input(28, 28, 1), nn.Conv2D(4, 3, nn.Activation(nn.ReLU))}
	if j.Model == "bn" {
		layers = append(layers, nn.BatchNorm())
	}
	layers = append(layers, nn.MaxPool2D(2), nn.Flatten())
	if j.Model == "bn" {
		layers = append(layers, nn.Dropout(0.3))
	}
	layers = append(layers, nn.Dense(10, nn.Activation(nn.Softmax)))
	m, err := nn.Sequential("dp-"+j.Model, layers...)
	if err != nil {
		return nil, err
	}
	return m, m.Initialize(3)
}

// run trains the job's model, with c (nil: one process), and returns it and its history.
func (j dpJob) run(c train.Comm) (*nn.Model, *train.History, error) {
	s, err := data.Sample(data.FashionMNIST)
	if err != nil {
		return nil, nil, err
	}
	m, err := j.model()
	if err != nil {
		return nil, nil, err
	}
	if j.InfBias && (c == nil || c.Rank() == 0) {
		m.Param("dense/bias").Value.Data().([]float32)[3] = float32(math.Inf(1))
	}
	opt, err := train.NewOptimizer(j.Optimizer)
	if err != nil {
		return nil, nil, err
	}
	cfg := train.Config{Epochs: j.Epochs, BatchSize: j.Batch, Optimizer: opt, LR: 0.01, Seed: 5,
		Validation: s.Test.Take(200, 1), Comm: c}
	if j.Optimizer == "adam" {
		cfg.LR = 1e-3
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if j.CancelStep > 0 && c != nil && c.Rank() == j.CancelRank {
		cfg.OnStep = func(epoch, step int) {
			if step == j.CancelStep {
				cancel()
			}
		}
	}
	if j.DieStep < 0 && c != nil && c.Rank() == j.DieRank {
		cfg.BatchSize++
	}
	if j.DieStep > 0 && c != nil && c.Rank() == j.DieRank {
		cfg.OnStep = func(epoch, step int) {
			if step == j.DieStep {
				fmt.Printf("rank %d: dying after step %d\n", c.Rank(), step)
				os.Exit(7)
			}
		}
	}
	h, err := train.Fit(ctx, m, s.Train.Take(j.Images, 2), cfg)
	return m, h, err
}

// fitRank is a rank of the "fit" role: it trains and writes its weights and history.
func fitRank() int {
	var j dpJob
	if err := json.Unmarshal([]byte(os.Getenv(dpJobEnv)), &j); err != nil {
		fmt.Println("job:", err)
		return 1
	}
	c, err := train.MPI()
	if err != nil {
		fmt.Println(err)
		return 1
	}
	m, h, err := j.run(c)
	if errors.Is(err, train.ErrInterrupted) {
		// Every rank must stop after the same step, so with the same weights.
		fmt.Printf("rank %d: interrupted; %s\n", c.Rank(), weightsSum(m))
		err = nil
	}
	if err != nil {
		fmt.Printf("rank %d: %v\n", c.Rank(), err)
		c.Abort(1)
	}
	if err := writeRun(filepath.Join(j.Out, fmt.Sprintf("rank%d", c.Rank())), m, h); err != nil {
		fmt.Println(err)
		c.Abort(1)
	}
	if err := c.Finalize(); err != nil {
		fmt.Println(err)
		return 1
	}
	return 0
}

// weightsSum prints the sum of every weight, with all its digits.
func weightsSum(m *nn.Model) string {
	w := allValues(m)
	var sum float64
	for _, v := range w {
		sum += v
	}
	return fmt.Sprintf("weights sum %.9g", sum)
}

func writeRun(prefix string, m *nn.Model, h *train.History) error {
	w := allValues(m)
	b := make([]byte, 8*len(w))
	for i, v := range w {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	if err := os.WriteFile(prefix+".weights", b, 0o644); err != nil {
		return err
	}
	js, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return os.WriteFile(prefix+".history", js, 0o644)
}

func readRun(t *testing.T, prefix string) ([]float64, *train.History) {
	t.Helper()
	b, err := os.ReadFile(prefix + ".weights")
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float64, len(b)/8)
	for i := range w {
		w[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	js, err := os.ReadFile(prefix + ".history")
	if err != nil {
		t.Fatal(err)
	}
	var h train.History
	if err := json.Unmarshal(js, &h); err != nil {
		t.Fatal(err)
	}
	return w, &h
}

// allValues lists every parameter's values, moving statistics included.
func allValues(m *nn.Model) []float64 {
	var out []float64
	for _, p := range m.Params() {
		switch v := p.Value.Data().(type) {
		case []float32:
			for _, x := range v {
				out = append(out, float64(x))
			}
		case []float64:
			out = append(out, v...)
		}
	}
	return out
}

// onePath runs an mpirun test on the first compute path only: the ranks' arithmetic is
// the single-process tests' own, which run on every path.
func onePath(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts mpirun jobs")
	}
	if kernels.Backend() != kernels.Backends()[0] {
		t.Skip("runs on the first compute path only")
	}
}

func runJob(t *testing.T, np int, j dpJob) mpitest.Result {
	t.Helper()
	js, _ := json.Marshal(j)
	return mpitest.Run(t, np, "fit", 5*time.Minute, dpJobEnv+"="+string(js), kernels.BlasEnv+"="+kernels.Backend())
}

// Two ranks with batch b train the weights one process trains with batch 2b: the same
// global batches, the same averaged gradient, up to float32 rounding (the sums over the
// batch are split in two). Both ranks end with the very same weights, bit for bit.
func TestDataParallelMatchesOneProcess(t *testing.T) {
	onePath(t)
	for _, opt := range []string{"sgd", "adam"} {
		t.Run(opt, func(t *testing.T) {
			// 300 images in global batches of 32: 9 full batches and one of 12 (6 per rank).
			j := dpJob{Model: "cnn", Optimizer: opt, Batch: 16, Epochs: 2, Images: 300, Out: t.TempDir()}
			r := runJob(t, 2, j)
			if r.Err != nil {
				t.Fatalf("mpirun: %v\n%s", r.Err, r.Output)
			}
			w0, h0 := readRun(t, filepath.Join(j.Out, "rank0"))
			w1, h1 := readRun(t, filepath.Join(j.Out, "rank1"))
			for i := range w0 {
				if math.Float64bits(w0[i]) != math.Float64bits(w1[i]) {
					t.Fatalf("rank 0 and rank 1 differ at value %d: %v vs %v", i, w0[i], w1[i])
				}
			}
			single := j
			single.Batch = 2 * j.Batch
			m, h, err := single.run(nil)
			if err != nil {
				t.Fatal(err)
			}
			w := allValues(m)
			worst := 0.0
			for i := range w {
				worst = math.Max(worst, math.Abs(w[i]-w0[i])/math.Max(1e-2, math.Abs(w[i])))
			}
			t.Logf("%s: largest relative difference from one process with batch %d: %.2g", opt, single.Batch, worst)
			if worst > 1e-5 {
				t.Errorf("%s: weights differ from one process's by up to %.2g (relative)", opt, worst)
			}
			for e := range h.Epochs {
				a, b := h.Epochs[e], h0.Epochs[e]
				if math.Abs(a.Loss-b.Loss) > 1e-4 || math.Abs(a.Accuracy-b.Accuracy) > 1e-9 ||
					math.Abs(a.ValLoss-b.ValLoss) > 1e-4 || math.Abs(a.ValAccuracy-b.ValAccuracy) > 1e-2 {
					t.Errorf("epoch %d: one process %+v, two ranks %+v", e+1, a, b)
				}
				if h1.Epochs[e].Loss != b.Loss || h1.Epochs[e].ValAccuracy != b.ValAccuracy {
					t.Errorf("epoch %d: the ranks' logs differ: %+v vs %+v", e+1, b, h1.Epochs[e])
				}
			}
		})
	}
}

// With batch normalisation and dropout the ranks still end with the same weights and the
// same moving statistics (averaged at each epoch's end), on 3 ranks with a batch that
// does not split evenly at the epoch's end.
func TestDataParallelBatchNormRanksAgree(t *testing.T) {
	onePath(t)
	j := dpJob{Model: "bn", Optimizer: "adam", Batch: 8, Epochs: 2, Images: 100, Out: t.TempDir()}
	r := runJob(t, 3, j)
	if r.Err != nil {
		t.Fatalf("mpirun: %v\n%s", r.Err, r.Output)
	}
	w0, h0 := readRun(t, filepath.Join(j.Out, "rank0"))
	for rank := 1; rank < 3; rank++ {
		w, _ := readRun(t, filepath.Join(j.Out, fmt.Sprintf("rank%d", rank)))
		for i := range w0 {
			if math.Float64bits(w0[i]) != math.Float64bits(w[i]) {
				t.Fatalf("rank 0 and rank %d differ at value %d: %v vs %v", rank, i, w0[i], w[i])
			}
		}
	}
	if len(h0.Epochs) != 2 || !(h0.Epochs[1].Loss < h0.Epochs[0].Loss) {
		t.Errorf("history %+v", h0.Epochs)
	}
}

// A rank that dies in the middle of an epoch ends the job: the other rank does not wait
// for it forever.
func TestDataParallelRankDies(t *testing.T) {
	onePath(t)
	j := dpJob{Model: "cnn", Optimizer: "sgd", Batch: 16, Epochs: 2, Images: 300, Out: t.TempDir(), DieRank: 1, DieStep: 4}
	r := runJob(t, 2, j)
	if r.Err == nil {
		t.Fatalf("mpirun succeeded:\n%s", r.Output)
	}
	if !strings.Contains(r.Output, "rank 1: dying after step 4") {
		t.Errorf("output:\n%s", r.Output)
	}
	if _, err := os.Stat(filepath.Join(j.Out, "rank0.weights")); err == nil {
		t.Errorf("rank 0 finished training without rank 1")
	}
	t.Logf("mpirun ended %v after the start: %v", r.Took.Round(time.Millisecond), r.Err)
}

// Ranks that run different Fits fail at the start with the same clear error.
func TestDataParallelRanksDisagree(t *testing.T) {
	onePath(t)
	// DieStep < 0 is not a death: the test uses it to give rank 1 another batch size.
	j := dpJob{Model: "cnn", Optimizer: "sgd", Batch: 16, Epochs: 1, Images: 100, Out: t.TempDir(), DieRank: 1, DieStep: -1}
	r := runJob(t, 2, j)
	if r.Err == nil || !strings.Contains(r.Output, "the ranks disagree on the batch size") {
		t.Fatalf("want a disagreement error, got %v:\n%s", r.Err, r.Output)
	}
}

// A rank whose context is cancelled (Ctrl-C without mpirun, a deadline) stops every rank
// after the same step, with ErrInterrupted and the same weights.
func TestDataParallelInterruptStopsEveryRankTogether(t *testing.T) {
	onePath(t)
	j := dpJob{Model: "cnn", Optimizer: "sgd", Batch: 16, Epochs: 2, Images: 300, Out: t.TempDir(), CancelRank: 1, CancelStep: 5}
	r := runJob(t, 2, j)
	if r.Err != nil {
		t.Fatalf("mpirun: %v\n%s", r.Err, r.Output)
	}
	var lines []string
	for _, l := range strings.Split(r.Output, "\n") {
		if strings.Contains(l, "interrupted;") {
			lines = append(lines, l[strings.Index(l, ";"):])
		}
	}
	if len(lines) != 2 || lines[0] != lines[1] {
		t.Fatalf("want both ranks interrupted with the same weights:\n%s", r.Output)
	}
}

// A diverging run stops on every rank at the same batch with the same error (rank 0's
// infinite bias reaches rank 1 by the broadcast at the start).
func TestDataParallelNaNStopsEveryRank(t *testing.T) {
	onePath(t)
	j := dpJob{Model: "cnn", Optimizer: "sgd", Batch: 16, Epochs: 1, Images: 300, Out: t.TempDir(), InfBias: true}
	r := runJob(t, 2, j)
	if r.Err == nil {
		t.Fatalf("mpirun succeeded:\n%s", r.Output)
	}
	for rank := range 2 {
		if !strings.Contains(r.Output, fmt.Sprintf("rank %d: train: epoch 1, batch ", rank)) || strings.Count(r.Output, "training diverged") != 2 {
			t.Errorf("rank %d did not report the divergence:\n%s", rank, r.Output)
		}
	}
}
