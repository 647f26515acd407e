package train

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fiveEpochs is a history shaped like the course's first CNN on Fashion-MNIST.
func fiveEpochs(withValidation bool) *History {
	h := &History{Model: "fashion-cnn"}
	loss := []float64{0.52, 0.34, 0.29, 0.26, 0.24}
	acc := []float64{0.81, 0.88, 0.895, 0.905, 0.912}
	vloss := []float64{0.38, 0.32, 0.30, 0.29, 0.295}
	vacc := []float64{0.86, 0.883, 0.891, 0.896, 0.897}
	for i := range loss {
		e := EpochLogs{Epoch: i + 1, Loss: loss[i], Accuracy: acc[i], ValLoss: math.NaN(), ValAccuracy: math.NaN(),
			LR: 1e-3, Seconds: 12}
		if withValidation {
			e.ValLoss, e.ValAccuracy = vloss[i], vacc[i]
		}
		h.Epochs = append(h.Epochs, e)
	}
	return h
}

func decodePNG(t *testing.T, r io.Reader) image.Image {
	t.Helper()
	img, err := png.Decode(r)
	if err != nil {
		t.Fatalf("decoding PNG: %v", err)
	}
	return img
}

// countColor counts pixels within a small distance of c (antialiasing blends edges).
func countColor(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			d := math.Abs(float64(r>>8)-float64(c.R)) + math.Abs(float64(g>>8)-float64(c.G)) +
				math.Abs(float64(bl>>8)-float64(c.B))
			if d < 30 {
				n++
			}
		}
	}
	return n
}

func TestPlotHistoryPNG(t *testing.T) {
	for _, tc := range []struct {
		name          string
		opts          []PlotOption
		width, height int
	}{
		{"default", nil, DefaultPlotWidth, DefaultPlotHeight},
		{"800x300", []PlotOption{PlotSize(800, 300)}, 800, 300},
		{"width only", []PlotOption{PlotSize(640, 0)}, 640, DefaultPlotHeight},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "curves.png")
			if err := PlotHistory(fiveEpochs(true), path, tc.opts...); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img := decodePNG(t, f)
			if got := img.Bounds().Size(); got != image.Pt(tc.width, tc.height) {
				t.Errorf("size %v, want %dx%d", got, tc.width, tc.height)
			}
			colors := map[color.Color]bool{}
			b := img.Bounds()
			for y := b.Min.Y; y < b.Max.Y && len(colors) < 2; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					colors[img.At(x, y)] = true
				}
			}
			if len(colors) < 2 {
				t.Fatal("image is a single colour")
			}
			if n := countColor(img, trainColor); n < 100 {
				t.Errorf("%d pixels of the training colour, want the training curves drawn", n)
			}
			if n := countColor(img, valColor); n < 100 {
				t.Errorf("%d pixels of the validation colour, want the validation curves drawn", n)
			}
		})
	}
}

func TestPlotHistoryWithoutValidation(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHistoryPlot(fiveEpochs(false), &buf, "png"); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, &buf)
	if n := countColor(img, trainColor); n < 100 {
		t.Errorf("%d pixels of the training colour, want the training curves drawn", n)
	}
	if n := countColor(img, valColor); n != 0 {
		t.Errorf("%d pixels of the validation colour, want no validation curves", n)
	}

	buf.Reset()
	if err := WriteHistoryPlot(fiveEpochs(false), &buf, "svg"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), ">validation<") {
		t.Error("SVG has a validation legend entry without validation values")
	}
}

func TestPlotHistorySVG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "curves.svg")
	if err := PlotHistory(fiveEpochs(true), path, PlotSize(800, 300)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var root struct {
		XMLName xml.Name `xml:"svg"`
		Width   string   `xml:"width,attr"`
		Height  string   `xml:"height,attr"`
	}
	if err := xml.Unmarshal(b, &root); err != nil {
		t.Fatalf("not well-formed SVG: %v", err)
	}
	if root.Width != "600pt" || root.Height != "225pt" { // 800x300 CSS pixels
		t.Errorf("SVG size %s x %s, want 600pt x 225pt", root.Width, root.Height)
	}
	for _, s := range []string{">Loss<", ">Accuracy<", ">epoch<", ">train<", ">validation<", "fashion-cnn", "sans-serif"} {
		if !bytes.Contains(b, []byte(s)) {
			t.Errorf("SVG lacks %q", s)
		}
	}
}

