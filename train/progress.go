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

// progress shows one epoch: a live bar on a terminal, one summary line otherwise.
type progress struct {
	w             io.Writer
	bar           *progressbar.ProgressBar
	epoch, epochs int
	start         time.Time
	last          time.Time
}

func newProgress(w io.Writer, epoch, epochs, batches, images int) *progress {
	p := &progress{w: w, epoch: epoch, epochs: epochs, start: time.Now()}
	if w == nil || !console.IsTerminal(w) {
		return p
	}
	p.bar = progressbar.NewOptions(images,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", epoch, epochs)),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("img"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	return p
}

func (p *progress) add(n int, loss, acc float64) {
	if p.bar == nil {
		return
	}
	if now := time.Now(); now.Sub(p.last) > 200*time.Millisecond {
		p.last = now
		p.bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f acc %.4f", p.epoch, p.epochs, loss, acc))
	}
	_ = p.bar.Add(n)
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
	line := fmt.Sprintf("epoch %d/%d - %.1fs - %.0f img/s - loss: %.4f - accuracy: %.4f",
		p.epoch, p.epochs, l.Seconds, l.ImagesPerS, l.Loss, l.Accuracy)
	if !math.IsNaN(l.ValLoss) {
		line += fmt.Sprintf(" - val_loss: %.4f - val_accuracy: %.4f", l.ValLoss, l.ValAccuracy)
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
