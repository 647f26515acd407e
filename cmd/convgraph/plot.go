package main

import (
	"io"
	"path/filepath"

	"github.com/convgraph/convgraph/train"
)

// plotHistory draws the training curves (loss and accuracy per epoch, train and
// validation) to DIR/curves.png, as the course shows them.
func plotHistory(dir string, h *train.History, stderr io.Writer) error {
	return train.PlotHistory(h, filepath.Join(dir, "curves.png"))
}
