package nn_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/nn"
)

// Sizes a spec (or code) asks for are bounded before anything is allocated: a model of
// more than 1<<28 parameters, an example of more than 1<<26 values at any layer, or a
// convolution whose im2col workspace per example exceeds 1<<26 values is an error naming
// the layer.
func TestSizeLimits(t *testing.T) {
	spec := func(input, layer string) string {
		return `{"name":"m","layers":[{"class_name":"InputLayer","name":"input","config":{"shape":` + input + `}},` +
			layer + `],"output":"x"}`
	}
	for _, c := range []struct{ js, want string }{
		{spec(`[784]`, `{"class_name":"Dense","name":"x","config":{"units":1000000000},"inbound":["input"]}`),
			`layer "x" (Dense): 1000000000 units or 0 filters: more than the limit of 67108864`},
		{spec(`[784]`, `{"class_name":"Dense","name":"x","config":{"units":60000000},"inbound":["input"]}`),
			`layer "x" (Dense): parameter "kernel" of shape [784 60000000] would take the model over the limit of 268435456 parameters`},
		{spec(`[100000,100000,3]`, `{"class_name":"Flatten","name":"x","inbound":["input"]}`),
			`input shape [100000 100000 3] has more than 67108864 values`},
		{spec(`[9223372036854775807,2,2]`, `{"class_name":"Flatten","name":"x","inbound":["input"]}`),
			`has more than 67108864 values`},
		{spec(`[1024,1024,3]`, `{"class_name":"Conv2D","name":"x","config":{"filters":8,"kernel_size":[99,99],"padding":"same"},"inbound":["input"]}`),
			`layer "x" (Conv2D): kernel 99x99 over 3 channels and a 1024x1024 output needs more than 67108864 values of workspace per example`},
		{spec(`[4096,4096,1]`, `{"class_name":"Conv2D","name":"x","config":{"filters":8,"kernel_size":[1,1]},"inbound":["input"]}`),
			`layer "x" (Conv2D): output shape (None, 4096, 4096, 8) has more than 67108864 values per example`},
		{spec(`[8,8,1]`, `{"class_name":"Conv2D","name":"x","config":{"filters":2,"kernel_size":[3,3],"padding":"explicit"},"inbound":["input"]}`),
			`explicit padding needs 4 sizes`},
		{spec(`[8,8,1]`, `{"class_name":"Conv2D","name":"x","config":{"filters":2,"kernel_size":[3,3],"strides":[0,0]},"inbound":["input"]}`),
			`strides [0 0] must be two positive sizes`},
		{spec(`[8,8,1]`, `{"class_name":"MaxPooling2D","name":"x","inbound":["input"]}`),
			`layer "x" (MaxPooling2D): pool size [] must be two positive sizes`},
		{spec(`[8,8,1]`, `{"class_name":"Conv2D","name":"x","config":{"filters":2,"kernel_size":[3,3],"padding":"reflect"},"inbound":["input"]}`),
			`padding "reflect" is not`},
		{spec(`[4]`, `{"class_name":"BatchNormalization","name":"x","config":{"momentum":7},"inbound":["input"]}`),
			`momentum 7 must be in [0, 1)`},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := nn.UnmarshalSpec([]byte(c.js))
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\nerror %v\nwant %q", c.js, err, c.want)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Errorf("%s: allocated %d bytes before failing", c.js, grew)
		}
	}
}

// The options' own checks hold for layers made in code too: a pool of size 0 is an error
// naming the layer, not a division by zero.
func TestZeroPoolIsAnError(t *testing.T) {
	for _, l := range []*nn.Layer{nn.MaxPool2D(0), nn.AvgPool2D(-2), nn.MaxPool2D(2, nn.Strides(0))} {
		_, err := nn.Sequential("m", nn.Input(8, 8, 1), l, nn.Flatten(), nn.Dense(2))
		if err == nil || !strings.Contains(err.Error(), "pool") {
			t.Errorf("%s: %v", l.Kind(), err)
		}
	}
}
