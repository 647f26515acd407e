package graph_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/graph"
	"github.com/convgraph/convgraph/graph/dotrender"
)

// tinyNet builds x -> Conv2D -> ReLU -> Dropout -> Flatten -> MatMul -> SoftmaxCrossEntropy
// with the gradients of both weights, naming nodes after a layer path.
func tinyNet(t *testing.T, names ...string) (g *G.ExprGraph, cfg graph.DOTConfig) {
	t.Helper()
	name := func(i int, def string) string {
		if i < len(names) {
			return names[i]
		}
		return def
	}
	g = G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 1, 4, 4), G.WithName(name(0, "input")))
	k := G.NewTensor(g, tensor.Float32, 4, G.WithShape(3, 1, 3, 3), G.WithName(name(1, "conv/kernel")), G.WithInit(G.GlorotU(1)))
	w := G.NewMatrix(g, tensor.Float32, G.WithShape(12, 5), G.WithName(name(2, "dense/kernel")), G.WithInit(G.GlorotU(1)))
	labels := G.NewVector(g, tensor.Float32, G.WithShape(2), G.WithName("labels"))
	layer := map[*G.Node]string{x: "input", k: "block/conv", w: "dense"}
	must := func(n *G.Node, err error) *G.Node {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	y := must(graph.Conv2D(x, k, graph.Conv2DConfig{}))
	layer[y] = "block/conv"
	y = must(graph.ReLU(y))
	layer[y] = "block/conv"
	y = must(graph.Dropout(y, graph.DropoutConfig{Rate: 0.5, Seed: 1}))
	layer[y] = "block/dropout"
	y = must(graph.Flatten(y))
	layer[y] = "flatten"
	logits := must(graph.MatMul(y, w))
	layer[logits] = "dense"
	loss := must(graph.SoftmaxCrossEntropy(logits, labels))
	grads, err := G.Grad(loss, k, w)
	if err != nil {
		t.Fatal(err)
	}
	return g, graph.DOTConfig{
		Title:     "tiny",
		Outputs:   G.Nodes{loss},
		Gradients: grads,
		Inputs:    G.Nodes{x, labels},
		Layer:     func(n *G.Node) string { return layer[n] },
	}
}

// checkDot runs dot -Tsvg on src when Graphviz is installed and fails on any message.
func checkDot(t *testing.T, src []byte) {
	t.Helper()
	bin := dotrender.SystemDot()
	if bin == "" {
		return
	}
	cmd := exec.Command(bin, "-Tsvg")
	cmd.Stdin = bytes.NewReader(src)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("dot -Tsvg: %v: %s\n%s", err, stderr.String(), src)
	}
}

func TestDOTDeterministic(t *testing.T) {
	for _, grads := range []bool{false, true} {
		g1, cfg1 := tinyNet(t)
		cfg1.Grads = grads
		a, err := graph.DOT(g1, cfg1)
		if err != nil {
			t.Fatal(err)
		}
		g2, cfg2 := tinyNet(t) // a second graph: other pointers, other dropout identity
		cfg2.Grads = grads
		b, err := graph.DOT(g2, cfg2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("grads=%v: two builds of one graph give different DOT:\n%s\n---\n%s", grads, a, b)
		}
		if bytes.Contains(a, []byte("0x")) || bytes.Contains(a, []byte("id:")) {
			t.Errorf("grads=%v: DOT has a pointer or an op identity:\n%s", grads, a)
		}
		checkDot(t, a)
	}
}

