package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// A brief run: the service starts, vegeta drives it, and the table has a row per model
// and concurrency with no errors.
func TestLoadtestRunsBriefly(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"fashion-cnn"}, "1,4", 300*time.Millisecond, 200, 32, 2*time.Millisecond, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"| fashion-cnn | 1 |", "| fashion-cnn | 4 |"} {
		if !strings.Contains(text, want) {
			t.Errorf("no row %q in:\n%s", want, text)
		}
	}
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "| fashion-cnn") && !strings.HasSuffix(l, "| 0 |") {
			t.Errorf("errors in %q", l)
		}
	}
}
