package zoo_test

import (
	"fmt"
	"strings"
	"testing"

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
