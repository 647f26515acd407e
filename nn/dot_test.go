package nn_test

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/graph"
	"github.com/convgraph/convgraph/graph/dotrender"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/zoo"
)

// tinyResNet is a residual network with nested blocks: a stem, a stage of two identity
// blocks and one projection block, and a head.
func tinyResNet(t testing.TB) *nn.Model {
	t.Helper()
	b := nn.NewBuilder("tiny-resnet")
	x := b.Input(8, 8, 1)
	x = b.Block("stem").Apply(nn.Conv2D(4, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU), nn.Name("conv")), x)
	for _, name := range []string{"block1", "block2"} {
		blk := b.Block("stage1").Block(name)
		y := blk.Apply(nn.Conv2D(4, 3, nn.Padding(nn.Same), nn.Name("conv1")), x)
		y = blk.Apply(nn.BatchNorm(nn.Name("bn1")), y)
		y = blk.Apply(nn.Add(nn.Name("add")), x, y)
		x = blk.Apply(nn.Activate(nn.ReLU, nn.Name("relu")), y)
	}
	blk := b.Block("stage2/block1")
	y := blk.Apply(nn.Conv2D(8, 3, nn.Padding(nn.Same), nn.Strides(2, 2), nn.Name("conv1")), x)
	s := blk.Apply(nn.Conv2D(8, 1, nn.Strides(2, 2), nn.Name("shortcut")), x)
	x = blk.Apply(nn.Add(nn.Name("add")), y, s)
	x = b.Apply(nn.GlobalAvgPool2D(nn.Name("pool")), x)
	x = b.Apply(nn.Dense(3, nn.Activation(nn.Softmax), nn.Name("head")), x)
	m, err := b.Model(x)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkDot fails when dot -Tsvg (if installed) prints anything or fails on src, or when
// the Go engine cannot lay it out.
func checkDot(t *testing.T, what string, src []byte) {
	t.Helper()
	if bin := dotrender.SystemDot(); bin != "" {
		cmd := exec.Command(bin, "-Tsvg")
		cmd.Stdin = bytes.NewReader(src)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("%s: dot -Tsvg: %v: %s", what, err, stderr.String())
		}
	}
	if _, err := dotrender.Render(src, dotrender.SVG, dotrender.Go); err != nil {
		t.Errorf("%s: go-graphviz: %v", what, err)
	}
}

var layerConfigs = map[string]nn.DOTConfig{
	"default":    {},
	"collapsed":  {Collapse: true, RankDir: "LR"},
	"everything": {ShowDType: true, ShowTrainable: true, RankDir: "LR"},
	"bare":       {HideShapes: true, HideLayerNames: true, HideParams: true},
}

