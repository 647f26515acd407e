package zoo_test

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

// A pretrained backbone used as one layer of a new model: frozen as a unit (its batch
// norms then run in inference mode), one row in the summary, a cluster in the diagram, its
// last stage unfrozen for fine-tuning, and the whole thing saved and reloaded.
func TestPretrainedBackboneAsALayer(t *testing.T) {
	base, _, err := zoo.Pretrained("resnet-small", zoo.IncludeHead(false))
	if err != nil {
		t.Fatal(err)
	}
	b := nn.NewBuilder("digits")
	x := b.Input(28, 28, 1)
	y := b.Call(base, x)
	y = b.Apply(nn.Dropout(0.2), y)
	y = b.Apply(nn.Dense(10, nn.Activation(nn.Softmax), nn.Name("classifier")), y)
	m, err := b.Model(y)
	if err != nil {
		t.Fatal(err)
	}
	// The pretrained values came along.
	k := m.Param("resnet-small/stage1/block1/conv1/kernel")
	if k == nil || k.Value != base.Param("stage1/block1/conv1/kernel").Value {
		t.Fatalf("nested parameter %v does not share the base's tensor", k)
	}
	if bb, err := zoo.Backbone(m, "resnet-small"); err != nil || len(bb) == 0 || bb[0] != "resnet-small/stem/conv" {
		t.Fatalf("backbone %v, %v", bb, err)
	}
	if err := zoo.FreezeBackbone(m, "resnet-small"); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		if p.Trainable != strings.HasPrefix(p.Name, "classifier/") {
			t.Errorf("%s: trainable %v after freezing the base", p.Name, p.Trainable)
		}
	}
	s := m.Summary()
	if !regexp.MustCompile(`resnet-small \(Model\) +\(None, 64\) +[0-9,]+ +N`).MatchString(s) || strings.Contains(s, "stage1") {
		t.Errorf("summary does not show the frozen base as one row:\n%s", s)
	}
	if e := m.Summary(nn.ExpandNested()); !strings.Contains(e, "resnet-small/stage3/block3/conv2 (Conv2D)") {
		t.Errorf("expanded summary lacks the base's layers:\n%s", e)
	}
	dot, err := m.DOT(nn.DOTConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(dot, []byte("subgraph cluster")) || !bytes.Contains(dot, []byte("resnet-small")) {
		t.Errorf("diagram has no cluster for the base")
	}

	// A training step leaves the frozen base's batch-norm statistics alone.
	mean := m.Param("resnet-small/stem/bn/moving_mean")
	if mean == nil {
		var names []string
		for _, p := range m.Params() {
			names = append(names, p.Name)
		}
		t.Fatalf("no stem batch norm among %v", names)
	}
	before := append([]float32(nil), mean.Value.Data().([]float32)...)
	gr, err := m.Compile(4, nn.Train)
	if err != nil {
		t.Fatal(err)
	}
	img := tensor.New(tensor.WithShape(4, 28, 28, 1), tensor.WithBacking(make([]float32, 4*28*28)))
	for i, d := 0, img.Data().([]float32); i < len(d); i++ {
		d[i] = float32(i%29) / 29
	}
	if err := gr.Run(img, []int{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	for i, v := range mean.Value.Data().([]float32) {
		if v != before[i] {
			t.Fatalf("a frozen batch norm's moving mean changed: %v -> %v", before[i], v)
		}
	}
	if n := len(gr.GradParams()); n != 2 {
		t.Errorf("%d parameters get gradients; want the classifier's 2", n)
	}

	// Phase two: unfreeze the base's last stage, found by the zoo's metadata.
	if stage, err := zoo.LastStage(m, "resnet-small"); err != nil || len(stage) != 1 || stage[0] != "resnet-small/stage3/" {
		t.Fatalf("last stage %v, %v", stage, err)
	}
	if err := zoo.UnfreezeLastStage(m, "resnet-small"); err != nil {
		t.Fatal(err)
	}
	if s := m.Summary(); !regexp.MustCompile(`resnet-small \(Model\) .* partly`).MatchString(s) {
		t.Errorf("summary does not show the base partly trainable:\n%s", s)
	}

	// Save and reload the whole model.
	path := filepath.Join(t.TempDir(), "digits.safetensors")
	if err := train.Save(path, m, nil, train.Checkpoint{}); err != nil {
		t.Fatal(err)
	}
	c, err := train.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Model.Summary(), m.Summary(); got != want {
		t.Errorf("reloaded summary:\n%s\nwant:\n%s", got, want)
	}
	var outs [2][]float32
	for i, mm := range []*nn.Model{m, c.Model} {
		gr, err := mm.Compile(4, nn.Eval)
		if err != nil {
			t.Fatal(err)
		}
		if err := gr.Run(img, nil); err != nil {
			t.Fatal(err)
		}
		outs[i] = append([]float32(nil), gr.Output().Data().([]float32)...)
	}
	for i := range outs[0] {
		if outs[0][i] != outs[1][i] {
			t.Fatalf("reloaded model's output %v; want %v", outs[1][:10], outs[0][:10])
		}
	}
}

func TestCallErrors(t *testing.T) {
	base, err := zoo.New("fashion-cnn", zoo.IncludeHead(false))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		build func(b *nn.Builder)
		want  string
	}{
		{func(b *nn.Builder) { b.Call(base, b.Input(32, 32, 1)) }, `layer "fashion-cnn" (Model): input 0 has shape (None, 32, 32, 1); the model takes (None, 28, 28, 1)`},
		{func(b *nn.Builder) { b.Call(base) }, "takes 1 inputs, got 0"},
		{func(b *nn.Builder) { x := b.Input(28, 28, 1); b.Call(base, x); b.Call(base, x) }, `layer "fashion-cnn/conv2d" (Conv2D): name used twice`},
	} {
		b := nn.NewBuilder("outer")
		c.build(b)
		if err := b.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v; want %q", err, c.want)
		}
	}
	// Two calls of one model in two blocks share its weights.
	b := nn.NewBuilder("siamese")
	x1, x2 := b.Input(28, 28, 1), b.Input(28, 28, 1)
	y1 := b.Block("left").Call(base, x1)
	y2 := b.Block("right").Call(base, x2)
	d := b.Apply(nn.Subtract(), y1, y2)
	m, err := b.Model(b.Apply(nn.Dense(2, nn.Activation(nn.Softmax)), d))
	if err != nil {
		t.Fatal(err)
	}
	if m.Param("left/fashion-cnn/conv2d/kernel").Value != m.Param("right/fashion-cnn/conv2d/kernel").Value {
		t.Error("the two calls do not share the base's weights")
	}
	if got := m.Nested(); len(got) != 2 || got[0] != "left/fashion-cnn" {
		t.Errorf("nested %v", got)
	}
}
