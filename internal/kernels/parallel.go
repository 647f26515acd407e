package kernels

import (
	"math/bits"
	"runtime"
	"sync"
	"unsafe"
)

// Parallel calls fn on contiguous chunks that cover [0,n) exactly once, one goroutine per
// chunk and at most [runtime.GOMAXPROCS] chunks, and returns when all calls have returned.
// Chunks are contiguous so that each worker streams through its own slab of the batch.
// It runs fn(0, n) inline when n == 1 or GOMAXPROCS is 1, where a goroutine is pure
// overhead, and does nothing when n <= 0.
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
