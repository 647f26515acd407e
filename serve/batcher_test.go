package serve

import (
	"sync"
	"testing"
	"time"

	"gorgonia.org/tensor"
)

// recordingPredictor notes the size of every batch it runs.
type recordingPredictor struct {
	predictor
	mu    *sync.Mutex
	sizes *[]int
}

func (p recordingPredictor) Predict(x tensor.Tensor) (*tensor.Dense, error) {
	p.mu.Lock()
	*p.sizes = append(*p.sizes, x.Shape()[0])
	p.mu.Unlock()
	return p.predictor.Predict(x)
}

// A request that arrives when no batch is computing runs at once: MaxWait delays only
// requests that would share the cores with another batch anyway.
func TestLoneRequestDoesNotWait(t *testing.T) {
	const maxWait = 5 * time.Second
	f := newFixture(t, Config{MaxWait: maxWait})
	start := time.Now()
	if code, a := post(t, f.ts.URL+"/v1/models/fashion-cnn/predict", "image/png", f.pngOf(t, 0)); code != 200 {
		t.Fatalf("%d %s", code, a.Error)
	}
	if d := time.Since(start); d >= maxWait/2 {
		t.Errorf("a lone request took %v: it waited for a batch that could not come (MaxWait %v)", d, maxWait)
	}
}

// While one worker computes, the next gathers: a request that arrives then waits for more
// (up to MaxWait or a full batch) and runs with them as one batch.
func TestBusyWorkerMakesTheNextBatchGather(t *testing.T) {
	f := newFixture(t, Config{MaxWait: 5 * time.Second, MaxBatch: 2, Workers: 2})
	var mu sync.Mutex
	var sizes []int
	m := f.srv.models["fashion-cnn"]
	m.pred = recordingPredictor{slowPredictor{m.pred, 700 * time.Millisecond}, &mu, &sizes}
	url := f.ts.URL + "/v1/models/fashion-cnn/predict"
	png := f.pngOf(t, 0)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, a := post(t, url, "image/png", png); code != 200 {
				t.Errorf("request %d: %d %s", i, code, a.Error)
			}
		}()
		time.Sleep(150 * time.Millisecond) // the first is computing when the others come
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(sizes) != 2 || sizes[0] != 1 || sizes[1] != 2 {
		t.Errorf("batches of %v images; want [1 2]: the first alone at once, the next two gathered while it computed", sizes)
	}
}
