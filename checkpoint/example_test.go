package checkpoint_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/convgraph/convgraph/checkpoint"
	"github.com/convgraph/convgraph/nn"
)

// Transfer learning: weights saved from a 10-class model go into the same network with a
// 3-class head; the head keeps its fresh weights and the report says so.
func ExampleLoadWeightsPartial() {
	build := func(classes int) *nn.Model {
		m, err := nn.Sequential("net", nn.Input(8), nn.Dense(16, nn.Activation(nn.ReLU)), nn.Dense(classes, nn.Activation(nn.Softmax)))
		if err != nil {
			log.Fatal(err)
		}
		return m
	}
	dir, err := os.MkdirTemp("", "checkpoint")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "net.safetensors")
	if err := checkpoint.Write(path, build(10), nil, nil); err != nil {
		log.Fatal(err)
	}
	rep, err := checkpoint.LoadWeightsPartial(path, build(3))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("loaded:", rep.Loaded)
	for _, s := range rep.Skipped {
		fmt.Printf("skipped %s: %s\n", s.Param, s.Reason)
	}
	// Output:
	// loaded: [dense/kernel dense/bias]
	// skipped dense_1/kernel: shape [16 10] in the checkpoint, [16 3] in the model
	// skipped dense_1/bias: shape [10] in the checkpoint, [3] in the model
}