func TestPlotHistoryErrors(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	isDir := filepath.Join(dir, "taken.png")
	if err := os.Mkdir(isDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		h    *History
		path string
		opts []PlotOption
		want string // the whole message, or its start when it ends in ": "
	}{
		{"nil history", nil, filepath.Join(dir, "a.png"), nil,
			`train: plot "` + filepath.Join(dir, "a.png") + `": empty history`},
		{"no epochs", &History{Model: "m"}, filepath.Join(dir, "a.png"), nil,
			`train: plot "` + filepath.Join(dir, "a.png") + `": empty history`},
		{"bad extension", fiveEpochs(true), "x.bmp", nil,
			`train: plot "x.bmp": unknown format (want .png or .svg)`},
		{"no extension", fiveEpochs(true), "curves", nil,
			`train: plot "curves": unknown format (want .png or .svg)`},
		{"negative size", fiveEpochs(true), filepath.Join(dir, "a.png"), []PlotOption{PlotSize(-1, 300)},
			`train: plot "` + filepath.Join(dir, "a.png") + `": size -1x300 pixels (want 1 to 16384 a side)`},
		{"missing directory", fiveEpochs(true), filepath.Join(dir, "missing", "a.png"), nil,
			`train: plot "` + filepath.Join(dir, "missing", "a.png") + `": `},
		{"parent is a file", fiveEpochs(true), filepath.Join(notDir, "a.png"), nil,
			`train: plot "` + filepath.Join(notDir, "a.png") + `": `},
		{"target is a directory", fiveEpochs(true), isDir, nil,
			`train: plot "` + isDir + `": `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := PlotHistory(tc.h, tc.path, tc.opts...)
			if err == nil {
				t.Fatal("no error")
			}
			if prefix, ok := strings.CutSuffix(tc.want, ": "); ok {
				if !strings.HasPrefix(err.Error(), prefix+": ") {
					t.Errorf("error %q, want it to start %q", err, tc.want)
				}
			} else if err.Error() != tc.want {
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}

	// A failed rename must not leave its temporary file behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"file", "taken.png"}; !reflect.DeepEqual(names, want) {
		t.Errorf("directory holds %q after failed plots, want %q", names, want)
	}
}

func TestWriteHistoryPlotErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHistoryPlot(fiveEpochs(true), &buf, "bmp"); err == nil ||
		err.Error() != `train: plot: unknown format "bmp" (want png or svg)` {
		t.Errorf("bad format: error %v", err)
	}
	if err := WriteHistoryPlot(&History{}, &buf, "png"); err == nil || err.Error() != "train: plot: empty history" {
		t.Errorf("empty history: error %v", err)
	}
	if buf.Len() != 0 {
		t.Errorf("%d bytes written on error", buf.Len())
	}
}

func TestPlotHistoryReplacesFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "curves.png")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := PlotHistory(fiveEpochs(true), path, PlotSize(320, 200)); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := decodePNG(t, f).Bounds().Size(); got != image.Pt(320, 200) {
		t.Errorf("size %v after replacing, want 320x200", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files in the directory, want only the plot", len(entries))
	}
}

func TestPlotHistoryEdgeCases(t *testing.T) {
	one := &History{Model: "m", Epochs: []EpochLogs{{Epoch: 1, Loss: 0.5, Accuracy: 0.8, ValLoss: math.NaN(), ValAccuracy: math.NaN()}}}
	gaps := fiveEpochs(true)
	gaps.Epochs[2].ValLoss, gaps.Epochs[3].Loss = math.NaN(), math.Inf(1)
	unnumbered := fiveEpochs(true)
	for i := range unnumbered.Epochs {
		unnumbered.Epochs[i].Epoch = 0
	}
	long := &History{}
	for i := 1; i <= 200; i++ {
		long.Epochs = append(long.Epochs, EpochLogs{Epoch: i, Loss: 1 / float64(i), Accuracy: 1 - 1/float64(i),
			ValLoss: math.NaN(), ValAccuracy: math.NaN()})
	}
	allNaN := &History{Epochs: []EpochLogs{{Epoch: 1, Loss: math.NaN(), Accuracy: math.NaN(), ValLoss: math.NaN(), ValAccuracy: math.NaN()}}}
	for name, h := range map[string]*History{"one epoch": one, "gaps": gaps, "unnumbered": unnumbered, "200 epochs": long, "all NaN": allNaN} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteHistoryPlot(h, &buf, "png"); err != nil {
				t.Fatal(err)
			}
			decodePNG(t, &buf)
		})
	}
}

func TestEpochTicks(t *testing.T) {
	for _, tc := range []struct {
		min, max float64
		want     []string // labelled ticks
		minor    int
	}{
		{1, 1, []string{"1"}, 0},
		{0.5, 1.5, []string{"1"}, 0},
		{1, 5, []string{"1", "2", "3", "4", "5"}, 0},
		{1, 10, []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, 0},
		{1, 12, []string{"2", "4", "6", "8", "10", "12"}, 6},
		{1, 30, []string{"5", "10", "15", "20", "25", "30"}, 24},
		{1, 60, []string{"10", "20", "30", "40", "50", "60"}, 54},
		{1, 200, []string{"20", "40", "60", "80", "100", "120", "140", "160", "180", "200"}, 0},
		{3, 7, []string{"3", "4", "5", "6", "7"}, 0},
	} {
		var got []string
		minor := 0
		for _, tk := range (epochTicks{}).Ticks(tc.min, tc.max) {
			if tk.Value != math.Trunc(tk.Value) {
				t.Errorf("[%g, %g]: tick at %g, want whole epochs", tc.min, tc.max, tk.Value)
			}
			if tk.IsMinor() {
				minor++
			} else {
				got = append(got, tk.Label)
			}
		}
		if !reflect.DeepEqual(got, tc.want) || minor != tc.minor {
			t.Errorf("[%g, %g]: labels %q and %d minor ticks, want %q and %d", tc.min, tc.max, got, minor, tc.want, tc.minor)
		}
	}
}
