package dotrender_test

import (
	"bytes"
	"fmt"
	"image/png"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/graph/dotrender"
	"github.com/convgraph/convgraph/internal/testenv"
)

func TestFormatOf(t *testing.T) {
	for _, c := range []struct {
		path string
		want dotrender.Format
		err  string
	}{
		{"model.dot", dotrender.DOT, ""},
		{"dir.x/model.GV", dotrender.DOT, ""},
		{"a.svg", dotrender.SVG, ""},
		{"A.PNG", dotrender.PNG, ""},
		{"model.jpg", "", `unknown output format ".jpg" of "model.jpg"`},
		{"model", "", `"model" has no extension`},
	} {
		got, err := dotrender.FormatOf(c.path)
		if got != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("FormatOf(%q) = %q, %v; want %q, %q", c.path, got, err, c.want, c.err)
		}
	}
}

// picture has a filled rounded node inside an unfilled rounded cluster, a filled ellipse,
// a dashed edge and a bold label, which exercise every drawing operation the PNG drawer
// knows.
const picture = `digraph G {
	graph [fontname="Helvetica"];
	node [fontname="Helvetica"];
	subgraph cluster_a { graph [style=rounded, color="#999999", label="cluster"];
		a [shape=box, style="rounded,filled", fillcolor="#ff0000", label="A node"];
	}
	b [shape=ellipse, style=filled, fillcolor="#0000ff", label=<<b>bold</b>>];
	c [shape=parallelogram, label="ünï\nlines"];
	a -> b [style=dashed];
	b -> c [dir=back, color="#00aa00"];
}`

func TestRenderGo(t *testing.T) {
	svg, err := dotrender.Render([]byte(picture), dotrender.SVG, dotrender.Go)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "A node", "ünï", "cluster"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	b, err := dotrender.Render([]byte(picture), dotrender.PNG, dotrender.Go)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// The node is filled red, the ellipse blue, the cluster left white inside: count
	// the pixels of each colour.
	count := map[string]int{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			switch {
			case r>>8 > 240 && g>>8 < 15 && b>>8 < 15:
				count["red"]++
			case b>>8 > 240 && r>>8 < 15 && g>>8 < 15:
				count["blue"]++
			case r>>8 > 250 && g>>8 > 250 && b>>8 > 250:
				count["white"]++
			case r>>8 < 60 && g>>8 > 120 && b>>8 < 60:
				count["green"]++
			case r>>8 < 40 && g>>8 < 40 && b>>8 < 40:
				count["black"]++
			}
		}
	}
	total := bounds.Dx() * bounds.Dy()
	if count["red"] < 1500 || count["blue"] < 1500 || count["white"] < total/2 || count["green"] < 20 || count["black"] < 200 {
		t.Errorf("PNG %dx%d has colours %v; want a red node, a blue ellipse, a white background, a green edge and black text",
			bounds.Dx(), bounds.Dy(), count)
	}
	if bounds.Dx() < 100 || bounds.Dy() < 200 {
		t.Errorf("PNG is %dx%d", bounds.Dx(), bounds.Dy())
	}
}

func TestRenderErrors(t *testing.T) {
	for _, e := range []dotrender.Engine{dotrender.Go, dotrender.System} {
		if e == dotrender.System && dotrender.SystemDot() == "" {
			continue
		}
		_, err := dotrender.Render([]byte("digraph { a -> ; }"), dotrender.SVG, e)
		if err == nil || !strings.Contains(err.Error(), "syntax error") {
			t.Errorf("%v: bad DOT: %v", e, err)
		}
	}
	if _, err := dotrender.Render([]byte("digraph{}"), "jpg", dotrender.Go); err == nil || !strings.Contains(err.Error(), `unknown format "jpg"`) {
		t.Errorf("jpg: %v", err)
	}
	src := []byte("digraph { a }")
	if out, err := dotrender.Render(src, dotrender.DOT, dotrender.Go); err != nil || !bytes.Equal(out, src) {
		t.Errorf("DOT is not passed through: %q, %v", out, err)
	}
}

func TestRenderSystem(t *testing.T) {
	testenv.Require(t, dotrender.SystemDot() != "", "Graphviz's dot is not installed (Debian: graphviz)")
	for _, f := range []dotrender.Format{dotrender.SVG, dotrender.PNG} {
		for _, e := range []dotrender.Engine{dotrender.System, dotrender.Auto} {
			out, err := dotrender.Render([]byte(picture), f, e)
			if err != nil {
				t.Fatal(err)
			}
			if f == dotrender.PNG {
				if _, err := png.Decode(bytes.NewReader(out)); err != nil {
					t.Errorf("%v: %v", e, err)
				}
			} else if !bytes.Contains(out, []byte("A node")) {
				t.Errorf("%v: SVG lacks the label", e)
			}
		}
	}
}

// A large drawing is scaled down to fit 16,384 pixels.
func TestRenderLargePNG(t *testing.T) {
	var b strings.Builder
	b.WriteString("digraph { rankdir=LR; n0")
	for i := 1; i < 300; i++ {
		fmt.Fprintf(&b, " -> n%d", i)
	}
	b.WriteString(" }")
	out, err := dotrender.Render([]byte(b.String()), dotrender.PNG, dotrender.Go)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width > 16384 || cfg.Width < 16000 || cfg.Height > 100 {
		t.Errorf("PNG is %dx%d; want 16384 wide or a little less", cfg.Width, cfg.Height)
	}
}
