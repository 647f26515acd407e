package kernels

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Parallel calls fn on contiguous chunks that cover [0,n) exactly once, one goroutine per
// chunk and at most [runtime.GOMAXPROCS] chunks, and returns when all calls have returned.
// Chunks are contiguous so that each worker streams through its own slab of the batch.
// It runs fn(0, n) inline when n == 1 or GOMAXPROCS is 1, where a goroutine is pure
// overhead, and does nothing when n <= 0. The caller runs the first chunk itself; the
// others go to the helper goroutines of [helpers] (or, when a Parallel call is already
// using them, to new goroutines).
//
// A panic in any chunk is re-raised in the caller after all chunks have finished, so a
// deferred recover at convgraph's API boundary still sees it.
func Parallel(n int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers == 1 {
		fn(0, n)
		return
	}
	if helpers.busy.CompareAndSwap(false, true) {
		defer helpers.busy.Store(false)
		helpers.run(workers, n, fn)
		return
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		panicked any
	)
	run := func(lo, hi int) {
		defer func() {
			if r := recover(); r != nil {
				mu.Lock()
				if panicked == nil {
					panicked = r
				}
				mu.Unlock()
			}
		}()
		fn(lo, hi)
	}
	wg.Add(workers - 1)
	for i := 1; i < workers; i++ {
		go func() {
			defer wg.Done()
			run(i*n/workers, (i+1)*n/workers)
		}()
	}
	run(0, n/workers) // the caller works too instead of idling in Wait
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
}

// helpers is the pool of goroutines that run [Parallel]'s chunks. Starting a goroutine
// for each chunk cost about 16 µs per call on this project's 2-core VM (the idle
// thread has to be woken through the kernel), and a training step makes hundreds of
// Parallel calls: 13% of resnet-small's step. A helper instead spins for a while after
// each chunk, yielding to any other goroutine between checks, and only then parks, so
// the next call, which usually comes within microseconds, reaches a running thread. A
// parked helper costs the next call more than its wake-up (a convolution after 50 µs of
// serial work ran 40% longer, as if on a cold core), so the kernels avoid serial
// stretches between parallel calls (docs/architecture.md, "How the kernels use the cores").
var helpers helperPool

// helperSpin is how long a helper (or the caller, waiting for helpers) spins before it
// parks. Measured with resnet-small's training on the 2 cores, quiet and with a busy
// process on one core: 0 (park at once) 810-890 / 556-621 images/s, 10 µs 899-933 /
// 592-649, 30 µs 960-979 / 550-610, 100 µs 804-976 / 484-520. The course CNN, whose ops
// are shorter, prefers a longer spin on a quiet machine (medians of 5: 4,322 images/s at
// 30 µs, 4,872 at 100) and is level with a busy core (2,847 and 2,845): 30 µs keeps the
// loaded case safe, since spinning longer takes time slices from whoever else needs the
// cores.
const helperSpin = 30 * time.Microsecond

type helperPool struct {
	busy    atomic.Bool // held by the Parallel call using the pool
	workers []*helper
}

// helper runs one chunk per published task. The caller writes fn, lo and hi, then bumps
// seq; the helper runs the chunk, records a panic, and stores seq in done.
type helper struct {
	seq, done atomic.Uint64
	fn        func(lo, hi int)
	lo, hi    int
	panicked  any
	parked    atomic.Bool   // the helper is (about to be) blocked on wake
	wake      chan struct{} // buffered 1: a token for a parked helper
	waiter    atomic.Bool   // the caller is (about to be) blocked on finished
	finished  chan struct{} // buffered 1: a token for a parked caller
}

func (p *helperPool) run(workers, n int, fn func(lo, hi int)) {
	for len(p.workers) < workers-1 {
		h := &helper{wake: make(chan struct{}, 1), finished: make(chan struct{}, 1)}
		p.workers = append(p.workers, h)
		go h.loop()
	}
	hs := p.workers[:workers-1]
	for i, h := range hs {
		h.fn, h.lo, h.hi, h.panicked = fn, (i+1)*n/workers, (i+2)*n/workers, nil
		h.seq.Add(1)
		if h.parked.Load() {
			select {
			case h.wake <- struct{}{}:
			default:
			}
		}
	}
	var panicked any
	func() {
		defer func() { panicked = recover() }()
		fn(0, n/workers)
	}()
	for _, h := range hs {
		h.wait()
		if panicked == nil {
			panicked = h.panicked
		}
		h.fn = nil // drop the closure for the collector
	}
	if panicked != nil {
		panic(panicked)
	}
}

