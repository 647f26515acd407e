package data_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/data"
)

// imageSeeds are small images of every kind the decoders take: gray, RGBA, paletted and
// 16-bit PNGs, gray and colour JPEGs, and broken ones.
func imageSeeds(tb testing.TB) map[string][]byte {
	tb.Helper()
	enc := func(img image.Image, jpg bool) []byte {
		var buf bytes.Buffer
		var err error
		if jpg {
			err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
		} else {
			err = png.Encode(&buf, img)
		}
		if err != nil {
			tb.Fatal(err)
		}
		return buf.Bytes()
	}
	r := image.Rect(0, 0, 5, 3)
	gray, rgba, gray16 := image.NewGray(r), image.NewNRGBA(r), image.NewGray16(r)
	pal := image.NewPaletted(r, color.Palette{color.Black, color.White, color.RGBA{255, 0, 0, 128}})
	for y := range 3 {
		for x := range 5 {
			v := uint8(40*x + 60*y)
			gray.SetGray(x, y, color.Gray{v})
			rgba.SetNRGBA(x, y, color.NRGBA{v, 255 - v, uint8(x * 50), uint8(100 + 30*y)})
			gray16.SetGray16(x, y, color.Gray16{uint16(v) * 257})
			pal.SetColorIndex(x, y, uint8((x+y)%3))
		}
	}
	seeds := map[string][]byte{
		"gray.png":   enc(gray, false),
		"rgba.png":   enc(rgba, false),
		"gray16.png": enc(gray16, false),
		"pal.png":    enc(pal, false),
		"gray.jpg":   enc(gray, true),
		"rgba.jpg":   enc(rgba, true),
		"empty":      nil,
		"text":       []byte("hello, not an image"),
		"gif":        []byte("GIF89a\x05\x00\x03\x00\x00\x00\x00;"),
		"huge.png":   pngHeader(100000, 100000),
	}
	seeds["truncated.png"] = seeds["rgba.png"][:len(seeds["rgba.png"])/2]
	seeds["truncated.jpg"] = seeds["rgba.jpg"][:len(seeds["rgba.jpg"])/2]
	return seeds
}

// pngHeader is a PNG signature and an IHDR chunk (with a correct CRC) for a w x h 8-bit
// RGBA image, and no pixels: a file that claims to be enormous.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	chunk := binary.BigEndian.AppendUint32([]byte("IHDR"), w)
	chunk = binary.BigEndian.AppendUint32(chunk, h)
	chunk = append(chunk, 8, 6, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, chunk...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
}

// FuzzReadImage writes arbitrary bytes to a file and reads it with ReadImage at a fuzzed
// size and channel count. It returns exactly h*w*c bytes or an error that names the
// file; it never panics, and a header that promises a huge image is refused before the
// pixels are allocated.
//
//	go test -run '^$' -fuzz '^FuzzReadImage$' -fuzztime 1m ./data
func FuzzReadImage(f *testing.F) {
	for _, b := range imageSeeds(f) {
		f.Add(b, uint8(28), uint8(28), uint8(1))
		f.Add(b, uint8(3), uint8(5), uint8(3))
	}
	path := filepath.Join(f.TempDir(), "image.png")
	f.Fuzz(func(t *testing.T, b []byte, h, w, c uint8) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		hh, ww, cc := int(h%64), int(w%64), int(c%5)
		px, err := data.ReadImage(path, hh, ww, cc)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(px) != hh*ww*cc {
			t.Fatalf("%d bytes for %dx%dx%d", len(px), hh, ww, cc)
		}
	})
}

// A file that claims 100000x100000 pixels is refused by its header, before any pixel
// memory is allocated.
func TestReadImageRefusesHugeHeaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.png")
	if err := os.WriteFile(path, pngHeader(100000, 100000), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := data.ReadImage(path, 28, 28, 1)
	if err == nil || !strings.Contains(err.Error(), "100000x100000 pixels is too large") || !strings.Contains(err.Error(), path) {
		t.Errorf("got %v", err)
	}
}
