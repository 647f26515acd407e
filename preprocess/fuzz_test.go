package preprocess

import (
	"image/color"
	"testing"
)

// FuzzDecode: no bytes, however crafted, make Decode panic or return input of the wrong
// size; with the invert modes and both resize rules.
func FuzzDecode(f *testing.F) {
	f.Add(encodeF(f, "png"), uint8(0))
	f.Add(encodeF(f, "jpeg"), uint8(1))
	f.Add([]byte("\x89PNG\r\n\x1a\n"), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, mode uint8) {
		c, err := Config{Background: Dark, Trim: mode&4 != 0, Resize: []Resize{Fit, Stretch}[mode&1]}.ForInput([]int{8, 6, 3})
		if err != nil {
			t.Fatal(err)
		}
		inv := []Invert{InvertAuto, InvertYes, InvertNo}[int(mode>>1)%3]
		x, _, err := c.Decode(b, "fuzz", WithInvert(inv), MaxPixels(1<<16))
		if err == nil && len(x) != 8*6*3 {
			t.Fatalf("%d values", len(x))
		}
	})
}

func encodeF(f *testing.F, format string) []byte {
	b := encodeBytes(product(20, 12, color.White, color.Black), format)
	if b == nil {
		f.Fatalf("cannot encode a %s", format)
	}
	return b
}
