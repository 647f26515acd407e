package data_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/data"
)

func solid(w, h int, c color.Color) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, buf.Bytes())
}

func writeJPEG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, buf.Bytes())
}

// folder writes root/cat (an RGB PNG, a gray JPEG, a PNG in a sub-folder) and
// root/dog (a JPEG), plus files and folders that must be ignored.
func folder(t *testing.T) string {
	root := t.TempDir()
	writePNG(t, filepath.Join(root, "cat", "a.png"), solid(8, 6, color.NRGBA{200, 100, 50, 255}))
	gray := image.NewGray(image.Rect(0, 0, 4, 4))
	for i := range gray.Pix {
		gray.Pix[i] = 90
	}
	writeJPEG(t, filepath.Join(root, "cat", "b.JPG"), gray)
	writePNG(t, filepath.Join(root, "cat", "more", "c.png"), solid(4, 4, color.NRGBA{0, 0, 255, 255}))
	writeJPEG(t, filepath.Join(root, "dog", "x.jpeg"), solid(5, 3, color.NRGBA{10, 200, 30, 255}))
	writeFile(t, filepath.Join(root, "dog", "notes.txt"), []byte("not an image"))
	writeFile(t, filepath.Join(root, "README"), []byte("ignored"))
	writeFile(t, filepath.Join(root, ".cache", "z.png"), []byte("ignored hidden folder"))
	writeFile(t, filepath.Join(root, "cat", ".d.png"), []byte("ignored hidden file"))
	return root
}

func near(a, b uint8, tol int) bool { d := int(a) - int(b); return d <= tol && d >= -tol }

func TestImageFolder(t *testing.T) {
	root := folder(t)
	d, err := data.ImageFolder(root, 4, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Classes, []string{"cat", "dog"}) || !slices.Equal(d.Labels(), []int{0, 0, 0, 1}) {
		t.Fatalf("classes %q labels %v", d.Classes, d.Labels())
	}
	if d.Height() != 4 || d.Width() != 4 || d.Channels() != 3 || d.Source != root || d.Name != filepath.Base(root) {
		t.Errorf("%v from %s", d, d.Source)
	}
	// Order: a.png, b.JPG, more/c.png; then dog. Solid colours survive resizing.
	want := [][3]uint8{{200, 100, 50}, {90, 90, 90}, {0, 0, 255}, {10, 200, 30}}
	tol := []int{0, 2, 0, 3} // JPEG is lossy
	for i, w := range want {
		img := d.Image(i)
		for p := 0; p < len(img); p += 3 {
			if !near(img[p], w[0], tol[i]) || !near(img[p+1], w[1], tol[i]) || !near(img[p+2], w[2], tol[i]) {
				t.Fatalf("image %d pixel %d: %v, want %v", i, p/3, img[p:p+3], w)
			}
		}
	}

	g, err := data.ImageFolder(root, 2, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	// ITU-R 601 luma, as PIL's convert("L"): 0.299 R + 0.587 G + 0.114 B.
	for i, w := range []uint8{124, 90, 29, 124} {
		for _, p := range g.Image(i) {
			if !near(p, w, tol[i]) {
				t.Fatalf("gray image %d: %v, want %d", i, g.Image(i), w)
			}
		}
	}
}

func TestReadImage(t *testing.T) {
	dir := t.TempDir()
	// A 4×2 RGBA image: left half opaque gradient, right half transparent.
	img := image.NewNRGBA(image.Rect(0, 0, 4, 2))
	for y := range 2 {
		for x := range 4 {
			a := uint8(255)
			if x >= 2 {
				a = 0
			}
			img.SetNRGBA(x, y, color.NRGBA{uint8(10 * (x + 1)), uint8(50 * y), 7, a})
		}
	}
	p := filepath.Join(dir, "x.png")
	writePNG(t, p, img)

	// Same size: exact pixels; transparent ones are black.
	got, err := data.ReadImage(p, 2, 4, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{10, 0, 7, 255, 20, 0, 7, 255, 0, 0, 0, 0, 0, 0, 0, 0,
		10, 50, 7, 255, 20, 50, 7, 255, 0, 0, 0, 0, 0, 0, 0, 0}
	if !slices.Equal(got, want) {
		t.Errorf("RGBA %v, want %v", got, want)
	}
	// Resized up, a horizontal gradient stays monotone in each row.
	got, err = data.ReadImage(p, 4, 8, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4*8*3 {
		t.Fatalf("%d bytes", len(got))
	}
	for x := 1; x < 3; x++ { // output columns 0-2 lie in the opaque half
		if got[x*3] < got[(x-1)*3] {
			t.Errorf("row 0 red not monotone: %v", got[:12])
		}
	}
}

func TestImageFolderErrors(t *testing.T) {
	emptyRoot := t.TempDir()
	writeFile(t, filepath.Join(emptyRoot, "loose.png"), []byte("a file, not a class folder"))

	noImages := folder(t)
	writeFile(t, filepath.Join(noImages, "empty-class", "notes.txt"), []byte("no images here"))

	badImage := folder(t)
	bad := filepath.Join(badImage, "dog", "broken.png")
	writeFile(t, bad, []byte("\x89PNG\r\n\x1a\nthen garbage"))

	truncated := folder(t)
	cut := filepath.Join(truncated, "cat", "a.png")
	b, _ := os.ReadFile(cut)
	writeFile(t, cut, b[:len(b)/2])

	tests := []struct {
		name    string
		root    string
		h, w, c int
		want    string
	}{
		{"missing root", filepath.Join(emptyRoot, "nope"), 4, 4, 1, "no such file or directory"},
		{"no class folders", emptyRoot, 4, 4, 1, emptyRoot + ": no class folders"},
		{"class without images", noImages, 4, 4, 1, filepath.Join(noImages, "empty-class") + ": class folder has no images"},
		{"undecodable", badImage, 4, 4, 1, bad + ": cannot decode image"},
		{"truncated", truncated, 4, 4, 3, cut + ": cannot decode image"},
		{"channels", noImages, 4, 4, 2, "2 channels not supported"},
		{"size", noImages, 0, 4, 1, "bad image size 0x4"},
	}
	for _, tt := range tests {
		_, err := data.ImageFolder(tt.root, tt.h, tt.w, tt.c)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "data: ") {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := data.ReadImage(bad, 4, 4, 1); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("ReadImage: error %v", err)
	}
	if _, err := data.ReadImage(filepath.Join(emptyRoot, "none.png"), 4, 4, 1); err == nil || !strings.Contains(err.Error(), "none.png") {
		t.Errorf("ReadImage: error %v", err)
	}
}

// A PNG header claiming a giant image is refused before decoding.
func TestReadImageTooLarge(t *testing.T) {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	// IHDR width and height are at bytes 16..23; the CRC then fails, but
	// DecodeConfig does not check it.
	copy(b[16:24], []byte{0, 1, 0, 0, 0, 1, 0, 0})
	p := filepath.Join(t.TempDir(), "big.png")
	writeFile(t, p, b)
	if _, err := data.ReadImage(p, 4, 4, 1); err == nil || !strings.Contains(err.Error(), "too large") && !strings.Contains(err.Error(), "cannot decode") {
		t.Errorf("error %v", err)
	}
}
