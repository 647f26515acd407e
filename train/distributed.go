package train

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"math"
	"unsafe"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/internal/mpi"
	"github.com/convgraph/convgraph/nn"
)

// Comm is a group of processes that train one model together (data parallelism): each
// process, a rank, holds a copy of the model. Set it as [Config.Comm] to make [Fit]
// data-parallel. [MPI] returns the processes of an mpirun job; every method is a
// collective call that all ranks must make in the same order with the same lengths.
type Comm interface {
	// Rank is this process's number, from 0 to Size()-1; rank 0 leads.
	Rank() int
	// Size is the number of processes.
	Size() int
	// AllreduceFloat32 and AllreduceFloat64 replace buf, on every rank, by the
	// element-wise sum of all ranks' bufs.
	AllreduceFloat32(buf []float32) error
	AllreduceFloat64(buf []float64) error
	// BcastBytes copies root's buf into every other rank's buf.
	BcastBytes(buf []byte, root int) error
}

// MPIComm is the world of an MPI job: a [Comm] that can also wait for every rank, end the
// whole job, and shut MPI down.
type MPIComm interface {
	Comm
	// Barrier waits until every rank has called it.
	Barrier() error
	// Abort ends every process of the job with the exit code; it does not return. Call it
	// when one rank fails outside Fit while the others may wait for it.
	Abort(code int)
	// Finalize shuts MPI down; every rank calls it once, before exiting normally.
	Finalize() error
}

// MPI joins the MPI job that started this process (mpirun, mpiexec or srun with Open MPI)
// and returns its world. Open MPI's libmpi is loaded at run time: the default build needs
// no cgo. It fails with an error that says what is missing when the process was not
// started by a launcher or libmpi cannot be loaded. Later calls return the same world.
func MPI() (MPIComm, error) {
	w, err := mpi.Init()
	if err != nil {
		return nil, err // mpi's errors say what is missing
	}
	return w, nil
}

// dataParallel runs Fit's steps on one rank of a Comm. The rules (docs/distributed.md):
//   - the iterator yields global batches of Size()·BatchSize images in the order a single
//     process would use; rank r trains on the r-th slice of each, and the last, partial
//     batch is split evenly (a rank may get none);
//   - each rank's mean gradient is weighted by its image count, the weighted gradients are
//     summed by one all-reduce and divided by the batch's image count, so every rank
//     applies the very same update, the one of the whole batch's mean loss;
//   - the loss, the hits, a rank's failure and a rank's interruption travel in the same
//     all-reduce, so that every rank stops after the same step with the same error;
//   - parameters, batch-norm statistics and optimizer state are broadcast from rank 0 when
//     Fit starts (a fresh run or a resumed one); moving statistics, which each rank
//     updates from its own images, are averaged at every epoch's end and when Fit stops.
type dataParallel struct {
	c          Comm
	rank, size int
	params     []*nn.Param     // the trainable ones, in the order the graphs list them
	grads      []*tensor.Dense // the averaged gradients, one per params entry
	stats      []*nn.Param
	f32        []float32
	f64        []float64
}

// Values packed after the gradients in each step's all-reduce.
const (
	extraLoss = iota // the sum of the rank's losses (mean loss times images)
	extraHits
	extraImages
	extraFailed
	extraInterrupted
	numExtras
)

// errOtherRank stands for an error that happened on another rank (which reports it).
var errOtherRank = errors.New("another rank failed (its own output says why)")

// newDataParallel checks that every rank runs the same Fit and broadcasts rank 0's
// parameters, statistics and optimizer state; it returns nil when cfg.Comm is nil.
func newDataParallel(cfg *Config, m *nn.Model, ds *data.Dataset) (*dataParallel, error) {
	if cfg.Comm == nil {
		return nil, nil
	}
	c := cfg.Comm
	d := &dataParallel{c: c, rank: c.Rank(), size: c.Size()}
	if d.size < 1 || d.rank < 0 || d.rank >= d.size {
		return nil, errors.Errorf("train: distributed: rank %d of %d is out of range", d.rank, d.size)
	}
	total := 0
	for _, p := range m.Params() {
		total += p.Size()
		if p.Trainable {
			d.params = append(d.params, p)
			d.grads = append(d.grads, tensor.New(tensor.Of(p.Value.Dtype()), tensor.WithShape(p.Value.Shape()...)))
		}
		if p.Stat {
			d.stats = append(d.stats, p)
		}
	}
	valLen := 0
	if cfg.Validation != nil {
		valLen = cfg.Validation.Len()
	}
	if err := d.agree([]agreement{
		{"the number of parameters", float64(len(m.Params()))},
		{"the number of parameter values", float64(total)},
		{"the number of trainable parameters", float64(len(d.params))},
		{"the parameters' type", float64(m.DType().Size())},
		{"the batch size", float64(cfg.BatchSize)},
		{"the number of epochs", float64(cfg.Epochs)},
		{"the training set's size", float64(ds.Len())},
		{"the validation set's size", float64(valLen)},
		{"the seed", float64(cfg.Seed % (1 << 50))},
		{"the initial epoch", float64(cfg.InitialEpoch)},
		{"the initial step", float64(cfg.InitialStep)},
		{"the number of callbacks", float64(len(cfg.Callbacks))},
	}); err != nil {
		return nil, err
	}
	for _, p := range m.Params() {
		if err := c.BcastBytes(tensorBytes(p.Value), 0); err != nil {
			return nil, errors.Wrapf(err, "train: distributed: broadcasting %s", p.Name)
		}
	}
	if err := d.bcastOptimizer(cfg.Optimizer); err != nil {
		return nil, err
	}
	if d.rank != 0 {
		cfg.Progress = nil
	}
	return d, nil
}

