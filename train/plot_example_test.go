package train_test

import (
	"fmt"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/convgraph/convgraph/train"
)

func ExamplePlotHistory() {
	dir, err := os.MkdirTemp("", "convgraph-plot")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// Usually the History comes from train.Fit; these are five epochs of a small CNN.
	h := &train.History{Model: "fashion-cnn"}
	for i, loss := range []float64{0.52, 0.34, 0.29, 0.26, 0.24} {
		h.Epochs = append(h.Epochs, train.EpochLogs{
			Epoch: i + 1, Loss: loss, Accuracy: 1 - loss/2.5,
			ValLoss: loss + 0.05, ValAccuracy: 1 - (loss+0.05)/2.5,
		})
	}
	path := filepath.Join(dir, "curves.png")
	if err := train.PlotHistory(h, path, train.PlotSize(800, 300)); err != nil {
		log.Fatal(err)
	}

	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(filepath.Base(path), img.Bounds())

	// Without validation data the validation curves are left out.
	for i := range h.Epochs {
		h.Epochs[i].ValLoss, h.Epochs[i].ValAccuracy = math.NaN(), math.NaN()
	}
	fmt.Println(train.PlotHistory(h, filepath.Join(dir, "train-only.svg")))

	fmt.Println(train.PlotHistory(h, "curves.bmp"))
	fmt.Println(train.PlotHistory(&train.History{}, "curves.png"))
	// Output:
	// curves.png (0,0)-(800,300)
	// <nil>
	// train: plot "curves.bmp": unknown format (want .png or .svg)
	// train: plot "curves.png": empty history
}
