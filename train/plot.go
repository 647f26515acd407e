package train

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/convgraph/convgraph/checkpoint"
)

// Default size of a history plot, in pixels.
const (
	DefaultPlotWidth  = 1100
	DefaultPlotHeight = 450
)

// maxMarkedEpochs is the most points a curve marks; past it the markers merge into a smear.
const maxMarkedEpochs = 30

// maxPlotSide bounds each side so a typo cannot allocate gigabytes of image.
const maxPlotSide = 16384

// PlotOption changes how [PlotHistory] draws.
type PlotOption func(*plotConfig)

type plotConfig struct {
	width, height int // pixels; 0 means the default
}

// PlotSize sets the size of the image in pixels. A zero side keeps its default
// ([DefaultPlotWidth] x [DefaultPlotHeight]). An SVG is given the same size in CSS pixels.
func PlotSize(width, height int) PlotOption {
	return func(c *plotConfig) { c.width, c.height = width, height }
}

// PlotHistory draws the loss and the accuracy per epoch, training and validation, as two
// side-by-side panels in one PNG (or SVG, by the file extension) of width x height pixels
// ([PlotSize]; [DefaultPlotWidth] x [DefaultPlotHeight] by default). The title names the
// model. Validation lines are left out when the history has no validation values;
// NaN and infinite values are skipped.
//
// The file is written to a temporary file in the same directory and renamed into place,
// so a reader never sees half an image. An empty history, an extension other than .png or
// .svg, a bad size or a failed write is an error naming path.
func PlotHistory(h *History, path string, opts ...PlotOption) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if format != "png" && format != "svg" {
		return errors.Errorf("train: plot %q: unknown format (want .png or .svg)", path)
	}
	cfg := plotConfig{}
	for _, o := range opts {
		o(&cfg)
	}
	b, err := renderHistory(h, format, cfg)
	if err != nil {
		return errors.Wrapf(err, "train: plot %q", path)
	}
	if err := checkpoint.WriteFileAtomic(path, b); err != nil {
		return errors.Wrapf(err, "train: plot %q", path)
	}
	return nil
}

// WriteHistoryPlot writes the plot [PlotHistory] draws, at the default size, to w in
// format "png" or "svg".
func WriteHistoryPlot(h *History, w io.Writer, format string) error {
	format = strings.TrimPrefix(strings.ToLower(format), ".")
	if format != "png" && format != "svg" {
		return errors.Errorf("train: plot: unknown format %q (want png or svg)", format)
	}
	b, err := renderHistory(h, format, plotConfig{})
	if err != nil {
		return errors.Wrap(err, "train: plot")
	}
	_, err = w.Write(b)
	return errors.Wrap(err, "train: writing plot")
}

// Colours and dashes follow matplotlib's first two defaults, so the curves look like the
// course's; the dashes keep them apart without colour.
var (
	trainColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	valColor   = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	valDashes  = []vg.Length{vg.Points(6), vg.Points(3)}

	// plotFont is gonum's bundled Liberation in its sans variant, which reads like
	// matplotlib's default at small sizes and needs no system fonts.
	plotFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
)

// renderHistory returns the encoded image. Panics inside gonum/plot come back as errors
// so a history that upsets it cannot crash a training run that is only being reported.
func renderHistory(h *History, format string, cfg plotConfig) (_ []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("drawing: %v", r)
		}
	}()
	if h == nil || len(h.Epochs) == 0 {
		return nil, errors.New("empty history")
	}
	wpx, hpx := cfg.width, cfg.height
	if wpx == 0 {
		wpx = DefaultPlotWidth
	}
	if hpx == 0 {
		hpx = DefaultPlotHeight
	}
	if wpx < 1 || hpx < 1 || wpx > maxPlotSide || hpx > maxPlotSide {
		return nil, errors.Errorf("size %dx%d pixels (want 1 to %d a side)", wpx, hpx, maxPlotSide)
	}

	epochs := epochNumbers(h.Epochs)
	loss, err := historyPanel("Loss", "loss", epochs, h.Epochs,
		func(e EpochLogs) (float64, float64) { return e.Loss, e.ValLoss }, true)
	if err != nil {
		return nil, err
	}
	acc, err := historyPanel("Accuracy", "accuracy", epochs, h.Epochs,
		func(e EpochLogs) (float64, float64) { return e.Accuracy, e.ValAccuracy }, false)
	if err != nil {
		return nil, err
	}

	// vg lengths are points; at vgimg's 96 dpi one pixel is 0.75 pt, which is also the
	// CSS pixel an SVG viewer uses.
	width, height := vg.Length(wpx)*0.75, vg.Length(hpx)*0.75
	var c vg.CanvasWriterTo
	switch format {
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(vgimg.DefaultDPI))}
	case "svg":
		c = vgsvg.New(width, height)
	default:
		panic("train: plot format " + format) // callers check
	}
	dc := draw.New(c)

	title := fmt.Sprintf("Training history (%d %s)", len(h.Epochs), plural(len(h.Epochs), "epoch"))
	if h.Model != "" {
		title = fmt.Sprintf("%s: training history (%d %s)", h.Model, len(h.Epochs), plural(len(h.Epochs), "epoch"))
	}
	sty := text.Style{
		Color:   color.Black,
		Font:    font.From(plotFont, vg.Points(14)),
		XAlign:  draw.XCenter,
		YAlign:  draw.YTop,
		Handler: plot.DefaultTextHandler,
	}
	pad := vg.Points(6)
	dc.FillText(sty, vg.Point{X: dc.Center().X, Y: dc.Max.Y - pad}, title)
	dc = draw.Crop(dc, 0, 0, 0, -(sty.Height(title) + 2*pad))

	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(24), PadLeft: pad, PadRight: pad * 2, PadBottom: pad}
	plots := [][]*plot.Plot{{loss, acc}}
	canvases := plot.Align(plots, tiles, dc)
	loss.Draw(canvases[0][0])
	acc.Draw(canvases[0][1])

	var buf bytes.Buffer
	if _, err = c.WriteTo(&buf); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if format == "svg" {
		// Text is laid out with Liberation Sans's metrics, which Arial shares. Without a
		// fallback a viewer lacking Liberation would use its default serif and the labels
		// would no longer fit; embedding the font instead would add half a megabyte.
		b = bytes.ReplaceAll(b, []byte("font-family:Liberation Sans;"),
			[]byte("font-family:Liberation Sans,Arial,Helvetica,sans-serif;"))
	}
	return b, nil
}