type agreement struct {
	what  string
	value float64
}

// agree fails, on every rank alike, unless all ranks pass the same values: the sums of
// the values and of their squares show a spread that every rank computes the same.
func (d *dataParallel) agree(a []agreement) error {
	buf := make([]float64, 2*len(a))
	for i, x := range a {
		buf[2*i], buf[2*i+1] = x.value, x.value*x.value
	}
	if err := d.c.AllreduceFloat64(buf); err != nil {
		return errors.Wrap(err, "train: distributed")
	}
	n := float64(d.size)
	for i, x := range a {
		mean := buf[2*i] / n
		if buf[2*i+1]/n-mean*mean > 1e-9*math.Max(1, mean*mean) {
			return errors.Errorf("train: distributed: the ranks disagree on %s (this rank has %v): every rank must run the same Fit", x.what, x.value)
		}
	}
	return nil
}

// bcastOptimizer gives every rank rank 0's optimizer state (empty in a fresh run).
func (d *dataParallel) bcastOptimizer(opt Optimizer) error {
	st, ok := opt.(Stateful)
	if !ok {
		return nil
	}
	var payload []byte
	if d.rank == 0 {
		var b bytes.Buffer
		if err := gob.NewEncoder(&b).Encode(st.State()); err != nil {
			return errors.Wrap(err, "train: distributed: encoding the optimizer state")
		}
		payload = b.Bytes()
	}
	n := make([]byte, 8)
	binary.LittleEndian.PutUint64(n, uint64(len(payload)))
	if err := d.c.BcastBytes(n, 0); err != nil {
		return errors.Wrap(err, "train: distributed: broadcasting the optimizer state")
	}
	size := binary.LittleEndian.Uint64(n)
	if size > 1<<40 {
		return errors.Errorf("train: distributed: optimizer state of %d bytes", size)
	}
	if d.rank != 0 {
		payload = make([]byte, size)
	}
	if err := d.c.BcastBytes(payload, 0); err != nil {
		return errors.Wrap(err, "train: distributed: broadcasting the optimizer state")
	}
	if d.rank == 0 {
		return nil
	}
	var s map[string][]float64
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&s); err != nil {
		return errors.Wrap(err, "train: distributed: decoding the optimizer state")
	}
	return st.SetState(s)
}

// tensorBytes is t's memory as bytes (for broadcasting it in place).
func tensorBytes(t *tensor.Dense) []byte {
	switch v := t.Data().(type) {
	case []float32:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v))
	case []float64:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 8*len(v))
	}
	panic("train: parameter of type " + t.Dtype().String())
}

// batchSize is the global batch size for a per-rank size b.
func (d *dataParallel) batchSize(b int) int {
	if d == nil {
		return b
	}
	return b * d.size
}

// shard is the part [lo, hi) of n items that this rank takes: the r-th slice of the
// per-rank size when the batch is full, an even split of a shorter one.
func (d *dataParallel) shard(n, per int) (lo, hi int) {
	if n == per*d.size {
		return d.rank * per, (d.rank + 1) * per
	}
	return d.rank * n / d.size, (d.rank + 1) * n / d.size
}