// TestModelDOTZoo exports every zoo model (and the residual test model) in every layer
// configuration twice, from two separately built models, and checks the DOT is
// byte-identical and valid.
func TestModelDOTZoo(t *testing.T) {
	build := map[string]func() *nn.Model{"tiny-resnet": func() *nn.Model { return tinyResNet(t) }}
	for _, name := range zoo.Names() {
		build[name] = func() *nn.Model {
			m, err := zoo.New(name)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	for name, mk := range build {
		for cname, cfg := range layerConfigs {
			a, err := mk().DOT(cfg)
			if err != nil {
				t.Fatalf("%s %s: %v", name, cname, err)
			}
			b, err := mk().DOT(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("%s %s: two builds give different DOT", name, cname)
			}
			checkDot(t, name+" "+cname, a)
		}
	}
}

func TestModelDOTResidual(t *testing.T) {
	m := tinyResNet(t)
	src, err := m.DOT(nn.DOTConfig{})
	if err != nil {
		t.Fatal(err)
	}
	dot := string(src)
	for _, want := range []string{
		`label="stage1"`, `label="stage1/block1"`, `label="stage2/block1"`,
		`label="conv1\nConv2D 3x3 /2\n(None, 4, 4, 8)\n296 params"`,
		`label="head\nDense softmax\n(None, 3)\n27 params", penwidth="2"`,
	} {
		if !strings.Contains(dot, want) {
			t.Errorf("DOT lacks %s:\n%s", want, dot)
		}
	}
	// Shortcuts: stem/conv -> stage1/block1/add, block1/relu -> block2/add, and
	// block2/relu -> stage2/block1/shortcut.
	if n := strings.Count(dot, `color="#3d85c6"`); n != 3 {
		t.Errorf("%d shortcut edges, want 3:\n%s", n, dot)
	}
	if n := strings.Count(dot, " -> "); n != 17 {
		t.Errorf("%d edges, want 17", n)
	}

	collapsed, err := m.DOT(nn.DOTConfig{Collapse: true})
	if err != nil {
		t.Fatal(err)
	}
	c := string(collapsed)
	nodes := regexp.MustCompile(`(?m)^\tn\d+ \[`).FindAllString(c, -1)
	// input, stem, stage1, stage2, pool, head
	if len(nodes) != 6 || strings.Contains(c, "subgraph") {
		t.Errorf("collapsed: %d nodes, want 6, and no clusters:\n%s", len(nodes), c)
	}
	if !strings.Contains(c, `label="stage1\nblock of 8 layers\n(None, 8, 8, 4)\n328 params"`) {
		t.Errorf("collapsed stage1 label:\n%s", c)
	}
	if n := strings.Count(c, " -> "); n != 5 {
		t.Errorf("collapsed: %d edges, want 5:\n%s", n, c)
	}
}

func TestModelDOTFrozen(t *testing.T) {
	m := tinyResNet(t)
	if err := m.Freeze("stem/", "stage1/"); err != nil {
		t.Fatal(err)
	}
	src, err := m.DOT(nn.DOTConfig{ShowTrainable: true})
	if err != nil {
		t.Fatal(err)
	}
	dot := string(src)
	frozen := regexp.MustCompile(`fillcolor="#d9d9d9"[^\n]*label="([^"]*)"[^\n]*style="rounded,filled,dashed"`).FindAllStringSubmatch(dot, -1)
	// stem/conv, and conv1 and bn1 of each stage1 block
	if len(frozen) != 5 {
		t.Errorf("%d frozen layers drawn, want 5:\n%s", len(frozen), dot)
	}
	for _, f := range frozen {
		if !strings.HasSuffix(f[1], `\nfrozen`) {
			t.Errorf("frozen layer label %q does not say so", f[1])
		}
	}
	if !strings.Contains(dot, `\ntrainable"`) {
		t.Errorf("no trainable layer says so:\n%s", dot)
	}
	collapsed, err := m.DOT(nn.DOTConfig{Collapse: true, ShowTrainable: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`328 params\nfrozen"`, `\ntrainable"`} {
		if !strings.Contains(string(collapsed), want) {
			t.Errorf("collapsed DOT lacks %s:\n%s", want, collapsed)
		}
	}
	checkDot(t, "frozen", src)
}

func TestModelDOTOptions(t *testing.T) {
	m := tinyResNet(t)
	for _, c := range []struct {
		cfg       nn.DOTConfig
		want, not []string
	}{
		{nn.DOTConfig{}, []string{`rankdir="TB"`, "(None, 8, 8, 4)", "params", `label="input\nInputLayer`}, []string{"float32", "trainable"}},
		{nn.DOTConfig{RankDir: "LR", ShowDType: true}, []string{`rankdir="LR"`, `params\nfloat32`}, nil},
		{nn.DOTConfig{HideShapes: true}, []string{"params"}, []string{"(None"}},
		{nn.DOTConfig{HideLayerNames: true}, []string{`label="Conv2D 3x3 relu\n`}, []string{"conv1"}},
		{nn.DOTConfig{HideParams: true}, []string{"(None"}, []string{"params"}},
	} {
		src, err := m.DOT(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(string(src), w) {
				t.Errorf("%+v: DOT lacks %s", c.cfg, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(string(src), w) {
				t.Errorf("%+v: DOT has %s", c.cfg, w)
			}
		}
	}
	if _, err := m.DOT(nn.DOTConfig{RankDir: "RL"}); err == nil || !strings.Contains(err.Error(), `rankdir "RL"`) {
		t.Errorf("rankdir RL: %v", err)
	}
}

// TestModelDOTNastyNames names layers with everything DOT and HTML treat specially.
func TestModelDOTNastyNames(t *testing.T) {
	names := []string{
		`quo"te`, `back\slash\N\l`, "new\nline", "<b>html</b>", "{rec|ord}", "&amp; & ;",
		"ünïcödé 日本語", "tab\tcr\r", "bad\xffutf8", "-> } digraph", "\u2028sep",
	}
	spec := nn.Spec{Name: `model "x" \ y`, Layers: []nn.LayerSpec{{Kind: "InputLayer", Name: "in{put}", Config: nn.Config{Shape: []int{4}}}}}
	prev := "in{put}"
	for i, n := range names {
		name := n
		if i%2 == 1 {
			name = "blk<" + n + ">/" + n // nested blocks with nasty names too
		}
		spec.Layers = append(spec.Layers, nn.LayerSpec{Kind: "Dense", Name: name, Config: nn.Config{Units: 4}, Inputs: []string{prev}})
		prev = name
	}
	spec.Output = prev
	m, err := nn.FromSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	for cname, cfg := range layerConfigs {
		src, err := m.DOT(cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkDot(t, "nasty "+cname, src)
	}
	src, _ := m.DOT(nn.DOTConfig{})
	svg, err := dotrender.Render(src, dotrender.SVG, dotrender.Go)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"quo&quot;te", `back\slash\N\l`, "&lt;b&gt;html&lt;/b&gt;", "{rec|ord}", "&amp;amp; &amp; ;", "ünïcödé 日本語", `tab\x09cr\x0d`, `bad\xffutf8`, "&#45;&gt; } digraph"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	gr, err := m.Compile(2, nn.Train)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := gr.DOT(graph.DOTConfig{Grads: true})
	if err != nil {
		t.Fatal(err)
	}
	checkDot(t, "nasty ops", ops)
}

func TestGraphDOT(t *testing.T) {
	m := tinyResNet(t)
	if err := m.Freeze("stem/"); err != nil {
		t.Fatal(err)
	}
	gr, err := m.Compile(2, nn.Train)
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := gr.DOT(graph.DOTConfig{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := gr.DOT(graph.DOTConfig{Grads: true, RankDir: "LR"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`label="tiny-resnet (batch 2, train)"`, `label="stage1/block1/conv1"`, `label="input\n2x1x8x8 float32"`,
		`label="stage1/block1/conv1/kernel\n4x4x3x3 float32", shape="box", style="filled"`, "BatchNormTrain", "SoftmaxCrossEntropy"} {
		if !strings.Contains(string(fwd), want) {
			t.Errorf("ops DOT lacks %s:\n%s", want, fwd)
		}
	}
	if strings.Contains(string(fwd), "Backward") {
		t.Errorf("forward ops DOT has backward ops")
	}
	// The frozen stem's kernel gets no gradient: drawn grey and dashed, and no backward
	// op computes a kernel gradient in its cluster.
	if !strings.Contains(string(all), `label="stem/conv/kernel\n4x1x3x3 float32", shape="box", style="filled,dashed"`) {
		t.Errorf("frozen kernel not drawn as frozen:\n%s", all)
	}
	for _, want := range []string{"Conv2DBackwardKernel", "BatchNormTrainBackward", "SoftmaxCrossEntropyBackward", `rankdir="LR"`} {
		if !strings.Contains(string(all), want) {
			t.Errorf("ops DOT with gradients lacks %s", want)
		}
	}
	if n, want := strings.Count(string(all), "Conv2DBackwardKernel"), 4; n != want {
		t.Errorf("%d kernel gradients drawn, want %d (the frozen stem has none)", n, want)
	}
	// Deterministic across compilations.
	again, err := tinyResNet(t).Compile(2, nn.Eval)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := again.DOT(graph.DOTConfig{})
	again2, _ := tinyResNet(t).Compile(2, nn.Eval)
	b, _ := again2.DOT(graph.DOTConfig{})
	if !bytes.Equal(a, b) || bytes.Contains(a, []byte("Backward")) {
		t.Errorf("eval graphs: different DOT, or backward ops")
	}
	checkDot(t, "ops", fwd)
	checkDot(t, "ops+grads", all)
}
