package console_test

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/convgraph/convgraph/internal/console"
)

func TestCommas(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 333526: "333,526",
		-1234567: "-1,234,567", 1 << 40: "1,099,511,627,776"} {
		if got := console.Commas(n); got != want {
			t.Errorf("Commas(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if console.IsTerminal(f) || console.IsTerminal(&bytes.Buffer{}) || console.IsTerminal(nil) {
		t.Error("a regular file, a buffer or nil taken for a terminal")
	}
}

func ExampleCommas() {
	fmt.Println(console.Commas(333526))
	// Output: 333,526
}
