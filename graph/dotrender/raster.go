package dotrender

import (
	"bytes"
	"encoding/json"
	"image/color"
	"math"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/font/liberation"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgimg"
)

// maxSide bounds each side of a PNG in pixels; larger drawings are scaled down.
const maxSide = 16384

// pad is the margin around the drawing in points, as Graphviz leaves it.
const pad = 4

// xop is one xdot drawing operation as Graphviz's json output writes it.
type xop struct {
	Op       string       `json:"op"`
	Color    string       `json:"color"`
	Points   [][2]float64 `json:"points"`
	Rect     []float64    `json:"rect"`
	Pt       []float64    `json:"pt"`
	Align    string       `json:"align"`
	Text     string       `json:"text"`
	Size     float64      `json:"size"`
	Face     string       `json:"face"`
	Style    string       `json:"style"`
	FontChar int          `json:"fontchar"`
}

// xobj is a graph, cluster, node or edge with its drawing operations.
type xobj struct {
	BB     string `json:"bb"`
	Pos    string `json:"pos"`
	Draw   []xop  `json:"_draw_"`
	LDraw  []xop  `json:"_ldraw_"`
	HDraw  []xop  `json:"_hdraw_"`
	TDraw  []xop  `json:"_tdraw_"`
	HLDraw []xop  `json:"_hldraw_"`
	TLDraw []xop  `json:"_tldraw_"`
}

type xgraph struct {
	xobj
	Objects []xobj `json:"objects"`
	Edges   []xobj `json:"edges"`
}

func init() { font.DefaultCache.Add(liberation.Collection()) }

// rasterize draws Graphviz's json layout as a PNG at dpi pixels per inch: the clusters,
// then the edges, then the nodes on top.
func rasterize(layout []byte, dpi int) ([]byte, error) {
	var g xgraph
	if err := json.Unmarshal(layout, &g); err != nil {
		return nil, errors.Wrap(err, "reading the layout")
	}
	var x0, y0, x1, y1 float64
	if _, err := fmtSscan(g.BB, &x0, &y0, &x1, &y1); err != nil {
		return nil, errors.Wrapf(err, "bounding box %q", g.BB)
	}
	w, h := x1-x0+2*pad, y1-y0+2*pad
	if w <= 0 || h <= 0 {
		return nil, errors.Errorf("empty bounding box %q", g.BB)
	}
	if side := math.Max(w, h) * float64(dpi) / 72; side > maxSide {
		dpi = int(float64(dpi) * maxSide / side)
		if dpi < 1 {
			dpi = 1
		}
	}
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(w), vg.Length(h)), vgimg.UseDPI(dpi),
		vgimg.UseBackgroundColor(color.White))
	r := &raster{c: c, dx: pad - x0, dy: pad - y0}
	r.draw(g.Draw)
	r.draw(g.LDraw)
	var nodes []xobj
	for _, o := range g.Objects {
		if o.Pos != "" {
			nodes = append(nodes, o)
			continue
		}
		r.draw(o.Draw)
		r.draw(o.LDraw)
	}
	for _, e := range g.Edges {
		for _, ops := range [][]xop{e.Draw, e.HDraw, e.TDraw, e.LDraw, e.HLDraw, e.TLDraw} {
			r.draw(ops)
		}
	}
	for _, n := range nodes {
		r.draw(n.Draw)
		r.draw(n.LDraw)
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// fmtSscan reads a comma-separated list of numbers.
func fmtSscan(s string, vals ...*float64) (int, error) {
	parts := strings.Split(s, ",")
	if len(parts) != len(vals) {
		return 0, errors.Errorf("want %d numbers", len(vals))
	}
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return i, err
		}
		*vals[i] = v
	}
	return len(vals), nil
}

// raster holds the drawing state of one list of operations.
type raster struct {
	c      *vgimg.Canvas
	dx, dy float64

	pen, fill color.Color
	width     float64
	dash      []vg.Length
	size      float64
	face      string
	char      int
}

func (r *raster) reset() {
	r.pen, r.fill = color.Black, color.Black
	r.width, r.dash = 1, nil
	r.size, r.face, r.char = 14, "Times-Roman", 0
}

func (r *raster) pt(x, y float64) vg.Point {
	return vg.Point{X: vg.Length(x + r.dx), Y: vg.Length(y + r.dy)}
}

