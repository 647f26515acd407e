// Command zooweights turns a training run's checkpoint into the weights file the zoo ships:
// the weights, the model spec and the history, without the optimizer state. It prints the
// file's SHA-256 for zoo/pretrained.go.
//
//	go run ./tools/zooweights -in runs/zoo-fashion-cnn/model.safetensors -out zoo/weights/fashion-cnn.safetensors
//
// tools/zooweights/recipe.sh trains every zoo model and runs this on each.
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"os"

	"github.com/convgraph/convgraph/train"
)

func main() {
	in := flag.String("in", "", "checkpoint written by convgraph train")
	out := flag.String("out", "", "weights file to write")
	flag.Parse()
	if *in == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "zooweights: -in and -out are required")
		os.Exit(2)
	}
	c, err := train.Load(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zooweights:", err)
		os.Exit(1)
	}
	extra := map[string]string{}
	for k, v := range c.Extra {
		extra[k] = v
	}
	if err := train.Save(*out, c.Model, nil, train.Checkpoint{Epoch: c.Epoch, Step: c.Step, Seed: c.Seed, History: c.History, Extra: extra}); err != nil {
		fmt.Fprintln(os.Stderr, "zooweights:", err)
		os.Exit(1)
	}
	b, err := os.ReadFile(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zooweights:", err)
		os.Exit(1)
	}
	fmt.Printf("%x  %s (%d bytes)\n", sha256.Sum256(b), *out, len(b))
}