// step trains on this rank's part of the global batch b and applies the averaged update;
// it returns the whole batch's mean loss and its hits, the same on every rank.
func (d *dataParallel) step(ctx context.Context, m *nn.Model, b *data.Batch, per int, opt Optimizer, lr float64, step int) (loss, hits float64, err error) {
	lo, hi := d.shard(b.Size, per)
	var gr *nn.Graph
	var local error
	interrupted := ctx.Err() != nil
	if !interrupted && hi > lo {
		n := m.InputShape().Size()
		part := &data.Batch{X: b.X[lo*n : hi*n], Labels: b.Labels[lo:hi], Indices: b.Indices[lo:hi], Size: hi - lo}
		// Each rank draws its own dropout masks: with the same step they would repeat
		// the same pattern on every rank's images.
		gr, loss, hits, local = forwardBackward(m, part, uint64(step)*uint64(d.size)+uint64(d.rank), nil)
	}
	var extras [numExtras]float64
	extras[extraLoss], extras[extraHits], extras[extraImages] = loss*float64(hi-lo), hits, float64(hi-lo)
	if local != nil {
		extras[extraFailed] = 1
	}
	if interrupted {
		extras[extraInterrupted] = 1
	}
	if gr == nil || local != nil {
		lo, hi = 0, 0 // contribute zeros
	}
	var sums [numExtras]float64
	switch m.DType() {
	case tensor.Float32:
		sums, err = reduceGrads(d, &d.f32, gr, hi-lo, extras, d.c.AllreduceFloat32)
	default:
		sums, err = reduceGrads(d, &d.f64, gr, hi-lo, extras, d.c.AllreduceFloat64)
	}
	switch {
	case err != nil:
		return 0, 0, errors.Wrap(err, "distributed gradient all-reduce")
	case local != nil:
		return 0, 0, local
	case sums[extraFailed] > 0:
		return 0, 0, errOtherRank
	case sums[extraInterrupted] > 0:
		return 0, 0, ErrInterrupted
	}
	loss = sums[extraLoss] / sums[extraImages]
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, 0, errors.Errorf("loss is %v: training diverged (lower the learning rate)", loss)
	}
	return loss, sums[extraHits], opt.Step(d.params, d.grads, lr)
}

// reduceGrads packs this rank's gradients times its image count n (zeros when gr is nil)
// and the extras, sums them over the ranks, and leaves the batch's mean gradient in
// d.grads; it returns the summed extras.
func reduceGrads[T float32 | float64](d *dataParallel, buf *[]T, gr *nn.Graph, n int, extras [numExtras]float64, allreduce func([]T) error) ([numExtras]float64, error) {
	size := numExtras
	for _, p := range d.params {
		size += p.Size()
	}
	if len(*buf) != size {
		*buf = make([]T, size)
	}
	b := *buf
	off := 0
	for _, p := range d.params {
		dst := b[off : off+p.Size()]
		off += p.Size()
		if gr == nil {
			clear(dst)
			continue
		}
		g := gr.Grad(p.Name).Data().([]T)
		w := T(n)
		for i, v := range g {
			dst[i] = v * w
		}
	}
	for i, v := range extras {
		b[off+i] = T(v)
	}
	var sums [numExtras]float64
	if err := allreduce(b); err != nil {
		return sums, err
	}
	for i := range sums {
		sums[i] = float64(b[off+i])
	}
	if sums[extraImages] == 0 {
		return sums, nil
	}
	total := T(sums[extraImages])
	off = 0
	for i, p := range d.params {
		g := d.grads[i].Data().([]T)
		for j, v := range b[off : off+p.Size()] {
			g[j] = v / total
		}
		off += p.Size()
	}
	return sums, nil
}

// syncStats replaces every rank's batch-norm moving statistics by their mean over the
// ranks (in float64, so that equal values stay exactly equal).
func (d *dataParallel) syncStats() error {
	if d == nil || len(d.stats) == 0 {
		return nil
	}
	size := 0
	for _, p := range d.stats {
		size += p.Size()
	}
	buf := make([]float64, 0, size)
	for _, p := range d.stats {
		switch v := p.Value.Data().(type) {
		case []float32:
			for _, x := range v {
				buf = append(buf, float64(x))
			}
		case []float64:
			buf = append(buf, v...)
		}
	}
	if err := d.c.AllreduceFloat64(buf); err != nil {
		return errors.Wrap(err, "train: distributed: averaging batch-norm statistics")
	}
	n := float64(d.size)
	off := 0
	for _, p := range d.stats {
		switch v := p.Value.Data().(type) {
		case []float32:
			for i := range v {
				v[i] = float32(buf[off+i] / n)
			}
		case []float64:
			for i := range v {
				v[i] = buf[off+i] / n
			}
		}
		off += p.Size()
	}
	return nil
}