// draw runs one list of operations; each list starts from Graphviz's defaults.
func (r *raster) draw(ops []xop) {
	r.reset()
	for _, op := range ops {
		switch op.Op {
		case "c":
			r.pen = parseColor(op.Color)
		case "C":
			r.fill = parseColor(op.Color)
		case "S":
			r.style(op.Style)
		case "F":
			r.size, r.face = op.Size, op.Face
		case "t":
			r.char = op.FontChar
		case "P", "p", "L":
			var p vg.Path
			for i, q := range op.Points {
				if i == 0 {
					p.Move(r.pt(q[0], q[1]))
				} else {
					p.Line(r.pt(q[0], q[1]))
				}
			}
			if op.Op != "L" {
				p.Close()
			}
			r.paint(p, op.Op == "P")
		case "B", "b":
			// Graphviz's json output (12.1.2, the WebAssembly build's) swaps xdot's
			// letters: "B" is a filled Bézier there and "b" an unfilled one.
			filled := op.Op == "B"
			if len(op.Points) < 4 {
				continue
			}
			var p vg.Path
			q := op.Points
			p.Move(r.pt(q[0][0], q[0][1]))
			for i := 1; i+2 < len(q); i += 3 {
				p.CubeTo(r.pt(q[i][0], q[i][1]), r.pt(q[i+1][0], q[i+1][1]), r.pt(q[i+2][0], q[i+2][1]))
			}
			if filled {
				p.Close()
			}
			r.paint(p, filled)
		case "E", "e":
			if len(op.Rect) == 4 {
				r.paint(r.ellipse(op.Rect[0], op.Rect[1], op.Rect[2], op.Rect[3]), op.Op == "E")
			}
		case "T":
			r.text(op)
		}
	}
}

// paint fills a path with the fill colour (if filled) and strokes it with the pen.
func (r *raster) paint(p vg.Path, filled bool) {
	if filled && !transparent(r.fill) {
		r.c.SetColor(r.fill)
		r.c.Fill(p)
	}
	if transparent(r.pen) {
		return
	}
	r.c.SetColor(r.pen)
	r.c.SetLineWidth(vg.Length(r.width))
	r.c.SetLineDash(r.dash, 0)
	r.c.Stroke(p)
}

// ellipse approximates an ellipse centred at (x, y) with radii rx, ry by four cubic
// Bézier arcs.
func (r *raster) ellipse(x, y, rx, ry float64) vg.Path {
	const k = 0.5522847498
	var p vg.Path
	p.Move(r.pt(x+rx, y))
	p.CubeTo(r.pt(x+rx, y+k*ry), r.pt(x+k*rx, y+ry), r.pt(x, y+ry))
	p.CubeTo(r.pt(x-k*rx, y+ry), r.pt(x-rx, y+k*ry), r.pt(x-rx, y))
	p.CubeTo(r.pt(x-rx, y-k*ry), r.pt(x-k*rx, y-ry), r.pt(x, y-ry))
	p.CubeTo(r.pt(x+k*rx, y-ry), r.pt(x+rx, y-k*ry), r.pt(x+rx, y))
	p.Close()
	return p
}

func (r *raster) style(s string) {
	switch {
	case s == "solid":
		r.dash = nil
	case s == "dashed":
		r.dash = []vg.Length{5, 2}
	case s == "dotted":
		r.dash = []vg.Length{1, 5}
	case s == "bold":
		r.width = 2
	case strings.HasPrefix(s, "setlinewidth(") && strings.HasSuffix(s, ")"):
		if v, err := strconv.ParseFloat(s[len("setlinewidth("):len(s)-1], 64); err == nil && v >= 0 {
			r.width = v
		}
	}
}

// text draws a text span with the Liberation font that matches Graphviz's face
// (Liberation Sans, Serif and Mono have the metrics of Helvetica, Times and Courier, which
// Graphviz measured the text with).
func (r *raster) text(op xop) {
	if len(op.Pt) != 2 || op.Text == "" || transparent(r.pen) {
		return
	}
	f := font.Font{Typeface: "Liberation", Variant: "Sans"}
	lower := strings.ToLower(r.face)
	switch {
	case strings.Contains(lower, "courier") || strings.Contains(lower, "mono"):
		f.Variant = "Mono"
	case strings.Contains(lower, "times") || strings.Contains(lower, "serif") && !strings.Contains(lower, "sans"):
		f.Variant = "Serif"
	}
	if r.char&1 != 0 || strings.Contains(lower, "bold") {
		f.Weight = xfont.WeightBold
	}
	if r.char&2 != 0 || strings.Contains(lower, "italic") || strings.Contains(lower, "oblique") {
		f.Style = xfont.StyleItalic
	}
	face := font.DefaultCache.Lookup(f, vg.Length(r.size))
	x := op.Pt[0]
	switch op.Align {
	case "c":
		x -= float64(face.Width(op.Text)) / 2
	case "r":
		x -= float64(face.Width(op.Text))
	}
	r.c.SetColor(r.pen)
	r.c.FillString(face, r.pt(x, op.Pt[1]), op.Text)
}

func transparent(c color.Color) bool {
	_, _, _, a := c.RGBA()
	return a == 0
}

// parseColor reads Graphviz's "#rrggbb" or "#rrggbbaa" (it writes every colour so in
// xdot 1.7), and a few names; anything else is black.
func parseColor(s string) color.Color {
	switch strings.ToLower(s) {
	case "none", "transparent", "invis":
		return color.Transparent
	case "white":
		return color.White
	}
	if strings.HasPrefix(s, "#") && (len(s) == 7 || len(s) == 9) {
		v, err := strconv.ParseUint(s[1:], 16, 32)
		if err == nil {
			if len(s) == 7 {
				v = v<<8 | 0xff
			}
			return color.NRGBA{R: uint8(v >> 24), G: uint8(v >> 16), B: uint8(v >> 8), A: uint8(v)}
		}
	}
	return color.Black
}