func TestDOTContent(t *testing.T) {
	g, cfg := tinyNet(t)
	fwd, err := graph.DOT(g, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Grads = true
	all, err := graph.DOT(g, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`label="Conv2D\nx:2x1x4x4 k:3x1x3x3 s:1x1\npad:0,0,0,0 d:1x1\n2x3x2x2 float32"`,
		`label="conv/kernel\n3x1x3x3 float32"`,
		`shape="parallelogram"`, // the data input
		`label="block"`, `label="block/conv"`, `label="dense"`,
		`label="Dropout\nrate:0.5\n2x3x2x2 float32"`,
	} {
		if !strings.Contains(string(fwd), want) {
			t.Errorf("forward DOT lacks %s:\n%s", want, fwd)
		}
	}
	if strings.Contains(string(fwd), "Backward") {
		t.Errorf("forward DOT has backward ops:\n%s", fwd)
	}
	for _, want := range []string{"Conv2DBackwardKernel", "SoftmaxCrossEntropyBackward", "reluBackward", `dir="back"`} {
		if !strings.Contains(string(all), want) {
			t.Errorf("DOT with gradients lacks %s:\n%s", want, all)
		}
	}
	// The convolution's backward ops sit in its cluster.
	conv := clusterBody(string(all), "block/conv")
	if !strings.Contains(conv, "Conv2DBackwardKernel") || !strings.Contains(conv, "reluBackward") {
		t.Errorf("cluster block/conv lacks its backward ops:\n%s", conv)
	}
	checkDot(t, all)
}

// clusterBody returns the text of the cluster labelled label, up to its closing brace.
func clusterBody(dot, label string) string {
	i := strings.Index(dot, `label="`+label+`"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(dot[i:], "\n\t}")
	if j < 0 {
		return dot[i:]
	}
	return dot[i : i+j]
}

func TestDOTNastyNames(t *testing.T) {
	nasty := []string{
		"quote\" back\\slash \\N \\l",
		"new\nline\r\ttab <html> {rec|ord} &amp; ; -> }",
		"ünïcödé 日本語 \u2028 \x00 bad\xffutf8",
	}
	g, cfg := tinyNet(t, nasty...)
	cfg.Grads = true
	cfg.Title = nasty[0]
	src, err := graph.DOT(g, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkDot(t, src)
	svg, err := dotrender.Render(src, dotrender.SVG, dotrender.Go)
	if err != nil {
		t.Fatalf("go-graphviz rejects the DOT: %v\n%s", err, src)
	}
	for _, want := range []string{"quote&quot; back\\slash \\N \\l", "tab &lt;html&gt; {rec|ord} &amp;amp; ; &#45;&gt; }", "ünïcödé 日本語"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestDOTQuote(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", `"plain"`},
		{`a"b`, `"a\"b"`},
		{`a\nb`, `"a\\nb"`},
		{"a\nb", `"a\nb"`},
		{"x&y", `"x&amp;y"`},
		{"tab\there", `"tab\\x09here"`},
		{"bad\xff", `"bad\\xff"`},
		{"日本", `"日本"`},
		{"", `""`},
	} {
		if got := graph.DOTQuote(c.in); got != c.want {
			t.Errorf("DOTQuote(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{{"label", "label"}, {"n0", "n0"}, {"0n", `"0n"`}, {"a b", `"a b"`}, {"", `""`}} {
		if got := graph.DOTID(c.in); got != c.want {
			t.Errorf("DOTID(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestDOTErrors(t *testing.T) {
	if _, err := graph.DOT(nil, graph.DOTConfig{}); err == nil || !strings.Contains(err.Error(), "nil graph") {
		t.Errorf("nil graph: %v", err)
	}
	g, cfg := tinyNet(t)
	cfg.RankDir = "BT"
	if _, err := graph.DOT(g, cfg); err == nil || !strings.Contains(err.Error(), `rankdir "BT" is not TB or LR`) {
		t.Errorf("bad rankdir: %v", err)
	}
	if _, err := graph.DOT(G.NewGraph(), graph.DOTConfig{}); err == nil || !strings.Contains(err.Error(), "no nodes") {
		t.Errorf("empty graph: %v", err)
	}
}

func TestDOTDefaults(t *testing.T) {
	// With no outputs given, every root that is not a gradient is one; Grads adds the rest.
	g, _ := tinyNet(t)
	fwd, err := graph.DOT(g, graph.DOTConfig{RankDir: "LR"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(fwd), `rankdir="LR"`) || strings.Contains(string(fwd), "Backward") || !strings.Contains(string(fwd), "SoftmaxCrossEntropy") {
		t.Errorf("default forward view:\n%s", fwd)
	}
	all, err := graph.DOT(g, graph.DOTConfig{Grads: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(all), "Conv2DBackwardKernel") {
		t.Errorf("default view with gradients lacks them:\n%s", all)
	}
	checkDot(t, all)
}
