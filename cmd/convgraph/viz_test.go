package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/convgraph/convgraph/data"
)

// sampleImage writes test image i of the bundled Fashion-MNIST sample as a PNG.
func sampleImage(t *testing.T, dir string, i int) string {
	t.Helper()
	s, err := data.Sample("fashion-mnist")
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, s.Test.Width(), s.Test.Height()))
	copy(img.Pix, s.Test.Image(i))
	path := filepath.Join(dir, "sample.png")
	writeTestPNG(t, path, img)
	return path
}

func writeTestPNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readTestPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestVizFilters(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args               []string
		width, height      int // 2-pixel lines between and around tiles
		tilesX, tilesY, px int
	}{
		// 32 filters of one channel: a 6x6 grid of 3x3 kernels at 16 pixels a cell.
		{[]string{"--model", "fashion-cnn", "--layer", "conv2d"}, 6*(48+2) + 2, 6*(48+2) + 2, 6, 6, 48},
		// 64 filters x 32 channels, at --scale 2.
		{[]string{"--model", "fashion-cnn", "--layer", "conv2d_1", "--scale", "2"}, 64*(6+2) + 2, 32*(6+2) + 2, 64, 32, 6},
		// A nested layer of the residual zoo model.
		{[]string{"--model", "resnet-small", "--layer", "stage2/block1/shortcut", "--scale", "4"}, 32*(4+2) + 2, 16*(4+2) + 2, 32, 16, 4},
	} {
		out := filepath.Join(dir, "filters.png")
		args := append(append([]string{"viz", "filters"}, c.args...), "-o", out)
		if code, _, errs := runCLI(args...); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errs)
		}
		img := readTestPNG(t, out)
		if b := img.Bounds(); b.Dx() != c.width || b.Dy() != c.height {
			t.Errorf("%q: %dx%d, want %dx%d", args, b.Dx(), b.Dy(), c.width, c.height)
		}
		// Tiles are grey, lines between them are not.
		r, g, b, _ := img.At(2+c.px/2, 2+c.px/2).RGBA()
		if r != g || g != b {
			t.Errorf("%q: first tile is not grey", args)
		}
		if got := color.RGBAModel.Convert(img.At(1, 1)).(color.RGBA); got != gridLine {
			t.Errorf("%q: border is %v", args, got)
		}
	}
}

func TestVizFeatures(t *testing.T) {
	dir := t.TempDir()
	in := sampleImage(t, dir, 1)
	for _, c := range []struct {
		layer         string
		width, height int
	}{
		{"conv2d", 6*(28*7+2) + 2, 6*(28*7+2) + 2},          // 32 maps of 28x28, 7 pixels a value
		{"max_pooling2d_1", 8*(7*16+2) + 2, 8*(7*16+2) + 2}, // 64 maps of 7x7
		{"dense", 10*16 + 4, 10*16 + 4},                     // 100 units in a 10x10 tile
	} {
		out := filepath.Join(dir, c.layer+".png")
		args := []string{"viz", "features", "--model", "fashion-cnn", "--pretrained", "--layer", c.layer, "--image", in, "-o", out}
		if code, _, errs := runCLI(args...); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errs)
		}
		img := readTestPNG(t, out)
		if b := img.Bounds(); b.Dx() != c.width || b.Dy() != c.height {
			t.Errorf("%s: %dx%d, want %dx%d", c.layer, b.Dx(), b.Dy(), c.width, c.height)
		}
		// Maps are scaled to span black to white.
		var dark, light bool
		b := img.Bounds()
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				if r == g && g == bl {
					dark = dark || r>>8 == 0
					light = light || r>>8 == 255
				}
			}
		}
		if !dark || !light {
			t.Errorf("%s: the maps do not span black to white", c.layer)
		}
	}
}

func TestVizBadInput(t *testing.T) {
	dir := t.TempDir()
	in := sampleImage(t, dir, 0)
	big := filepath.Join(dir, "big.png")
	writeTestPNG(t, big, image.NewGray(image.Rect(0, 0, 32, 30)))
	text := filepath.Join(dir, "notes.png")
	if err := os.WriteFile(text, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.png")
	f := []string{"viz", "features", "--model", "fashion-cnn", "--layer", "conv2d"}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"viz", "filters", "--model", "fashion-cnn", "--layer", "conv9", "-o", out}, 2,
			`model "fashion-cnn" has no layer "conv9" (layers: conv2d, max_pooling2d, conv2d_1, max_pooling2d_1, flatten, dense, dropout, dense_1)`},
		{[]string{"viz", "filters", "--model", "fashion-cnn", "--layer", "dense", "-o", out}, 2,
			`layer "dense" is a Dense, not a Conv2D (Conv2D layers: conv2d, conv2d_1)`},
		{[]string{"viz", "filters", "--model", "fashion-cnn", "--layer", "conv2d", "-o", filepath.Join(dir, "f.jpg")}, 2, `unknown output format ".jpg"`},
		{[]string{"viz", "filters", "--model", "fashion-cnn", "--layer", "conv2d"}, 2, "needs -o FILE.png"},
		{[]string{"viz", "filters", "--model", "fashion-cnn", "-o", out}, 2, "needs --layer NAME"},
		{[]string{"viz", "filters", "--layer", "conv2d", "-o", out}, 2, "needs --model NAME"},
		{[]string{"viz", "filters", "--model", "nope", "--layer", "conv2d", "-o", out}, 2, `unknown model "nope"`},
		{[]string{"viz", "filters", "--model", "fashion-cnn", "--layer", "conv2d", "--scale", "-1", "-o", out}, 2, "--scale -1"},
		{[]string{"viz", "filters", "--model", "fashion-cnn", "--layer", "conv2d", "-o", filepath.Join(dir, "no", "f.png")}, 1,
			`cannot write "` + filepath.Join(dir, "no", "f.png") + `": no such file or directory`},
		{append(f, "-o", out), 2, "needs --image FILE"},
		{append(f, "--image", text, "-o", out), 1, text + `: cannot decode image`},
		{append(f, "--image", filepath.Join(dir, "none.png"), "-o", out), 1, `none.png": no such file or directory`},
		{append(f, "--image", in, "-o", filepath.Join(dir, "out.svg")), 2, `unknown output format ".svg"`},
		{append(f, "--image", in, "--layer", "nope", "-o", out), 2, `has no layer "nope"`},
	} {
		code, _, errs := runCLI(c.args...)
		checkOneLine(t, c.args, code, c.code, errs, c.want)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a failed run wrote %s", out)
	}
	// An image of another size is read as predict reads it (fitted to 28x28).
	if code, _, errs := runCLI(append(f, "--image", big, "-o", out)...); code != 0 {
		t.Errorf("viz features on a 32x30 image: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("viz features on a 32x30 image wrote nothing: %v", err)
	}
}