// wait returns when the helper has finished the task last published to it.
func (h *helper) wait() {
	seq := h.seq.Load()
	start := time.Now()
	for i := 0; h.done.Load() != seq; i++ {
		if i%64 == 63 && time.Since(start) > helperSpin {
			h.waiter.Store(true)
			for h.done.Load() != seq {
				<-h.finished
			}
			h.waiter.Store(false)
			return
		}
		runtime.Gosched()
	}
}

func (h *helper) loop() {
	var last uint64
	for {
		start := time.Now()
		for i := 0; h.seq.Load() == last; i++ {
			if i%64 == 63 && time.Since(start) > helperSpin {
				h.parked.Store(true)
				for h.seq.Load() == last {
					<-h.wake
				}
				h.parked.Store(false)
				break
			}
			runtime.Gosched()
		}
		last = h.seq.Load()
		func() {
			defer func() { h.panicked = recover() }()
			h.fn(h.lo, h.hi)
		}()
		h.done.Store(last)
		if h.waiter.Load() {
			select {
			case h.finished <- struct{}{}:
			default:
			}
		}
	}
}

// MinSplit is the number of element operations below which work runs on the calling
// goroutine: starting and joining a goroutine costs about as much as a pass over this many
// elements (a few microseconds).
const MinSplit = 1 << 14

// Chunks is how many pieces work of n element operations should be split into: at most
// GOMAXPROCS, each at least [MinSplit]. Below 2, run it inline.
func Chunks(n int) int { return min(runtime.GOMAXPROCS(0), n/MinSplit) }

// Split runs fn over the items [0,n), each costing about perItem element operations, in
// [Chunks] contiguous pieces on their own goroutines ([Parallel]), or inline when the work
// is too small to share. It is for items whose results do not depend on each other
// (element-wise passes, per-channel or per-plane loops), so the split never changes a
// value. It does nothing when n <= 0.
func Split(n, perItem int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	chunks := min(Chunks(n*perItem), n)
	if chunks < 2 {
		fn(0, n)
		return
	}
	Parallel(chunks, func(lo, hi int) { fn(lo*n/chunks, hi*n/chunks) })
}

// splitsBatch reports whether [Parallel] will hand n items to more than one goroutine.
// Workers that share a batch then call GEMM serially ([gemmSerial]). Measured on 2 cores
// at the course CNN's sizes, batch workers with serial GEMM beat batch workers with
// gonum's own parallel GEMM by about 25% (nested goroutines only contend for the same
// cores) and one goroutine with parallel GEMM by 40-60% (gonum's 64x64 blocks leave a
// core idle on the ragged edges, and im2col is not parallel at all).
func splitsBatch(n int) bool { return min(runtime.GOMAXPROCS(0), n) > 1 }

// scratchPools keeps im2col columns and partial gradients between calls, so a training
// loop's steady state does not allocate (and collect) hundreds of kilobytes per
// convolution. Buffers are pooled by element size and power-of-two capacity class, so
// layers of different sizes do not keep evicting each other's buffers.
var scratchPools [2][bits.UintSize + 1]sync.Pool

func scratchPool[T Float](n int) (*sync.Pool, int) {
	n = max(n, 1)
	class := bits.Len(uint(n - 1)) // smallest c with 1<<c >= n
	size := 0
	if unsafe.Sizeof(T(0)) == 8 {
		size = 1
	}
	return &scratchPools[size][class], 1 << class
}

// getScratch returns a buffer of length n with arbitrary contents; give it back with
// putScratch.
func getScratch[T Float](n int) *[]T {
	pool, capacity := scratchPool[T](n)
	// A defined float type shares its pool with float32 or float64; the assertion
	// fails for the other one's buffers and we simply allocate.
	if p, ok := pool.Get().(*[]T); ok {
		*p = (*p)[:n]
		return p
	}
	s := make([]T, n, capacity)
	return &s
}

func putScratch[T Float](p *[]T) {
	pool, _ := scratchPool[T](cap(*p))
	pool.Put(p)
}
