package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/draw"

	"github.com/convgraph/convgraph/data"
)

// photos writes n "product photos" made from Fashion-MNIST test images: each item
// inverted (a dark object on white, as shop photos are) and enlarged into a white canvas
// of w x h pixels with its aspect ratio kept. It returns the files and their classes.
func photos(t *testing.T, dir string, n, w, h int) ([]string, []string) {
	t.Helper()
	s, err := data.Sample(data.FashionMNIST)
	if err != nil {
		t.Fatal(err)
	}
	var paths, classes []string
	for i := range n {
		item := image.NewGray(image.Rect(0, 0, 28, 28))
		for j, p := range s.Test.Image(i) {
			item.Pix[j] = 255 - p
		}
		canvas := image.NewGray(image.Rect(0, 0, w, h))
		draw.Draw(canvas, canvas.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		side := min(w, h)
		x0, y0 := (w-side)/2, (h-side)/2
		draw.BiLinear.Scale(canvas, image.Rect(x0, y0, x0+side, y0+side), item, item.Bounds(), draw.Src, nil)
		path := filepath.Join(dir, fmt.Sprintf("photo%d-%dx%d.png", i, w, h))
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, canvas); err != nil {
			t.Fatal(err)
		}
		f.Close()
		paths = append(paths, path)
		classes = append(classes, s.Test.Classes[s.Test.Label(i)])
	}
	return paths, classes
}

// TestPredictPhotosOnWhite runs the built binary on generated product photos (dark
// objects on white, wide and tall): predict finds the light background, says so on
// stderr and inverts by default, which recovers the classes; --invert no reproduces the
// misreading ("Bag" for nearly everything) and warns.
func TestPredictPhotosOnWhite(t *testing.T) {
	bin := sharedBinary(t)
	dir := t.TempDir()
	const n = 20
	wide, classes := photos(t, dir, n, 240, 160)
	tall, _ := photos(t, dir, n, 150, 225)
	for _, set := range []struct {
		name  string
		paths []string
	}{{"wide", wide}, {"tall", tall}} {
		right := map[string]int{}
		for _, mode := range []string{"auto", "no"} {
			args := append([]string{"predict", "--model", "fashion-cnn", "--pretrained", "--top", "1", "--invert", mode}, set.paths...)
			code, stdout, stderr := runBin(t, bin, dir, nil, args...)
			if code != 0 {
				t.Fatalf("%s %s: exit %d, %q", set.name, mode, code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			if len(lines) != n {
				t.Fatalf("%s %s: %d lines: %q", set.name, mode, len(lines), stdout)
			}
			for i, l := range lines {
				if strings.HasPrefix(l, set.paths[i]+": "+classes[i]+" ") {
					right[mode]++
				}
			}
			want := "light background, but the model was trained on dark backgrounds: inverted the image (--invert no keeps it)"
			if mode == "no" {
				want = "not inverted, so the prediction may be wrong (--invert yes inverts it)"
			}
			if strings.Count(stderr, want) != n {
				t.Errorf("%s %s: stderr %q, want %q for every image", set.name, mode, stderr, want)
			}
		}
		t.Logf("%s photos: %d of %d right inverted, %d without", set.name, right["auto"], n, right["no"])
		if right["auto"] < 13 || right["no"] > 4 { // measured: 15 and 0 of 20 (the 28x28 originals: 17)
			t.Errorf("%s photos: %d of %d right inverted, %d without", set.name, right["auto"], n, right["no"])
		}
	}
	// Fashion-MNIST's own images (dark backgrounds) get no notice, and a bad mode is a
	// usage error.
	img := filepath.Join(dir, "item.png")
	writeFile(t, img, pngBytes(t, 28, 28))
	if code, _, stderr := runBin(t, bin, dir, nil, "predict", "--model", "fashion-cnn", "--pretrained", img); code != 0 || stderr != "" {
		t.Errorf("dark image: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := runBin(t, bin, dir, nil, "predict", "--model", "fashion-cnn", "--pretrained", "--invert", "maybe", img); code != 2 || !strings.Contains(stderr, `--invert "maybe": want auto, yes or no`) {
		t.Errorf("bad --invert: exit %d, stderr %q", code, stderr)
	}
}
