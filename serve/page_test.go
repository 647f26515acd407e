package serve

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/internal/testenv"
)

// The root page in a real headless browser (Debian's chromium, driven over the DevTools
// protocol by chromedp): uploading an image shows the model's top five classes as bars,
// the first one the library's answer, and the first convolution's 32 feature maps;
// drawing on the canvas gives a new prediction.
func TestPageInHeadlessChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	browser, err := exec.LookPath("chromium")
	testenv.Require(t, err == nil, "Debian's chromium is not installed (apt-get install chromium)")
	f := newFixture(t, Config{})
	// A sample image the model is sure of.
	img := -1
	for i := 0; i < 50 && img < 0; i++ {
		if w := f.want(t, i); w[argmax32(w)] > 0.99 {
			img = i
		}
	}
	if img < 0 {
		t.Fatal("no confident sample image")
	}
	path := filepath.Join(t.TempDir(), "item.png")
	if err := os.WriteFile(path, f.pngOf(t, img), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, _ := data.Lookup(data.FashionMNIST)
	wantTop := spec.Classes[argmax32(f.want(t, img))]

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Headless)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	step := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if _, err := chromedp.Run(ctx, a); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	step("open the page", chromedp.Navigate(f.ts.URL+"/"))
	step("models listed", chromedp.WaitVisible(chromedp.CSS(`body[data-models="1"]`)))
	step("upload", chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{path}))
	step("bars drawn", chromedp.WaitVisible(chromedp.CSS(`#bars[data-done="1"]`)))
	step("feature maps drawn", chromedp.WaitReady(chromedp.CSS(`#maps[data-count="32"]`)))
	first := eval(`document.querySelector("#bars .bar .name").textContent`)
	bars := eval(`String(document.querySelectorAll("#bars .bar").length)`)
	maps := eval(`String(document.querySelectorAll("#maps canvas").length)`)
	if first != wantTop || bars != "5" || maps != "32" {
		t.Errorf("upload: first bar %q (the library says %q), %s bars, %s feature maps", first, wantTop, bars, maps)
	}

	// Draw a stroke: the page predicts when the pointer lifts.
	step("clear", chromedp.Click(chromedp.CSS(`#clear`)))
	var box []float64
	box, err = chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.getElementById("pad").getBoundingClientRect(); return [r.left, r.top]; })()`))
	if err != nil || len(box) != 2 {
		t.Fatalf("canvas position: %v %v", box, err)
	}
	x, y := box[0], box[1]
	step("press", chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x+90, y+40, chromedp.ButtonLeft))
	step("move", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x+140, y+140, chromedp.ButtonLeft))
	step("move", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x+190, y+240, chromedp.ButtonLeft))
	step("release", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x+190, y+240, chromedp.ButtonLeft))
	step("bars drawn again", chromedp.WaitVisible(chromedp.CSS(`#bars[data-done="1"]`)))
	probs := eval(`Array.from(document.querySelectorAll("#bars .prob")).map(e => e.textContent).join(" ")`)
	fields := strings.Fields(probs)
	sum := 0.0
	for _, p := range fields {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil {
			t.Fatalf("bar probability %q", p)
		}
		sum += v
	}
	if len(fields) != 5 || sum <= 0 || sum > 1.01 {
		t.Errorf("after drawing: bars %q", probs)
	}
}

func argmax32(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
