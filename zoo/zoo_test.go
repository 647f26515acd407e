package zoo_test

import (
	"fmt"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/zoo"
)

func TestCourseModels(t *testing.T) {
	for name, want := range map[string]int{"fashion-cnn": 333526, "mlp": 784*100 + 100 + 100*10 + 10, "logreg": 7850} {
		m, err := zoo.New(name)
		if err != nil {
			t.Fatal(err)
		}
		if total, _, _ := m.ParamCounts(); total != want {
			t.Errorf("%s: %d parameters; want %d", name, total, want)
		}
	}
}

func TestUnknownModel(t *testing.T) {
	_, err := zoo.New("resnet-9000")
	if err == nil || !strings.Contains(err.Error(), `unknown model "resnet-9000"`) || !strings.Contains(err.Error(), "fashion-cnn") {
		t.Fatalf("error %v", err)
	}
	if _, err := zoo.New("mlp", zoo.Classes(1)); err == nil {
		t.Error("1 class accepted")
	}
}

func ExampleNew() {
	m, err := zoo.New("fashion-cnn", zoo.Classes(10))
	if err != nil {
		fmt.Println(err)
		return
	}
	total, _, _ := m.ParamCounts()
	fmt.Println(m.Name(), m.InputShape(), "->", m.OutputShape(), total, "parameters")
	// Output: fashion-cnn (None, 28, 28, 1) -> (None, 10) 333526 parameters
}

// mobilenet-small: its parameter count matches the PyTorch twin in bench/torch_bench.py
// (72,842 trainable; batch norm's 2,240 moving statistics besides), it takes RGB and
// other sizes, and without its head it ends at its 256 features.
func TestMobileNetSmall(t *testing.T) {
	m, err := zoo.New("mobilenet-small")
	if err != nil {
		t.Fatal(err)
	}
	if total, trainable, _ := m.ParamCounts(); total != 75082 || trainable != 72842 {
		t.Errorf("%d parameters, %d trainable; want 75,082 and 72,842", total, trainable)
	}
	kinds := map[string]int{}
	for _, l := range m.Layers() {
		kinds[l.Kind]++
	}
	if kinds["DepthwiseConv2D"] != 6 || kinds["BatchNormalization"] != 13 {
		t.Errorf("layer kinds %v; want 6 depthwise convolutions and 13 batch norms", kinds)
	}
	rgb, err := zoo.New("mobilenet-small", zoo.InputShape(32, 32, 3), zoo.IncludeHead(false), zoo.Width(0.5))
	if err != nil {
		t.Fatal(err)
	}
	if got := rgb.OutputShape(); len(got) != 1 || got[0] != 128 {
		t.Errorf("backbone output %v; want (None, 128)", got)
	}
	gr, err := m.Compile(2, nn.Train)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.WithShape(2, 28, 28, 1), tensor.Of(tensor.Float32))
	if err := gr.Run(x, []int{1, 7}); err != nil {
		t.Fatal(err)
	}
	if l := gr.Loss(); !(l > 2 && l < 2.6) {
		t.Errorf("untrained loss %v; want about ln 10", l)
	}
}
