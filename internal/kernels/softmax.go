package kernels

import (
	"fmt"
	"math"
)

// Softmax computes a row-wise softmax of x [rows, cols], subtracting each row's own
// maximum so that logits of any size stay finite.
func Softmax[T Float](rows, cols int, x, y []T) {
	for r := 0; r < rows; r++ {
		xr, yr := x[r*cols:(r+1)*cols], y[r*cols:(r+1)*cols]
		m := xr[0]
		for _, v := range xr {
			m = max(m, v)
		}
		var sum float64
		for i, v := range xr {
			e := math.Exp(float64(v - m))
			yr[i] = T(e)
			sum += e
		}
		inv := 1 / sum
		for i := range yr {
			yr[i] = T(float64(yr[i]) * inv)
		}
	}
}

// SoftmaxBackward computes dx = y * (dy - sum(dy*y)) row-wise, from the softmax output y.
func SoftmaxBackward[T Float](rows, cols int, y, dy, dx []T) {
	for r := 0; r < rows; r++ {
		yr, dyr, dxr := y[r*cols:(r+1)*cols], dy[r*cols:(r+1)*cols], dx[r*cols:(r+1)*cols]
		var dot float64
		for i, v := range yr {
			dot += float64(v) * float64(dyr[i])
		}
		for i, v := range yr {
			dxr[i] = T(float64(v) * (float64(dyr[i]) - dot))
		}
	}
}

// SoftmaxCrossEntropy returns the mean over rows of -log softmax(logits)[label], computed
// as logsumexp(row) - row[label] so it stays finite for logits of any size. labels holds
// class indices; it returns the index of the first row whose label is outside
// [0, cols), or -1.
func SoftmaxCrossEntropy[T Float](rows, cols int, logits []T, labels []int) (loss float64, badRow int) {
	for r := 0; r < rows; r++ {
		lr := logits[r*cols : (r+1)*cols]
		k := labels[r]
		if k < 0 || k >= cols {
			return 0, r
		}
		loss += logSumExp(lr) - float64(lr[k])
	}
	return loss / float64(rows), -1
}

// SoftmaxCrossEntropyBackward computes dlogits = (softmax(logits) - onehot(labels)) *
// scale / rows, the gradient of scale times the mean loss.
func SoftmaxCrossEntropyBackward[T Float](rows, cols int, logits []T, labels []int, scale float64, dx []T) {
	s := scale / float64(rows)
	for r := 0; r < rows; r++ {
		lr, dr := logits[r*cols:(r+1)*cols], dx[r*cols:(r+1)*cols]
		lse := logSumExp(lr)
		for i, v := range lr {
			dr[i] = T(math.Exp(float64(v)-lse) * s)
		}
		dr[labels[r]] -= T(s)
	}
}

func logSumExp[T Float](row []T) float64 {
	m := float64(row[0])
	for _, v := range row {
		m = max(m, float64(v))
	}
	var sum float64
	for _, v := range row {
		sum += math.Exp(float64(v) - m)
	}
	return m + math.Log(sum)
}

// SoftmaxAxis computes a softmax of x viewed as [outer, k, inner] over its middle axis:
// the softmax of an NCHW image over its channels is outer N, k C, inner H*W. Each of the
// outer*inner lines subtracts its own maximum. The outer slabs are split over the cores,
// so each core keeps its own images when outer is the batch.
//
// It panics if a size is below 1 or a slice is shorter than outer*k*inner.
func SoftmaxAxis[T Float](outer, k, inner int, x, y []T) {
	const op = "SoftmaxAxis"
	mustAxis(op, outer, k, inner)
	mustLen(op, "x", x, outer*k*inner)
	mustLen(op, "y", y, outer*k*inner)
	if inner == 1 {
		Split(outer, 4*k, func(lo, hi int) { Softmax(hi-lo, k, x[lo*k:hi*k], y[lo*k:hi*k]) })
		return
	}
	Split(outer, 4*k*inner, func(lo, hi int) {
		sp := getScratch[float64](2 * inner)
		defer putScratch(sp)
		m, sum := (*sp)[:inner], (*sp)[inner:]
		for o := lo; o < hi; o++ {
			xs, ys := x[o*k*inner:(o+1)*k*inner], y[o*k*inner:(o+1)*k*inner]
			for i := range m {
				m[i] = float64(xs[i])
			}
			for j := 1; j < k; j++ {
				for i, v := range xs[j*inner : (j+1)*inner] {
					m[i] = max(m[i], float64(v))
				}
			}
			clear(sum)
			for j := 0; j < k; j++ {
				yr := ys[j*inner : (j+1)*inner]
				for i, v := range xs[j*inner : (j+1)*inner] {
					e := math.Exp(float64(v) - m[i])
					yr[i] = T(e)
					sum[i] += e
				}
			}
			for i := range sum {
				sum[i] = 1 / sum[i]
			}
			for j := 0; j < k; j++ {
				yr := ys[j*inner : (j+1)*inner]
				for i := range yr {
					yr[i] = T(float64(yr[i]) * sum[i])
				}
			}
		}
	})
}

// SoftmaxAxisBackward computes dx = y * (dy - sum_k(dy*y)) along the middle axis of
// [outer, k, inner], from the softmax output y. It splits and panics as [SoftmaxAxis].
func SoftmaxAxisBackward[T Float](outer, k, inner int, y, dy, dx []T) {
	const op = "SoftmaxAxisBackward"
	mustAxis(op, outer, k, inner)
	for _, s := range []struct {
		name string
		v    []T
	}{{"y", y}, {"dy", dy}, {"dx", dx}} {
		mustLen(op, s.name, s.v, outer*k*inner)
	}
	if inner == 1 {
		Split(outer, 3*k, func(lo, hi int) {
			SoftmaxBackward(hi-lo, k, y[lo*k:hi*k], dy[lo*k:hi*k], dx[lo*k:hi*k])
		})
		return
	}
	Split(outer, 3*k*inner, func(lo, hi int) {
		sp := getScratch[float64](inner)
		defer putScratch(sp)
		dot := *sp
		for o := lo; o < hi; o++ {
			base := o * k * inner
			clear(dot)
			for j := 0; j < k; j++ {
				off := base + j*inner
				for i, v := range y[off : off+inner] {
					dot[i] += float64(v) * float64(dy[off+i])
				}
			}
			for j := 0; j < k; j++ {
				off := base + j*inner
				for i, v := range y[off : off+inner] {
					dx[off+i] = T(float64(v) * (float64(dy[off+i]) - dot[i]))
				}
			}
		}
	})
}

func mustAxis(op string, outer, k, inner int) {
	if outer < 1 || k < 1 || inner < 1 {
		panic(fmt.Sprintf("kernels: %s: invalid sizes outer=%d k=%d inner=%d (all must be >= 1)", op, outer, k, inner))
	}
}
