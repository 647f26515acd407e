package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestRegression(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-epochs", "2", "-n", "512"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"coverage (Dense)", "val_loss", "validation mean absolute error"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// The CNN beats predicting the mean even after two short epochs.
	var mae, base float64
	i := strings.Index(out.String(), "validation mean absolute error")
	if _, err := fmt.Sscanf(out.String()[i:], "validation mean absolute error: %f (predicting the mean: %f)", &mae, &base); err != nil {
		t.Fatal(err)
	}
	if !(mae < base) {
		t.Errorf("mean absolute error %v; predicting the mean gives %v", mae, base)
	}
}
