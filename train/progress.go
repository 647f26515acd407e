package train

import (
	"fmt"
	"io"
	"math"
	"sort"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/convgraph/convgraph/internal/console"
)

// progress shows one epoch: a live bar on a terminal, one summary line otherwise. The bar
// counts steps as Keras's does (" 45% [=====>    ] (812/1688) epoch 3/10 - 13ms/step -
// loss: 0.3120 - accuracy: 0.8912 - ETA 0:11, run 2:31"): the step time and both estimates
// come from this epoch's steps so far, the run's from the epochs still to come at that pace.
type progress struct {
	w             io.Writer
	bar           *progressbar.ProgressBar
	epoch, epochs int
	batches       int
	steps         int
	start         time.Time
	last          time.Time
}

func newProgress(w io.Writer, epoch, epochs, batches, images int) *progress {
	p := &progress{w: w, epoch: epoch, epochs: epochs, batches: batches, start: time.Now()}
	if w == nil || !console.IsTerminal(w) {
		return p
	}
	p.bar = progressbar.NewOptions(batches,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", epoch, epochs)),
		progressbar.OptionShowCount(),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionSetElapsedTime(false), // the description has step time and ETAs
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	return p
}

// add records one step of n images with the epoch's running loss and accuracy.
func (p *progress) add(n int, loss, acc float64) {
	p.steps++
	if p.bar == nil {
		return
	}
	if now := time.Now(); now.Sub(p.last) > 200*time.Millisecond {
		p.last = now
		p.bar.Describe(p.status(now.Sub(p.start), loss, acc))
	}
	_ = p.bar.Add(1)
}

// status is the text after the bar: step time, the running loss and accuracy, and the
// time left in the epoch and in the run.
func (p *progress) status(elapsed time.Duration, loss, acc float64) string {
	step := elapsed / time.Duration(max(p.steps, 1))
	left := time.Duration(max(p.batches-p.steps, 0)) * step
	run := left + time.Duration(max(p.epochs-p.epoch, 0)*p.batches)*step
	return fmt.Sprintf("epoch %d/%d - %s/step - loss: %.4f - accuracy: %.4f - ETA %s, run %s",
		p.epoch, p.epochs, stepTime(step), loss, acc, clock(left), clock(run))
}

// stepTime prints a step's duration as Keras does: "13ms", "850us", "1s".
func stepTime(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.0fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%dms", d.Milliseconds())
	default:
		return fmt.Sprintf("%dus", d.Microseconds())
	}
}

// clock prints a duration as m:ss, or h:mm:ss from an hour on.
func clock(d time.Duration) string {
	t := int(d.Round(time.Second).Seconds())
	if t >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
	}
	return fmt.Sprintf("%d:%02d", t/60, t%60)
}

func (p *progress) abort() {
	if p.bar != nil {
		_ = p.bar.Exit()
		fmt.Fprintln(p.w)
	}
}

// done prints the epoch's line, Keras-style.
func (p *progress) done(l EpochLogs) {
	if p.w == nil {
		return
	}
	if p.bar != nil {
		_ = p.bar.Finish()
	}
	line := fmt.Sprintf("epoch %d/%d - %.1fs - %.0f img/s - loss: %.4f",
		p.epoch, p.epochs, l.Seconds, l.ImagesPerS, l.Loss)
	if !math.IsNaN(l.Accuracy) { // a regression model has none
		line += fmt.Sprintf(" - accuracy: %.4f", l.Accuracy)
	}
	if !math.IsNaN(l.ValLoss) {
		line += fmt.Sprintf(" - val_loss: %.4f", l.ValLoss)
	}
	if !math.IsNaN(l.ValAccuracy) {
		line += fmt.Sprintf(" - val_accuracy: %.4f", l.ValAccuracy)
	}
	names := make([]string, 0, len(l.Metrics))
	for k := range l.Metrics {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		line += fmt.Sprintf(" - %s: %.4f", k, l.Metrics[k])
	}
	fmt.Fprintln(p.w, line)
}
