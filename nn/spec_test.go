package nn_test

import (
	"strings"
	"testing"

	"github.com/convgraph/convgraph/nn"
)

func TestSpecRoundTrip(t *testing.T) {
	b := nn.NewBuilder("res")
	x := b.Input(8, 8, 3)
	y := b.Apply(nn.Conv2D(4, 3, nn.Padding(nn.Same), nn.Strides(2), nn.UseBias(false)), x)
	blk := b.Block("stage1/block1")
	z := blk.Apply(nn.BatchNorm(nn.Momentum(0.9), nn.Name("bn")), y)
	z = blk.Apply(nn.Conv2D(4, 3, nn.ExplicitPadding(1, 1, 1, 1), nn.Name("conv")), z)
	z = blk.Apply(nn.Add(), y, z)
	z = b.Apply(nn.GlobalAvgPool2D(), z)
	z = b.Apply(nn.Dense(5, nn.Activation(nn.Softmax)), z)
	m, err := b.Model(z)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Freeze("stage1/"); err != nil {
		t.Fatal(err)
	}
	js, err := m.MarshalSpec()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := nn.UnmarshalSpec(js)
	if err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	if m.Summary() != m2.Summary() {
		t.Errorf("summaries differ:\n%s\n%s", m.Summary(), m2.Summary())
	}
	for _, p := range m.Params() {
		q := m2.Param(p.Name)
		if q == nil || q.Trainable != p.Trainable || !q.Value.Shape().Eq(p.Value.Shape()) {
			t.Errorf("%s: rebuilt as %+v", p.Name, q)
		}
	}
	js2, _ := m2.MarshalSpec()
	if string(js) != string(js2) {
		t.Errorf("spec changed on a round trip:\n%s\n%s", js, js2)
	}
}

func TestBadSpecs(t *testing.T) {
	for _, c := range []struct{ js, want string }{
		{`{`, "nn: model spec"},
		{`{"name":"m","layers":[]}`, "no layers"},
		{`{"name":"m","layers":[{"class_name":"Conv2D","name":"c"}]}`, `the input must come first`},
		{`{"name":"m","layers":[{"class_name":"InputLayer","name":"input","config":{"shape":[4]}},{"class_name":"Magic","name":"x"}],"output":"x"}`, `unknown type "Magic"`},
		{`{"name":"m","layers":[{"class_name":"InputLayer","name":"input","config":{"shape":[4]}},{"class_name":"Dense","name":"d","config":{"units":2},"inbound":["nope"]}],"output":"d"}`, `takes "nope"`},
		{`{"name":"m","layers":[{"class_name":"InputLayer","name":"input","config":{"shape":[4]}},{"class_name":"Dense","name":"d","config":{"units":-2},"inbound":["input"]}],"output":"d"}`, `layer "d" (Dense): units -2 must be positive`},
		{`{"name":"m","layers":[{"class_name":"InputLayer","name":"input","config":{"shape":[4]}}],"output":"zz"}`, `output "zz"`},
	} {
		_, err := nn.UnmarshalSpec([]byte(c.js))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v; want %q", c.js, err, c.want)
		}
	}
}
