// Command mpibench measures data-parallel training: it runs train.Fit on seeded random
// images for a zoo model, alone or as one rank of an mpirun job, and reports the images
// per second of the last epoch, the share of that epoch spent in the gradient all-reduce
// (waiting for the slowest rank included), the CPU time per image summed over the ranks
// (which a busy machine disturbs less than wall time), and the time of a bare all-reduce
// of the model's gradient size. docs/benchmarks.md holds its numbers and the commands.
//
//	go run ./tools/mpibench --model fashion-cnn --threads 2
//	go build -o /tmp/mpibench ./tools/mpibench
//	mpirun -np 2 /tmp/mpibench --model fashion-cnn --threads 1
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"syscall"
	"time"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/internal/kernels"
	"github.com/convgraph/convgraph/internal/mpi"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

// timedComm counts the time spent in all-reduces of gradient size.
type timedComm struct {
	train.MPIComm
	min     int
	elapsed time.Duration
	calls   int
}

func (c *timedComm) AllreduceFloat32(buf []float32) error {
	start := time.Now()
	err := c.MPIComm.AllreduceFloat32(buf)
	if len(buf) >= c.min {
		c.elapsed += time.Since(start)
		c.calls++
	}
	return err
}

// resetAfterFirstEpoch zeroes the all-reduce timer and notes the CPU time used after the
// first (warm-up) epoch.
type resetAfterFirstEpoch struct {
	c   *timedComm
	cpu *time.Duration
}

func (r resetAfterFirstEpoch) EpochEnd(_ *nn.Model, l train.EpochLogs) (bool, error) {
	if l.Epoch == 1 {
		if r.c != nil {
			r.c.elapsed, r.c.calls = 0, 0
		}
		*r.cpu = cpuTime()
	}
	return false, nil
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru) //nolint:errcheck // cannot fail for SELF
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type result struct {
	Model         string  `json:"model"`
	Ranks         int     `json:"ranks"`
	Threads       int     `json:"threads"`
	BatchPerRank  int     `json:"batch_per_rank"`
	Path          string  `json:"compute_path"`
	ImagesPerS    float64 `json:"images_per_second"`
	StepMs        float64 `json:"step_ms"`
	AllreduceMs   float64 `json:"allreduce_ms_per_step"`
	CommShare     float64 `json:"allreduce_share"`
	BareAllreduce float64 `json:"bare_allreduce_ms"`
	Params        int     `json:"trainable_values"`
	CPUPerImage   float64 `json:"cpu_ms_per_image"` // every rank's CPU time in the timed epoch, per image
}

func main() {
	model := flag.String("model", "fashion-cnn", "zoo model")
	batch := flag.Int("batch", 32, "batch per rank")
	threads := flag.Int("threads", 1, "GOMAXPROCS per rank")
	steps := flag.Int("steps", 60, "steps per epoch (two epochs run; the second is timed)")
	flag.Parse()
	runtime.GOMAXPROCS(*threads)
	if err := run(*model, *batch, *steps); err != nil {
		fmt.Fprintln(os.Stderr, "mpibench:", err)
		os.Exit(1)
	}
}

func run(model string, batch, steps int) error {
	var comm *timedComm
	ranks, rank := 1, 0
	if mpi.Launched() {
		c, err := train.MPI()
		if err != nil {
			return err
		}
		comm = &timedComm{MPIComm: c, min: 1000}
		ranks, rank = c.Size(), c.Rank()
	}
	m, err := zoo.New(model)
	if err != nil {
		return err
	}
	if err := m.Initialize(1); err != nil {
		return err
	}
	in := m.InputShape()
	n := steps * batch * ranks
	rng := rand.New(rand.NewPCG(1, 2))
	pix := make([]uint8, n*in.Size())
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	labels := make([]int, n)
	classes := make([]string, m.OutputShape()[0])
	for i := range labels {
		labels[i] = rng.IntN(len(classes))
	}
	for i := range classes {
		classes[i] = fmt.Sprint(i)
	}
	ds, err := data.New(pix, labels, in[0], in[1], in[2], classes)
	if err != nil {
		return err
	}
	var cpu0 time.Duration
	cfg := train.Config{Epochs: 2, BatchSize: batch, Seed: 1, Callbacks: []train.Callback{resetAfterFirstEpoch{comm, &cpu0}}}
	if comm != nil {
		cfg.Comm = comm
	}
	h, err := train.Fit(context.Background(), m, ds, cfg)
	if err != nil {
		return err
	}
	cpu := []float64{(cpuTime() - cpu0).Seconds()}
	last := h.Epochs[len(h.Epochs)-1]
	_, trainable, _ := m.ParamCounts()
	res := result{Model: model, Ranks: ranks, Threads: runtime.GOMAXPROCS(0), BatchPerRank: batch,
		Path: kernels.Backend(), ImagesPerS: last.ImagesPerS, StepMs: 1000 * last.Seconds / float64(steps), Params: trainable}
	if comm != nil {
		res.AllreduceMs = float64(comm.elapsed.Microseconds()) / 1000 / float64(comm.calls)
		res.CommShare = res.AllreduceMs / res.StepMs
		if err := comm.AllreduceFloat64(cpu); err != nil {
			return err
		}
		res.BareAllreduce, err = bareAllreduce(comm.MPIComm, trainable)
		if err != nil {
			return err
		}
	}
	res.CPUPerImage = 1000 * cpu[0] / float64(n)
	if rank == 0 {
		if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
			return err
		}
	}
	if comm != nil {
		return comm.Finalize()
	}
	return nil
}

// bareAllreduce is the median time of an all-reduce of n float32 values, the ranks
// lined up by a barrier before each.
func bareAllreduce(c train.MPIComm, n int) (float64, error) {
	buf := make([]float32, n)
	var ts []float64
	for range 50 {
		if err := c.Barrier(); err != nil {
			return 0, err
		}
		start := time.Now()
		if err := c.AllreduceFloat32(buf); err != nil {
			return 0, err
		}
		ts = append(ts, float64(time.Since(start).Microseconds())/1000)
	}
	sort.Float64s(ts)
	return ts[len(ts)/2], nil
}
