package train

import (
	"testing"
	"time"
)

// The bar's text: step time as Keras prints it, and the epoch's and the run's time left at
// this epoch's pace.
func TestProgressStatus(t *testing.T) {
	p := &progress{epoch: 3, epochs: 10, batches: 1688, steps: 812}
	// 812 steps in 10.556 s: 13 ms a step; 876 left in the epoch (11.4 s), then 7 more
	// epochs of 1688 (153.6 s).
	got := p.status(10556*time.Millisecond, 0.31204, 0.89119)
	want := "epoch 3/10 - 13ms/step - loss: 0.3120 - accuracy: 0.8912 - ETA 0:11, run 2:45"
	if got != want {
		t.Errorf("status:\n got %q\nwant %q", got, want)
	}
	for _, c := range []struct {
		d    time.Duration
		step string
		clk  string
	}{
		{850 * time.Microsecond, "850us", "0:00"},
		{13 * time.Millisecond, "13ms", "0:00"},
		{2400 * time.Millisecond, "2s", "0:02"},
		{3*time.Hour + 4*time.Minute + 5*time.Second, "11045s", "3:04:05"},
	} {
		if s := stepTime(c.d); s != c.step {
			t.Errorf("stepTime(%v) = %q, want %q", c.d, s, c.step)
		}
		if s := clock(c.d); s != c.clk {
			t.Errorf("clock(%v) = %q, want %q", c.d, s, c.clk)
		}
	}
}