// historyPanel draws one metric against the epoch; get returns its training and
// validation values. lowIsGood puts the legend where the curves usually are not.
func historyPanel(title, ylabel string, epochs []float64, logs []EpochLogs,
	get func(EpochLogs) (train, val float64), lowIsGood bool) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	for _, f := range []*font.Font{&p.Title.TextStyle.Font, &p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font,
		&p.X.Tick.Label.Font, &p.Y.Tick.Label.Font, &p.Legend.TextStyle.Font} {
		f.Variant = plotFont.Variant
	}
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = ylabel
	p.X.Tick.Marker = epochTicks{}
	p.Add(plotter.NewGrid())
	p.Legend.Top = lowIsGood // loss falls, so its legend goes top right; accuracy rises
	p.Legend.XOffs = -vg.Points(6)
	if lowIsGood {
		p.Legend.YOffs = -vg.Points(6)
	} else {
		p.Legend.YOffs = vg.Points(6)
	}

	var tr, va plotter.XYs
	for i, e := range logs {
		t, v := get(e)
		if finite(t) {
			tr = append(tr, plotter.XY{X: epochs[i], Y: t})
		}
		if finite(v) {
			va = append(va, plotter.XY{X: epochs[i], Y: v})
		}
	}
	if err := addSeries(p, "train", tr, trainColor, nil, draw.CircleGlyph{}); err != nil {
		return nil, err
	}
	if err := addSeries(p, "validation", va, valColor, valDashes, draw.BoxGlyph{}); err != nil {
		return nil, err
	}

	// Pin the x range to the epochs so one epoch does not become a zero-width axis.
	p.X.Min, p.X.Max = epochs[0], epochs[len(epochs)-1]
	if p.X.Min == p.X.Max {
		p.X.Min, p.X.Max = p.X.Min-0.5, p.X.Max+0.5
	}
	return p, nil
}

func addSeries(p *plot.Plot, name string, xys plotter.XYs, c color.Color, dashes []vg.Length, g draw.GlyphDrawer) error {
	if len(xys) == 0 {
		return nil
	}
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return errors.Wrapf(err, "%s series", name)
	}
	l.Color, l.Width, l.Dashes = c, vg.Points(1.5), dashes
	if len(xys) > maxMarkedEpochs {
		p.Add(l)
		p.Legend.Add(name, l)
		return nil
	}
	s.Color, s.Shape, s.Radius = c, g, vg.Points(2.5)
	p.Add(l, s)
	p.Legend.Add(name, l, s)
	return nil
}

// epochNumbers returns the x value of each epoch: its Epoch field, or its position
// (1-based) when the fields are unset or not increasing.
func epochNumbers(logs []EpochLogs) []float64 {
	xs := make([]float64, len(logs))
	ok := true
	for i, e := range logs {
		xs[i] = float64(e.Epoch)
		if e.Epoch < 1 || (i > 0 && e.Epoch <= logs[i-1].Epoch) {
			ok = false
		}
	}
	if !ok {
		for i := range xs {
			xs[i] = float64(i + 1)
		}
	}
	return xs
}

// epochTicks labels whole epochs only, 1-2-5 spaced so at most about ten carry labels,
// with unlabelled minor ticks on the others while they are not too dense.
type epochTicks struct{}

func (epochTicks) Ticks(min, max float64) []plot.Tick {
	lo, hi := math.Ceil(min), math.Floor(max)
	step := 1.0
	for next := []float64{2, 2.5, 2}; (hi-lo+1)/step > 10; next = append(next[1:], next[0]) {
		step *= next[0] // 1, 2, 5, 10, 20, 50, ...
	}
	minor := hi-lo <= 60
	var ticks []plot.Tick
	for v := lo; v <= hi; v++ {
		switch {
		case math.Mod(v, step) == 0:
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.Itoa(int(v))})
		case minor:
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}
