package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/convgraph/convgraph/internal/benchrun"
	"github.com/convgraph/convgraph/internal/console"
	"github.com/convgraph/convgraph/internal/kernels"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/zoo"
)

type benchFlags struct {
	model      string
	batch      int
	inferBatch int
	threads    int
	seconds    float64
	warmup     int
	jsonOut    bool
	freeze     string
}

// benchResult is what --json prints; bench/compare.py reads these fields.
type benchResult struct {
	Model            string  `json:"model"`
	Path             string  `json:"path"`
	BlasCore         string  `json:"blas_core,omitempty"`
	Threads          int     `json:"threads"`
	Freeze           string  `json:"freeze,omitempty"`
	TrainableParams  int     `json:"trainable_params"`
	Batch            int     `json:"batch"`
	InferBatch       int     `json:"infer_batch"`
	TrainImgPerS     float64 `json:"train_img_per_s"`
	InferImgPerS     float64 `json:"infer_img_per_s"`
	TrainSteps       int     `json:"train_steps"`
	InferSteps       int     `json:"infer_steps"`
	TrainBytesPerOp  float64 `json:"train_bytes_per_step"`
	TrainAllocsPerOp float64 `json:"train_allocs_per_step"`
	MaxRSSMB         float64 `json:"max_rss_mb"`
}

func newBench() *cobra.Command {
	var f benchFlags
	c := &cobra.Command{
		Use:   "bench --model NAME [--batch N] [--threads N] [--json]",
		Short: "Measure a model's training and inference throughput (images/second) on random data",
		Long: `Measure a zoo model's training and inference throughput on seeded random images.

A training step is a forward and backward pass and an Adam update, as in convgraph train; the
inference number runs the eval graph forward at --infer-batch. Each loop warms up, then runs
for at least --seconds. The output names the compute path (openblas, go+asm or go; set
CONVGRAPH_BLAS=go|asm|openblas to force one) and the thread count.

--freeze SPEC times training with layers frozen, as convgraph finetune --freeze does
(backbone, upto:LAYER, or names and prefixes): frozen layers get no gradients and no
backward ops, so this is the speed of fine-tuning with a frozen backbone.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error { return runBench(c, f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.model, "model", "fashion-cnn", "zoo model: "+strings.Join(zoo.Names(), ", "))
	fl.IntVar(&f.batch, "batch", 32, "training batch size")
	fl.IntVar(&f.inferBatch, "infer-batch", 256, "inference batch size")
	fl.IntVar(&f.threads, "threads", 0, "threads (GOMAXPROCS) to use; 0 for every core")
	fl.Float64Var(&f.seconds, "seconds", 3, "minimum seconds per timed loop")
	fl.IntVar(&f.warmup, "warmup", 3, "untimed steps before each timed loop")
	fl.BoolVar(&f.jsonOut, "json", false, "print one JSON object instead of text")
	fl.StringVar(&f.freeze, "freeze", "", "time training with these layers frozen: backbone, upto:LAYER, or names/prefixes (default: none)")
	return c
}

func runBench(c *cobra.Command, f benchFlags) error {
	switch {
	case f.batch <= 0:
		return usagef("--batch %d must be positive", f.batch)
	case f.inferBatch <= 0:
		return usagef("--infer-batch %d must be positive", f.inferBatch)
	case f.threads < 0:
		return usagef("--threads %d must not be negative", f.threads)
	case !(f.seconds >= 0):
		return usagef("--seconds %v must not be negative", f.seconds)
	case f.warmup < 0:
		return usagef("--warmup %d must not be negative", f.warmup)
	}
	// A path forced with CONVGRAPH_BLAS that is not available here is an error, not a
	// silent fallback: the numbers would be labelled with the wrong path.
	if env := os.Getenv(kernels.BlasEnv); env != "" {
		if err := kernels.SetBackend(env); err != nil {
			return fmt.Errorf("%s=%s: %w", kernels.BlasEnv, env, err)
		}
	}
	if f.threads > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(f.threads))
	}
	m, err := benchrun.New(f.model)
	if err != nil {
		return usageError{err}
	}
	if f.freeze != "" {
		if err := applyFreeze(m.Net(), f.freeze); err != nil {
			return err
		}
	}
	_, trainable, _ := m.Net().ParamCounts()
	res := benchResult{Model: f.model, Path: kernels.Backend(), Threads: runtime.GOMAXPROCS(0),
		Freeze: f.freeze, TrainableParams: trainable, Batch: f.batch, InferBatch: f.inferBatch}
	switch res.Path {
	case kernels.PathOpenBLAS:
		res.BlasCore = kernels.OpenBLASCore()
	case kernels.PathAsm:
		res.BlasCore = kernels.AsmISA()
	}
	minTime := time.Duration(f.seconds * float64(time.Second))

	// The batches are allocated before the graphs are compiled: check both sizes first.
	if err := m.Net().CheckMemory(f.batch, nn.Train); err != nil {
		return fmt.Errorf("--batch %d: %w", f.batch, err)
	}
	if err := m.Net().CheckMemory(f.inferBatch, nn.Eval); err != nil {
		return fmt.Errorf("--infer-batch %d: %w", f.inferBatch, err)
	}
	tb := m.NewBatch(f.batch)
	tr, err := benchrun.Time(func() error { return m.TrainStep(tb) }, f.batch, f.warmup, 1, minTime)
	if err != nil {
		return fmt.Errorf("bench: training %s: %w", f.model, err)
	}
	ib := m.NewBatch(f.inferBatch)
	ir, err := benchrun.Time(func() error { return m.Infer(ib) }, f.inferBatch, f.warmup, 1, minTime)
	if err != nil {
		return fmt.Errorf("bench: inference %s: %w", f.model, err)
	}
	res.TrainImgPerS, res.TrainSteps = tr.ImgPerS, tr.Steps
	res.TrainBytesPerOp, res.TrainAllocsPerOp = tr.BytesPerOp, tr.AllocsPerOp
	res.InferImgPerS, res.InferSteps = ir.ImgPerS, ir.Steps
	res.MaxRSSMB = benchrun.MaxRSSMB()

	out := c.OutOrStdout()
	if f.jsonOut {
		enc := json.NewEncoder(out)
		return enc.Encode(res)
	}
	fmt.Fprintf(out, "model:            %s\n", res.Model)
	if res.BlasCore != "" {
		fmt.Fprintf(out, "compute path:     %s (%s kernels)\n", res.Path, res.BlasCore)
	} else {
		fmt.Fprintf(out, "compute path:     %s\n", res.Path)
	}
	fmt.Fprintf(out, "threads:          %d\n", res.Threads)
	if res.Freeze != "" {
		fmt.Fprintf(out, "frozen:           %s (%s trainable parameters)\n", res.Freeze, console.Commas(res.TrainableParams))
	}
	fmt.Fprintf(out, "train_img_per_s:  %.1f  (batch %d, %d steps)\n", res.TrainImgPerS, res.Batch, res.TrainSteps)
	fmt.Fprintf(out, "infer_img_per_s:  %.1f  (batch %d, %d steps)\n", res.InferImgPerS, res.InferBatch, res.InferSteps)
	fmt.Fprintf(out, "train step heap:  %.0f B, %.0f allocs\n", res.TrainBytesPerOp, res.TrainAllocsPerOp)
	fmt.Fprintf(out, "max RSS:          %.0f MB\n", res.MaxRSSMB)
	return nil
}
