package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCustomLoop(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-epochs", "1"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "epoch 1: mean loss") || !strings.Contains(out.String(), "test accuracy 0.") {
		t.Errorf("output:\n%s", out.String())
	}
}
