package kernels

import "math"

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