// callbacksAgree makes every rank stop when any rank's callbacks ask to, and fail when
// any rank's callback failed.
func (d *dataParallel) callbacksAgree(stop bool, err error) (bool, error) {
	if d == nil {
		return stop, err
	}
	buf := []float64{0, 0}
	if stop {
		buf[0] = 1
	}
	if err != nil {
		buf[1] = 1
	}
	if rerr := d.c.AllreduceFloat64(buf); rerr != nil {
		return false, errors.Wrap(rerr, "train: distributed")
	}
	if err == nil && buf[1] > 0 {
		err = errOtherRank
	}
	return buf[0] > 0, err
}

// runCallbacks runs every callback (on rank 0 only those that write files) and reports
// whether any asks to stop.
func (d *dataParallel) runCallbacks(cbs []Callback, m *nn.Model, logs EpochLogs) (bool, error) {
	stop := false
	for _, cb := range cbs {
		if _, ok := cb.(rankZeroOnly); ok && d != nil && d.rank != 0 {
			continue
		}
		s, err := cb.EpochEnd(m, logs)
		if err != nil {
			return stop, err
		}
		stop = stop || s
	}
	return stop, nil
}

// rankZeroOnly marks callbacks that only rank 0 runs in a distributed Fit: those that
// write files. Callbacks without it run on every rank, with the same logs and weights.
type rankZeroOnly interface{ rankZeroOnly() }

func (*ModelCheckpoint) rankZeroOnly() {}

// evaluate is [Evaluate] split over the ranks (each takes a contiguous share of ds) and
// summed; without a Comm it is Evaluate.
func (d *dataParallel) evaluate(m *nn.Model, ds *data.Dataset, batchSize int) (*Evaluation, error) {
	if d == nil {
		return Evaluate(m, ds, batchSize)
	}
	return evaluateShared(d.c, m, ds, batchSize)
}

// EvaluateDistributed is [Evaluate] shared by the ranks of c: each rank evaluates a
// contiguous share of ds, and the losses and confusion matrices are summed, so every rank
// returns the whole set's evaluation. Every rank must call it with the same arguments.
// With a nil c it is Evaluate.
func EvaluateDistributed(c Comm, m *nn.Model, ds *data.Dataset, batchSize int) (*Evaluation, error) {
	if c == nil {
		return Evaluate(m, ds, batchSize)
	}
	return evaluateShared(c, m, ds, batchSize)
}

func evaluateShared(c Comm, m *nn.Model, ds *data.Dataset, batchSize int) (*Evaluation, error) {
	if ds == nil || ds.Len() == 0 {
		return nil, errors.New("train: the evaluation set is empty")
	}
	if err := checkFits(m, ds); err != nil {
		return nil, err
	}
	k := m.OutputShape()[0]
	rank, size := c.Rank(), c.Size()
	lo, hi := rank*ds.Len()/size, (rank+1)*ds.Len()/size
	// [loss sum, images, failed, confusion...]
	buf := make([]float64, 3+k*k)
	var local error
	if hi > lo {
		idx := make([]int, hi-lo)
		for i := range idx {
			idx[i] = lo + i
		}
		ev, err := Evaluate(m, ds.Subset(idx), batchSize)
		if err != nil {
			local = err
			buf[2] = 1
		} else {
			buf[0], buf[1] = ev.Loss*float64(ev.Images), float64(ev.Images)
			for t := range k {
				for p := range k {
					buf[3+t*k+p] = float64(ev.Confusion[t][p])
				}
			}
		}
	}
	if err := c.AllreduceFloat64(buf); err != nil {
		return nil, errors.Wrapf(err, "train: evaluating %s over the ranks", ds.Name)
	}
	switch {
	case local != nil:
		return nil, local
	case buf[2] > 0:
		return nil, errors.Wrapf(errOtherRank, "train: evaluating %s", ds.Name)
	}
	ev := &Evaluation{Confusion: make([][]int, k), PerClass: make([]float64, k), Images: int(buf[1])}
	correct := 0
	for t := range k {
		ev.Confusion[t] = make([]int, k)
		total := 0
		for p := range k {
			ev.Confusion[t][p] = int(buf[3+t*k+p])
			total += ev.Confusion[t][p]
		}
		correct += ev.Confusion[t][t]
		ev.PerClass[t] = math.NaN()
		if total > 0 {
			ev.PerClass[t] = float64(ev.Confusion[t][t]) / float64(total)
		}
	}
	ev.Loss = buf[0] / buf[1]
	ev.Accuracy = float64(correct) / buf[1]
	return ev, nil
}

// stopped averages the moving statistics of an interrupted run (so the checkpoint saved
// next holds them) and returns err.
func (d *dataParallel) stopped(err error) error {
	if serr := d.syncStats(); serr != nil {
		return serr
	}
	return err
}
