package train

import (
	"context"
	"io"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
)

// Stream is a data set read piece by piece, for data that does not fit in memory (files
// on disk, a database, a generator), as a tf.data pipeline or a PyTorch IterableDataset
// is. Before every pass (each epoch, each validation), training calls Reset, then Next
// until io.EOF. Each chunk is a [Tensors] of any number of examples (one file, one
// record batch), with the inputs and targets FitTensors takes; training copies what it
// needs before the next call, so a Stream may reuse a chunk's tensors. A Stream is used
// by one training run at a time.
type Stream interface {
	// Reset starts a new pass from the first example.
	Reset() error
	// Next returns the next chunk, or io.EOF after the last.
	Next() (*Tensors, error)
}

// FitStream trains m on a [Stream], as Keras's fit on a tf.data.Dataset does: examples are
// read chunk by chunk and gathered into batches of cfg.BatchSize (the last one partial),
// so memory holds a batch and the shuffle buffer, never the data set. With
// cfg.ShuffleBuffer = n > 1 the examples are shuffled through a buffer of n, as
// tf.data's shuffle(n) does (n at least the data set's size shuffles uniformly; 0 or 1
// keeps the stream's order), seeded by cfg.Seed and the epoch. Everything else is
// [FitTensors]'s: losses, class weights, metrics, validation (cfg.ValidationData or
// cfg.ValidationStream), callbacks; each chunk is checked against m as FitTensors checks
// its data, and an error names the chunk.
func FitStream(ctx context.Context, m *nn.Model, s Stream, cfg Config) (*History, error) {
	cfg.defaults()
	h := cfg.History
	if h == nil {
		h = &History{Model: m.Name()}
	}
	if err := checkLoopConfig(&cfg, "FitStream"); err != nil {
		return h, err
	}
	if s == nil {
		return h, errors.New("train: FitStream: the stream is nil")
	}
	if cfg.ShuffleBuffer < 0 {
		return h, errors.Errorf("train: shuffle buffer %d must not be negative", cfg.ShuffleBuffer)
	}
	return fitLoop(ctx, m, newStreamSource(m, s, cfg.BatchSize, cfg.ShuffleBuffer, cfg.Seed, "training stream"), cfg, h)
}

// EvaluateStream is [EvaluateTensors] over one pass of a Stream.
func EvaluateStream(m *nn.Model, s Stream, batchSize int, metrics ...Metric) (map[string]float64, error) {
	if batchSize == 0 {
		batchSize = 32
	}
	if batchSize < 0 {
		return nil, errors.Errorf("train: batch size %d must be positive", batchSize)
	}
	if s == nil {
		return nil, errors.New("train: EvaluateStream: the stream is nil")
	}
	bound, err := bindMetrics(m, metrics)
	if err != nil {
		return nil, err
	}
	st, err := evaluateSource(m, newStreamSource(m, s, batchSize, 0, 0, "evaluation stream"), bound)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{"loss": st.loss / st.seen}
	if a := st.accuracy(); a == a {
		out["accuracy"] = a
	}
	st.metrics("", out)
	metricResults(bound, "", out)
	return out, nil
}

// example is one example copied out of a chunk: each input's values, and each output's
// label (-1 for none) or values (nil for none).
type example struct {
	x      [][]float32
	label  []int
	values [][]float32
}

// streamSource reads a Stream into batches through a shuffle buffer.
type streamSource struct {
	m         *nn.Model
	s         Stream
	what      string
	bs        int
	buffer    int
	seed      uint64
	rng       *rand.Rand
	pending   []example // the shuffle buffer (or the examples read but not yet used)
	chunk     *Tensors
	chunkPos  int
	chunks    int
	eof       bool
	ins, outs []nn.Port
	hasLabels []bool // per output: Labels given
	hasValues []bool
}

func newStreamSource(m *nn.Model, s Stream, bs, buffer int, seed uint64, what string) *streamSource {
	return &streamSource{m: m, s: s, bs: bs, buffer: buffer, seed: seed, what: what, ins: m.Inputs(), outs: m.Outputs()}
}

func (s *streamSource) size() (int, int) { return -1, -1 }

func (s *streamSource) start(epoch int) error {
	if err := s.s.Reset(); err != nil {
		return errors.Wrapf(err, "train: %s: reset", s.what)
	}
	s.rng = rand.New(rand.NewPCG(s.seed, uint64(epoch)))
	s.pending, s.chunk, s.chunkPos, s.chunks, s.eof = s.pending[:0], nil, 0, 0, false
	s.hasLabels, s.hasValues = nil, nil
	return nil
}

