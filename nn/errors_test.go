package nn_test

import (
	"errors"
	"testing"

	pkgerrors "github.com/pkg/errors"

	"github.com/convgraph/convgraph/nn"
)

// Every way of building a model reports a layer's problem as a *nn.LayerError that
// survives github.com/pkg/errors wrapping, with the layer's name and kind.
func TestLayerErrorsAs(t *testing.T) {
	cases := []struct {
		what        string
		build       func() error
		layer, kind string
	}{
		{"bad option", func() error {
			_, err := nn.Sequential("m", nn.Input(4), nn.Dense(3, nn.Padding(nn.Same)))
			return err
		}, "dense", "Dense"},
		{"bad value", func() error {
			_, err := nn.Sequential("m", nn.Input(4), nn.Dense(0))
			return err
		}, "dense", "Dense"},
		{"shape", func() error {
			_, err := nn.Sequential("m", nn.Input(4), nn.Conv2D(3, 3))
			return err
		}, "conv2d", "Conv2D"},
		{"nested block", func() error {
			b := nn.NewBuilder("m")
			x := b.Input(8, 8, 3)
			y := b.Block("stage1").Apply(nn.Conv2D(4, 3, nn.Name("conv1")), x)
			b.Block("stage1").Apply(nn.Add(), x, y)
			_, err := b.Model(y)
			return err
		}, "stage1/add", "Add"},
		{"spec unknown type", func() error {
			_, err := nn.UnmarshalSpec([]byte(`{"name":"m","layers":[{"class_name":"InputLayer","name":"input","config":{"shape":[4]}},{"class_name":"Magic","name":"x","inbound":["input"]}],"output":"x"}`))
			return err
		}, "x", "Magic"},
		{"spec bad input", func() error {
			_, err := nn.UnmarshalSpec([]byte(`{"name":"m","layers":[{"class_name":"InputLayer","name":"input","config":{"shape":[4]}},{"class_name":"Dense","name":"d","config":{"units":2},"inbound":["nope"]}],"output":"d"}`))
			return err
		}, "d", "Dense"},
	}
	for _, c := range cases {
		err := pkgerrors.Wrap(c.build(), "outer")
		var le *nn.LayerError
		if !errors.As(err, &le) {
			t.Errorf("%s: %v is not a *nn.LayerError", c.what, err)
			continue
		}
		if le.Layer != c.layer || le.Kind != c.kind || le.Err == nil {
			t.Errorf("%s: LayerError{%q, %q, %v}; want layer %q kind %q", c.what, le.Layer, le.Kind, le.Err, c.layer, c.kind)
		}
		if pkgerrors.Cause(err) != error(le) {
			t.Errorf("%s: pkg/errors Cause is %v, not the LayerError", c.what, pkgerrors.Cause(err))
		}
	}
}
