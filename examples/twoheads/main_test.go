package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestTwoHeads(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-epochs", "3", "-n", "256"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"input_1 (InputLayer)", "class_loss", "validation: class accuracy"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