// read returns the stream's next example, or false at its end.
func (s *streamSource) read() (example, bool, error) {
	for s.chunk == nil || s.chunkPos >= s.chunk.Len() {
		if s.eof {
			return example{}, false, nil
		}
		c, err := s.s.Next()
		if err == io.EOF {
			s.eof = true
			return example{}, false, nil
		}
		s.chunks++
		if err != nil {
			return example{}, false, errors.Wrapf(err, "train: %s: chunk %d", s.what, s.chunks)
		}
		if err := c.check(s.m, "chunk", true); err != nil {
			return example{}, false, errors.Wrapf(err, "train: %s: chunk %d", s.what, s.chunks)
		}
		if err := s.sameTargets(c); err != nil {
			return example{}, false, errors.Wrapf(err, "train: %s: chunk %d", s.what, s.chunks)
		}
		s.chunk, s.chunkPos = c, 0
	}
	c, i := s.chunk, s.chunkPos
	s.chunkPos++
	n := c.Len()
	var e example
	for _, x := range c.X {
		size := x.Shape().TotalSize() / n
		e.x = append(e.x, append([]float32(nil), x.Data().([]float32)[i*size:(i+1)*size]...))
	}
	for _, t := range c.Y {
		l := -1
		var v []float32
		if t.Labels != nil {
			l = t.Labels[i]
		}
		if t.Values != nil {
			size := t.Values.Shape().TotalSize() / n
			v = append([]float32(nil), t.Values.Data().([]float32)[i*size:(i+1)*size]...)
		}
		e.label, e.values = append(e.label, l), append(e.values, v)
	}
	return e, true, nil
}

// sameTargets checks that every chunk gives the same kinds of targets.
func (s *streamSource) sameTargets(c *Tensors) error {
	if s.hasLabels == nil {
		for _, t := range c.Y {
			s.hasLabels, s.hasValues = append(s.hasLabels, t.Labels != nil), append(s.hasValues, t.Values != nil)
		}
		return nil
	}
	for i, t := range c.Y {
		if (t.Labels != nil) != s.hasLabels[i] || (t.Values != nil) != s.hasValues[i] {
			return errors.Errorf("output %q: targets differ in kind from the first chunk's", s.outs[i].Name)
		}
	}
	return nil
}

// nextExample draws the next example through the shuffle buffer, as tf.data's shuffle
// does: fill the buffer, emit a uniformly chosen element, put the stream's next example
// in its place.
func (s *streamSource) nextExample() (example, bool, error) {
	if s.buffer <= 1 {
		return s.read()
	}
	for len(s.pending) < s.buffer {
		e, ok, err := s.read()
		if err != nil {
			return example{}, false, err
		}
		if !ok {
			break
		}
		s.pending = append(s.pending, e)
	}
	if len(s.pending) == 0 {
		return example{}, false, nil
	}
	i := s.rng.IntN(len(s.pending))
	e := s.pending[i]
	last := len(s.pending) - 1
	s.pending[i] = s.pending[last]
	s.pending[last] = example{}
	s.pending = s.pending[:last]
	return e, true, nil
}

func (s *streamSource) next() ([]tensor.Tensor, []nn.Target, int, error) {
	var batch []example
	for len(batch) < s.bs {
		e, ok, err := s.nextExample()
		if err != nil {
			return nil, nil, 0, err
		}
		if !ok {
			break
		}
		batch = append(batch, e)
	}
	n := len(batch)
	if n == 0 {
		return nil, nil, 0, nil
	}
	xs := make([]tensor.Tensor, len(s.ins))
	for i, in := range s.ins {
		size := in.Shape.Size()
		v := make([]float32, 0, n*size)
		for _, e := range batch {
			v = append(v, e.x[i]...)
		}
		xs[i] = tensor.New(tensor.WithShape(append(tensor.Shape{n}, in.Shape...)...), tensor.WithBacking(v))
	}
	ys := make([]nn.Target, len(s.outs))
	for i, o := range s.outs {
		if s.hasLabels[i] {
			ys[i].Labels = make([]int, n)
			for j, e := range batch {
				ys[i].Labels[j] = e.label[i]
			}
		}
		if s.hasValues[i] {
			v := make([]float32, 0, n*o.Shape.Size())
			for _, e := range batch {
				v = append(v, e.values[i]...)
			}
			ys[i].Values = tensor.New(tensor.WithShape(append(tensor.Shape{n}, o.Shape...)...), tensor.WithBacking(v))
		}
	}
	return xs, ys, n, nil
}
