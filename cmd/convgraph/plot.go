package main

import (
	"io"

	"github.com/convgraph/convgraph/train"
)

// plotHistory draws the training curves next to the history (replaced by the plot
// library's renderer when it lands).
func plotHistory(dir string, h *train.History, stderr io.Writer) error { return nil }
