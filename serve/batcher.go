package serve

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
)

// job is one request's images waiting for inference.
type job struct {
	ctx    context.Context
	x      []float32 // n examples, NHWC
	n      int
	result chan jobResult // buffered 1
}

type jobResult struct {
	probs []float32 // n rows of the model's outputs
	err   error
}

// errOverloaded is returned when a model's queue is full.
var errOverloaded = errors.New("overloaded")

// batcher gathers the jobs of concurrent requests for one model into batches: a worker
// takes the first waiting job and every job already queued, up to maxBatch examples. If
// the batch is not full and another worker is computing, it keeps taking jobs until the
// batch is full or maxWait has passed since the first; if no other worker is computing, it
// runs at once. Waiting pays only under load: the cores are then busy with the other
// batch, and a bigger batch later uses them better than two small ones side by side,
// while a request that arrives alone would only be delayed. It runs the batch as one
// Predict and hands each job its rows. Several workers run at once, so while one batch
// computes the next gathers; each worker runs on a graph of its own (nn.Predictor).
type batcher struct {
	m         *model
	queue     chan *job
	maxBatch  int
	maxWait   time.Duration
	done      chan struct{}
	stopped   chan struct{}
	workers   int
	computing atomic.Int32 // workers inside Predict
}

func newBatcher(m *model, cfg *Config) *batcher {
	b := &batcher{m: m, queue: make(chan *job, cfg.MaxQueue), maxBatch: cfg.MaxBatch, maxWait: cfg.MaxWait,
		done: make(chan struct{}), stopped: make(chan struct{}), workers: cfg.Workers}
	return b
}

func (b *batcher) start() {
	finished := make(chan struct{}, b.workers)
	for range b.workers {
		go func() {
			defer func() { finished <- struct{}{} }()
			b.work()
		}()
	}
	go func() {
		for range b.workers {
			<-finished
		}
		close(b.stopped)
	}()
}

// stop ends the workers once the queue is empty; jobs submitted after stop fail.
func (b *batcher) stop() {
	close(b.done)
	<-b.stopped
}

// submit queues a job, or fails at once if the queue is full (the caller answers 503:
// better than letting latency grow without bound).
func (b *batcher) submit(j *job) error {
	select {
	case b.queue <- j:
		return nil
	default:
		return errOverloaded
	}
}

func (b *batcher) work() {
	var batch []*job
	for {
		batch = batch[:0]
		select {
		case j := <-b.queue:
			batch = append(batch, j)
		case <-b.done:
			// Drain what is left, then stop.
			for {
				select {
				case j := <-b.queue:
					b.run([]*job{j})
				default:
					return
				}
			}
		}
		n := batch[0].n
	take: // what is already queued
		for n < b.maxBatch {
			select {
			case j := <-b.queue:
				batch = append(batch, j)
				n += j.n
			default:
				break take
			}
		}
		if n < b.maxBatch && b.maxWait > 0 && b.computing.Load() > 0 {
			timer := time.NewTimer(b.maxWait)
		gather:
			for n < b.maxBatch {
				select {
				case j := <-b.queue:
					batch = append(batch, j)
					n += j.n
				case <-timer.C:
					break gather
				}
			}
			timer.Stop()
		}
		b.computing.Add(1)
		b.run(batch)
		b.computing.Add(-1)
	}
}

// run predicts a batch of jobs at once. Jobs whose requests have given up are left out.
func (b *batcher) run(jobs []*job) {
	live := jobs[:0:0]
	n := 0
	for _, j := range jobs {
		if err := j.ctx.Err(); err != nil {
			j.result <- jobResult{err: err}
			continue
		}
		live = append(live, j)
		n += j.n
	}
	if n == 0 {
		return
	}
	in := b.m.pred.InputShape()
	per := in.Size()
	x := make([]float32, 0, n*per)
	for _, j := range live {
		x = append(x, j.x...)
	}
	start := time.Now()
	out, err := b.m.pred.Predict(tensor.New(tensor.WithShape(append([]int{n}, in...)...), tensor.WithBacking(x)))
	b.m.metrics.observeBatch(n, time.Since(start))
	if err != nil {
		for _, j := range live {
			j.result <- jobResult{err: err}
		}
		return
	}
	probs := out.Float32s()
	k := len(probs) / n
	at := 0
	for _, j := range live {
		j.result <- jobResult{probs: probs[at*k : (at+j.n)*k : (at+j.n)*k]}
		at += j.n
	}
}

// predictor is what a batcher runs: an nn.Predictor, or a stand-in in tests.
type predictor interface {
	InputShape() nn.Shape
	OutputShape() nn.Shape
	Predict(x tensor.Tensor) (*tensor.Dense, error)
}
